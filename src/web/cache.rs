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
use std::collections::{BTreeMap, HashMap};
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

/// At most this many pages and this many bytes of them are kept (a dashboard is 15–60 kB; a long period or a wide
/// unit makes more); beyond, the least recently stored go. A page larger than an eighth of the budget is not kept.
const MAX_PAGES: usize = 512;
const PAGE_BUDGET: usize = 32 << 20;
/// Sessions are worth keeping for [`SESSION_RECHECK`] only: 10,000 is more sign-ins a minute than a province makes.
const MAX_SESSIONS: usize = 10_000;
const SESSION_BUDGET: usize = 8 << 20;
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
    /// Pages being rendered, by key and the data generation they are rendered under: see [`Cache::page_or_render`].
    rendering: Mutex<HashMap<(PageKey, u64), Rendering>>,
}

/// A page being rendered once for every request that asks for it meanwhile: its parts, once there.
type Rendering = Arc<tokio::sync::OnceCell<Arc<Vec<String>>>>;

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

/// A map that forgets its least recently stored entries when it holds more than `max` of them or more than `budget`
/// bytes (as its caller counts them: what the entry holds, key included).
struct Store<K, V> {
    map: HashMap<K, Entry<V>>,
    /// the keys by when they were stored, oldest first
    order: BTreeMap<u64, K>,
    tick: u64,
    max: usize,
    budget: usize,
    bytes: usize,
}

struct Entry<V> {
    tick: u64,
    bytes: usize,
    value: V,
}

impl<K: std::hash::Hash + Eq + Clone, V> Store<K, V> {
    fn new(max: usize, budget: usize) -> Self {
        Store { map: HashMap::new(), order: BTreeMap::new(), tick: 0, max, budget, bytes: 0 }
    }

    fn get<Q: std::hash::Hash + Eq + ?Sized>(&self, k: &Q) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
    {
        self.map.get(k).map(|e| &e.value)
    }

    /// Stores `v` (`bytes` large) under `k`, dropping the oldest entries to make room; an entry larger than an
    /// eighth of the budget is not stored (and an older one under `k` goes).
    fn insert(&mut self, k: K, v: V, bytes: usize) {
        self.remove(&k);
        if bytes > self.budget / 8 {
            return;
        }
        while self.map.len() >= self.max || self.bytes + bytes > self.budget {
            let Some((_, oldest)) = self.order.pop_first() else { break };
            if let Some(e) = self.map.remove(&oldest) {
                self.bytes -= e.bytes;
            }
        }
        self.tick += 1;
        self.order.insert(self.tick, k.clone());
        self.map.insert(k, Entry { tick: self.tick, bytes, value: v });
        self.bytes += bytes;
    }

    fn remove<Q: std::hash::Hash + Eq + ?Sized>(&mut self, k: &Q)
    where
        K: std::borrow::Borrow<Q>,
    {
        if let Some(e) = self.map.remove(k) {
            self.order.remove(&e.tick);
            self.bytes -= e.bytes;
        }
    }
}

impl Default for Store<PageKey, Arc<Page>> {
    fn default() -> Self {
        Store::new(MAX_PAGES, PAGE_BUDGET)
    }
}

impl Default for Store<String, Session> {
    fn default() -> Self {
        Store::new(MAX_SESSIONS, SESSION_BUDGET)
    }
}

/// What a stored entry costs beyond its text: the map's and the order's slots, the key kept twice, the value.
const ENTRY_OVERHEAD: usize = 128;

fn page_bytes(key: &PageKey, parts: &[String]) -> usize {
    let text: usize = parts.iter().map(|p| p.capacity() + std::mem::size_of::<String>()).sum();
    2 * (std::mem::size_of::<PageKey>() + key.path.capacity() + key.flags.capacity())
        + std::mem::size_of::<Page>()
        + text
        + ENTRY_OVERHEAD
}

