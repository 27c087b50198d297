//! The month-end load test (issue 7): secretaries of many cells sign in and log this month's meeting while
//! committee viewers keep opening dashboards, against a running release server on loopback. Bounded in time and
//! in count; stops by itself. Prints throughput, p50 / p95 / p99 per kind of request and the error count.
//!
//! Run by `bench/monthend.sh`, which starts the server; by hand:
//!   cargo run --release --example monthend -- BASE_URL DATABASE_URL [SECRETARIES] [VIEWERS] [SECONDS]
//! Setup (in the database): SECRETARIES cells get a secretary account `bench-sec-N` (password chibo-2026) and lose
//! this month's regular meeting, so that each has one to log, as at a month's end. Never run in CI.
//! Environment: BENCH_CONCURRENCY secretaries at once (16); BENCH_SPREAD=1 takes the cells in turn from each of
//! the root's children (on national data: 64 secretaries in 34 provinces rather than the first 64 cells of one);
//! BENCH_VIEWER the dashboard viewer's user name (bantochuc).
//!
//! The writer (bench/dashboard.sh's BENCH_WRITES mode): one signed-in administrator saves this month's regular
//! meeting of one cell after another at RATE saves a second for SECONDS (opening the form first, as a browser
//! does), cells spread over the root's children, and prints what it kept up:
//!   cargo run --release --example monthend -- writer BASE_URL DATABASE_URL RATE SECONDS
use axum::body::Bytes;
use axum::http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Http = Client<HttpConnector, Full<Bytes>>;

#[derive(Default)]
struct Stats {
    /// per kind of request: latencies in microseconds
    times: BTreeMap<&'static str, Vec<u64>>,
    errors: BTreeMap<String, u64>,
}

struct Driver {
    http: Http,
    base: String,
    stats: Mutex<Stats>,
    deadline: Instant,
}

struct Reply {
    status: StatusCode,
    cookie: Option<String>,
    body: String,
}

impl Driver {
    async fn send(
        &self,
        http: &Http,
        kind: &'static str,
        req: Request<Full<Bytes>>,
        want: StatusCode,
    ) -> Option<Reply> {
        let start = Instant::now();
        let res = http.request(req).await;
        let reply = match res {
            Ok(res) => {
                let status = res.status();
                let cookie = res
                    .headers()
                    .get(header::SET_COOKIE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split(';').next())
                    .map(str::to_string);
                let body = res.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                Some(Reply { status, cookie, body: String::from_utf8_lossy(&body).into_owned() })
            }
            Err(e) => {
                self.error(format!("{kind}: {e}"));
                None
            }
        };
        let took = start.elapsed().as_micros() as u64;
        let mut stats = self.stats.lock().unwrap();
        stats.times.entry(kind).or_default().push(took);
        drop(stats);
        match reply {
            Some(r) if r.status == want => Some(r),
            Some(r) => {
                // the page's heading says why
                let why = r.body.split("<h1>").nth(1).and_then(|h| h.split('<').next()).unwrap_or_default();
                self.error(format!("{kind}: {} {why}", r.status));
                None
            }
            None => None,
        }
    }

    fn error(&self, what: String) {
        *self.stats.lock().unwrap().errors.entry(what).or_default() += 1;
    }

    fn get(&self, path: &str, cookie: &str) -> Request<Full<Bytes>> {
        Request::get(format!("{}{path}", self.base)).header(header::COOKIE, cookie).body(Full::default()).unwrap()
    }

