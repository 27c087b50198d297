//! `chibo serve`'s accept loop: HTTP/1.1 on hyper's own connection builder, so that a connection that does not
//! send its request in time is closed.
//!
//! `axum::serve` sets no timer on hyper, so hyper's header-read timeout never runs there: a socket that stays
//! silent, or trickles a byte now and then, is held for ever. Here every connection gets
//! [`Limits::header_timeout`] to send a complete request head, counted from when it is accepted and again from
//! the end of each answer on a kept-alive connection (hyper starts the timer whenever it waits for a head,
//! `proto/h1/conn.rs` `poll_read_head`); past it the connection is closed. At most
//! [`Limits::max_connections`] are open at once: beyond that, new ones wait in the listening socket's queue.
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::serve::Listener;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt;

/// The default header-read timeout (`CHIBO_HEADER_TIMEOUT_SECS`).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The default cap on open connections (`CHIBO_MAX_CONNECTIONS`).
pub const MAX_CONNECTIONS: usize = 4096;
/// The largest request head (431 beyond; chibo's requests carry a few hundred bytes of headers), and the most a
/// connection's read buffer grows to while it waits for one. With hyper's default, about 400 kB, 4,096 connections
/// that each send a huge head would hold 1.6 GB until the timeout.
const MAX_HEAD: usize = 32 * 1024;
const MAX_BUFFER: usize = 64 * 1024;
/// Descriptors kept for everything but client connections: the database pool, the listener, files.
const OTHER_FILES: u64 = 256;

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// How long a connection has to send a whole request head, from its start or from the end of the last answer.
    pub header_timeout: Duration,
    /// How many connections may be open at once.
    pub max_connections: usize,
}

/// Raises this process's soft limit of open files to its hard limit, and returns the connection cap that fits
/// in it with room for the rest (at most `wanted`). A systemd service starts with a soft limit of 1,024.
pub fn fit_open_files(wanted: usize) -> usize {
    // SAFETY: plain system calls on a struct we own
    let soft = unsafe {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return wanted;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = limit.rlim_max;
            }
        }
        limit.rlim_cur
    };
    let room = usize::try_from(soft.saturating_sub(OTHER_FILES)).unwrap_or(usize::MAX).max(16);
    wanted.min(room)
}

/// Makes the allocator give large blocks back to the system as soon as they are freed.
///
/// Each sign-in runs argon2 over a 19 MiB block, on whichever blocking thread is free. glibc serves a block that
/// large with its own mapping, but after the first one is freed it raises that threshold to the block's size (its
/// "dynamic mmap threshold"), so every later one is carved from the arena of the thread that asked and stays there
/// once freed: a burst of sign-ins left the server at 436 MB where it had been at 18 MB (bench/memory.sh). A fixed
/// threshold (glibc's default, 128 KiB) turns that adjustment off. Not needed, and not done, with other C libraries.
pub fn return_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a parameter of the allocator; any value is valid for M_MMAP_THRESHOLD up to 32 MiB
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// Serves `app` on the connections `listener` hands over until `shutdown` completes; then takes no more, lets
/// every connection finish the request it is on (an idle one closes at once), and returns when all are closed.
pub async fn serve<L>(mut listener: L, app: Router, limits: Limits, shutdown: impl Future<Output = ()>)
where
    L: Listener<Io = TcpStream, Addr = SocketAddr>,
{
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (closing, closing_rx) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        // a free slot first: while every slot is taken, new connections wait in the socket's queue
        let next = async {
            let slot = slots.clone().acquire_owned().await.expect("the semaphore is never closed");
            let (io, addr) = listener.accept().await;
            (slot, io, addr)
        };
        let (slot, io, addr) = tokio::select! {
            _ = &mut shutdown => break,
            next = next => next,
        };
        tokio::spawn(connection(io, addr, app.clone(), limits.header_timeout, closing_rx.clone(), slot));
    }
    drop(listener);
    let _ = closing.send(true);
    // each connection gives its slot back when it ends
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
}

async fn connection(
    io: TcpStream,
    addr: SocketAddr,
    app: Router,
    header_timeout: Duration,
    mut closing: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    // what axum's `into_make_service_with_connect_info` gives handlers: the client's address
    let app = app.map_request(move |mut req: axum::http::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(addr));
        req.map(axum::body::Body::new)
    });
    let service = TowerToHyperService::new(app);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(header_timeout).keep_alive(true);
    builder.max_header_size(MAX_HEAD).max_buf_size(MAX_BUFFER);
    let mut conn = pin!(builder.serve_connection(TokioIo::new(io), service));
    let told_to_close = async {
        let _ = closing.wait_for(|c| *c).await;
    };
    let ended = tokio::select! {
        result = conn.as_mut() => Some(result),
        _ = told_to_close => None,
    };
    let result = match ended {
        Some(result) => result,
        None => {
            // finish the request in flight, if any, then close
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        // a header-read timeout, a client gone, a malformed request: the connection's own business
        tracing::debug!("connection from {addr} ended: {e}");
    }
}
