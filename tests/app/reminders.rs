//! Reminders (issue 16 item 6) against real servers: a tiny SMTP server speaking to the real client (lettre) and
//! an HTTP receiver checking the webhook's signature, both listening on loopback inside the test. Time is a
//! parameter of every round (`Runner::tick(now)`); what a round started is finished when it returns, so nothing
//! sleeps.
use chibo::db::audit::Actor;
use chibo::db::{settings, users};
use chibo::domain::reports::Settings;
use chibo::jobs::reminders::{self, Channels, Smtp, Webhook};
use chibo::jobs::{Registry, Runner};
use chrono::{DateTime, NaiveDate, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::PgPool;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::common::TestApp;

const SECRET: &str = "gateway secret";

/// A moment on Vietnam's clock.
fn at(local: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{local}+07:00")).unwrap().with_timezone(&Utc)
}

fn month(s: &str) -> NaiveDate {
    chibo::domain::time::parse_month(s).unwrap()
}

/// A mail as the SMTP server received it.
#[derive(Debug, Clone)]
struct Mail {
    to: Vec<String>,
    data: String,
}

impl Mail {
    /// The body's words, one space apart (the lines are broken for SMTP).
    fn text(&self) -> String {
        let body = self.data.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
        body.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// A tiny SMTP server: EHLO, MAIL, RCPT, DATA, QUIT, as a relay on the same host speaks it.
struct SmtpServer {
    port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpServer {
    async fn start(port: u16) -> SmtpServer {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let kept = mails.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(smtp_session(socket, kept.clone()));
            }
        });
        SmtpServer { port, mails }
    }

    fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    fn to(&self, address: &str) -> Vec<Mail> {
        self.mails().into_iter().filter(|m| m.to.iter().any(|t| t.contains(address))).collect()
    }
}

async fn smtp_session(socket: TcpStream, mails: Arc<Mutex<Vec<Mail>>>) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut read = BufReader::new(read);
    write.write_all(b"220 relay.test ESMTP\r\n").await?;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if read.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        let answer: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
            b"250-relay.test\r\n250 8BITMIME\r\n"
        } else if command.starts_with("MAIL FROM:") {
            to.clear();
            b"250 2.1.0 OK\r\n"
        } else if command.starts_with("RCPT TO:") {
            to.push(line.trim_end()[8..].to_string());
            b"250 2.1.5 OK\r\n"
        } else if command == "DATA" {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if read.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            mails.lock().unwrap().push(Mail { to: std::mem::take(&mut to), data });
            b"250 2.0.0 queued\r\n"
        } else if command == "QUIT" {
            write.write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(());
        } else if command == "RSET" || command == "NOOP" {
            b"250 OK\r\n"
        } else {
            b"502 5.5.2 not here\r\n"
        };
        write.write_all(answer).await?;
    }
}

/// A post the webhook receiver got: its body, whether its signature was right, the status it was answered.
#[derive(Debug, Clone)]
struct Post {
    body: serde_json::Value,
    signed: bool,
    key: String,
    status: u16,
}

/// An HTTP receiver answering each post with the next status of its script (200 once the script is spent).
struct Receiver {
    url: String,
    posts: Arc<Mutex<Vec<Post>>>,
}

impl Receiver {
    async fn start(script: &[u16]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/sms", listener.local_addr().unwrap());
        let posts = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<u16>>()));
        let kept = posts.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(http_exchange(socket, kept.clone(), script.clone()));
            }
        });
        Receiver { url, posts }
    }

    fn posts(&self) -> Vec<Post> {
        self.posts.lock().unwrap().clone()
    }

    fn accepted(&self) -> Vec<Post> {
        self.posts().into_iter().filter(|p| p.status == 200).collect()
    }
}

