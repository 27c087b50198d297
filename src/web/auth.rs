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
/// Wrong passwords in a row, within `LOCK_MINUTES`, after which sign-in is refused for that user name.
const MAX_FAILURES: i64 = 5;
const LOCK_MINUTES: i32 = 15;

pub fn routes() -> Routes {
    Routes::default().get("/login", Access::Public, login_page).post("/login", Access::Public, login).post(
        "/logout",
        Access::SignedIn,
        logout,
    )
}

/// The signed-in user of this request; a handler that takes it is closed to everyone else.
pub struct CurrentUser {
    pub user: User,
    pub csrf: String,
    pub ip: Option<String>,
    /// The session cookie's token (to keep this session when the password changes).
    pub token: String,
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = session_token(&parts.headers).ok_or(AppError::NotSignedIn)?;
        let ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip().to_string());
        if let Some((user, csrf)) = state.cache().session(&token) {
            return Ok(CurrentUser { user, csrf, ip, token });
        }
        let generation = state.cache().auth_generation();
        let live = sessions::lookup(state.pool(), &token).await?.ok_or(AppError::NotSignedIn)?;
        let user =
            users::by_id(state.pool(), live.user_id).await?.filter(|u| !u.disabled).ok_or(AppError::NotSignedIn)?;
        state.cache().store_session(&token, generation, live.expires_at, &user, &live.csrf_token);
        Ok(CurrentUser { user, csrf: live.csrf_token, ip, token })
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

    /// Refuses changes to a cell's meetings unless the role may make them and the cell is in scope.
    pub async fn require_edit(&self, state: &AppState, cell_id: i64) -> AppResult<()> {
        if !self.role().can_edit_meetings() {
            return Err(AppError::Forbidden);
        }
        self.require_scope(state, cell_id).await
    }
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
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

async fn login(State(state): State<AppState>, Form(form): Form<LoginForm>) -> AppResult<Response> {
    let username = form.username.trim().to_lowercase();
    let pool = state.pool();
    let failures = users::recent_failures(pool, &username, LOCK_MINUTES).await?;
    let refuse = |error| -> AppResult<Response> {
        let page = LoginPage { username: form.username.clone(), error: Some(error), signed_out: false, reset: false };
        Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
    };
    if failures >= MAX_FAILURES {
        return refuse("login.locked");
    }
    let Some(user) = users::authenticate(pool, &username, &form.password).await? else {
        users::record_failure(pool, &username).await?;
        return refuse("login.wrong");
    };
    users::clear_failures(pool, &username).await?;
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
