//! A small province for tests, signed-in clients that drive the real router, and helpers to read pages.
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chibo::db::audit::Actor;
use chibo::db::users::{self, NewUser};
use chibo::domain::Role;
use http_body_util::BodyExt;
use sqlx::PgPool;
use tower::ServiceExt;

pub use crate::fixture::{Day, MeetingFixture, import_bundle, seed};

pub const PASSWORD: &str = "matkhau-123";

/// The stored hash of `password`, for a user made directly in the database. The fixture's password is hashed
/// once for the whole run (argon2 takes a while, on purpose).
pub async fn hash(password: &str) -> String {
    static FIXTURE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    if password == PASSWORD {
        let hashed = FIXTURE.get_or_init(|| async { chibo::auth::password::hash(PASSWORD.into()).await.unwrap() });
        return hashed.await.clone();
    }
    chibo::auth::password::hash(password.to_string()).await.unwrap()
}
/// A day safely in the past, in an ordinary month of the fixture.
pub const DAY: &str = "2026-10-08";

pub struct TestApp {
    pub pool: PgPool,
    pub state: chibo::AppState,
    router: Router,
}

/// How a test's app is made: `TestApp::init(pool)`, what the test needs, then `build()`. By default the fixture
/// ([`seed`]) with a user of each role: sec_a, sec_b, sec_c (the cells' secretaries), clerk (Xuân Lập), district
/// (D1), viewer and admin (the province), all with [`PASSWORD`].
#[must_use]
pub struct Builder {
    pool: PgPool,
    fixture: bool,
    cache: bool,
}

impl Builder {
    /// The in-memory cache on, listening for the database's change notices.
    pub fn with_cache(mut self) -> Builder {
        self.cache = true;
        self
    }

    /// Neither fixture nor users: a database the test fills itself.
    pub fn without_fixture(mut self) -> Builder {
        self.fixture = false;
        self
    }

    pub async fn build(self) -> TestApp {
        if self.fixture {
            seed(&self.pool).await;
            for (username, role, unit) in [
                ("sec_a", Role::CellSecretary, "A"),
                ("sec_b", Role::CellSecretary, "B"),
                ("clerk", Role::CommitteeClerk, "XL"),
                ("viewer", Role::ProvinceViewer, "P"),
                ("district", Role::DistrictViewer, "D1"),
                ("admin", Role::Admin, "P"),
                ("sec_c", Role::CellSecretary, "C"),
            ] {
                let unit_id = chibo::db::units::by_code(&self.pool, unit).await.unwrap().expect("the unit").id;
                let new =
                    NewUser { username, display_name: username, password_hash: hash(PASSWORD).await, role, unit_id };
                users::create(&self.pool, &Actor::cli(), new).await.unwrap();
            }
        }
        let state = chibo::AppState::new(self.pool.clone(), false);
        if self.cache {
            state.listen_for_changes();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while !state.cache().is_live() {
                assert!(std::time::Instant::now() < deadline, "the cache never heard the database");
                tokio::task::yield_now().await;
            }
        }
        TestApp::instance(self.pool, state)
    }
}

impl TestApp {
    pub fn init(pool: PgPool) -> Builder {
        Builder { pool, fixture: true, cache: false }
    }

    /// The fixture and its users.
    pub async fn new(pool: PgPool) -> TestApp {
        TestApp::init(pool).build().await
    }

    /// The fixture app with its in-memory cache on (listening for the database's change notices).
    pub async fn with_cache(pool: PgPool) -> TestApp {
        TestApp::init(pool).with_cache().build().await
    }

    /// Another instance over the same database, with its own state (its own limits, its own memory).
    pub fn instance(pool: PgPool, state: chibo::AppState) -> TestApp {
        let router = chibo::app(state.clone());
        TestApp { pool, state, router }
    }

    /// An app over a database the test filled itself.
    pub async fn without_fixture(pool: PgPool) -> TestApp {
        TestApp::init(pool).without_fixture().build().await
    }

    /// More data, as an import bundle (`(file name, text)`), recorded as the province's; panics on a problem.
    pub async fn import(&self, files: &[(&str, &str)]) -> chibo::import::Outcome {
        import_bundle(&self.pool, files).await
    }

