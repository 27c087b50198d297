//! The route table's rule is what runs: every route is registered through `Routes` wrapped in [`Guarded`],
//! which, before the handler, finds who asks (the session, or the API token under `/api/`), checks the role the
//! route's [`Access`] names, finds the object named in the path (unit, cell, meeting, task, member, user account,
//! API token) and the unit it belongs to, and refuses it unless that unit lies in the user's scope today. A
//! handler cannot forget a check: it only runs for a request its route's rule admits. The user found goes on to
//! the handler (`CurrentUser` and `ApiUser` take it from the request instead of asking again).
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use axum::extract::{FromRequestParts, RawPathParams, Request};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::api::ApiUser;
use super::routes::Access;
use super::{AppError, AppState, CurrentUser};
use crate::db::access::{self, Named, Placed};
use crate::db::users::User;
use crate::domain::{Role, time};

/// The kind of object a route's path names, read from the path pattern when the route is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// The path names nothing the scope applies to (`/account`, `/admin/programmes`).
    Nothing,
    /// `/cells/{code}`, `/units/{code}`, `/dashboard/{code}`, `/followup/{code}`, the API's units and cells.
    Unit,
    Meeting,
    Task,
    Member,
    /// A user account, for administrators and committee clerks (`/admin/users/{id}/…`).
    User,
    /// One of the user's own API tokens.
    Token,
}

impl Target {
    pub fn of(path: &str) -> Target {
        let under = |prefix: &str| path.starts_with(prefix);
        if !path.contains('{') {
            Target::Nothing
        } else if under("/members/") {
            Target::Member
        } else if under("/meetings/") {
            Target::Meeting
        } else if under("/tasks/") {
            Target::Task
        } else if under("/admin/users/") {
            Target::User
        } else if under("/account/tokens/") {
            Target::Token
        } else if ["/cells/", "/units/", "/dashboard/", "/followup/", "/api/v1/cells/", "/api/v1/units/"]
            .iter()
            .any(|p| under(p))
        {
            Target::Unit
        } else {
            Target::Nothing
        }
    }
}

/// Whether a route's rule and its path agree: a rule about the unit in the path needs a path that names one.
pub fn consistent(access: Access, target: Target) -> bool {
    match access {
        Access::Public | Access::SignedIn => matches!(target, Target::Nothing),
        Access::ReadUnit | Access::ReadNames | Access::EditCell | Access::ManageRecords | Access::Publish => {
            !matches!(target, Target::Nothing | Target::User | Target::Token)
        }
        Access::Admin => matches!(target, Target::Nothing | Target::User),
        // a unit's secretaries' accounts at once (`/units/{code}/secretaries`)
        Access::ManageAccounts => matches!(target, Target::Nothing | Target::User | Target::Unit),
        Access::Owner => target == Target::Token,
    }
}

/// A handler behind its route's rule.
#[derive(Clone)]
pub struct Guarded<H> {
    pub handler: H,
    pub access: Access,
    pub target: Target,
}

impl<H, T> Handler<T, AppState> for Guarded<H>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    type Future = Pin<Box<dyn Future<Output = Response> + Send>>;

    fn call(self, req: Request, state: AppState) -> Self::Future {
        Box::pin(async move {
            if self.access == Access::Public {
                return self.handler.call(req, state).await;
            }
            let (mut parts, mut body) = req.into_parts();
            let api = parts.uri.path().starts_with("/api/");
            // a form's token is checked before anything else is said about the request (a forged form learns
            // nothing, not even whether the object it names exists or is in scope)
            let form = !api && is_form(&parts);
            let mut sent = None;
            if form {
                match axum::body::to_bytes(body, FORM_LIMIT).await {
                    Ok(bytes) => {
                        sent = Some(csrf_of(&bytes));
                        body = axum::body::Body::from(bytes);
                    }
                    Err(_) => return AppError::TooLarge.into_response(),
                }
            }
            if let Err(refusal) = admit(self.access, self.target, api, sent.as_ref(), &mut parts, &state).await {
                return refusal;
            }
            self.handler.call(Request::from_parts(parts, body), state).await
        })
    }
}

/// Forms are small (the router's body limit); an upload is multipart and checks its token itself, first.
const FORM_LIMIT: usize = 256 * 1024;

