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
    let page = UnitPage {
        layout: Layout::new(&user).with_units(&ancestors, user.user.unit_id),
        children: units::children(pool, unit.id, today).await?,
        can_search: user.role().can_see_names(),
        unit,
    };
    Ok(Html(page.render()?).into_response())
}