    fn post(&self, path: &str, cookie: Option<&str>, form: &[(String, String)]) -> Request<Full<Bytes>> {
        let body = form.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&");
        let mut req = Request::post(format!("{}{path}", self.base))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, self.base.as_str());
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        req.body(Full::from(body)).unwrap()
    }

    async fn login(&self, http: &Http, username: &str) -> Option<String> {
        let form = [("username".into(), username.into()), ("password".into(), "chibo-2026".into())];
        self.send(http, "sign in", self.post("/login", None, &form), StatusCode::SEE_OTHER).await?.cookie
    }

    /// A client whose connections come from loopback address number `n` (127.0.x.y): each secretary signs in from
    /// their own address, as from their own phone, so the per-address sign-in limits see what they would in a
    /// province, not 300 sign-ins from one machine.
    fn client_from(n: usize) -> Http {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_local_address(Some(std::net::IpAddr::from([127, 0, (n / 250) as u8, (n % 250 + 2) as u8])));
        Client::builder(TokioExecutor::new()).build(connector)
    }

    /// A secretary's month end: sign in, open the cell's page, the form, save the meeting, see the list.
    async fn secretary(&self, http: &Http, username: &str, cell: &str, day: &str) {
        let Some(cookie) = self.login(http, username).await else { return };
        if self.send(http, "cell page", self.get(&format!("/cells/{cell}"), &cookie), StatusCode::OK).await.is_none() {
            return;
        }
        if !self.save(http, &cookie, cell, day, "meeting form", "save meeting").await {
            return;
        }
        self.send(http, "meeting list", self.get(&format!("/cells/{cell}/meetings"), &cookie), StatusCode::OK).await;
    }

    /// Opens the cell's new-meeting form and saves this month's regular meeting from it; true when saved.
    async fn save(
        &self,
        http: &Http,
        cookie: &str,
        cell: &str,
        day: &str,
        form_kind: &'static str,
        save_kind: &'static str,
    ) -> bool {
        let new = format!("/cells/{cell}/meetings/new");
        let Some(page) = self.send(http, form_kind, self.get(&new, cookie), StatusCode::OK).await else {
            return false;
        };
        // the meeting's form only (the header has a sign-out form with its own token)
        let action = format!("action=\"/cells/{cell}/meetings\"");
        let start = page.body.find(&action).and_then(|i| page.body[..i].rfind("<form")).unwrap_or(0);
        let end = page.body[start..].find("</form>").map_or(page.body.len(), |e| start + e);
        let mut form = form_values(&page.body[start..end]);
        for (k, v) in [
            ("held_on", day),
            ("started_at", "19:30"),
            ("ended_at", "21:00"),
            ("topic", "Sinh hoạt chi bộ thường kỳ cuối tháng"),
            ("content", "Chi bộ đánh giá kết quả tháng và bàn nhiệm vụ tháng tới."),
            ("rating", "good"),
            ("action", "save"),
        ] {
            form.retain(|(key, _)| key != k);
            form.push((k.into(), v.into()));
        }
        let save = self.post(&format!("/cells/{cell}/meetings"), Some(cookie), &form);
        self.send(http, save_kind, save, StatusCode::SEE_OTHER).await.is_some()
    }

    /// A committee viewer opening dashboards until the secretaries are done or time is up.
    async fn viewer(&self, units: &[String], done: &std::sync::atomic::AtomicBool) {
        let viewer = std::env::var("BENCH_VIEWER").unwrap_or_else(|_| "bantochuc".into());
        let Some(cookie) = self.login(&self.http, &viewer).await else { return };
        let mut i = 0;
        while !done.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < self.deadline {
            let unit = &units[i % units.len()];
            let kind = if i % units.len() == 0 { "province dashboard" } else { "district dashboard" };
            self.send(&self.http, kind, self.get(&format!("/dashboard/{unit}"), &cookie), StatusCode::OK).await;
            i += 1;
        }
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// HTML entities as askama writes them, back to text.
fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&#43;", "+")
        .replace("&#x2b;", "+")
        .replace("&#61;", "=")
        .replace("&#x3d;", "=")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The values a browser would send from the page's form (inputs, checked radios, selected options, textareas).
fn form_values(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut select: Option<String> = None;
    for tag in html.split('<').skip(1) {
        let attr = |a: &str| {
            let key = format!(" {a}=\"");
            tag.find(&key).map(|i| {
                let v = &tag[i + key.len()..];
                unescape(&v[..v.find('"').unwrap_or(v.len())])
            })
        };
        if tag.starts_with("select ") {
            select = attr("name");
        } else if tag.starts_with("/select") {
            select = None;
        } else if tag.starts_with("option ") && tag.contains(" selected") {
            if let Some(name) = &select {
                out.push((name.clone(), attr("value").unwrap_or_default()));
            }
        } else if tag.starts_with("input ") {
            let (Some(name), ty) = (attr("name"), attr("type").unwrap_or_else(|| "text".into())) else { continue };
            match ty.as_str() {
                "radio" | "checkbox" if !tag.contains(" checked") => {}
                "submit" => {}
                _ => out.push((name, attr("value").unwrap_or_default())),
            }
        }
    }
    out
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

/// `n` cells open today with members and no transfer this month, each without this month's regular meeting
/// afterwards (deleted), so that each has one to log. Spread: in turn from each of the root's children.
async fn prepare(pool: &sqlx::PgPool, n: i64, spread: bool) -> anyhow::Result<Vec<(i64, String)>> {
    let month = chibo::domain::time::month_start(chibo::domain::time::today());
    let cells: Vec<(i64, String)> = sqlx::query_as(
        "with places as (
             -- each cell's latest place: the root, the root's child it is under, ..., the cell
             select distinct on (p.cell_id) p.cell_id, p.ancestors[2] as top from cell_places p
             where p.period = 'month' and p.starts_on <= $1 order by p.cell_id, p.starts_on desc)
         select c.id, c.code from places p join units c on c.id = p.cell_id
         where c.kind = 'cell' and c.valid_to is null
           and exists (select 1 from members m where m.cell_id = c.id and m.left_on is null)
           and not exists (select 1 from member_transfers t where t.cell_id = c.id and t.effective_on >= $1)
         order by case when $3 then row_number() over (partition by p.top order by c.code) else 0 end,
                  case when $3 then p.top else 0 end, c.code
         limit $2",
    )
    .bind(month)
    .bind(n)
    .bind(spread)
    .fetch_all(pool)
    .await?;
    let ids: Vec<i64> = cells.iter().map(|(id, _)| *id).collect();
    sqlx::query("delete from meetings where cell_id = any($1) and held_on >= $2 and kind = 'regular'")
        .bind(&ids)
        .bind(month)
        .execute(pool)
        .await?;
    Ok(cells)
}

fn print_stats(stats: &Stats) {
    println!("{:<20} {:>7} {:>10} {:>10} {:>10}", "request", "count", "p50 ms", "p95 ms", "p99 ms");
    for (kind, times) in &stats.times {
        let mut t = times.clone();
        t.sort_unstable();
        println!(
            "{kind:<20} {:>7} {:>10.1} {:>10.1} {:>10.1}",
            t.len(),
            percentile(&t, 0.50),
            percentile(&t, 0.95),
            percentile(&t, 0.99)
        );
    }
    for (what, n) in &stats.errors {
        println!("error: {what} × {n}");
    }
}

fn plain_client() -> Http {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new()).pool_max_idle_per_host(64).build(connector)
}

