//! `chibo serve` against connections as an attacker holds them (security test findings 7 and 14): sockets that
//! never speak, sockets that trickle a header byte at a time, kept-alive sockets left idle. The server drops each
//! after its header-read timeout and answers everyone else meanwhile. And the session cookie is `Secure` unless
//! the administrator says the server runs on plain http.
use sqlx::PgPool;
use std::io::{BufRead, Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CHIBO: &str = env!("CARGO_BIN_EXE_chibo");
/// The header-read timeout the server under test is given (`CHIBO_HEADER_TIMEOUT_SECS`): long enough that all
/// 1,000 connections are open together even on a loaded 2-core machine (opening them took over 2 s in one run).
const TIMEOUT: Duration = Duration::from_secs(8);
/// How late past the timeout a connection may still be closed, on a loaded machine.
const MARGIN: Duration = Duration::from_secs(5);

/// The URL of the test's own database: DATABASE_URL's server with the database sqlx::test made.
fn url_of(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let db = pool.connect_options().get_database().expect("a database name").to_string();
    let (server, _) = base.rsplit_once('/').expect("a URL with a database");
    format!("{server}/{db}")
}

/// A server process, killed if the test fails before stopping it.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// 1,000 sockets and more need more descriptors than some machines give a process by default.
fn raise_open_files_limit() {
    // SAFETY: plain system calls on a struct we own
    unsafe {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// One request on a connection of its own, answered in full within `within`, else None.
async fn get(port: u16, path: &str, within: Duration) -> Option<String> {
    let answer = async {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").as_bytes())
            .await
            .ok()?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.ok()?;
        Some(String::from_utf8_lossy(&out).into_owned())
    };
    tokio::time::timeout(within, answer).await.ok().flatten()
}

async fn wait_until_healthy(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while get(port, "/healthz", Duration::from_secs(5)).await.is_none_or(|r| !r.starts_with("HTTP/1.1 200")) {
        assert!(Instant::now() < deadline, "chibo serve did not answer /healthz");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How long after `since` the server closed `s` (a read gives 0 or an error), while the socket trickles one byte
/// of a never-ending header every second if `trickle`; None if it is still open after the timeout and margin.
/// Whatever the server says before closing (a 408) is read and dropped.
async fn closed_after(mut s: TcpStream, since: Instant, trickle: bool, open: Arc<AtomicUsize>) -> Option<Duration> {
    let header = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    let mut sent = 0;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut buf = [0u8; 1024];
    let watch = async {
        loop {
            tokio::select! {
                read = s.read(&mut buf) => match read {
                    Ok(0) | Err(_) => return since.elapsed(),
                    Ok(_) => {}
                },
                _ = tick.tick(), if trickle => {
                    let byte = header.get(sent).copied().unwrap_or(b'a');
                    sent += 1;
                    if s.write_all(&[byte]).await.is_err() {
                        return since.elapsed();
                    }
                }
            }
        }
    };
    let closed = tokio::time::timeout(TIMEOUT + MARGIN, watch).await.ok();
    if closed.is_some() {
        open.fetch_sub(1, Ordering::SeqCst);
    }
    closed
}

#[sqlx::test(migrations = false)]
async fn silent_trickling_and_idle_connections_are_dropped_while_healthz_answers(pool: PgPool) {
    raise_open_files_limit();
    let port = free_port();
    let _server = Server(
        Command::new(CHIBO)
            .args(["serve", "--port", &port.to_string()])
            .env("DATABASE_URL", url_of(&pool))
            .env("CHIBO_HEADER_TIMEOUT_SECS", TIMEOUT.as_secs().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_until_healthy(port).await;

    let open = Arc::new(AtomicUsize::new(0));
    let mut watchers = Vec::new();
    let mut probes = Vec::new();
    // 500 silent, 500 trickling; /healthz asked after every 200 of them
    for i in 0..1000 {
        let s = TcpStream::connect(("127.0.0.1", port)).await.expect("the server accepts");
        open.fetch_add(1, Ordering::SeqCst);
        watchers.push(("silent or trickling", tokio::spawn(closed_after(s, Instant::now(), i % 2 == 1, open.clone()))));
        if i % 200 == 199 {
            let asked = Instant::now();
            let answer = get(port, "/healthz", Duration::from_secs(2)).await;
            probes.push((asked.elapsed(), open.load(Ordering::SeqCst), answer));
        }
    }
    // and ten kept-alive connections that asked once, then stay silent
    for _ in 0..10 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await.unwrap();
        let mut answer = Vec::new();
        while !answer.ends_with(b"ok\n") {
            let mut buf = [0u8; 1024];
            let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await.unwrap().unwrap();
            assert!(n > 0, "the kept-alive connection was closed before its answer");
            answer.extend(&buf[..n]);
        }
        assert!(answer.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));
        open.fetch_add(1, Ordering::SeqCst);
        watchers.push(("idle after a request", tokio::spawn(closed_after(s, Instant::now(), false, open.clone()))));
    }
    let asked = Instant::now();
    let answer = get(port, "/healthz", Duration::from_secs(2)).await;
    probes.push((asked.elapsed(), open.load(Ordering::SeqCst), answer));

    for (took, open_then, answer) in &probes {
        assert!(
            answer.as_deref().is_some_and(|r| r.starts_with("HTTP/1.1 200") && r.ends_with("ok\n")),
            "/healthz was not answered within 2 s while {open_then} attacking connections were open: {answer:?}"
        );
        assert!(*took < Duration::from_secs(2), "/healthz took {took:?}");
    }
    assert!(
        probes.iter().filter(|(_, open_then, _)| *open_then >= 500).count() >= 4,
        "the probes ran while the connections were open: {:?}",
        probes.iter().map(|(t, o, _)| (t, o)).collect::<Vec<_>>()
    );

    let mut still_open = Vec::new();
    let mut earliest = None::<Duration>;
    for (kind, w) in watchers {
        match w.await.unwrap() {
            Some(after) => earliest = Some(earliest.map_or(after, |e| e.min(after))),
            None => still_open.push(kind),
        }
    }
    assert!(
        still_open.is_empty(),
        "{} connections were still open {:?} after the header-read timeout ({TIMEOUT:?}), e.g. {:?}",
        still_open.len(),
        MARGIN,
        still_open.iter().take(3).collect::<Vec<_>>()
    );
    let earliest = earliest.unwrap();
    assert!(earliest >= TIMEOUT.mul_f32(0.9), "closed by the timeout, not at once: the first after {earliest:?}");
    // and the server is as it was
    let answer = get(port, "/healthz", Duration::from_secs(2)).await;
    assert!(answer.is_some_and(|r| r.starts_with("HTTP/1.1 200")), "healthy after the attack");

    // a request head of 100 kB is refused rather than held (each connection's buffer is bounded)
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let head = format!("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {}\r\n\r\n", "a".repeat(100_000));
    let _ = s.write_all(head.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.200}");
}

/// Signs in as `user` on a running server, returns the `Set-Cookie` header of the session as sent.
fn session_cookie(port: u16, user: &str, password: &str) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let body = format!("username={user}&password={password}");
    write!(
        s,
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer
        .lines()
        .find(|l| l.to_lowercase().starts_with("set-cookie: chibo_session="))
        .unwrap_or_else(|| panic!("no session cookie: {answer}"))
        .to_string()
}

/// `chibo serve` with `env`, once it says it is serving, and what it printed until then.
fn serve_with(url: &str, port: u16, env: &[(&str, &str)]) -> (Server, Vec<String>) {
    let mut cmd = Command::new(CHIBO);
    cmd.args(["serve", "--port", &port.to_string()])
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "chibo=info")
        .env_remove("CHIBO_INSECURE_COOKIES")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    for out in [Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>, Box::new(child.stderr.take().unwrap())]
    {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !lines.iter().any(|l: &String| l.contains("chibo is serving")) {
        let left = deadline.saturating_duration_since(Instant::now());
        lines.push(rx.recv_timeout(left).unwrap_or_else(|_| panic!("chibo serve did not start: {lines:?}")));
    }
    (Server(child), lines)
}

#[sqlx::test(migrations = false)]
async fn serve_sends_the_session_cookie_secure_unless_told_it_runs_on_plain_http(pool: PgPool) {
    let url = url_of(&pool);
    let out = Command::new(CHIBO).arg("migrate").env("DATABASE_URL", &url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    sqlx::query("insert into units (code, kind, name, valid_from) values ('P', 'province', 'Tỉnh', '1991-10-01')")
        .execute(&pool)
        .await
        .unwrap();
    let out = Command::new(CHIBO)
        .args(["user", "add", "admin", "--name", "Quản trị", "--role", "admin", "--unit", "P"])
        .args(["--password", "mat-khau-dai"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let port = free_port();
    let (server, lines) = serve_with(&url, port, &[]);
    let cookie = session_cookie(port, "admin", "mat-khau-dai");
    assert!(cookie.contains("; Secure"), "Secure by default: {cookie}");
    assert!(
        !lines.iter().any(|l| l.to_lowercase().contains("insecure")),
        "nothing said about insecure cookies: {lines:?}"
    );
    drop(server);

    let port = free_port();
    let (_server, lines) = serve_with(&url, port, &[("CHIBO_INSECURE_COOKIES", "1")]);
    let cookie = session_cookie(port, "admin", "mat-khau-dai");
    assert!(!cookie.contains("Secure"), "plain http asked for: {cookie}");
    assert!(
        lines.iter().any(|l| l.contains("WARN") && l.contains("CHIBO_INSECURE_COOKIES=1")),
        "a warning at start: {lines:?}"
    );
}
