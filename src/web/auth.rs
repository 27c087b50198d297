//! Sign-in, sign-out, the `CurrentUser` extractor, scope checks and CSRF protection.
use crate::web::extract::Form;
use askama::Template;
use axum::extract::{ConnectInfo, FromRequestParts, Query, Request, State};
use axum::http::{HeaderMap, Method, header, request::Parts};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::net::SocketAddr;

use super::routes::{Access, Routes};
use super::{AppError, AppResult, AppState};
use crate::db::audit::Actor;
use crate::db::users::{self, User};
use crate::db::{sessions, units};
use crate::domain::{Role, time};

pub const COOKIE: &str = "chibo_session";
/// A user name longer than this cannot exist: it is refused as a wrong one, without a look at the database.
pub const MAX_USERNAME: usize = 64;

pub fn routes() -> Routes {
    Routes::default().get("/login", Access::Public, login_page).post("/login", Access::Public, login).post(
        "/logout",
        Access::SignedIn,
        logout,
    )
}

/// The signed-in user of this request; a handler that takes it is closed to everyone else.
#[derive(Clone)]
pub struct CurrentUser {
    pub user: User,
    pub csrf: String,
    pub ip: Option<String>,
    /// The session cookie's token (to keep this session when the password changes).
    pub token: String,
    /// The unit the route guard (web/access.rs) placed this request's object in and found inside the scope today:
    /// a handler asking about that unit again gets its answer without a query.
    pub admitted: Option<i64>,
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        // the route guard (web/access.rs) found them already
        if let Some(found) = parts.extensions.remove::<CurrentUser>() {
            return Ok(found);
        }
        let token = session_token(&parts.headers).ok_or(AppError::NotSignedIn)?;
        let ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip().to_string());
        if let Some((user, csrf)) = state.cache().session(&token) {
            if sessions::still_valid(state.pool(), &token, &user).await? {
                return Ok(CurrentUser { user, csrf, ip, token, admitted: None });
            }
            state.cache().forget_session(&token);
        }
        let generation = state.cache().auth_generation();
        let live = sessions::lookup(state.pool(), &token).await?.ok_or(AppError::NotSignedIn)?;
        let user =
            users::by_id(state.pool(), live.user_id).await?.filter(|u| !u.disabled).ok_or(AppError::NotSignedIn)?;
        state.cache().store_session(&token, generation, live.expires_at, &user, &live.csrf_token);
        Ok(CurrentUser { user, csrf: live.csrf_token, ip, token, admitted: None })
    }
}

impl CurrentUser {
    pub fn role(&self) -> Role {
        self.user.role()
    }

    pub fn actor(&self) -> Actor {
        Actor { user_id: Some(self.user.id), ip: self.ip.clone() }
    }

    /// Refuses a state-changing form that does not carry this session's token.
    pub fn check_csrf(&self, sent: Option<&str>) -> AppResult<()> {
        let sent = sent.unwrap_or_default().as_bytes();
        let ours = self.csrf.as_bytes();
        // constant time: the comparison must not tell an attacker how much of a guess was right
        let same = sent.len() == ours.len() && sent.iter().zip(ours).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if same { Ok(()) } else { Err(AppError::Csrf) }
    }

    /// Refuses a unit outside the user's scope: the subtree of their unit as it stands today.
    pub async fn require_scope(&self, state: &AppState, unit_id: i64) -> AppResult<()> {
        if self.admitted == Some(unit_id) {
            return Ok(());
        }
        if units::is_within(state.pool(), self.user.unit_id, unit_id, time::today()).await? {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Refuses everyone but administrators whose scope holds `unit_id`.
    pub async fn require_admin(&self, state: &AppState, unit_id: i64) -> AppResult<()> {
        if self.role() != Role::Admin {
            return Err(AppError::Forbidden);
        }
        self.require_scope(state, unit_id).await
    }

    /// Whether the user is an administrator of the whole tree (bound to its top unit): only they change what holds
    /// province-wide (programmes, targets without a unit, imports).
    pub async fn is_top_admin(&self, state: &AppState) -> AppResult<bool> {
        Ok(self.role() == Role::Admin
            && units::ancestors(state.pool(), self.user.unit_id, time::today()).await?.len() == 1)
    }

    /// Refuses changes to a cell's meetings unless the role may make them and the cell is in scope.
    pub async fn require_edit(&self, state: &AppState, cell_id: i64) -> AppResult<()> {
        if !self.role().can_edit_meetings() {
            return Err(AppError::Forbidden);
        }
        self.require_scope(state, cell_id).await
    }
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    super::cookies::get(headers, COOKIE)
}

/// Refuses state-changing requests sent from another site (the browser says so in `Sec-Fetch-Site` or
/// `Origin`); the per-session token in every form is the second line of defence.
pub async fn same_origin_only(req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        let h = req.headers();
        let cross_site = h.get("sec-fetch-site").is_some_and(|v| v == "cross-site");
        let host = h.get(header::HOST).and_then(|v| v.to_str().ok());
        let origin_host = h
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .filter(|o| *o != "null")
            .map(|o| o.split_once("://").map_or(o, |(_, rest)| rest));
        let foreign_origin = matches!((origin_host, host), (Some(o), Some(h)) if o != h);
        if cross_site || foreign_origin {
            return AppError::Csrf.into_response();
        }
    }
    next.run(req).await
}

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    username: String,
    error: Option<&'static str>,
    signed_out: bool,
    reset: bool,
}