fn session_bytes(token: &str, s: &Session) -> usize {
    2 * (std::mem::size_of::<String>() + token.len())
        + std::mem::size_of::<Session>()
        + s.user.username.capacity()
        + s.user.display_name.capacity()
        + s.csrf.capacity()
        + ENTRY_OVERHEAD
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
        fill(&self.keep_page(key, generation, marked), viewer)
    }

    /// The page for `key`, filled in for `viewer`: the stored one if current; else rendered by `render` (with
    /// [`Viewer::MARKS`]) and stored — once for all the requests that ask for the same page under the same data
    /// generation while it is being rendered: they wait for it instead of each reading the database. At a month's
    /// end every save empties the store, and a dashboard watched by many would otherwise be computed by each of
    /// them at once, each slowing the others. A request that arrives after a change has a newer generation and
    /// renders its own. If the request rendering it goes away or fails, a waiting one renders it.
    pub async fn page_or_render<E, F, Fut>(&self, key: PageKey, viewer: &Viewer<'_>, render: F) -> Result<String, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<String, E>>,
    {
        if let Some(page) = self.page(&key, viewer) {
            return Ok(page);
        }
        // read before the database is: the rendered page is stamped with it
        let generation = self.data_generation();
        if !self.is_live() {
            let marked = render().await?;
            return Ok(self.store_page(key, generation, marked, viewer));
        }
        let slot = (key, generation);
        let shared = self.rendering.lock().expect("cache lock").entry(slot.clone()).or_default().clone();
        let leave = Leave { cache: self, slot, shared: shared.clone() };
        let parts = shared
            .get_or_try_init(|| async {
                let marked = render().await?;
                let (key, generation) = leave.slot.clone();
                Ok::<_, E>(Arc::new(self.keep_page(key, generation, marked)))
            })
            .await?;
        drop(leave);
        Ok(fill(parts, viewer))
    }

    /// Stores a page rendered with [`Viewer::MARKS`] if its marks are ours, and returns its parts.
    fn keep_page(&self, key: PageKey, generation: u64, marked: String) -> Vec<String> {
        let parts: Vec<String> = marked.split(MARK).map(str::to_string).collect();
        // the marks must be exactly ours: anything else (a control character in the data?) is not stored
        let ours = parts.len() % 2 == 1 && parts.iter().skip(1).step_by(2).all(|m| m == "name" || m == "csrf");
        if ours && self.is_live() {
            let bytes = page_bytes(&key, &parts);
            let page = Arc::new(Page { generation, parts: parts.clone() });
            self.pages.lock().expect("cache lock").insert(key, page, bytes);
        }
        parts
    }

    /// How many pages are being rendered now (for the tests).
    pub fn rendering(&self) -> usize {
        self.rendering.lock().expect("cache lock").len()
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
        let bytes = session_bytes(token, &s);
        self.sessions.lock().expect("cache lock").insert(token.to_string(), s, bytes);
    }

    pub fn forget_session(&self, token: &str) {
        self.sessions.lock().expect("cache lock").remove(token);
    }
}

