//! Reminders of the reporting cycle (DOMAIN.md §10; issue 16 item 6).
//!
//! `reminders.plan` runs every hour on one instance at a time. On the days before the deadline (3 and 1 day
//! before, [`DAYS_BEFORE`]) it reminds the secretaries of every required cell-month not yet submitted; once the
//! deadline has passed, the clerks of each committee, one message per clerk listing the committee's overdue cells.
//! Each reminder is a notice on the recipient's home page (written at once) and one outbox item per further
//! channel: `reminders.email` (SMTP, for a recipient with an e-mail address) and `reminders.webhook` (a signed JSON
//! post for an SMS or Zalo gateway, for a recipient with a phone). Every one has an idempotency key
//! `reminder:<kind>:<user>:<unit>:<month>:<channel>`, so that runs on several instances, or again the same day,
//! make it once; a send that fails is retried by the outbox with backoff, and marked done only after the server
//! took the message.
use chrono::{NaiveDate, Utc};
use hmac::{Hmac, Mac};
use http_body_util::Full;
use hyper::body::Bytes;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::{Ctx, Outcome, Policy, Registry};
use crate::db::reminders::{self, NewNotice, PendingCell, Recipient};
use crate::db::{outbox, settings};
use crate::domain::metrics::{Lang, add_months};
use crate::domain::{Role, time};

pub const PLAN: &str = "reminders.plan";
pub const EMAIL: &str = "reminders.email";
pub const WEBHOOK: &str = "reminders.webhook";

/// The days before the deadline on which the secretaries are reminded.
pub const DAYS_BEFORE: [i64; 2] = [3, 1];

/// A send is tried for about a day before it is marked failed (30 s, 1 min, 2 min, … then hourly).
pub const SEND_POLICY: Policy =
    Policy { max_attempts: 30, first_retry: Duration::from_secs(30), max_retry: Duration::from_secs(3600) };

/// How long one send may take before it counts as failed.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// Which reminder before the deadline a day `days_left` days before it calls for: the nearest of [`DAYS_BEFORE`]
/// not before it (so a day the planner could not run is caught up the day after); none earlier, none after the
/// deadline.
pub fn stage_before(days_left: i64) -> Option<i64> {
    if days_left < 0 {
        return None;
    }
    DAYS_BEFORE.iter().copied().filter(|&d| d >= days_left).min()
}

/// The idempotency key of a reminder on one channel (`app`, `email`, `webhook`).
pub fn key(kind: &str, user_id: i64, unit_id: i64, month: NaiveDate, channel: &str) -> String {
    format!("reminder:{kind}:{user_id}:{unit_id}:{}:{channel}", month.format("%Y-%m"))
}

/// Where reminders go besides the home pages. Read once at start (`CHIBO_SMTP_URL`, `CHIBO_MAIL_FROM`,
/// `CHIBO_WEBHOOK_URL`, `CHIBO_WEBHOOK_SECRET`, `CHIBO_BASE_URL`).
#[derive(Debug, Clone, Default)]
pub struct Channels {
    pub smtp: Option<Smtp>,
    pub webhook: Option<Webhook>,
    /// The site's address, for a link in the message.
    pub base_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub credentials: Option<(String, String)>,
    /// The sender, `chibo <chibo@example.vn>` or a bare address.
    pub from: String,
}