#[derive(Deserialize)]
struct LoginQuery {
    signed_out: Option<String>,
    reset: Option<String>,
}

async fn login_page(Query(q): Query<LoginQuery>) -> AppResult<Html<String>> {
    let page = LoginPage {
        username: String::new(),
        error: None,
        signed_out: q.signed_out.is_some(),
        reset: q.reset.is_some(),
    };
    Ok(Html(page.render()?))
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

/// The address a request came from, when the server knows it (not in tests that call the router directly).
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(a)| a.ip())))
    }
}

impl ClientIp {
    /// The key wrong passwords are counted under.
    pub fn key(&self) -> String {
        self.0.map(|ip| ip.to_string()).unwrap_or_default()
    }
}

/// Whether `password` is `username`'s, within the limits on guessing: the attempt is counted before the password
/// is checked (see `users::reserve_attempt`). `Err` holds the message key of a refusal that checked nothing.
pub async fn check_password(
    state: &AppState,
    ip: &ClientIp,
    username: &str,
    password: &str,
    source: users::AttemptSource,
) -> AppResult<Result<Option<User>, &'static str>> {
    if !state.0.sign_in_limits.allow(ip.0) {
        return Ok(Err("login.busy"));
    }
    // a name no user can have is still counted, under its first characters, so that it cannot dodge the limits
    let well_formed = username.chars().count() <= MAX_USERNAME && !username.chars().any(char::is_control);
    let key: String = username.chars().filter(|c| !c.is_control()).take(MAX_USERNAME).collect();
    match users::reserve_attempt(state.pool(), &key, &ip.key(), source).await? {
        users::Attempt::Reserved => {}
        users::Attempt::UserLocked => return Ok(Err("login.locked")),
        users::Attempt::AddressLocked => return Ok(Err("login.address_locked")),
    }
    if !well_formed {
        return Ok(Ok(None));
    }
    let user = crate::auth::authenticate(state.pool(), username, password).await?;
    if user.is_some() {
        users::attempt_succeeded(state.pool(), &key, &ip.key()).await?;
    }
    Ok(Ok(user))
}

async fn login(State(state): State<AppState>, ip: ClientIp, Form(form): Form<LoginForm>) -> AppResult<Response> {
    let username = form.username.trim().to_lowercase();
    let pool = state.pool();
    let refuse = |error: &'static str| -> AppResult<Response> {
        let status = if error == "login.busy" {
            axum::http::StatusCode::TOO_MANY_REQUESTS
        } else {
            axum::http::StatusCode::UNPROCESSABLE_ENTITY
        };
        // what was typed comes back, cut to what the field takes
        let typed: String = form.username.chars().filter(|c| !c.is_control()).take(MAX_USERNAME).collect();
        let page = LoginPage { username: typed, error: Some(error), signed_out: false, reset: false };
        Ok((status, Html(page.render()?)).into_response())
    };
    let user = match check_password(&state, &ip, &username, &form.password, users::AttemptSource::Login).await? {
        Err(refusal) => return refuse(refusal),
        Ok(None) => return refuse("login.wrong"),
        Ok(Some(user)) => user,
    };
    // a new id at every sign-in, so a session id planted before sign-in is worth nothing
    let token = sessions::create(pool, user.id).await?;
    // `Secure` is added to every cookie when served over https (web::transport_security)
    let cookie =
        format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}", sessions::ABSOLUTE_HOURS * 3600);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}

#[derive(Deserialize)]
struct LogoutForm {
    csrf: Option<String>,
}

async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> AppResult<Response> {
    user.check_csrf(form.csrf.as_deref())?;
    if let Some(token) = session_token(&headers) {
        sessions::delete(state.pool(), &token).await?;
        state.cache().forget_session(&token);
    }
    let cookie = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/login?signed_out=1")).into_response())
}