/// A request's part in a page being rendered: when it is done (rendered, failed or gone), the page is no longer
/// being rendered unless other requests still wait for it.
struct Leave<'a> {
    cache: &'a Cache,
    slot: (PageKey, u64),
    shared: Rendering,
}

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        let mut rendering = self.cache.rendering.lock().unwrap_or_else(|e| e.into_inner());
        let ours = rendering.get(&self.slot).is_some_and(|s| Arc::ptr_eq(s, &self.shared));
        // held by the map and by us only, or done: nobody else will render it from this entry
        if ours && (self.shared.initialized() || Arc::strong_count(&self.shared) <= 2) {
            rendering.remove(&self.slot);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    const VIEWER: Viewer<'static> = Viewer { name: "Nguyễn Văn An", csrf: "token" };

    fn live() -> Cache {
        let cache = Cache::default();
        cache.set_live(true);
        cache
    }

    fn key(i: usize) -> PageKey {
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        PageKey {
            path: format!("/dashboard/U{i}"),
            from: day,
            to: day,
            flags: String::new(),
            role: Role::ProvinceViewer,
            scope_unit: 1,
            today: day,
        }
    }

    /// The bytes of every page part in the store, counted one by one; and that the store's own count is no less.
    fn held(cache: &Cache) -> usize {
        let pages = cache.pages.lock().unwrap();
        let held = pages.map.values().map(|e| e.value.parts.iter().map(String::len).sum::<usize>()).sum();
        assert!(pages.bytes >= held && pages.bytes <= PAGE_BUDGET, "{} accounted for {held}", pages.bytes);
        assert_eq!(pages.order.len(), pages.map.len());
        held
    }

    #[test]
    fn many_large_pages_stay_within_the_byte_budget_and_the_newest_is_served() {
        let cache = live();
        let generation = cache.data_generation();
        // 300 dashboards of 1 MB each, as a province's widest page over a very long period may be
        for i in 0..300 {
            let marked = format!("<h1>U{i}</h1><p>\u{1}name\u{1}</p>{}", "x".repeat(1 << 20));
            let page = cache.store_page(key(i), generation, marked, &VIEWER);
            assert!(page.starts_with(&format!("<h1>U{i}</h1><p>Nguyễn Văn An</p>")));
            assert!(held(&cache) <= 32 << 20, "{} MB held after {} pages", held(&cache) >> 20, i + 1);
        }
        let newest = cache.page(&key(299), &VIEWER).expect("the newest page is served");
        assert!(newest.starts_with("<h1>U299</h1><p>Nguyễn Văn An</p>xxx"));
        assert!(cache.page(&key(0), &VIEWER).is_none(), "the oldest went");
    }

    #[test]
    fn a_page_too_large_to_keep_is_served_and_not_kept_and_a_page_stored_again_is_counted_once() {
        let cache = live();
        let generation = cache.data_generation();
        let huge = format!("<p>\u{1}name\u{1}</p>{}", "x".repeat(PAGE_BUDGET / 8));
        let page = cache.store_page(key(1), generation, huge, &VIEWER);
        assert!(page.starts_with("<p>Nguyễn Văn An</p>xxx"));
        assert!(cache.page(&key(1), &VIEWER).is_none());
        assert_eq!(held(&cache), 0);
        for _ in 0..100 {
            cache.store_page(key(2), generation, "x".repeat(1 << 20), &VIEWER);
        }
        assert_eq!(held(&cache), 1 << 20);
        assert!(cache.page(&key(2), &VIEWER).is_some());
    }

    async fn slow(renders: &AtomicU64, mut go: tokio::sync::watch::Receiver<bool>) -> Result<String, ()> {
        renders.fetch_add(1, Ordering::SeqCst);
        go.wait_for(|v| *v).await.map_err(|_| ())?;
        Ok("<h1>U1</h1><p>\u{1}name\u{1}</p>".to_string())
    }

    #[tokio::test]
    async fn requests_for_a_page_being_rendered_wait_for_it_and_a_request_after_a_change_renders_its_own() {
        const OTHER: Viewer<'static> = Viewer { name: "Lê Thị Bình", csrf: "token2" };
        let cache = live();
        let renders = AtomicU64::new(0);
        let (go, wait) = tokio::sync::watch::channel(false);
        let a = cache.page_or_render(key(1), &VIEWER, || slow(&renders, wait.clone()));
        let b = cache.page_or_render(key(1), &OTHER, || slow(&renders, wait.clone()));
        tokio::pin!(a, b);
        assert!(futures_util::poll!(&mut a).is_pending());
        assert!(futures_util::poll!(&mut b).is_pending());
        assert_eq!(renders.load(Ordering::SeqCst), 1, "the second request waits for the first one's page");
        assert_eq!(cache.rendering(), 1);
        // a change: a request from now on must not be given the page read before it
        cache.invalidate();
        let c = cache.page_or_render(key(1), &OTHER, || slow(&renders, wait.clone()));
        tokio::pin!(c);
        assert!(futures_util::poll!(&mut c).is_pending());
        assert_eq!(renders.load(Ordering::SeqCst), 2, "a request after the change renders again");
        go.send(true).unwrap();
        let (a, b, c) = tokio::join!(a, b, c);
        assert_eq!(a.unwrap(), "<h1>U1</h1><p>Nguyễn Văn An</p>");
        assert_eq!(b.unwrap(), "<h1>U1</h1><p>Lê Thị Bình</p>", "each filled in for its own viewer");
        assert_eq!(c.unwrap(), "<h1>U1</h1><p>Lê Thị Bình</p>");
        assert_eq!(cache.rendering(), 0, "nothing left behind");
        // stored under the newest generation: served from memory, no render
        assert_eq!(cache.page_or_render(key(1), &VIEWER, || slow(&renders, wait.clone())).await.unwrap(), a_page());
        assert_eq!(renders.load(Ordering::SeqCst), 2);
    }

    fn a_page() -> String {
        "<h1>U1</h1><p>Nguyễn Văn An</p>".into()
    }

    #[tokio::test]
    async fn when_the_request_rendering_a_page_goes_away_a_waiting_one_renders_it() {
        let cache = live();
        let renders = AtomicU64::new(0);
        let (go, wait) = tokio::sync::watch::channel(false);
        let mut a = Box::pin(cache.page_or_render(key(1), &VIEWER, || slow(&renders, wait.clone())));
        let b = cache.page_or_render(key(1), &VIEWER, || slow(&renders, wait.clone()));
        tokio::pin!(b);
        assert!(futures_util::poll!(&mut a).is_pending());
        assert!(futures_util::poll!(&mut b).is_pending());
        drop(a); // the first client went away
        go.send(true).unwrap();
        assert_eq!(b.await.unwrap(), a_page());
        assert_eq!(renders.load(Ordering::SeqCst), 2);
        assert_eq!(cache.rendering(), 0);
    }

    #[test]
    fn sessions_are_bounded_in_number_and_bytes_and_the_newest_is_kept() {
        let cache = live();
        let generation = cache.auth_generation();
        let expires = Utc::now() + chrono::Duration::hours(1);
        for i in 0..25_000 {
            let user = User {
                id: i,
                username: format!("user{i}"),
                display_name: format!("Người dùng {i} {}", "n".repeat(200)),
                role: Role::CellSecretary,
                unit_id: 1,
                disabled: false,
                access_until: None,
            };
            cache.store_session(&format!("token-{i:060}"), generation, expires, &user, &"c".repeat(64));
        }
        let sessions = cache.sessions.lock().unwrap();
        assert!(sessions.map.len() <= MAX_SESSIONS, "{}", sessions.map.len());
        assert!(sessions.bytes <= SESSION_BUDGET, "{}", sessions.bytes);
        drop(sessions);
        let (user, _) = cache.session(&format!("token-{:060}", 24_999)).expect("the newest session is kept");
        assert_eq!(user.id, 24_999);
        assert!(cache.session(&format!("token-{:060}", 0)).is_none());
    }
}