#[derive(Clone)]
pub struct Webhook {
    pub url: hyper::Uri,
    pub secret: Vec<u8>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Smtp {
    /// `smtp://[user:password@]host[:port]` (port 25 by default), plain: a relay on the same host or network.
    pub fn parse(url: &str, from: Option<&str>) -> anyhow::Result<Smtp> {
        let parsed = url::Url::parse(url.trim())?;
        anyhow::ensure!(parsed.scheme() == "smtp", "CHIBO_SMTP_URL must be smtp://host:port");
        let host = parsed.host_str().filter(|h| !h.is_empty()).ok_or_else(|| anyhow::anyhow!("no host"))?;
        let user = url::form_urlencoded::parse(parsed.username().as_bytes()).map(|(k, _)| k.into_owned()).next();
        let credentials = match (user, parsed.password()) {
            (Some(user), Some(password)) if !user.is_empty() => Some((user, password.to_string())),
            _ => None,
        };
        let from = from.map(str::trim).filter(|f| !f.is_empty()).unwrap_or("chibo <chibo@localhost>").to_string();
        from.parse::<lettre::message::Mailbox>().map_err(|e| anyhow::anyhow!("CHIBO_MAIL_FROM: {e}"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
        Ok(Smtp { host, port: parsed.port().unwrap_or(25), credentials, from })
    }
}

impl Webhook {
    /// `http://host[:port]/path`, and the secret its posts are signed with (required).
    pub fn parse(url: &str, secret: &str) -> anyhow::Result<Webhook> {
        let url: hyper::Uri = url.trim().parse()?;
        anyhow::ensure!(url.scheme_str() == Some("http"), "CHIBO_WEBHOOK_URL must be http://… (a gateway nearby)");
        anyhow::ensure!(!secret.is_empty(), "CHIBO_WEBHOOK_SECRET is required with CHIBO_WEBHOOK_URL");
        Ok(Webhook { url, secret: secret.as_bytes().to_vec() })
    }
}

impl Channels {
    /// From the environment; a channel whose settings are wrong is logged and left out.
    pub fn from_env() -> Channels {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let smtp = var("CHIBO_SMTP_URL").and_then(|url| {
            Smtp::parse(&url, var("CHIBO_MAIL_FROM").as_deref())
                .inspect_err(|e| tracing::error!("reminders by e-mail are off: {e:#}"))
                .ok()
        });
        let webhook = var("CHIBO_WEBHOOK_URL").and_then(|url| {
            Webhook::parse(&url, &var("CHIBO_WEBHOOK_SECRET").unwrap_or_default())
                .inspect_err(|e| tracing::error!("reminders by webhook are off: {e:#}"))
                .ok()
        });
        let base_url = var("CHIBO_BASE_URL").map(|b| b.trim().trim_end_matches('/').to_string());
        Channels { smtp, webhook, base_url }
    }
}

/// The planner and the two senders, under their kinds.
pub fn register(registry: Registry, channels: Channels) -> Registry {
    let channels = Arc::new(channels);
    let (a, b, c) = (channels.clone(), channels.clone(), channels);
    registry
        .every(PLAN, Duration::from_secs(3600), move |ctx: Ctx| plan(ctx, a.clone()))
        .on(EMAIL, SEND_POLICY, move |ctx: Ctx| send_email(ctx, b.clone()))
        .on(WEBHOOK, SEND_POLICY, move |ctx: Ctx| send_webhook(ctx, c.clone()))
}

/// One reminder as the outbox carries it, and as the webhook posts it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Message {
    /// The reminder's key without its channel: the same on every channel, for a gateway to drop a repeat.
    pub id: String,
    /// `due3`, `due1` (before the deadline) or `overdue`.
    pub kind: String,
    pub user_id: i64,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// `YYYY-MM`
    pub month: String,
    pub deadline: NaiveDate,
    /// The cell (before the deadline) or the committee (after it).
    pub unit: String,
    /// The cells not submitted.
    pub cells: Vec<String>,
    pub subject: String,
    pub text: String,
}

/// A reminder decided by the planner.
struct Reminder<'a> {
    kind: String,
    overdue: bool,
    to: &'a Recipient,
    unit_id: i64,
    unit_name: &'a str,
    month: NaiveDate,
    deadline: NaiveDate,
    cells: Vec<&'a PendingCell>,
    /// days left before the deadline (before it)
    days_left: i64,
}

fn fill(key: &str, values: &[&str]) -> String {
    values.iter().fold(crate::i18n::tr_in(Lang::Vi, key).to_string(), |text, v| text.replacen("{}", v, 1))
}

impl Reminder<'_> {
    fn message(&self, base_url: Option<&str>) -> Message {
        let month = time::format_month(self.month);
        let deadline = time::format_date(self.deadline);
        let names: Vec<String> = self.cells.iter().map(|c| c.name.clone()).collect();
        let (subject, mut text, path) = if self.overdue {
            let n = names.len().to_string();
            let subject = fill("reminder.overdue.subject", &[&month, &n]);
            let text = fill("reminder.overdue.text", &[&month, &deadline, self.unit_name, &names.join(", ")]);
            (subject, text, "/".to_string())
        } else {
            let days = self.days_left.to_string();
            let subject = fill("reminder.due.subject", &[&month, self.unit_name]);
            let text = fill("reminder.due.text", &[&month, self.unit_name, &deadline, &days]);
            (subject, text, format!("/cells/{}", self.cells.first().map(|c| c.code.as_str()).unwrap_or_default()))
        };
        if let Some(base) = base_url {
            text = format!("{text}\n\n{}", fill("reminder.link", &[&format!("{base}{path}")]));
        }
        Message {
            id: key(&self.kind, self.to.user_id, self.unit_id, self.month, "").trim_end_matches(':').to_string(),
            kind: self.kind.clone(),
            user_id: self.to.user_id,
            name: self.to.display_name.clone(),
            email: self.to.email.clone(),
            phone: self.to.phone.clone(),
            month: self.month.format("%Y-%m").to_string(),
            deadline: self.deadline,
            unit: self.unit_name.to_string(),
            cells: names,
            subject,
            text,
        }
    }
}

