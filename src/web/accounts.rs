//! Creating accounts on the web (DOMAIN.md §13): a committee clerk a cell secretary's account for a cell of their
//! commune, an administrator any role at or below their unit. The creator types no password: the new account gets a
//! one-time reset link, shown once on the users page as the reset action shows it.
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::extract::Form;
use super::routes::{Access, Routes};
use super::view::{Label, Layout};
use super::{AppResult, AppState, CurrentUser};
use crate::db::credentials::{self, NewAccount};
use crate::db::units::{self, Unit};
use crate::db::users;
use crate::domain::{Role, contact, time};

pub fn routes() -> Routes {
    Routes::default().get("/admin/users/new", Access::ManageAccounts, new_page).post(
        "/admin/users",
        Access::ManageAccounts,
        create,
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AccountForm {
    csrf: Option<String>,
    username: String,
    display_name: String,
    role: String,
    unit: String,
    phone: String,
    email: String,
}

#[derive(Template)]
#[template(path = "admin/new_user.html")]
struct NewUserPage {
    layout: Layout,
    form: AccountForm,
    /// the roles the creator may give, as (code, label)
    roles: Vec<(&'static str, &'static str)>,
    /// the units an account may be bound to: the creator's scope today (a clerk: its cells)
    units: Vec<Unit>,
    errors: Vec<(&'static str, &'static str)>,
}

impl NewUserPage {
    fn error(&self, field: &str) -> Option<&'static str> {
        self.errors.iter().find(|(f, _)| *f == field).map(|(_, m)| *m)
    }
}

/// The roles `user` may give and the open units of their scope that fit one of them, by name.
async fn choices(state: &AppState, user: &CurrentUser) -> AppResult<(Vec<Role>, Vec<Unit>)> {
    let today = time::today();
    let roles: Vec<Role> = Role::ALL.iter().copied().filter(|r| user.role().may_grant(*r)).collect();
    let scope = units::subtree_ids(state.pool(), user.user.unit_id, today).await?;
    let mut found = units::by_ids(state.pool(), &scope).await?;
    found.retain(|u| u.is_open_on(today) && roles.iter().any(|r| r.fits(u.kind)));
    found.sort_by_cached_key(|u| crate::domain::text::collation_key(&u.name));
    Ok((roles, found))
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    form: AccountForm,
    errors: Vec<(&'static str, &'static str)>,
) -> AppResult<Response> {
    let (roles, units) = choices(state, user).await?;
    let roles = roles.into_iter().map(|r| (r.as_str(), r.label())).collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = NewUserPage { layout: Layout::new(user), form, roles, units, errors };
    Ok((status, Html(page.render()?)).into_response())
}

async fn new_page(State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    let form = AccountForm { role: Role::CellSecretary.as_str().to_string(), ..AccountForm::default() };
    render(&state, &user, form, Vec::new()).await
}

/// A user name as the database accepts it: lower-case letters, digits, `_ . -`, 3 to 40 characters.
fn username_ok(name: &str) -> bool {
    (3..=40).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'))
}

/// Creates the account, each refusal at its field with the form kept; then the users page with the new account's
/// one-time link.
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Form(mut form): Form<AccountForm>,
) -> AppResult<Response> {
    user.check_csrf(form.csrf.as_deref())?;
    form.username = form.username.trim().to_lowercase();
    form.display_name = form.display_name.trim().to_string();
    let (roles, units) = choices(&state, &user).await?;
    let mut errors: Vec<(&'static str, &'static str)> = Vec::new();
    if !username_ok(&form.username) {
        errors.push(("username", crate::tr("accounts.err.username")));
    } else if users::by_username(state.pool(), &form.username).await?.is_some() {
        errors.push(("username", crate::tr("accounts.err.taken")));
    }
    if form.display_name.is_empty() || form.display_name.chars().count() > 120 {
        errors.push(("display_name", crate::tr("accounts.err.display_name")));
    }
    let role = form.role.parse::<Role>().ok().filter(|r| roles.contains(r));
    if role.is_none() {
        errors.push(("role", crate::tr("accounts.err.role")));
    }
    let unit = units.iter().find(|u| u.code == form.unit);
    match (unit, role) {
        (None, _) => errors.push(("unit", crate::tr("accounts.err.unit"))),
        (Some(u), Some(r)) if !r.fits(u.kind) => errors.push(("unit", crate::tr("accounts.err.unit_kind"))),
        _ => {}
    }
    let (phone, email) = (contact::phone(&form.phone), contact::email(&form.email));
    for (field, problem) in [("phone", phone.as_ref().err()), ("email", email.as_ref().err())] {
        if let Some(p) = problem {
            errors.push((field, crate::tr(p.key())));
        }
    }
    let (Some(role), Some(unit), Ok(phone), Ok(email), true) = (role, unit, phone, email, errors.is_empty()) else {
        return render(&state, &user, form, errors).await;
    };
    let contact = users::Contact { phone, email };
    let password_hash = crate::auth::password::hash(crate::db::sessions::new_token()).await?;
    let new = NewAccount {
        username: &form.username,
        display_name: &form.display_name,
        role,
        unit_id: unit.id,
        contact: &contact,
        password_hash,
    };
    let Some((_, token)) = credentials::create_account(state.pool(), &user.actor(), new).await? else {
        return render(&state, &user, form, vec![("username", crate::tr("accounts.err.taken"))]).await;
    };
    let link = format!("{}/reset/{token}", super::admin::origin(&state, &headers));
    let done = Some(crate::tr("accounts.created"));
    Ok(super::admin::render_users(&state, &user, Some((form.username, link)), done, "").await?.into_response())
}