async fn http_exchange(
    socket: TcpStream,
    posts: Arc<Mutex<Vec<Post>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
) -> std::io::Result<()> {
    let mut read = BufReader::new(socket);
    let mut headers = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if read.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.trim_end().split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let mut body = vec![0; header("content-length").parse().unwrap()];
    read.read_exact(&mut body).await?;
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    let signed = header("x-chibo-signature") == format!("sha256={hex}");
    let status = script.lock().unwrap().pop_front().unwrap_or(200);
    let post = Post { body: serde_json::from_slice(&body).unwrap(), signed, key: header("idempotency-key"), status };
    posts.lock().unwrap().push(post);
    let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    read.get_mut().write_all(answer.as_bytes()).await
}

/// The fixture, reports required from `since`, and a phone and an e-mail for sec_a, sec_b and the clerk.
async fn app_with_contacts(pool: PgPool, since: &str) -> TestApp {
    let app = TestApp::new(pool).await;
    let s = Settings { reporting_since: Some(month(since)), report_deadline_day: 5 };
    settings::set(&app.pool, &Actor::cli(), s).await.unwrap();
    for (name, phone) in [("sec_a", "0912000001"), ("sec_b", "0912000002"), ("clerk", "0912000009")] {
        let user = users::by_username(&app.pool, name).await.unwrap().unwrap();
        let contact = users::Contact { phone: Some(phone.into()), email: Some(format!("{name}@xa.gov.vn")) };
        users::set_contact(&app.pool, &Actor::cli(), &user, &contact).await.unwrap();
    }
    app
}

/// A cell's report for `month` submitted (the submit page is another part of issue 16).
async fn submitted(app: &TestApp, cell: &str, month: &str) {
    sqlx::query(
        "insert into cell_reports (cell_id, month, state, first_submitted_on, submitted_on)
         select id, $2::date, 'submitted', $2::date + 31, $2::date + 31 from units where code = $1",
    )
    .bind(cell)
    .bind(self::month(month))
    .execute(&app.pool)
    .await
    .unwrap();
}

fn channels(smtp_port: Option<u16>, webhook: Option<&str>) -> Channels {
    Channels {
        smtp: smtp_port
            .map(|p| Smtp::parse(&format!("smtp://127.0.0.1:{p}"), Some("chibo <chibo@xa.gov.vn>")).unwrap()),
        webhook: webhook.map(|url| Webhook::parse(url, SECRET).unwrap()),
        base_url: Some("https://chibo.example.vn".into()),
    }
}

fn runner(app: &TestApp, name: &str, channels: Channels) -> Runner {
    Runner::new(app.pool.clone(), reminders::register(Registry::new(), channels)).named(name)
}

/// Rounds at `now` on every runner at once until none starts anything (the planner, then the sends it enqueued).
async fn settle(runners: &[&Runner], now: DateTime<Utc>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(Instant::now() < deadline, "the runners did not settle within 30 s");
        let started: usize = futures_util::future::join_all(runners.iter().map(|r| r.tick(now)))
            .await
            .into_iter()
            .map(|n| n.unwrap())
            .sum();
        if started == 0 {
            return;
        }
    }
}