/// Decides the reminders due on the day of `ctx.now` (Vietnam's) and records each once.
pub async fn plan(ctx: Ctx, channels: Arc<Channels>) -> Outcome {
    let pool = &ctx.pool;
    let today = time::local(ctx.now).date_naive();
    let settings = settings::get(pool).await?;
    let mut made = 0;

    // before the deadline: the month whose deadline comes next, to the secretaries of its cells not submitted
    let month = add_months(settings.last_due_month(today), 1);
    let deadline = settings.deadline(month);
    let days_left = (deadline - today).num_days();
    if let Some(stage) = stage_before(days_left).filter(|_| settings.required(month)) {
        let cells = reminders::pending_cells(pool, month).await?;
        let ids: Vec<i64> = cells.iter().map(|c| c.cell_id).collect();
        let secretaries = reminders::recipients(pool, Role::CellSecretary, &ids).await?;
        let mut due = Vec::new();
        for to in &secretaries {
            let Some(cell) = cells.iter().find(|c| c.cell_id == to.unit_id) else { continue };
            let kind = format!("due{stage}");
            let r = Reminder {
                kind,
                overdue: false,
                to,
                unit_id: cell.cell_id,
                unit_name: &cell.name,
                month,
                deadline,
                cells: vec![cell],
                days_left,
            };
            due.push(r);
        }
        made += record(pool, &channels, due, ctx.now).await?;
    }

    // after it: the last month whose deadline has passed, to the clerks of each committee with overdue cells
    let month = settings.last_due_month(today);
    if settings.required(month) {
        let cells = reminders::pending_cells(pool, month).await?;
        let mut by_committee: BTreeMap<i64, Vec<&PendingCell>> = BTreeMap::new();
        for c in &cells {
            if let Some(k) = c.committee_id {
                by_committee.entry(k).or_default().push(c);
            }
        }
        let committees: Vec<i64> = by_committee.keys().copied().collect();
        let clerks = reminders::recipients(pool, Role::CommitteeClerk, &committees).await?;
        let mut due = Vec::new();
        for to in &clerks {
            let Some(cells) = by_committee.get(&to.unit_id) else { continue };
            let name = cells[0].committee_name.as_deref().unwrap_or_default();
            let r = Reminder {
                kind: "overdue".into(),
                overdue: true,
                to,
                unit_id: to.unit_id,
                unit_name: name,
                month,
                deadline: settings.deadline(month),
                cells: cells.clone(),
                days_left: 0,
            };
            due.push(r);
        }
        made += record(pool, &channels, due, ctx.now).await?;
    }
    if made > 0 {
        tracing::info!("reminders: {made} notices and messages to send");
    }
    Ok(())
}

