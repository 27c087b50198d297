//! The database goes away and comes back (issue 7): pages answer "temporarily unavailable" (503, Retry-After)
//! quickly instead of hanging, /healthz says so, chibo recovers by itself; and in a stream of meeting submissions
//! cut by a database stop, every acknowledged meeting is saved exactly once and every other one was refused
//! visibly. These tests run their own PostgreSQL cluster (the installed server binaries), so that stopping it
//! disturbs no other test.
use axum::http::StatusCode;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{Client, TestApp, set};

/// A throwaway PostgreSQL cluster in a temporary directory, on a free port, run as `postgres` when we are root
/// (initdb refuses root). Stopped and removed on drop.
pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Cluster {
    pub fn start() -> Cluster {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|dirs| {
                dirs.filter_map(|d| d.ok()).map(|d| d.path().join("bin")).filter(|b| b.join("pg_ctl").exists()).max()
            })
            .expect("these tests start their own PostgreSQL: install the server (apt-get install postgresql)");
        let uid = Command::new("id").arg("-u").output().expect("id runs");
        let as_postgres = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = std::env::temp_dir().join(format!("chibo-outage-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cluster = Cluster { dir, bin, port, as_postgres };
        if as_postgres {
            assert!(
                Command::new("chown").args(["-R", "postgres:postgres"]).arg(&cluster.dir).status().unwrap().success()
            );
        }
        let data = cluster.dir.join("data");
        cluster.run("initdb", &["-D", data.to_str().unwrap(), "-A", "trust", "-U", "postgres", "--no-sync"]);
        cluster.start_server();
        cluster
    }

    /// Runs one of the server's programs, as `postgres` when we are root.
    fn run(&self, program: &str, args: &[&str]) {
        let exe = self.bin.join(program);
        let out = if self.as_postgres {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&exe).args(args).output()
        } else {
            Command::new(&exe).args(args).output()
        }
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
        assert!(
            out.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn start_server(&self) {
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", self.port, self.dir.display());
        let data = self.dir.join("data");
        let log = self.dir.join("server.log");
        self.run("pg_ctl", &["-D", data.to_str().unwrap(), "-l", log.to_str().unwrap(), "-o", &options, "-w", "start"]);
    }

    /// A fast shutdown: the server rolls back open transactions and closes every connection.
    pub fn stop_server(&self) {
        let data = self.dir.join("data");
        self.run("pg_ctl", &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"]);
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// A new database on this cluster with chibo's schema, the test fixture and its users.
    pub async fn app(&self) -> TestApp {
        let admin = sqlx::PgPool::connect(&self.url("postgres")).await.unwrap();
        sqlx::query("create database chibo").execute(&admin).await.unwrap();
        admin.close().await;
        let pool = chibo::db::connect(&self.url("chibo")).await.unwrap();
        chibo::db::migrate(&pool).await.unwrap();
        TestApp::new(pool).await
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let pg_ctl = self.bin.join("pg_ctl");
        let args = ["-D", data.to_str().unwrap_or_default(), "-m", "immediate", "stop"];
        let _ = if self.as_postgres {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&pg_ctl).args(args).output()
        } else {
            Command::new(&pg_ctl).args(args).output()
        };
        let _ = std::fs::remove_dir_all(Path::new(&self.dir));
    }
}

/// Polls `/healthz` until it answers `want`, within `limit`; returns how long it took.
async fn wait_for_health(client: &mut Client<'_>, want: StatusCode, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if client.get("/healthz").await.status == want {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "/healthz did not answer {want} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn when_the_database_stops_pages_say_so_quickly_and_chibo_recovers_by_itself() {
    let cluster = Arc::new(Cluster::start());
    let app = cluster.app().await;
    let mut sec = app.login("sec_a").await;
    assert_eq!(sec.get("/cells/A").await.status, StatusCode::OK);

    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.stop_server()).await.unwrap();

    let start = Instant::now();
    let page = sec.get("/cells/A").await;
    let took = start.elapsed();
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE, "{}", page.body);
    assert!(took < Duration::from_secs(5), "the page took {took:?} to answer");
    eprintln!("outage: a page answered 503 in {took:?}");
    assert!(page.text().contains("Tạm thời gián đoạn"), "{}", page.text());
    let retry = sec.get_response("/cells/A").await;
    assert_eq!(retry.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("30"));
    wait_for_health(&mut sec, StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(10)).await;

    cluster.start_server();
    let back = wait_for_health(&mut sec, StatusCode::OK, Duration::from_secs(30)).await;
    assert!(back < Duration::from_secs(10), "recovered after {back:?}");
    let page = sec.get("/cells/A").await;
    assert_eq!(page.status, StatusCode::OK, "the same session works again without a restart: {}", page.body);
}

#[tokio::test]
async fn a_database_stop_in_a_stream_of_submissions_loses_and_doubles_nothing() {
    let cluster = Arc::new(Cluster::start());
    let app = cluster.app().await;
    let mut sec = app.login("sec_a").await;
    let page = sec.get("/cells/A/meetings/new").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let mut form = page.form_values();
    set(&mut form, "kind", "thematic");
    set(&mut form, "topic", "Học tập chuyên đề");
    set(&mut form, "started_at", "19:30");
    set(&mut form, "ended_at", "21:00");
    set(&mut form, "action", "save");

    const N: usize = 36;
    let day = |i: usize| chrono::NaiveDate::from_ymd_opt(2026, 7, 1).unwrap() + chrono::Days::new(i as u64 * 3);
    let key = |i: usize| format!("outage-stream-{i:02}");
    let mut acknowledged = Vec::new();
    let mut refused = Vec::new();
    let mut stopper = None;
    for i in 0..N {
        if i == 8 {
            // stop the database while the stream goes on
            let c = cluster.clone();
            stopper = Some(tokio::task::spawn_blocking(move || c.stop_server()));
        }
        if i == 24 {
            stopper.take().expect("stopped").await.unwrap();
            cluster.start_server();
        }
        set(&mut form, "held_on", &day(i).to_string());
        set(&mut form, "idempotency_key", &key(i));
        let page = sec.post("/cells/A/meetings", &form).await;
        match page.status {
            StatusCode::SEE_OTHER => acknowledged.push(i),
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(page.text().contains("chưa được lưu"), "a refusal says so: {}", page.text());
                refused.push(i);
            }
            other => panic!("submission {i}: {other} {}", page.text()),
        }
    }
    assert!(acknowledged.len() >= 8 && !refused.is_empty(), "the stream was cut: {acknowledged:?} / {refused:?}");

    let count = |k: String| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("select count(*) from meetings where idempotency_key = $1")
                .bind(k)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    for &i in &acknowledged {
        assert_eq!(count(key(i)).await, 1, "acknowledged submission {i} is saved exactly once");
    }
    // the secretary sends each refused form again: each ends saved exactly once
    for &i in &refused {
        assert!(count(key(i)).await <= 1);
        set(&mut form, "held_on", &day(i).to_string());
        set(&mut form, "idempotency_key", &key(i));
        let page = sec.post("/cells/A/meetings", &form).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "resent submission {i}: {}", page.text());
        assert_eq!(count(key(i)).await, 1, "resent submission {i} is saved exactly once");
    }
    let total: i64 = sqlx::query_scalar("select count(*) from meetings where idempotency_key like 'outage-stream-%'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(total, N as i64);
}
