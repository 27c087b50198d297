//! Accounts (DOMAIN.md §13): administrators keep the users in their scope, committee clerks those of their own
//! cells' secretaries — the list with a name search, one-time password reset links, disabling (creating is in
//! `web::accounts`); the reset page that such a link opens. Also the audit trail, which every user browses within their own scope.
use crate::web::extract::Path;
use crate::web::extract::{CsrfForm, Form};
use crate::web::view::Label;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::account::password_problem;
use super::routes::{Access, Routes};
use super::view::Layout;
use super::{AppError, AppResult, AppState, CurrentUser};
use crate::db;
use crate::db::audit::{self, Actor, Entry};
use crate::db::credentials;
use crate::db::units;
use crate::db::users::{self, User};
use crate::domain::time;

pub fn routes() -> Routes {
    Routes::default()
        .get("/admin/users", Access::ManageAccounts, users_page)
        .post("/admin/users/{id}/reset", Access::ManageAccounts, issue_reset)
        .post("/admin/users/{id}/disable", Access::ManageAccounts, disable_user)
        .post("/admin/users/{id}/unlock", Access::Admin, unlock_user)
        .get("/reset/{token}", Access::Public, reset_page)
        .post("/reset/{token}", Access::Public, reset_password)
        .get("/audit", Access::SignedIn, audit_page)
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<User>,
    /// the users whose sign-in is paused by wrong passwords
    paused: Vec<i64>,
    /// what was just done: "locked", "unlocked"
    done: Option<&'static str>,
    /// the administrator looking: their own account has no lock button
    me: i64,
    /// A reset link just issued: (user name, link), shown once.
    issued: Option<(String, String)>,
    /// the phone and e-mail of those who gave them (for reminders), by user id
    contacts: std::collections::HashMap<i64, users::Contact>,
    /// the name searched for, as typed
    q: String,
    /// the code of the asker's own unit, for the page of its secretaries' accounts
    scope_code: String,
}

impl UsersPage {
    /// A user's phone and e-mail, as one line.
    fn contact(&self, id: &i64) -> String {
        let Some(c) = self.contacts.get(id) else { return String::new() };
        [c.phone.as_deref(), c.email.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" · ")
    }
}

pub(super) async fn render_users(
    state: &AppState,
    user: &CurrentUser,
    issued: Option<(String, String)>,
    done: Option<&'static str>,
    q: &str,
) -> AppResult<Html<String>> {
    let scope = units::subtree_ids(state.pool(), user.user.unit_id, time::today()).await?;
    let mut users = users::in_units(state.pool(), &scope).await?;
    // a clerk sees the accounts they keep: their cells' secretaries
    users.retain(|u| user.role().may_grant(u.role()));
    let words: Vec<String> = db::search_key(q).split_whitespace().map(str::to_string).collect();
    if !words.is_empty() {
        users.retain(|u| {
            let key = db::search_key(&format!("{} {}", u.display_name, u.username));
            words.iter().all(|w| key.contains(w.as_str()))
        });
    }
    let names: Vec<String> = users.iter().map(|u| u.username.clone()).collect();
    let paused_names = credentials::sign_in_paused(state.pool(), &names).await?;
    let paused = users.iter().filter(|u| paused_names.contains(&u.username)).map(|u| u.id).collect();
    let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
    let contacts = users::contacts(state.pool(), &ids).await?.into_iter().collect();
    let q = q.to_string();
    let scope_code = units::by_id(state.pool(), user.user.unit_id).await?.code;
    let page =
        UsersPage { layout: Layout::new(user), users, paused, done, me: user.user.id, issued, contacts, q, scope_code };
    Ok(Html(page.render()?))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UsersQuery {
    locked: Option<String>,
    unlocked: Option<String>,
    q: String,
}

async fn users_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<UsersQuery>,
) -> AppResult<Html<String>> {
    let done = match (q.locked, q.unlocked) {
        (Some(_), _) => Some(crate::tr("users.locked_done")),
        (_, Some(_)) => Some(crate::tr("users.unlocked_done")),
        _ => None,
    };
    render_users(&state, &user, None, done, &q.q).await
}

/// The user named in the path (the guard placed them in the asker's scope), if the asker may keep an account of
/// their role: an administrator any, a committee clerk only a cell secretary's.
async fn target_user(state: &AppState, admin: &CurrentUser, id: i64, csrf: Option<&str>) -> AppResult<User> {
    admin.check_csrf(csrf)?;
    let target = users::by_id(state.pool(), id).await?.ok_or(AppError::NotFound)?;
    if !admin.role().may_grant(target.role()) {
        return Err(AppError::Forbidden);
    }
    admin.require_scope(state, target.unit_id).await?;
    Ok(target)
}

