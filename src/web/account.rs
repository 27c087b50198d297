//! A user's own account: the phone and e-mail reminders go to, change the password, create and revoke API tokens;
//! the reminders shown on the home pages ([`Notices`]) and their dismissal.
use crate::web::extract::Path;
use crate::web::extract::{CsrfForm, Form};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::auth::{ClientIp, check_password};
use super::routes::{Access, Routes};
use super::view::Layout;
use super::{AppError, AppResult, AppState, CurrentUser};
use crate::db::credentials::{self, ApiToken};
use crate::db::{reminders, users};
use crate::domain::{contact, time};
use crate::web::extract::LocalPath;

pub fn routes() -> Routes {
    Routes::default()
        .get("/account", Access::SignedIn, menu_page)
        .post("/account/contact", Access::SignedIn, save_contact)
        .post("/account/notices/dismiss", Access::SignedIn, dismiss_notice)
        .get("/account/password", Access::SignedIn, password_page)
        .post("/account/password", Access::SignedIn, change_password)
        .get("/account/tokens", Access::SignedIn, tokens_page)
        .post("/account/tokens", Access::SignedIn, create_token)
        .post("/account/tokens/{id}/revoke", Access::Owner, revoke_token)
}

/// Passwords shorter than this are refused.
pub const MIN_PASSWORD: usize = 10;

/// The message for a new password that is not acceptable, if any.
pub fn password_problem(new: &str, confirm: &str) -> Option<&'static str> {
    if new.chars().count() < MIN_PASSWORD {
        Some(crate::tr("account.err.password_short"))
    } else if new != confirm {
        Some(crate::tr("account.err.password_mismatch"))
    } else {
        None
    }
}

#[derive(Template)]
#[template(path = "account/menu.html")]
struct MenuPage {
    layout: Layout,
    /// the phone and e-mail as stored, or as typed when refused
    phone: String,
    email: String,
    /// (field, message) of what was refused
    errors: Vec<(&'static str, &'static str)>,
    saved: bool,
}

impl MenuPage {
    fn error(&self, field: &str) -> Option<&'static str> {
        self.errors.iter().find(|(f, _)| *f == field).map(|(_, m)| *m)
    }
}

