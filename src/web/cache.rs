//! Pages and sessions kept in memory between requests, dropped as soon as anything they depend on changes.
//!
//! Two generation counters stand for "the data" and "who is signed in". Every entry remembers the generation it was
//! computed under (read *before* the database was), and is served only while that generation is current. They move
//! on when:
//! - this instance answers a request that may write (anything but GET and HEAD), after the handler has committed;
//! - PostgreSQL announces a committed change (`chibo_data`, `chibo_auth`, see migration 0005), which covers other
//!   instances behind the same address and the command line (`chibo import`, `chibo user disable`);
//! - the connection that listens for those notices is lost or comes back (a notice may have been missed).
//!
//! Nothing is served from memory unless the listener is connected, so an instance that cannot hear the others
//! always reads the database.
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;
use sqlx::postgres::PgListener;

use super::AppState;
use crate::db::users::User;
use crate::domain::Role;

/// At most this many pages (about 50 kB each) and sessions are kept; beyond, the least recently stored go.
const MAX_PAGES: usize = 512;
const MAX_SESSIONS: usize = 20_000;
/// A session read from memory is checked against the database again after this long (which also keeps its
/// idle-expiry clock moving).
const SESSION_RECHECK: Duration = Duration::from_secs(60);
/// Marks the user-specific places in a stored page; never produced by the templates' HTML escaping of data.
const MARK: char = '\u{1}';

pub const DATA_CHANNEL: &str = "chibo_data";
pub const AUTH_CHANNEL: &str = "chibo_auth";

#[derive(Default)]
pub struct Cache {
    data: AtomicU64,
    auth: AtomicU64,
    live: AtomicBool,
    hits: AtomicU64,
    pages: Mutex<Store<PageKey, Arc<Page>>>,
    sessions: Mutex<Store<String, Session>>,
}

/// Everything a dashboard page depends on besides the data and the signed-in user's name and token.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct PageKey {
    pub path: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub flags: String,
    pub role: Role,
    /// the top of the user's scope: breadcrumbs start there, and access was granted for it
    pub scope_unit: i64,
    pub today: NaiveDate,
}

/// A page split at its user-specific places: text, then alternately a marker name and text.
struct Page {
    generation: u64,
    parts: Vec<String>,
}

#[derive(Clone)]
struct Session {
    generation: u64,
    checked: Instant,
    expires: DateTime<Utc>,
    user: User,
    csrf: String,
}

/// A map that forgets its oldest entries when full.
struct Store<K, V> {
    map: HashMap<K, (u64, V)>,
    tick: u64,
    max: usize,
}

impl<K: std::hash::Hash + Eq + Clone, V> Store<K, V> {
    fn new(max: usize) -> Self {
        Store { map: HashMap::new(), tick: 0, max }
    }

    fn get<Q: std::hash::Hash + Eq + ?Sized>(&self, k: &Q) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
    {
        self.map.get(k).map(|(_, v)| v)
    }

    fn insert(&mut self, k: K, v: V) {
        if self.map.len() >= self.max && !self.map.contains_key(&k) {
            // drop the older half at once, so that a full store costs one scan per max/2 inserts
            let mut ticks: Vec<u64> = self.map.values().map(|(t, _)| *t).collect();
            let (_, median, _) = ticks.select_nth_unstable(self.max / 2);
            let median = *median;
            self.map.retain(|_, (t, _)| *t > median);
        }
        self.tick += 1;
        self.map.insert(k, (self.tick, v));
    }

    fn remove<Q: std::hash::Hash + Eq + ?Sized>(&mut self, k: &Q)
    where
        K: std::borrow::Borrow<Q>,
    {
        self.map.remove(k);
    }
}

impl Default for Store<PageKey, Arc<Page>> {
    fn default() -> Self {
        Store::new(MAX_PAGES)
    }
}

impl Default for Store<String, Session> {
    fn default() -> Self {
        Store::new(MAX_SESSIONS)
    }
}

/// What the account bar shows: filled into a stored page for each request.
pub struct Viewer<'a> {
    pub name: &'a str,
    pub csrf: &'a str,
}

impl Viewer<'static> {
    /// Stand-ins rendered into a page that is to be stored.
    pub const MARKS: Viewer<'static> = Viewer { name: "\u{1}name\u{1}", csrf: "\u{1}csrf\u{1}" };
}

impl Cache {
    /// The data generation to stamp an entry with; read it before reading the database.
    pub fn data_generation(&self) -> u64 {
        self.data.load(Ordering::SeqCst)
    }