    /// A meeting of `cell` on `day`, to describe and then `save()`.
    pub fn meeting(&self, cell: &str, day: impl Day) -> MeetingFixture<'_> {
        MeetingFixture::new(&self.pool, cell, day)
    }

    pub fn anonymous(&self) -> Client<'_> {
        Client { app: self, cookie: None }
    }

    pub async fn login(&self, username: &str) -> Client<'_> {
        let mut client = self.anonymous();
        let page = client.post("/login", &[("username", username), ("password", PASSWORD)]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "sign-in of {username} failed: {}", page.body);
        client
    }

    pub async fn member_id(&self, name: &str) -> i64 {
        sqlx::query_scalar("select id from members where full_name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Row counts of every table a meeting save writes to: equal before and after means nothing was written.
    pub async fn written(&self) -> [i64; 5] {
        [
            self.count("meetings").await,
            self.count("attendance").await,
            self.count("tasks").await,
            self.count("meeting_guests").await,
            self.count("audit_log").await,
        ]
    }
}

/// A sign-in request for `username` with the fixture's password.
pub fn login_request(username: &str) -> Request<Body> {
    Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "localhost")
        .body(Body::from(format!("username={username}&password={}", encode(PASSWORD))))
        .unwrap()
}

/// One request through a router, the response as it comes.
pub async fn send_to(router: Router, req: Request<Body>) -> axum::response::Response {
    router.oneshot(req).await.unwrap()
}

pub struct Client<'a> {
    app: &'a TestApp,
    cookie: Option<String>,
}

#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

impl<'a> Client<'a> {
    async fn send(&mut self, req: Request<Body>) -> Page {
        let res = self.app.router.clone().oneshot(req).await.unwrap();
        // a small cookie jar: each cookie by its name, an empty value removes it
        for c in res.headers().get_all(header::SET_COOKIE) {
            let pair = c.to_str().unwrap().split(';').next().unwrap().to_string();
            let name = pair.split('=').next().unwrap().to_string();
            let mut jar: Vec<String> = self
                .cookie
                .iter()
                .flat_map(|c| c.split("; "))
                .filter(|p| p.split('=').next() != Some(name.as_str()))
                .map(str::to_string)
                .collect();
            if !pair.ends_with('=') {
                jar.push(pair);
            }
            self.cookie = if jar.is_empty() { None } else { Some(jar.join("; ")) };
        }
        let status = res.status();
        let location = res.headers().get(header::LOCATION).map(|l| l.to_str().unwrap().to_string());
        let body = String::from_utf8_lossy(&res.into_body().collect().await.unwrap().to_bytes()).into_owned();
        Page { status, location, body }
    }