/// Everything about one's account, and the pages an administrator keeps, in words a village secretary reads: the
/// header keeps to one line on a phone and links here.
async fn menu_page(State(state): State<AppState>, user: CurrentUser) -> AppResult<Html<String>> {
    let c = users::contact(state.pool(), user.user.id).await?;
    let (phone, email) = (c.phone.unwrap_or_default(), c.email.unwrap_or_default());
    Ok(Html(MenuPage { layout: Layout::new(&user), phone, email, errors: Vec::new(), saved: false }.render()?))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContactForm {
    csrf: Option<String>,
    phone: String,
    email: String,
}

/// The user's own phone and e-mail, used only for reminders; each refused at its field.
async fn save_contact(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<ContactForm>,
) -> AppResult<Response> {
    user.check_csrf(form.csrf.as_deref())?;
    let (phone, email) = (contact::phone(&form.phone), contact::email(&form.email));
    let errors: Vec<(&'static str, &'static str)> = [("phone", phone.as_ref().err()), ("email", email.as_ref().err())]
        .into_iter()
        .filter_map(|(field, problem)| problem.map(|p| (field, crate::tr(p.key()))))
        .collect();
    let (Ok(phone), Ok(email), true) = (phone, email, errors.is_empty()) else {
        let page = MenuPage { layout: Layout::new(&user), phone: form.phone, email: form.email, errors, saved: false };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    };
    let new = users::Contact { phone, email };
    users::set_contact(state.pool(), &user.actor(), &user.user, &new).await?;
    let (phone, email) = (new.phone.unwrap_or_default(), new.email.unwrap_or_default());
    Ok(Html(MenuPage { layout: Layout::new(&user), phone, email, errors: Vec::new(), saved: true }.render()?)
        .into_response())
}

/// The reminders a home page shows its user about its unit (`templates/notices.html`), with the page to come back
/// to after a dismissal.
pub struct Notices {
    pub items: Vec<reminders::Notice>,
    pub back: String,
}

impl Notices {
    pub async fn load(state: &AppState, user: &CurrentUser, unit_id: i64, back: &str) -> AppResult<Notices> {
        let items = reminders::notices(state.pool(), user.user.id, unit_id).await?;
        Ok(Notices { items, back: back.to_string() })
    }

    /// "Báo cáo tháng 11/2026 hạn ngày 05/12/2026 …"
    pub fn text(&self, n: &reminders::Notice) -> String {
        let (month, deadline) = (time::format_month(n.month), time::format_date(n.deadline));
        if n.overdue {
            crate::tr3("notice.overdue", month, deadline, n.cells.join(", "))
        } else {
            crate::tr2("notice.due", month, deadline)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DismissForm {
    csrf: Option<String>,
    id: Option<i64>,
    next: Option<String>,
}

/// Hides one of the user's own notices (with the earlier ones of its month), then back to the page it was on.
async fn dismiss_notice(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<DismissForm>,
) -> AppResult<Redirect> {
    user.check_csrf(form.csrf.as_deref())?;
    let id = form.id.ok_or(AppError::NotFound)?;
    if !reminders::dismiss(state.pool(), &user.actor(), user.user.id, id, chrono::Utc::now()).await? {
        return Err(AppError::NotFound);
    }
    Ok(LocalPath::parse_or(form.next.as_deref(), "/").redirect())
}

#[derive(Template)]
#[template(path = "account/password.html")]
struct PasswordPage {
    layout: Layout,
    errors: Vec<(&'static str, &'static str)>,
    saved: bool,
}

async fn password_page(user: CurrentUser) -> AppResult<Html<String>> {
    Ok(Html(PasswordPage { layout: Layout::new(&user), errors: Vec::new(), saved: false }.render()?))
}

/// Every field optional, so that the session token is checked before anything else about the form.
#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordForm {
    csrf: Option<String>,
    current: String,
    new: String,
    confirm: String,
}

async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    ip: ClientIp,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    user.check_csrf(form.csrf.as_deref())?;
    let mut errors = Vec::new();
    // counted as sign-in attempts are: a borrowed session cannot guess the password here either
    match check_password(&state, &ip, &user.user.username, &form.current, users::AttemptSource::Password).await? {
        Err(refusal) => errors.push(("current", crate::tr(refusal))),
        Ok(None) => errors.push(("current", crate::tr("account.err.current_wrong"))),
        Ok(Some(_)) => {}
    }
    if let Some(problem) = password_problem(&form.new, &form.confirm) {
        errors.push(("new", problem));
    }
    if !errors.is_empty() {
        let page = PasswordPage { layout: Layout::new(&user), errors, saved: false };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }
    let hash = crate::auth::password::hash(form.new.clone()).await?;
    credentials::set_password(state.pool(), &user.actor(), &user.user, &hash, Some(&user.token)).await?;
    Ok(Html(PasswordPage { layout: Layout::new(&user), errors: Vec::new(), saved: true }.render()?).into_response())
}

#[derive(Template)]
#[template(path = "account/tokens.html")]
struct TokensPage {
    layout: Layout,
    tokens: Vec<ApiToken>,
    /// The secret of a token just created: shown this once.
    created: Option<String>,
    error: Option<&'static str>,
}

async fn render_tokens(
    state: &AppState,
    user: &CurrentUser,
    created: Option<String>,
    error: Option<&'static str>,
) -> AppResult<Html<String>> {
    let tokens = credentials::tokens(state.pool(), user.user.id).await?;
    Ok(Html(TokensPage { layout: Layout::new(user), tokens, created, error }.render()?))
}

async fn tokens_page(State(state): State<AppState>, user: CurrentUser) -> AppResult<Html<String>> {
    render_tokens(&state, &user, None, None).await
}

#[derive(Deserialize)]
struct TokenForm {
    csrf: Option<String>,
    name: Option<String>,
}

async fn create_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<TokenForm>,
) -> AppResult<Response> {
    user.check_csrf(form.csrf.as_deref())?;
    let name = form.name.unwrap_or_default().trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        let page = render_tokens(&state, &user, None, Some(crate::tr("account.err.token_name"))).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let secret = credentials::create_token(state.pool(), &user.actor(), &user.user, &name).await?;
    Ok(render_tokens(&state, &user, Some(secret), None).await?.into_response())
}

async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> AppResult<Response> {
    user.check_csrf(form.csrf.as_deref())?;
    match credentials::token_owner(state.pool(), id).await? {
        Some(owner) if owner == user.user.id => {
            credentials::revoke_token(state.pool(), &user.actor(), &user.user, id).await?;
            Ok(Redirect::to("/account/tokens").into_response())
        }
        Some(_) => Err(AppError::Forbidden),
        None => Err(AppError::NotFound),
    }
}
