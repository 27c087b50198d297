//! The `chibo` command as an administrator uses it: migrate, demo, user add, serve with /healthz and a
//! graceful stop on SIGTERM.
use sqlx::PgPool;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHIBO: &str = env!("CARGO_BIN_EXE_chibo");

/// The URL of the test's own database: DATABASE_URL's server with the database sqlx::test made.
fn url_of(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let db = pool.connect_options().get_database().expect("a database name").to_string();
    let (server, _) = base.rsplit_once('/').expect("a URL with a database");
    format!("{server}/{db}")
}

fn chibo(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(CHIBO).args(args).env("DATABASE_URL", url).output().expect("chibo runs")
}

/// A server process, killed if the test fails before stopping it.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

#[sqlx::test(migrations = false)]
async fn migrate_demo_and_user_add_from_the_command_line(pool: PgPool) {
    let url = url_of(&pool);
    let out = chibo(&url, &["migrate"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let out = chibo(&url, &["demo", "--scale", "small"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("khuoitrang") && stdout.contains("chibo-2026"), "the logins are printed: {stdout}");

    // chibo report: DOMAIN.md §9's JSON; an unknown unit or a malformed period prints nothing and exits 1
    let out = chibo(&url, &["report", "--unit", "TQ-LB-01", "--from", "2020-01", "--to", "2022-12"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on standard output");
    assert_eq!(json["unit"], "TQ-LB-01");
    assert_eq!(json["from"], "2020-01");
    assert!(json["metrics"]["attendance_rate"]["denominator"].as_i64().unwrap() > 0);
    assert!(json["children"].as_array().unwrap().iter().any(|c| c["unit"] == "TQ-LB-01-01"));
    let csv = chibo(&url, &["report", "--unit", "TQ-LB-01", "--from", "2020-01", "--to", "2022-12", "--format", "csv"]);
    let csv = String::from_utf8_lossy(&csv.stdout);
    assert!(csv.starts_with("unit,name,metric,numerator,denominator,value,target,met\n"), "{csv}");
    let numerator = json["metrics"]["attendance_rate"]["numerator"].to_string();
    assert!(
        csv.contains(&format!("TQ-LB-01,Đảng bộ xã Xuân Lập,attendance_rate,{numerator},")),
        "the same figures: {csv}"
    );
    for args in [
        ["--unit", "NOPE", "--from", "2020-01", "--to", "2020-12"],
        ["--unit", "TQ", "--from", "2020-13", "--to", "2020-12"],
        ["--unit", "TQ", "--from", "2021-01", "--to", "2020-12"],
    ] {
        let mut all = vec!["report"];
        all.extend(args);
        let out = chibo(&url, &all);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?} printed {}", String::from_utf8_lossy(&out.stdout));
    }

    // into a database that is not empty, the demo refuses and says why
    let out = chibo(&url, &["demo", "--scale", "small"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("only into an empty database"));

    let out = chibo(
        &url,
        &[
            "user",
            "add",
            "namson",
            "--name",
            "Bí thư chi bộ",
            "--role",
            "cell_secretary",
            "--unit",
            "TQ-LB-01-02",
            "--password",
            "mat-khau-dai",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let role: String =
        sqlx::query_scalar("select role from users where username = 'namson'").fetch_one(&pool).await.unwrap();
    assert_eq!(role, "cell_secretary");
    let hash: String =
        sqlx::query_scalar("select password_hash from users where username = 'namson'").fetch_one(&pool).await.unwrap();
    assert!(hash.starts_with("$argon2id$"), "argon2id, never the password itself");

    // reset prints a one-time link; disable ends the user's access
    let out = chibo(&url, &["user", "reset", "namson", "--base-url", "https://chibo.example.vn/"]);
    let link = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(out.status.success() && link.starts_with("https://chibo.example.vn/reset/"), "{link}");
    let out = chibo(&url, &["user", "disable", "namson"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let disabled: bool =
        sqlx::query_scalar("select disabled from users where username = 'namson'").fetch_one(&pool).await.unwrap();
    assert!(disabled);
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where entity in ('user', 'password_reset')
           and entity_id = (select id::text from users where username = 'namson')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audited, 3, "add, reset link and disable are audited");
    let out = chibo(&url, &["user", "unlock", "namson"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("user namson unlocked"));
    let disabled: bool =
        sqlx::query_scalar("select disabled from users where username = 'namson'").fetch_one(&pool).await.unwrap();
    assert!(!disabled, "unlocked from the command line");

    let out = chibo(
        &url,
        &["user", "add", "x", "--name", "X", "--role", "king", "--unit", "TQ", "--password", "mat-khau-dai"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role"));
    // a user name no one could sign in with is refused with the rule, never a database error
    let long = "a".repeat(3000);
    for bad in [long.as_str(), "Nam Son", "nam\tson", ""] {
        let out = chibo(
            &url,
            &["user", "add", bad, "--name", "X", "--role", "admin", "--unit", "TQ", "--password", "mat-khau-dai"],
        );
        assert!(!out.status.success(), "{bad:.20}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("the user name must be 1 to 64 characters"), "{bad:.20}");
    }
}

#[sqlx::test(migrations = false)]
async fn user_secretaries_makes_every_secretarys_account_and_printable_sheets(pool: PgPool) {
    let url = url_of(&pool);
    assert!(chibo(&url, &["migrate"]).status.success());
    let out = chibo(&url, &["demo", "--scale", "small"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dir = std::env::temp_dir().join(format!("chibo-sheets-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(CHIBO)
        .args(["user", "secretaries", "--unit", "TQ-LB-01", "--sheets", dir.to_str().unwrap()])
        .env("DATABASE_URL", &url)
        .env("CHIBO_BASE_URL", "https://chibo.example.vn/")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(!lines.is_empty(), "accounts for the committee's secretaries");
    assert!(!stdout.contains("TQ-LB-01-01\t"), "Khuổi Trang already has its secretary's account: {stdout}");
    for line in &lines {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 4, "cell, name, user name, link: {line}");
        assert!(fields[3].starts_with("https://chibo.example.vn/reset/"), "{line}");
    }
    let made: i64 = sqlx::query_scalar("select count(*) from users where password_hash = '!activation'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(made as usize, lines.len());
    let sheet = std::fs::read_to_string(dir.join("TQ-LB-01.html")).expect("the committee's sheet");
    for line in &lines {
        let fields: Vec<&str> = line.split('\t').collect();
        assert!(sheet.contains(fields[2]) && sheet.contains(fields[3]), "{line} on the sheet");
    }
    assert!(sheet.contains("Tên đăng nhập") && sheet.contains("size:A4"));
    assert_eq!(sheet.matches("<svg").count(), lines.len(), "a QR code per link");
    let _ = std::fs::remove_dir_all(&dir);
    let again = chibo(&url, &["user", "secretaries", "--unit", "TQ-LB-01"]);
    assert!(again.status.success() && again.stdout.is_empty(), "a second run makes nothing");
}

#[sqlx::test(migrations = false)]
async fn serve_migrates_answers_healthz_and_stops_on_sigterm(pool: PgPool) {
    let url = url_of(&pool);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Server(
        Command::new(CHIBO)
            .args(["serve", "--port", &port.to_string()])
            .env("DATABASE_URL", &url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let health = loop {
        if let Some(r) = http_get(port, "/healthz") {
            break r;
        }
        assert!(Instant::now() < deadline, "chibo serve did not answer");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(health.starts_with("HTTP/1.0 200") && health.ends_with("ok\n"), "{health}");
    let migrated: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations").fetch_one(&pool).await.unwrap();
    assert!(migrated >= 1, "serve migrates on start");

    let login = http_get(port, "/login").unwrap();
    assert!(login.contains("Đăng nhập"));
    assert!(login.to_lowercase().contains("content-security-policy"), "security headers are sent");

    // a request in flight when SIGTERM comes: headers sent, the body not yet
    let mut in_flight = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    in_flight.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let body = "username=khong-co&password=sai-mat-khau";
    write!(
        in_flight,
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        &body[..10]
    )
    .unwrap();
    in_flight.flush().unwrap();

    Command::new("kill").args(["-TERM", &server.0.id().to_string()]).status().unwrap();
    // the server stops taking new connections ...
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < deadline, "chibo serve still accepts connections after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // ... and still answers the one in flight
    in_flight.write_all(&body.as_bytes()[10..]).unwrap();
    let mut answer = String::new();
    in_flight.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 422"), "the request in flight was answered: {answer}");
    assert!(answer.contains("Tên đăng nhập hoặc mật khẩu không đúng"), "{answer}");

    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = server.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "chibo serve did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "a graceful stop exits 0: {status}");
}

/// An instance of `chibo serve` on a listening socket it shares with others (as systemd hands one socket to every
/// instance of a service), once it says it is serving.
fn serve_on_shared_socket(url: &str, socket: &std::net::TcpListener) -> Server {
    use std::io::BufRead;
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    let fd = socket.as_raw_fd();
    let mut cmd = Command::new(CHIBO);
    cmd.args(["serve", "--listen-fd", "3"])
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "chibo=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    // SAFETY: only async-signal-safe calls between fork and exec
    unsafe {
        cmd.pre_exec(move || {
            let ok = if fd == 3 { libc::fcntl(3, libc::F_SETFD, 0) } else { libc::dup2(fd, 3) };
            if ok < 0 { Err(std::io::Error::last_os_error()) } else { Ok(()) }
        });
    }
    let mut child = cmd.spawn().unwrap();
    let out = child.stdout.take().unwrap();
    let (ready, started) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if line.contains("chibo is serving") {
                let _ = ready.send(());
            }
        }
    });
    started.recv_timeout(Duration::from_secs(60)).expect("the instance did not start serving");
    Server(child)
}

fn stop_and_wait(server: &mut Server) {
    Command::new("kill").args(["-TERM", &server.0.id().to_string()]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            assert!(status.success(), "a graceful stop exits 0: {status}");
            return;
        }
        assert!(Instant::now() < deadline, "the instance did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[sqlx::test(migrations = false)]
async fn a_rolling_restart_of_two_instances_behind_one_address_drops_no_request(pool: PgPool) {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    let url = url_of(&pool);
    for args in [&["migrate"][..], &["demo", "--scale", "small"]] {
        let out = chibo(&url, args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    // the one address: a socket this test holds, as systemd's chibo.socket would
    let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    let mut a = serve_on_shared_socket(&url, &socket);
    let mut b = serve_on_shared_socket(&url, &socket);

    // signed in as the demo's provincial committee, as a browser would be
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let body = "username=bantochuc&password=chibo-2026";
    write!(
        s,
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let cookie = answer
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: ").or_else(|| l.strip_prefix("Set-Cookie: ")))
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no session: {answer}"))
        .to_string();

    // four clients, each opening a connection per request: dashboards, unit pages, sign-in page, health
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let paths = ["/dashboard/TQ?from=2025-01&to=2025-12", "/units/TQ-LB-01", "/login", "/healthz"];
    let workers: Vec<_> = paths
        .iter()
        .map(|path| {
            let (stop, answered, failures, cookie) = (stop.clone(), answered.clone(), failures.clone(), cookie.clone());
            let path = path.to_string();
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let result = (|| -> std::io::Result<String> {
                        let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
                        s.set_read_timeout(Some(Duration::from_secs(20)))?;
                        write!(
                            s,
                            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
                        )?;
                        let mut out = String::new();
                        s.read_to_string(&mut out)?;
                        Ok(out)
                    })();
                    match result {
                        Ok(r)
                            if r.starts_with("HTTP/1.1 200")
                                && (r.trim_end().ends_with("</html>") || r.ends_with("ok\n")) =>
                        {
                            answered.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(r) => failures.lock().unwrap().push(format!("{path}: {r:.200}")),
                        Err(e) => failures.lock().unwrap().push(format!("{path}: {e}")),
                    }
                }
            })
        })
        .collect();
    let wait_for = |n: usize| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while answered.load(Ordering::SeqCst) < n {
            assert!(Instant::now() < deadline, "the clients got no answers");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    wait_for(40);
    // restart one instance, then the other, while the clients go on
    stop_and_wait(&mut a);
    let with_one = answered.load(Ordering::SeqCst);
    let a = serve_on_shared_socket(&url, &socket);
    stop_and_wait(&mut b);
    let b = serve_on_shared_socket(&url, &socket);
    let restarted = answered.load(Ordering::SeqCst);
    wait_for(restarted + 40);
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.join().unwrap();
    }
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} requests failed during the rolling restart: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert!(restarted > with_one, "requests were answered while an instance was away");
    drop((a, b));
}