/// The writer: RATE saves a second for SECONDS by one administrator, open loop (a save is started on time
/// whatever the previous ones do, at most 32 at once; a tick with 32 in flight is counted as missed).
async fn writer(args: &[String]) -> anyhow::Result<()> {
    let usage = "usage: monthend writer BASE_URL DATABASE_URL RATE SECONDS";
    let base = args.get(2).expect(usage).trim_end_matches('/').to_string();
    let url = args.get(3).expect(usage);
    let rate: f64 = args.get(4).expect(usage).parse()?;
    let seconds: u64 = args.get(5).expect(usage).parse()?;
    let pool = chibo::db::connect(url).await?;
    let cells = prepare(&pool, (rate * seconds as f64).ceil() as i64 + 16, true).await?;
    let hash = chibo::auth::password::hash("chibo-2026".into()).await?;
    sqlx::query(
        "insert into users (username, display_name, password_hash, role, unit_id)
         values ('bench-writer', 'Bench writer', $1, 'admin',
                 (select id from units where parent_id is null order by code limit 1))
         on conflict (username) do update set password_hash = excluded.password_hash, disabled = false",
    )
    .bind(&hash)
    .execute(&pool)
    .await?;
    pool.close().await;
    let driver = Arc::new(Driver {
        http: plain_client(),
        base: base.clone(),
        stats: Mutex::default(),
        deadline: Instant::now() + Duration::from_secs(seconds),
    });
    let cookie = Arc::new(driver.login(&driver.http, "bench-writer").await.expect("the writer signs in"));
    println!("== writer: signed in, writing {rate} saves/s for {seconds} s");
    let day = chibo::domain::time::today().format("%Y-%m-%d").to_string();
    let room = Arc::new(tokio::sync::Semaphore::new(32));
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let (mut missed, mut started_saves) = (0u64, 0u64);
    let mut tasks = Vec::new();
    let saved = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    let mut cells = cells.into_iter();
    while Instant::now() < driver.deadline {
        ticks.tick().await;
        let Ok(turn) = room.clone().try_acquire_owned() else {
            missed += 1;
            continue;
        };
        let Some((_, code)) = cells.next() else { break };
        started_saves += 1;
        let (d, c, day, saved) = (driver.clone(), cookie.clone(), day.clone(), saved.clone());
        tasks.push(tokio::spawn(async move {
            if d.save(&d.http, &c, &code, &day, "writer form", "writer save").await {
                saved.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            drop(turn);
        }));
    }
    for t in tasks {
        t.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let stats = std::mem::take(&mut *driver.stats.lock().unwrap());
    let saved = saved.load(std::sync::atomic::Ordering::Relaxed);
    println!("== command: cargo run --release --example monthend -- writer {base} DATABASE_URL {rate} {seconds}");
    println!(
        "== writer: {started_saves} saves started in {elapsed:.1} s ({:.1}/s, asked {rate}/s), {saved} saved \
         ({:.1} saves/s), {missed} ticks missed (32 in flight)",
        started_saves as f64 / elapsed,
        saved as f64 / elapsed
    );
    print_stats(&stats);
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("writer") {
        return writer(&args).await;
    }
    let usage = "usage: monthend BASE_URL DATABASE_URL [SECRETARIES] [VIEWERS] [SECONDS]";
    let base = args.get(1).expect(usage).trim_end_matches('/').to_string();
    let url = args.get(2).expect(usage);
    let secretaries: i64 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(300);
    let viewers: usize = args.get(4).map(|s| s.parse()).transpose()?.unwrap_or(4);
    let seconds: u64 = args.get(5).map(|s| s.parse()).transpose()?.unwrap_or(120);
    let concurrency: usize = std::env::var("BENCH_CONCURRENCY").map_or(Ok(16), |s| s.parse())?;
    let spread = std::env::var("BENCH_SPREAD").is_ok_and(|s| s == "1");

    // setup: cells open today, each with a bench secretary and no regular meeting this month yet
    let pool = chibo::db::connect(url).await?;
    let today = chibo::domain::time::today();
    let cells = prepare(&pool, secretaries, spread).await?;
    let ids: Vec<i64> = cells.iter().map(|(id, _)| *id).collect();
    let hash = chibo::auth::password::hash("chibo-2026".into()).await?;
    let mut tx = pool.begin().await?;
    sqlx::query("delete from sessions where user_id in (select id from users where username like 'bench-sec-%')")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "insert into users (username, display_name, password_hash, role, unit_id)
         select 'bench-sec-' || lower(c.code), 'Bí thư ' || c.code, $2, 'cell_secretary', c.id
         from units c where c.id = any($1)
         on conflict (username) do nothing",
    )
    .bind(&ids)
    .bind(&hash)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    // the root and its children of kind district; on national data (no districts) the root's first children
    let units: Vec<String> = sqlx::query_scalar(
        "with root as (select id, code from units where parent_id is null order by code limit 1)
         (select code from root)
         union all (select code from units where kind = 'district' order by code)
         union all (select u.code from units u join root on u.parent_id = root.id
                    where not exists (select 1 from units where kind = 'district') and u.valid_to is null
                    order by u.code limit 34)",
    )
    .fetch_all(&pool)
    .await?;
    pool.close().await;

    let driver = Arc::new(Driver {
        http: plain_client(),
        base: base.clone(),
        stats: Mutex::default(),
        deadline: Instant::now() + Duration::from_secs(seconds),
    });
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let day = today.format("%Y-%m-%d").to_string();
    let started = Instant::now();

    let mut viewer_tasks = Vec::new();
    for _ in 0..viewers {
        let (d, u, done) = (driver.clone(), units.clone(), done.clone());
        viewer_tasks.push(tokio::spawn(async move { d.viewer(&u, &done).await }));
    }
    let queue = Arc::new(Mutex::new(cells.into_iter().map(|(_, code)| code).enumerate().collect::<Vec<_>>()));
    let mut secretary_tasks = Vec::new();
    for _ in 0..concurrency {
        let (d, q, day) = (driver.clone(), queue.clone(), day.clone());
        secretary_tasks.push(tokio::spawn(async move {
            loop {
                let next = q.lock().unwrap().pop();
                let Some((n, code)) = next else { break };
                if Instant::now() >= d.deadline {
                    break;
                }
                let http = Driver::client_from(n);
                d.secretary(&http, &format!("bench-sec-{}", code.to_lowercase()), &code, &day).await;
            }
        }));
    }
    for t in secretary_tasks {
        t.await?;
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in viewer_tasks {
        t.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();

    let stats = std::mem::take(&mut *driver.stats.lock().unwrap());
    let total: usize = stats.times.values().map(Vec::len).sum();
    let errors: u64 = stats.errors.values().sum();
    println!(
        "== command: cargo run --release --example monthend -- {base} DATABASE_URL {secretaries} {viewers} {seconds}"
    );
    println!(
        "== {secretaries} secretaries ({concurrency} at a time{}), {viewers} dashboard viewers, {elapsed:.1} s",
        if spread { ", cells taken in turn from each of the root's children" } else { "" }
    );
    println!("== {total} requests, {:.1} requests/s, {errors} errors", total as f64 / elapsed);
    print_stats(&stats);
    let pool = chibo::db::connect(url).await?;
    let saved: i64 = sqlx::query_scalar(
        "select count(*) from meetings m join units c on c.id = m.cell_id
         where m.held_on = $1 and m.kind = 'regular' and c.id = any($2)",
    )
    .bind(today)
    .bind(&ids)
    .fetch_one(&pool)
    .await?;
    println!("== meetings saved today by the bench secretaries: {saved} of {}", ids.len());
    let saves = stats.times.get("save meeting").map_or(0, Vec::len);
    println!("== saves per second: {:.1} ({saves} saves in {elapsed:.1} s)", saves as f64 / elapsed);
    Ok(())
}