    pub fn auth_generation(&self) -> u64 {
        self.auth.load(Ordering::SeqCst)
    }

    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::SeqCst)
    }

    /// Something may have changed: every stored page and session is stale from now on.
    pub fn invalidate(&self) {
        self.data.fetch_add(1, Ordering::SeqCst);
        self.auth.fetch_add(1, Ordering::SeqCst);
    }

    /// Sign-ins or accounts may have changed, not the data: stored sessions are stale, stored pages are not.
    pub fn invalidate_sessions(&self) {
        self.auth.fetch_add(1, Ordering::SeqCst);
    }

    fn set_live(&self, live: bool) {
        // whatever happened while we were not listening is unknown: start afresh either way
        self.invalidate();
        self.live.store(live, Ordering::SeqCst);
    }

    /// The stored page for `key` with the viewer filled in, if it is still current.
    pub fn page(&self, key: &PageKey, viewer: &Viewer) -> Option<String> {
        if !self.is_live() {
            return None;
        }
        let page = self.pages.lock().expect("cache lock").get(key).cloned()?;
        if page.generation != self.data_generation() {
            return None;
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(fill(&page.parts, viewer))
    }

    /// How many pages were served from memory so far.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Stores a page rendered with [`Viewer::MARKS`] and returns it filled in for `viewer`.
    pub fn store_page(&self, key: PageKey, generation: u64, marked: String, viewer: &Viewer) -> String {
        let parts: Vec<String> = marked.split(MARK).map(str::to_string).collect();
        // the marks must be exactly ours: anything else (a control character in the data?) is not stored
        let ours = parts.len() % 2 == 1 && parts.iter().skip(1).step_by(2).all(|m| m == "name" || m == "csrf");
        let page = fill(&parts, viewer);
        if ours && self.is_live() {
            self.pages.lock().expect("cache lock").insert(key, Arc::new(Page { generation, parts }));
        }
        page
    }

    /// The user and CSRF token of a session checked recently enough, if nothing about sign-ins changed since.
    pub fn session(&self, token: &str) -> Option<(User, String)> {
        if !self.is_live() {
            return None;
        }
        let sessions = self.sessions.lock().expect("cache lock");
        let s = sessions.get(token)?;
        let fresh = s.generation == self.auth_generation()
            && s.checked.elapsed() < SESSION_RECHECK
            && Utc::now() < s.expires
            && !s.user.disabled;
        fresh.then(|| (s.user.clone(), s.csrf.clone()))
    }

    pub fn store_session(&self, token: &str, generation: u64, expires: DateTime<Utc>, user: &User, csrf: &str) {
        if !self.is_live() {
            return;
        }
        let s = Session { generation, checked: Instant::now(), expires, user: user.clone(), csrf: csrf.to_string() };
        self.sessions.lock().expect("cache lock").insert(token.to_string(), s);
    }

    pub fn forget_session(&self, token: &str) {
        self.sessions.lock().expect("cache lock").remove(token);
    }
}

fn fill(parts: &[String], viewer: &Viewer) -> String {
    let mut out = String::with_capacity(parts.iter().map(String::len).sum::<usize>() + 128);
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 0 {
            out.push_str(part);
        } else {
            let value = if part == "name" { viewer.name } else { viewer.csrf };
            escape_into(&mut out, value);
        }
    }
    out
}

/// HTML-escapes as askama does, so that a filled page is byte-equal to one rendered for the user directly.
fn escape_into(out: &mut String, s: &str) {
    use askama::filters::Escaper;
    let _ = askama::filters::Html.write_escaped_str(&mut *out, s);
}

/// After a request that may have written, nothing stored before it can be trusted. Signing in and out and
/// one's own account (password, API keys) write no data, so they leave stored pages alone: at the end of a month
/// hundreds of secretaries sign in while the committee watches the dashboards.
pub async fn invalidate_after_writes(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = req.uri().path();
    let sign_in_only = path == "/login" || path == "/logout" || path.starts_with("/account/");
    let response = next.run(req).await;
    match (writes, sign_in_only) {
        (false, _) => {}
        (true, true) => state.cache().invalidate_sessions(),
        (true, false) => state.cache().invalidate(),
    }
    response
}

/// Listens for the database's change notices for as long as the pool is open, reconnecting after a loss. Until
/// the first connection is made, and whenever it is lost, the cache is off.
pub async fn listen(pool: PgPool, cache: Arc<Cache>) {
    loop {
        let mut listener = match connect(&pool).await {
            Ok(l) => l,
            Err(sqlx::Error::PoolClosed) => return,
            Err(e) => {
                tracing::warn!("cannot listen for changes, pages are not kept in memory: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        cache.set_live(true);
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) if n.channel() == AUTH_CHANNEL => {
                    cache.auth.fetch_add(1, Ordering::SeqCst);
                }
                Ok(Some(_)) => {
                    cache.data.fetch_add(1, Ordering::SeqCst);
                }
                // the connection was lost and made again: notices in between are lost
                Ok(None) => cache.set_live(true),
                Err(sqlx::Error::PoolClosed) => {
                    cache.set_live(false);
                    return;
                }
                Err(e) => {
                    tracing::warn!("lost the change notices, pages are not kept in memory: {e}");
                    cache.set_live(false);
                    break;
                }
            }
        }
    }
}

async fn connect(pool: &PgPool) -> sqlx::Result<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen_all([DATA_CHANNEL, AUTH_CHANNEL]).await?;
    Ok(listener)
}
