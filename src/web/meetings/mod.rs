//! Logging, listing, showing and editing a cell's meetings; its tasks; the printable minutes.
#[doc(hidden)]
pub mod form;
mod lock;
pub(crate) mod pages;
pub(crate) mod tasks;

pub(crate) use pages::load_cell;

use super::routes::{Access, Routes};

pub fn routes() -> Routes {
    Routes::default()
        .get("/cells/{code}/meetings", Access::ReadUnit, pages::list)
        .post("/cells/{code}/meetings", Access::EditCell, pages::create)
        .get("/cells/{code}/meetings/new", Access::EditCell, pages::new_form)
        .get("/meetings/{id}", Access::ReadUnit, pages::show)
        .post("/meetings/{id}", Access::EditCell, pages::update)
        .get("/meetings/{id}/edit", Access::EditCell, pages::edit_form)
        .get("/meetings/{id}/minutes", Access::ReadNames, pages::minutes)
        .post("/tasks/{id}/done", Access::EditCell, tasks::set_done::<true>)
        .post("/tasks/{id}/reopen", Access::EditCell, tasks::set_done::<false>)
}
