//! The JSON API under /api/v1, opened with a personal API token (`Authorization: Bearer …`), limited to the
//! token owner's role and scope.
use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::{header, request::Parts};
use serde::Serialize;

use super::routes::{Access, Routes};
use super::{ApiError, AppError, AppState};
use crate::db::users::User;
use crate::db::{credentials, meetings, metrics, units};
use crate::domain::metrics::Period;
use crate::domain::time;

pub fn routes() -> Routes {
    Routes::default()
        .get("/api/v1/me", Access::SignedIn, me)
        .get("/api/v1/cells/{code}/meetings", Access::ReadUnit, cell_meetings)
        .get("/api/v1/units/{code}/metrics", Access::ReadUnit, unit_metrics)
}

/// The owner of the request's API token.
#[derive(Clone)]
pub struct ApiUser(pub User);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // the route guard (web/access.rs) found them already
        if let Some(found) = parts.extensions.remove::<ApiUser>() {
            return Ok(found);
        }
        let secret = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError(AppError::NotSignedIn))?;
        let user = credentials::token_user(state.pool(), secret.trim()).await?.ok_or(ApiError(AppError::BadToken))?;
        Ok(ApiUser(user))
    }
}

impl ApiUser {
    async fn require_scope(&self, state: &AppState, unit_id: i64) -> Result<(), ApiError> {
        if units::is_within(state.pool(), self.0.unit_id, unit_id, time::today()).await? {
            Ok(())
        } else {
            Err(ApiError(AppError::Forbidden))
        }
    }
}

#[derive(Serialize)]
struct Me {
    username: String,
    role: &'static str,
    unit: String,
}

async fn me(State(state): State<AppState>, ApiUser(user): ApiUser) -> Result<Json<Me>, ApiError> {
    let unit = units::by_id(state.pool(), user.unit_id).await?;
    Ok(Json(Me { username: user.username.clone(), role: user.role().as_str(), unit: unit.code }))
}

#[derive(Serialize)]
struct MeetingJson {
    id: i64,
    held_on: chrono::NaiveDate,
    kind: crate::domain::MeetingKind,
    topic: String,
    rating: Option<crate::domain::Rating>,
    present: i64,
    excused: i64,
    unexcused: i64,
    exempt: i64,
}

async fn cell_meetings(
    State(state): State<AppState>,
    user: ApiUser,
    Path(code): Path<String>,
) -> Result<Json<Vec<MeetingJson>>, ApiError> {
    let cell =
        units::by_code(state.pool(), &code).await?.filter(|u| u.is_cell()).ok_or(ApiError(AppError::NotFound))?;
    user.require_scope(&state, cell.id).await?;
    let list = meetings::list_for_cell(state.pool(), cell.id, 1000).await?;
    Ok(Json(
        list.into_iter()
            .map(|m| MeetingJson {
                id: m.id,
                held_on: m.held_on,
                kind: m.kind,
                topic: m.topic,
                rating: m.rating,
                present: m.present,
                excused: m.excused,
                unexcused: m.unexcused,
                exempt: m.exempt,
            })
            .collect(),
    ))
}

#[derive(serde::Deserialize)]
pub struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The report of DOMAIN.md §9, the same JSON as `chibo report`.
async fn unit_metrics(
    State(state): State<AppState>,
    user: ApiUser,
    Path(code): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let unit = units::by_code(state.pool(), &code).await?.ok_or(ApiError(AppError::NotFound))?;
    user.require_scope(&state, unit.id).await?;
    let period = Period::parse(q.from.as_deref().unwrap_or_default(), q.to.as_deref().unwrap_or_default())
        .ok_or(ApiError(AppError::BadRequest("from and to must be months YYYY-MM, from not after to".into())))?;
    let report = metrics::report(state.pool(), unit, period, time::today()).await?;
    Ok(Json(super::report::json(&report)))
}
