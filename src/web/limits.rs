//! Limits on how fast passwords may be tried, kept in memory by each instance: per address, and for the whole
//! instance (argon2 costs a core for a moment; a flood of sign-ins must not starve the pages). They stand in front
//! of the database's counts of wrong passwords (`db::users::reserve_attempt`), which every instance shares.
use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::DefaultClock;
use governor::state::keyed::HashMapStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

/// Above this many addresses remembered, those whose allowance is full again are forgotten.
const MAX_ADDRESSES: usize = 10_000;

pub struct SignInLimits {
    per_address: RateLimiter<IpAddr, HashMapStateStore<IpAddr>, DefaultClock>,
    global: RateLimiter<NotKeyed, InMemoryState, DefaultClock>,
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).expect("not zero")
}

impl SignInLimits {
    /// `per_address`: sign-in attempts one address may send at once, then one per second; `global`: attempts the
    /// instance takes at once, then `global / 4` a second.
    pub fn new(per_address: u32, global: u32) -> SignInLimits {
        SignInLimits {
            per_address: RateLimiter::hashmap(Quota::per_second(nz(1)).allow_burst(nz(per_address))),
            global: RateLimiter::direct(Quota::per_second(nz(global / 4)).allow_burst(nz(global))),
        }
    }

    /// Takes one attempt from the allowances of `ip` and of the instance; false if either is spent.
    pub fn allow(&self, ip: Option<IpAddr>) -> bool {
        let ip = ip.unwrap_or(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED));
        if self.per_address.len() > MAX_ADDRESSES {
            self.per_address.retain_recent();
        }
        self.per_address.check_key(&ip).is_ok() && self.global.check().is_ok()
    }
}

impl Default for SignInLimits {
    /// Generous enough for a commune's secretaries signing in at once behind one carrier address at month end,
    /// tight enough that one address cannot try passwords faster than one a second for long.
    fn default() -> Self {
        SignInLimits::new(100, 200)
    }
}