    /// The body of a GET as bytes (for downloads).
    pub async fn get_bytes(&self, path: &str) -> Vec<u8> {
        let mut req = Request::get(path);
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, c);
        }
        let res = self.app.router.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        res.into_body().collect().await.unwrap().to_bytes().to_vec()
    }

    /// The raw response of a GET (for headers).
    pub async fn get_response(&self, path: &str) -> axum::response::Response {
        let mut req = Request::get(path);
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, c);
        }
        let req = req.body(Body::empty()).unwrap();
        self.app.router.clone().oneshot(req).await.unwrap()
    }

    /// A GET as a browser sends it (`Accept-Encoding: gzip`): the status, headers and body as they travel.
    pub async fn get_compressed(&self, path: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let mut req = Request::get(path).header(header::ACCEPT_ENCODING, "gzip");
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, c);
        }
        let res = self.app.router.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
        let (parts, body) = res.into_parts();
        (parts.status, parts.headers, body.collect().await.unwrap().to_bytes().to_vec())
    }

    /// The raw response of a form POST (for headers).
    pub async fn post_response(&self, path: &str, form: &[(&str, &str)]) -> axum::response::Response {
        let body = form.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&");
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::HOST, "localhost")
            .body(Body::from(body))
            .unwrap();
        self.app.router.clone().oneshot(req).await.unwrap()
    }

    /// The same signed-in session, sending its requests to another app (another instance on the same database).
    pub fn on<'b>(&self, app: &'b TestApp) -> Client<'b> {
        Client { app, cookie: self.cookie.clone() }
    }

    pub fn cookie(&self) -> Option<&str> {
        self.cookie.as_deref()
    }

    /// The session's CSRF token, from the form of the page at `path`.
    pub async fn csrf(&mut self, path: &str) -> String {
        self.get(path).await.input("csrf").unwrap_or_else(|| panic!("{path}: a form with the session's token"))
    }

    pub async fn get(&mut self, path: &str) -> Page {
        self.get_with_token(path, None).await
    }

    /// A GET as an API client sends it, with `Authorization: Bearer <token>` when given.
    pub async fn get_with_token(&mut self, path: &str, token: Option<&str>) -> Page {
        let mut req = Request::get(path);
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, c);
        }
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    pub async fn post<K: AsRef<str>, V: AsRef<str>>(&mut self, path: &str, form: &[(K, V)]) -> Page {
        self.post_from(None, path, form).await
    }

    /// Posts a body exactly as given (for malformed input).
    pub async fn post_raw(&mut self, path: &str, body: &str) -> Page {
        let mut req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::HOST, "localhost");
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::from(body.to_string())).unwrap()).await
    }

    /// Posts a multipart form as a browser sends a file upload: `fields` as text, then `files` (name, bytes).
    pub async fn post_multipart(&mut self, path: &str, fields: &[(&str, &str)], files: &[(&str, Vec<u8>)]) -> Page {
        let boundary = "----chibo-test-boundary-7d1f";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").bytes());
        }
        for (name, bytes) in files {
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .bytes(),
            );
            body.extend(bytes);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{boundary}--\r\n").bytes());
        let mut req = Request::post(path)
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .header(header::HOST, "localhost");
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }

    /// Follows a redirect answer with a GET of its location.
    pub async fn follow(&mut self, page: Page) -> Page {
        let location = page.location.unwrap_or_else(|| panic!("a redirect, not {}: {}", page.status, page.body));
        // the fragment stays in the browser
        self.get(location.split('#').next().unwrap()).await
    }

    /// Posts a form as if it came from `address` (the connection's peer, as the server sees it).
    pub async fn post_at<K: AsRef<str>, V: AsRef<str>>(&mut self, address: &str, path: &str, form: &[(K, V)]) -> Page {
        let peer: std::net::SocketAddr = format!("{address}:40000").parse().expect("an IPv4 address");
        self.post_form(None, Some(peer), path, form).await
    }

    /// Posts as a browser would from a page of `origin` (None: no Origin header, as curl sends).
    pub async fn post_from<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        origin: Option<&str>,
        path: &str,
        form: &[(K, V)],
    ) -> Page {
        self.post_form(origin, None, path, form).await
    }

    /// A urlencoded form, with this client's cookies, from `origin` and the connection peer `peer` when given.
    async fn post_form<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        origin: Option<&str>,
        peer: Option<std::net::SocketAddr>,
        path: &str,
        form: &[(K, V)],
    ) -> Page {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k.as_ref()), encode(v.as_ref())))
            .collect::<Vec<_>>()
            .join("&");
        let mut req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::HOST, "localhost");
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, c);
        }
        if let Some(o) = origin {
            req = req.header(header::ORIGIN, o);
        }
        let mut req = req.body(Body::from(body)).unwrap();
        if let Some(peer) = peer {
            req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        }
        self.send(req).await
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Page {
    /// The value of the input named `name` (first one).
    pub fn input(&self, name: &str) -> Option<String> {
        let at = self.body.find(&format!("name=\"{name}\""))?;
        let rest = &self.body[at..];
        let v = rest.find("value=\"")? + 7;
        let end = rest[v..].find('"')?;
        Some(rest[v..v + end].to_string())
    }

    /// Every form value the page would send as it stands: hidden and text inputs, checked radios and boxes,
    /// selected options, textareas (enough for the pages of chibo). The account bar's sign-out form is left out:
    /// a browser sends one form, and the page's own holds its `csrf`.
    pub fn form_values(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut select: Option<String> = None;
        let mut in_sign_out = false;
        for tag in self.body.split('<').skip(1) {
            if tag.starts_with("form ") {
                in_sign_out = tag.contains("action=\"/logout\"");
            }
            if in_sign_out {
                continue;
            }
            let attr = |a: &str| {
                let key = format!(" {a}=\"");
                tag.find(&key).map(|i| {
                    let v = &tag[i + key.len()..];
                    v[..v.find('"').unwrap()].to_string()
                })
            };
            let checked = tag.contains(" checked");
            if tag.starts_with("select ") {
                select = attr("name");
            } else if tag.starts_with("/select") {
                select = None;
            } else if tag.starts_with("option ")
                && tag.contains(" selected")
                && let Some(name) = &select
            {
                out.push((name.clone(), unescape(&attr("value").unwrap_or_default())));
            }
            if tag.starts_with("input ") {
                let (Some(name), ty) = (attr("name"), attr("type").unwrap_or_else(|| "text".into())) else {
                    continue;
                };
                let value = attr("value").unwrap_or_default();
                match ty.as_str() {
                    "radio" | "checkbox" if !checked => {}
                    "submit" => {}
                    _ => out.push((name, unescape(&value))),
                }
            } else if tag.starts_with("textarea ")
                && let Some(name) = attr("name")
            {
                let text = tag.split_once('>').map(|(_, t)| t).unwrap_or_default();
                out.push((name, unescape(text)));
            }
        }
        out
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        let mut in_tag = false;
        for c in self.body.chars() {
            match c {
                '<' => in_tag = true,
                '>' => {
                    in_tag = false;
                    out.push(' ');
                }
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        unescape(&out.split_whitespace().collect::<Vec<_>>().join(" "))
    }
}

pub fn unescape(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Sets `key` in a form, replacing any value it had.
pub fn set(form: &mut Vec<(String, String)>, key: &str, value: &str) {
    form.retain(|(k, _)| k != key);
    form.push((key.to_string(), value.to_string()));
}