/// The whole address a link is sent as: the configured one, else the one this request came to.
pub(super) fn origin(state: &AppState, headers: &axum::http::HeaderMap) -> String {
    match std::env::var("CHIBO_BASE_URL") {
        Ok(base) if !base.trim().is_empty() => base.trim().trim_end_matches('/').to_string(),
        _ => {
            let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
            format!("{}://{host}", if state.0.secure_cookies { "https" } else { "http" })
        }
    }
}

async fn issue_reset(
    State(state): State<AppState>,
    admin: CurrentUser,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> AppResult<Html<String>> {
    let target = target_user(&state, &admin, id, form.csrf.as_deref()).await?;
    let token = credentials::create_reset(state.pool(), &admin.actor(), &target).await?;
    let link = format!("{}/reset/{token}", origin(&state, &headers));
    render_users(&state, &admin, Some((target.username, link)), None, "").await
}

#[derive(Deserialize)]
struct DisableForm {
    csrf: Option<String>,
    /// set by the confirmation page's button: without it the page asks first
    confirm: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/confirm_disable.html")]
struct ConfirmDisablePage {
    layout: Layout,
    target: User,
}

/// Locks (disables) an account, after a confirmation page; never one's own.
async fn disable_user(
    State(state): State<AppState>,
    admin: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<DisableForm>,
) -> AppResult<Response> {
    let target = target_user(&state, &admin, id, form.csrf.as_deref()).await?;
    if target.id == admin.user.id {
        return Err(AppError::Refused(crate::tr("users.err.self_lock").into()));
    }
    if form.confirm.as_deref() != Some("1") {
        return Ok(Html(ConfirmDisablePage { layout: Layout::new(&admin), target }.render()?).into_response());
    }
    credentials::disable(state.pool(), &admin.actor(), &target).await?;
    Ok(Redirect::to("/admin/users?locked=1").into_response())
}

/// Unlocks an account: enables it and lets its owner sign in again from anywhere.
async fn unlock_user(
    State(state): State<AppState>,
    admin: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> AppResult<Redirect> {
    let target = target_user(&state, &admin, id, form.csrf.as_deref()).await?;
    credentials::unlock(state.pool(), &admin.actor(), &target).await?;
    Ok(Redirect::to("/admin/users?unlocked=1"))
}

#[derive(Template)]
#[template(path = "auth/reset.html")]
struct ResetPage {
    valid: bool,
    username: String,
    error: Option<&'static str>,
}

async fn reset_page(State(state): State<AppState>, Path(token): Path<String>) -> AppResult<Response> {
    match credentials::reset_user(state.pool(), &token).await? {
        Some(u) => Ok(Html(ResetPage { valid: true, username: u.username, error: None }.render()?).into_response()),
        None => {
            let page = ResetPage { valid: false, username: String::new(), error: None };
            Ok((StatusCode::NOT_FOUND, Html(page.render()?)).into_response())
        }
    }
}

#[derive(Deserialize)]
struct ResetForm {
    new: Option<String>,
    confirm: Option<String>,
}

async fn reset_password(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(form): Form<ResetForm>,
) -> AppResult<Response> {
    let Some(user) = credentials::reset_user(state.pool(), &token).await? else {
        let page = ResetPage { valid: false, username: String::new(), error: None };
        return Ok((StatusCode::NOT_FOUND, Html(page.render()?)).into_response());
    };
    let (new, confirm) = (form.new.unwrap_or_default(), form.confirm.unwrap_or_default());
    if let Some(problem) = password_problem(&new, &confirm) {
        let page = ResetPage { valid: true, username: user.username, error: Some(problem) };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }
    let actor = Actor { user_id: None, ip: None };
    let hash = crate::auth::password::hash(new).await?;
    if !credentials::use_reset(state.pool(), &actor, &token, &hash).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/login?reset=1").into_response())
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    layout: Layout,
    entries: Vec<Entry>,
    /// the before and after of each change: they name members, so only for roles that may see names
    details: bool,
    /// login names and network addresses of the actors: administrators only (others see the actor's name)
    addresses: bool,
    next: Option<i64>,
}

#[derive(Deserialize)]
struct AuditQuery {
    before: Option<i64>,
}

const AUDIT_PAGE: i64 = 50;

async fn audit_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> AppResult<Html<String>> {
    let scope = units::subtree_ids(state.pool(), user.user.unit_id, time::today()).await?;
    let entries = audit::browse(state.pool(), &scope, q.before, AUDIT_PAGE).await?;
    let next = (entries.len() as i64 == AUDIT_PAGE).then(|| entries.last().map(|e| e.id)).flatten();
    let page = AuditPage {
        layout: Layout::new(&user),
        details: user.role().can_see_names(),
        addresses: user.role() == crate::domain::Role::Admin,
        entries,
        next,
    };
    Ok(Html(page.render()?))
}
