//! Logging, listing, showing and editing a cell's meetings; its tasks; the printable minutes.
mod form;
pub(crate) mod pages;

pub(crate) use pages::load_cell;

use axum::Router;
use axum::routing::{get, post};

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/cells/{code}/meetings",
            get(pages::list).post(pages::create),
        )
        .route("/cells/{code}/meetings/new", get(pages::new_form))
        .route("/meetings/{id}", get(pages::show).post(pages::update))
        .route("/meetings/{id}/edit", get(pages::edit_form))
        .route("/meetings/{id}/minutes", get(pages::minutes))
        .route("/tasks/{id}/done", post(pages::task_done))
}
