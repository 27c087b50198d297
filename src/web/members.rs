//! Member search within a unit: accents and case ignored, Vietnamese name order.
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use serde::Deserialize;

use super::routes::{Access, Routes};
use super::view::Layout;
use super::{AppError, AppResult, AppState, CurrentUser};
use crate::db::members::{self, Found};
use crate::db::units::{self, Unit};
use crate::domain::time;
use crate::web::extract::Path;

pub fn routes() -> Routes {
    Routes::default().get("/units/{code}/members", Access::ReadNames, search)
}

/// Results shown at most; a longer list asks for more words.
const LIMIT: usize = 100;

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "units/members.html")]
struct SearchPage {
    layout: Layout,
    unit: Unit,
    q: String,
    found: Vec<Found>,
    more: bool,
    today: chrono::NaiveDate,
}

async fn search(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(query): Query<SearchQuery>,
) -> AppResult<Html<String>> {
    let pool = state.pool();
    let unit = units::by_code(pool, &code).await?.ok_or(AppError::NotFound)?;
    user.require_scope(&state, unit.id).await?;
    if !user.role().can_see_names() {
        return Err(AppError::Forbidden);
    }
    let today = time::today();
    let q: String = query.q.chars().take(100).collect();
    let (found, more) = members::search(pool, unit.id, &q, today, LIMIT).await?;
    let ancestors = units::ancestors(pool, unit.id, today).await?;
    let page = SearchPage {
        layout: Layout::new(&user).with_units(&ancestors, user.user.unit_id),
        unit,
        q,
        found,
        more,
        today,
    };
    Ok(Html(page.render()?))
}