async fn outbox_states(app: &TestApp) -> Vec<(String, String)> {
    sqlx::query_as("select idempotency_key, state from outbox order by idempotency_key")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn secretaries_are_reminded_before_the_deadline_and_clerks_after_it_once_each(pool: PgPool) {
    let app = app_with_contacts(pool, "2026-11").await;
    submitted(&app, "B", "2026-11").await;
    let smtp = SmtpServer::start(0).await;
    let hook = Receiver::start(&[]).await;
    // two instances over the same database
    let one = runner(&app, "one", channels(Some(smtp.port), Some(&hook.url)));
    let two = runner(&app, "two", channels(Some(smtp.port), Some(&hook.url)));

    // 2 December: three days before November's deadline; A has not submitted, B has
    settle(&[&one, &two], at("2026-12-02T08:00:00")).await;
    let mails = smtp.to("sec_a@xa.gov.vn");
    assert_eq!(mails.len(), 1, "{:?}", smtp.mails());
    let text = mails[0].text();
    assert!(
        text.contains("Báo cáo tháng 11/2026 của Chi bộ thôn Khuổi Trang hạn ngày 05/12/2026 (còn 3 ngày)"),
        "{text}"
    );
    assert!(text.contains("Mở chibo: https://chibo.example.vn/cells/A"), "{text}");
    assert!(mails[0].data.contains("Content-Transfer-Encoding: 8bit"), "readable as sent: {}", mails[0].data);
    assert!(smtp.to("sec_b@xa.gov.vn").is_empty(), "B has submitted");
    assert!(smtp.to("clerk@xa.gov.vn").is_empty(), "the clerks hear only after the deadline");
    let posts = hook.accepted();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(posts[0].signed, "signed with the shared secret");
    assert_eq!(posts[0].body["phone"], "0912000001");
    assert_eq!(posts[0].body["kind"], "due3");
    assert_eq!(posts[0].body["cells"], serde_json::json!(["Chi bộ thôn Khuổi Trang"]));
    assert_eq!(posts[0].key, posts[0].body["id"].as_str().unwrap());

    // the same day again, on either instance: nothing new
    settle(&[&two, &one], at("2026-12-02T15:00:00")).await;
    assert_eq!((smtp.mails().len(), hook.posts().len()), (1, 1));

    // the day before the deadline: the second reminder
    settle(&[&one, &two], at("2026-12-04T08:00:00")).await;
    let mails = smtp.to("sec_a@xa.gov.vn");
    assert_eq!(mails.len(), 2);
    assert!(mails[1].text().contains("(còn 1 ngày)"), "{}", mails[1].data);

    // the day after: the clerk, with the overdue cell only
    settle(&[&two, &one], at("2026-12-06T08:00:00")).await;
    let mails = smtp.to("clerk@xa.gov.vn");
    assert_eq!(mails.len(), 1, "{:?}", smtp.mails());
    let text = mails[0].text();
    assert!(text.contains("Báo cáo tháng 11/2026 hạn ngày 05/12/2026 đã quá hạn"), "{text}");
    assert!(text.contains("Chi bộ thôn Khuổi Trang") && !text.contains("Nà Mỏ"), "{text}");
    assert_eq!(smtp.to("sec_a@xa.gov.vn").len(), 2, "the secretaries hear nothing more");
    let clerk_posts: Vec<Post> = hook.accepted().into_iter().filter(|p| p.body["kind"] == "overdue").collect();
    assert_eq!(clerk_posts.len(), 1);
    assert_eq!(clerk_posts[0].body["unit"], "Đảng bộ xã Xuân Lập");
    assert!(hook.posts().iter().all(|p| p.signed));
    settle(&[&one, &two], at("2026-12-20T08:00:00")).await;
    assert_eq!((smtp.mails().len(), hook.posts().len()), (3, 3), "each reminder once");
    assert!(outbox_states(&app).await.iter().all(|(_, s)| s == "done"));

    // the notices on the home pages: the secretary's cell, the clerk's committee; gone once dismissed
    let mut sec = app.login("sec_a").await;
    let home = sec.get("/cells/A").await;
    assert!(home.text().contains("Báo cáo tháng 11/2026 hạn ngày 05/12/2026"), "{}", home.text());
    let mut sec_b = app.login("sec_b").await;
    assert!(!sec_b.get("/cells/B").await.text().contains("Báo cáo tháng 11/2026"), "B has submitted");
    let mut clerk = app.login("clerk").await;
    let queue = clerk.get("/units/XL").await;
    assert!(queue.text().contains("đã quá hạn. Chưa nộp: Chi bộ thôn Khuổi Trang."), "{}", queue.text());
    let (csrf, id) = (queue.input("csrf").unwrap(), queue.input("id").unwrap());
    // another's notice cannot be dismissed
    let sec_csrf = sec.csrf("/cells/A").await;
    let theirs = sec.post("/account/notices/dismiss", &[("csrf", sec_csrf.as_str()), ("id", id.as_str())]).await;
    assert_eq!(theirs.status, axum::http::StatusCode::NOT_FOUND);
    let form = [("csrf", csrf.as_str()), ("id", id.as_str()), ("next", "/units/XL")];
    let page = clerk.post("/account/notices/dismiss", &form).await;
    let page = clerk.follow(page).await;
    assert!(!page.text().contains("đã quá hạn"), "{}", page.text());
    // once A submits, its secretary's notice goes
    submitted(&app, "A", "2026-11").await;
    assert!(!sec.get("/cells/A").await.text().contains("Báo cáo tháng 11/2026"));
}

/// Two planners at the same moment (the lease normally keeps the second one out): each reminder is made once.
#[sqlx::test]
async fn two_planners_at_once_make_each_reminder_once(pool: PgPool) {
    let app = app_with_contacts(pool, "2026-11").await;
    let ch = Arc::new(channels(Some(25), Some("http://127.0.0.1:9/sms")));
    let ctx = |now| chibo::jobs::Ctx {
        pool: app.pool.clone(),
        kind: reminders::PLAN.into(),
        payload: serde_json::Value::Null,
        attempt: 1,
        now,
    };
    let now = at("2026-12-06T08:00:00");
    let (a, b) = tokio::join!(reminders::plan(ctx(now), ch.clone()), reminders::plan(ctx(now), ch.clone()));
    a.unwrap();
    b.unwrap();
    reminders::plan(ctx(now + chrono::TimeDelta::hours(1)), ch).await.unwrap();
    // November is overdue: A and B under Xuân Lập's clerk (e-mail and phone), C under Côn Lôn (no clerk)
    let keys: Vec<String> =
        sqlx::query_scalar("select idempotency_key from outbox order by 1").fetch_all(&app.pool).await.unwrap();
    let clerk: i64 =
        sqlx::query_scalar("select id from users where username = 'clerk'").fetch_one(&app.pool).await.unwrap();
    let xl: i64 = sqlx::query_scalar("select id from units where code = 'XL'").fetch_one(&app.pool).await.unwrap();
    let expected: Vec<String> =
        ["email", "webhook"].iter().map(|c| format!("reminder:overdue:{clerk}:{xl}:2026-11:{c}")).collect();
    assert_eq!(keys, expected);
    assert_eq!(app.count("notices").await, 1);
}

#[sqlx::test]
async fn no_reminder_for_months_before_reporting_since_or_submitted_cells(pool: PgPool) {
    let app = app_with_contacts(pool, "2026-12").await;
    let smtp = SmtpServer::start(0).await;
    let one = runner(&app, "one", channels(Some(smtp.port), None));
    settle(&[&one], at("2026-12-02T08:00:00")).await;
    settle(&[&one], at("2026-12-06T08:00:00")).await;
    assert!(smtp.mails().is_empty(), "November is before reporting_since");
    assert_eq!((app.count("notices").await, app.count("outbox").await), (0, 0));

    // December is required: every cell but the one that submitted, in-app for all, by mail for those with an address
    submitted(&app, "A", "2026-12").await;
    settle(&[&one], at("2027-01-02T08:00:00")).await;
    let to: Vec<Vec<String>> = smtp.mails().into_iter().map(|m| m.to).collect();
    assert_eq!(to, [vec!["<sec_b@xa.gov.vn>".to_string()]], "B only (C's secretary gave no address)");
    let notices: Vec<String> =
        sqlx::query_scalar("select u.username from notices n join users u on u.id = n.user_id order by 1")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(notices, ["sec_b", "sec_c"]);
}

#[sqlx::test]
async fn a_mail_refused_while_the_server_is_down_arrives_once_when_it_is_up(pool: PgPool) {
    let app = app_with_contacts(pool, "2026-11").await;
    // a port nothing listens on
    let port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let one = runner(&app, "one", channels(Some(port), None));
    let t0 = at("2026-12-02T08:00:00");
    settle(&[&one], t0).await;
    let item: (String, i32, DateTime<Utc>, Option<String>) =
        sqlx::query_as("select state, attempts, next_attempt_at, last_error from outbox order by id limit 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let items = outbox_states(&app).await;
    assert_eq!(items.len(), 2, "sec_a and sec_b, by mail: {items:?}");
    assert!(items.iter().all(|(_, s)| s == "pending"), "{items:?}");
    assert_eq!(item.1, 1);
    assert!(item.3.is_some(), "the refusal is kept");
    let retry_at = item.2;
    assert!(retry_at >= t0 + chrono::TimeDelta::seconds(30), "backs off: {retry_at}");

    // the server comes up on that port; not tried before its time, then delivered once
    let smtp = SmtpServer::start(port).await;
    settle(&[&one], retry_at - chrono::TimeDelta::seconds(1)).await;
    assert!(smtp.mails().is_empty());
    settle(&[&one], retry_at + chrono::TimeDelta::seconds(5)).await;
    assert_eq!((smtp.to("sec_a@xa.gov.vn").len(), smtp.to("sec_b@xa.gov.vn").len()), (1, 1));
    settle(&[&one], retry_at + chrono::TimeDelta::hours(3)).await;
    assert_eq!(smtp.mails().len(), 2, "once each");
    assert!(outbox_states(&app).await.iter().all(|(_, s)| s == "done"));
}

#[sqlx::test]
async fn a_webhook_answering_500_is_posted_again_and_accepted_once(pool: PgPool) {
    let app = app_with_contacts(pool, "2026-11").await;
    submitted(&app, "B", "2026-11").await;
    let hook = Receiver::start(&[500]).await;
    let one = runner(&app, "one", channels(None, Some(&hook.url)));
    let t0 = at("2026-12-02T08:00:00");
    settle(&[&one], t0).await;
    assert_eq!(hook.posts().iter().map(|p| p.status).collect::<Vec<_>>(), [500]);
    let retry_at: DateTime<Utc> = sqlx::query_scalar("select next_attempt_at from outbox where state = 'pending'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    settle(&[&one], retry_at).await;
    settle(&[&one], retry_at + chrono::TimeDelta::hours(2)).await;
    let posts = hook.posts();
    assert_eq!(posts.iter().map(|p| p.status).collect::<Vec<_>>(), [500, 200], "{posts:?}");
    assert_eq!(posts[0].key, posts[1].key, "the same reminder, named the same");
    assert!(posts.iter().all(|p| p.signed));
    assert_eq!(outbox_states(&app).await.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>(), ["done"]);
}

#[sqlx::test]
async fn a_user_gives_a_phone_and_an_email_that_administrators_see(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut sec = app.login("sec_a").await;
    let csrf = sec.csrf("/account").await;
    let refused =
        sec.post("/account/contact", &[("csrf", csrf.as_str()), ("phone", "12 34"), ("email", "an@xa")]).await;
    assert_eq!(refused.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    let text = refused.text();
    assert!(text.contains("Số điện thoại gồm 8 đến 15 chữ số") && text.contains("Địa chỉ e-mail chưa đúng"), "{text}");
    assert_eq!(refused.input("phone").as_deref(), Some("12 34"), "kept as typed");
    let user = users::by_username(&app.pool, "sec_a").await.unwrap().unwrap();
    assert_eq!(users::contact(&app.pool, user.id).await.unwrap(), users::Contact::default(), "nothing saved");

    let form = [("csrf", csrf.as_str()), ("phone", "0912 345 678"), ("email", "An@XA.gov.vn")];
    let saved = sec.post("/account/contact", &form).await;
    assert!(saved.text().contains("Đã lưu số điện thoại và e-mail."), "{}", saved.text());
    assert_eq!(saved.input("phone").as_deref(), Some("0912345678"));
    let mut admin = app.login("admin").await;
    assert!(admin.get("/admin/users").await.text().contains("0912345678 · An@xa.gov.vn"));
}