fn is_form(parts: &Parts) -> bool {
    parts.method == axum::http::Method::POST
        && parts
            .headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// The form's `csrf` field as sent (tokens are URL-safe: no decoding needed); `None` if absent or sent twice.
fn csrf_of(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let mut values = text.split('&').filter_map(|pair| pair.strip_prefix("csrf="));
    let first = values.next()?;
    values.next().is_none().then(|| first.to_string())
}

async fn admit(
    access: Access,
    target: Target,
    api: bool,
    form_token: Option<&Option<String>>,
    parts: &mut Parts,
    state: &AppState,
) -> Result<(), Response> {
    let refuse = |e: AppError| if api { e.json_response() } else { e.into_response() };
    let user: User = if api {
        let found = ApiUser::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        let user = found.0.clone();
        parts.extensions.insert(found);
        user
    } else {
        let found = CurrentUser::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        if let Some(sent) = form_token {
            found.check_csrf(sent.as_deref()).map_err(IntoResponse::into_response)?;
        }
        let user = found.user.clone();
        parts.extensions.insert(found);
        user
    };
    let placed = check(access, target, &user, parts, state).await.map_err(refuse)?;
    if let (Some(unit_id), Some(found)) = (placed, parts.extensions.get_mut::<CurrentUser>()) {
        found.admitted = Some(unit_id);
    }
    Ok(())
}

/// The rule itself, for the user found: the unit the path's object is placed in (inside the scope), if any.
async fn check(
    access: Access,
    target: Target,
    user: &User,
    parts: &mut Parts,
    state: &AppState,
) -> Result<Option<i64>, AppError> {
    let role = user.role();
    let role_may = match access {
        Access::Public | Access::SignedIn | Access::ReadUnit | Access::Owner => true,
        Access::ReadNames => role.can_see_names(),
        Access::EditCell => role.can_edit_meetings(),
        Access::ManageRecords => role.can_manage_records(),
        Access::Publish => role.can_publish_reports(),
        Access::Admin => role == Role::Admin,
        Access::ManageAccounts => role.can_manage_accounts(),
    };
    if !role_may {
        return Err(AppError::Forbidden);
    }
    if target == Target::Nothing {
        return Ok(None);
    }
    let named = RawPathParams::from_request_parts(parts, state)
        .await
        .ok()
        .and_then(|p| p.iter().next().map(|(_, v)| v.to_string()))
        .ok_or(AppError::NotFound)?;
    if target == Target::Token {
        let id = named.parse::<i64>().map_err(|_| AppError::NotFound)?;
        return match access::token_owner(state.pool(), id).await? {
            Some(owner) if owner == user.id => Ok(None),
            Some(_) => Err(AppError::Forbidden),
            None => Err(AppError::NotFound),
        };
    }
    match place(state, target, &named, user.unit_id).await? {
        Some(Placed { in_scope: true, unit_id }) => Ok(Some(unit_id)),
        Some(_) => Err(AppError::Forbidden),
        None => Err(AppError::NotFound),
    }
}

/// Where the object is and whether the scope holds it; remembered per data generation while the page cache is
/// live (the tree changes only through writes, which move the generation on), so that a dashboard served from
/// memory costs no query here either.
async fn place(state: &AppState, target: Target, named: &str, scope_id: i64) -> sqlx::Result<Option<Placed>> {
    let day = time::today();
    let cache = state.cache();
    let live = cache.is_live();
    let generation = cache.data_generation();
    let key = (target, named.to_string(), scope_id, day);
    if live {
        let memo = state.0.access.0.lock().unwrap();
        if memo.0 == generation
            && let Some(found) = memo.1.get(&key)
        {
            return Ok(*found);
        }
    }
    let id = named.parse::<i64>().ok();
    let name = match (target, id) {
        (Target::Unit, _) => Some(Named::Unit(named)),
        (Target::Member, _) => Some(Named::Member(named)),
        (Target::Meeting, Some(id)) => Some(Named::Meeting(id)),
        (Target::Task, Some(id)) => Some(Named::Task(id)),
        (Target::User, Some(id)) => Some(Named::User(id)),
        _ => None,
    };
    let found = match name {
        Some(name) => access::place(state.pool(), name, scope_id, day).await?,
        None => None,
    };
    if live {
        let mut memo = state.0.access.0.lock().unwrap();
        if memo.0 != generation || memo.1.len() >= MEMO_ENTRIES {
            *memo = (generation, HashMap::new());
        }
        memo.1.insert(key, found);
    }
    Ok(found)
}

type MemoKey = (Target, String, i64, chrono::NaiveDate);
const MEMO_ENTRIES: usize = 50_000;

/// The guard's answers for one data generation (one per `AppState`).
#[derive(Default)]
pub struct Memo(Mutex<(u64, HashMap<MemoKey, Option<Placed>>)>);
