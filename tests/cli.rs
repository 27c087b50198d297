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
        "select count(*) from audit_log where entity = 'user'
           and entity_id = (select id::text from users where username = 'namson')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audited, 3, "add, reset link and disable are audited");

    let out = chibo(
        &url,
        &["user", "add", "x", "--name", "X", "--role", "king", "--unit", "TQ", "--password", "mat-khau-dai"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role"));
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
