//! The start page and the units above cells: what is under them today.
use crate::web::extract::Path;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::routes::{Access, Routes};
use super::view::Layout;
use super::{AppError, AppResult, AppState, CurrentUser};
use crate::db::units::{self, Unit};
use crate::domain::{Role, time};

pub fn routes() -> Routes {
    Routes::default().get("/", Access::SignedIn, start).get("/units/{code}", Access::ReadUnit, show)
}

/// Everyone starts at their own unit: a secretary at their cell, a committee at its cells.
async fn start(State(state): State<AppState>, user: CurrentUser) -> AppResult<Redirect> {
    let unit = units::by_id(state.pool(), user.user.unit_id).await?;
    let to = match user.role() {
        _ if unit.is_cell() => format!("/cells/{}", unit.code),
        // the committees above watch figures; a committee clerk starts at its cells
        Role::Admin | Role::ProvinceViewer | Role::DistrictViewer => format!("/dashboard/{}", unit.code),
        _ => format!("/units/{}", unit.code),
    };
    Ok(Redirect::to(&to))
}

#[derive(Template)]
#[template(path = "units/show.html")]
struct UnitPage {
    layout: Layout,
    unit: Unit,
    children: Vec<Unit>,
    can_search: bool,
    /// for each child cell, by id: (a regular meeting logged this month, the day of its latest meeting)
    status: std::collections::HashMap<i64, (bool, String)>,
    month: String,
    notices: super::account::Notices,
}

impl UnitPage {
    /// A cell's line for this month: "✓" or "✗", and its latest meeting; None for a unit that is not a cell.
    fn cell_status(&self, c: &Unit) -> Option<(bool, String)> {
        c.is_cell().then(|| self.status.get(&c.id).cloned().unwrap_or((false, String::new())))
    }
}

async fn show(State(state): State<AppState>, user: CurrentUser, Path(code): Path<String>) -> AppResult<Response> {
    let pool = state.pool();
    let unit = units::by_code(pool, &code).await?.ok_or(AppError::NotFound)?;
    user.require_scope(&state, unit.id).await?;
    if unit.is_cell() {
        return Ok(Redirect::to(&format!("/cells/{}", unit.code)).into_response());
    }
    let today = time::today();
    let ancestors = units::ancestors(pool, unit.id, today).await?;
    let children = units::children(pool, unit.id, today).await?;
    let cells: Vec<i64> = children.iter().filter(|c| c.is_cell()).map(|c| c.id).collect();
    let status = crate::db::meetings::month_status(pool, &cells, time::month_start(today), today)
        .await?
        .into_iter()
        .map(|(id, regular, last)| (id, (regular, time::format_date(last))))
        .collect();
    let page = UnitPage {
        layout: Layout::new(&user).with_units(&ancestors, user.user.unit_id),
        children,
        can_search: user.role().can_see_names(),
        status,
        month: time::format_month(today),
        notices: super::account::Notices::load(&state, &user, unit.id, &format!("/units/{}", unit.code)).await?,
        unit,
    };
    Ok(Html(page.render()?).into_response())
}