/// Records the reminders not recorded yet (their notice is there: it was written with their outbox items), so that
/// the hourly runs after the first cost one query. How many notices and items are new.
async fn record(
    pool: &PgPool,
    channels: &Channels,
    due: Vec<Reminder<'_>>,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<usize> {
    let keys: Vec<String> = due.iter().map(|r| key(&r.kind, r.to.user_id, r.unit_id, r.month, "app")).collect();
    let known = reminders::known_notices(pool, &keys).await?;
    let mut made = 0;
    for (r, app_key) in due.iter().zip(&keys) {
        if !known.contains(app_key) {
            made += remind(pool, channels, r, now).await?;
        }
    }
    Ok(made)
}

/// Records one reminder: its notice and its outbox items, in one transaction. How many are new.
async fn remind(
    pool: &PgPool,
    channels: &Channels,
    r: &Reminder<'_>,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<usize> {
    let mut tx = pool.begin().await?;
    let cell_ids: Vec<i64> = r.cells.iter().map(|c| c.cell_id).collect();
    let app_key = key(&r.kind, r.to.user_id, r.unit_id, r.month, "app");
    let notice = NewNotice {
        key: &app_key,
        user_id: r.to.user_id,
        unit_id: r.unit_id,
        month: r.month,
        deadline: r.deadline,
        overdue: r.overdue,
        cell_ids: &cell_ids,
    };
    let mut made = usize::from(reminders::add_notice(&mut tx, notice, now).await?);
    let message = r.message(channels.base_url.as_deref());
    let payload = serde_json::to_value(&message)?;
    let sends = [
        (EMAIL, "email", channels.smtp.is_some() && r.to.email.is_some()),
        (WEBHOOK, "webhook", channels.webhook.is_some() && r.to.phone.is_some()),
    ];
    for (kind, channel, wanted) in sends {
        if wanted {
            let item_key = key(&r.kind, r.to.user_id, r.unit_id, r.month, channel);
            let (_, new) = outbox::enqueue(&mut tx, kind, &payload, Some(&item_key), now).await?;
            made += usize::from(new);
        }
    }
    tx.commit().await?;
    Ok(made)
}

async fn send_email(ctx: Ctx, channels: Arc<Channels>) -> Outcome {
    use lettre::message::header::{ContentTransferEncoding, ContentType};
    use lettre::message::{Body, Mailbox};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
    let smtp = channels.smtp.as_ref().ok_or_else(|| anyhow::anyhow!("CHIBO_SMTP_URL is not set here"))?;
    let m: Message = serde_json::from_value(ctx.payload)?;
    let address = m.email.as_deref().ok_or_else(|| anyhow::anyhow!("no address"))?;
    let to = Mailbox::new(Some(m.name.clone()), address.parse()?);
    // 8-bit UTF-8 as written (every relay of today takes it), in lines short enough for that; encoded only if a
    // word is longer than a line
    let text = wrap(&m.text, 72);
    let body =
        Body::new_with_encoding(text.clone(), ContentTransferEncoding::EightBit).unwrap_or_else(|_| Body::new(text));
    let email = lettre::Message::builder()
        .from(smtp.from.parse()?)
        .to(to)
        .subject(&m.subject)
        // the same on a repeat (a send whose success was not recorded), for a mail client to drop it
        .message_id(Some(format!("<{}@chibo>", m.id.replace(':', "."))))
        .header(ContentType::TEXT_PLAIN)
        .body(body)?;
    // the EHLO name: this machine's (lettre's own lookup is a feature left out)
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let hello = Some(host.trim()).filter(|h| !h.is_empty()).unwrap_or("localhost").to_string();
    let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
        .hello_name(lettre::transport::smtp::extension::ClientId::Domain(hello))
        .port(smtp.port)
        .timeout(Some(SEND_TIMEOUT));
    if let Some((user, password)) = &smtp.credentials {
        transport = transport.credentials((user.clone(), password.clone()).into());
    }
    let sent = tokio::time::timeout(SEND_TIMEOUT, transport.build().send(email)).await;
    sent.map_err(|_| anyhow::anyhow!("the mail server did not answer in time"))??;
    Ok(())
}

