//! Where `chibo serve` takes its connections from, and how it lets go of them.
//!
//! Several instances can serve one address by sharing one listening socket, handed to each of them as an open file
//! descriptor (systemd socket activation, or `--listen-fd`). The socket stays open while any holder has it, so the
//! connections waiting in its queue are taken by whichever instance still accepts: a rolling restart loses none.
//!
//! On SIGTERM an instance stops accepting at once, then keeps serving the connections it already took for
//! [`DRAIN`] (a connection accepted a moment before the signal has not sent its request yet, and would otherwise
//! be closed unanswered), then finishes the requests in flight and exits.
use std::io;
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, RawFd};
use std::time::Duration;

use axum::serve::Listener;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// How long connections already accepted are served normally after the signal to stop.
pub const DRAIN: Duration = Duration::from_secs(2);
/// The first descriptor systemd passes (`SD_LISTEN_FDS_START`).
const SYSTEMD_FIRST_FD: RawFd = 3;

/// The socket handed down by systemd (`LISTEN_FDS`, `LISTEN_PID`) or by `--listen-fd`, if any.
pub fn inherited(listen_fd: Option<RawFd>) -> io::Result<Option<TcpListener>> {
    let from_systemd = std::env::var("LISTEN_PID").ok().and_then(|p| p.parse::<u32>().ok()) == Some(std::process::id())
        && std::env::var("LISTEN_FDS").is_ok_and(|n| n == "1");
    let Some(fd) = listen_fd.or(from_systemd.then_some(SYSTEMD_FIRST_FD)) else {
        return Ok(None);
    };
    // SAFETY: the descriptor was handed to this process to be owned by it; nothing else in chibo uses it.
    let std = unsafe { std::net::TcpListener::from_raw_fd(fd) };
    // a descriptor that is not a listening TCP socket fails here, with the reason
    std.local_addr()?;
    std.set_nonblocking(true)?;
    Ok(Some(TcpListener::from_std(std)?))
}

/// A listener that drops its socket (stops accepting) when told to stop, while the server goes on serving.
pub struct Draining {
    inner: Option<TcpListener>,
    addr: SocketAddr,
    stop: watch::Receiver<bool>,
}

impl Draining {
    /// The listener, and the sender that stops it.
    pub fn new(inner: TcpListener) -> io::Result<(Draining, watch::Sender<bool>)> {
        let (tx, stop) = watch::channel(false);
        Ok((Draining { addr: inner.local_addr()?, inner: Some(inner), stop }, tx))
    }
}

impl Listener for Draining {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            let Some(inner) = self.inner.as_mut() else {
                return std::future::pending().await;
            };
            let stopped = tokio::select! {
                _ = self.stop.wait_for(|stop| *stop) => true,
                conn = Listener::accept(inner) => return conn,
            };
            if stopped {
                // our copy closes; a socket shared with other instances stays open for them
                self.inner = None;
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }
}