/// `text` with each line broken between words so that none is longer than `width` bytes (a longer word stays
/// whole on its own line).
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let mut len = 0;
        for word in line.split(' ').filter(|w| !w.is_empty()) {
            if len > 0 && len + 1 + word.len() > width {
                out.push('\n');
                len = 0;
            } else if len > 0 {
                out.push(' ');
                len += 1;
            }
            out.push_str(word);
            len += word.len();
        }
    }
    out
}

/// The `X-Chibo-Signature` of a webhook body: `sha256=` and the hex HMAC-SHA256 of the body with the secret.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    format!("sha256={}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

async fn send_webhook(ctx: Ctx, channels: Arc<Channels>) -> Outcome {
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let hook = channels.webhook.as_ref().ok_or_else(|| anyhow::anyhow!("CHIBO_WEBHOOK_URL is not set here"))?;
    let m: Message = serde_json::from_value(ctx.payload)?;
    let body = serde_json::to_vec(&m)?;
    let request = hyper::Request::post(hook.url.clone())
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header("X-Chibo-Signature", signature(&hook.secret, &body))
        .header("Idempotency-Key", &m.id)
        .body(Full::new(Bytes::from(body)))?;
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let answer = tokio::time::timeout(SEND_TIMEOUT, client.request(request))
        .await
        .map_err(|_| anyhow::anyhow!("the webhook did not answer in time"))??;
    anyhow::ensure!(answer.status().is_success(), "the webhook answered {}", answer.status());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secretaries_are_reminded_three_days_and_one_day_before() {
        let stages: Vec<Option<i64>> = (-1..=5).map(stage_before).collect();
        assert_eq!(stages, [None, Some(1), Some(1), Some(3), Some(3), None, None]);
        let m = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        assert_eq!(key("due3", 7, 12, m, "email"), "reminder:due3:7:12:2026-11:email");
    }

    #[test]
    fn mail_lines_are_broken_between_words() {
        let text = "Báo cáo tháng 11/2026 của Chi bộ thôn Khuổi Trang hạn ngày 05/12/2026 (còn 3 ngày).\n\nMở chibo: x";
        let wrapped = wrap(text, 40);
        assert!(wrapped.lines().all(|l| l.len() <= 40), "{wrapped}");
        assert_eq!(wrapped.split_whitespace().collect::<Vec<_>>(), text.split_whitespace().collect::<Vec<_>>());
        assert!(wrapped.contains("\n\nMở chibo: x"), "paragraphs kept: {wrapped}");
    }

    #[test]
    fn the_signature_is_the_hex_hmac_sha256_of_the_body() {
        // RFC 4231, test case 2
        let s = signature(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(s, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn channels_are_read_from_their_addresses() {
        let smtp = Smtp::parse("smtp://relay:pass@127.0.0.1:2525", Some("Chi bộ <chibo@xa.vn>")).unwrap();
        assert_eq!((smtp.host.as_str(), smtp.port), ("127.0.0.1", 2525));
        assert_eq!(smtp.credentials, Some(("relay".into(), "pass".into())));
        assert_eq!(Smtp::parse("smtp://mail", None).unwrap().port, 25);
        assert!(Smtp::parse("smtps://mail", None).is_err());
        assert!(Smtp::parse("smtp://mail", Some("not an address")).is_err());
        assert!(Webhook::parse("http://gw:8080/sms", "s").is_ok());
        assert!(Webhook::parse("http://gw:8080/sms", "").is_err());
        assert!(Webhook::parse("ftp://gw/sms", "s").is_err());
    }
}
