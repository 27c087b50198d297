//! A resolution's tasks: marked done (with a message and an undo on the page it came from) or open again.
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::db::meetings;
use crate::domain::time;
use crate::web::extract::{Form, LocalPath, Path};
use crate::web::{AppError, AppResult, AppState, CurrentUser};

#[derive(Deserialize)]
pub struct TaskForm {
    csrf: Option<String>,
    next: Option<String>,
}

/// `DONE`: marks the task done and goes back saying so, with an undo; else opens it again (the undo).
pub async fn set_done<const DONE: bool>(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<TaskForm>,
) -> AppResult<Response> {
    user.check_csrf(form.csrf.as_deref())?;
    let (cell_id, meeting_id) = meetings::task_cell(state.pool(), id).await?.ok_or(AppError::NotFound)?;
    user.require_edit(&state, cell_id).await?;
    // only a path on this site, never an address elsewhere
    let next = LocalPath::parse_or(form.next.as_deref(), &format!("/meetings/{meeting_id}"));
    if !DONE {
        meetings::reopen_task(state.pool(), &user.actor(), id).await?;
        return Ok(next.redirect().into_response());
    }
    meetings::complete_task(state.pool(), &user.actor(), id, time::today()).await?;
    // the page it goes back to says what was done and offers to undo it
    let sep = if next.as_str().contains('?') { '&' } else { '?' };
    Ok(Redirect::to(&format!("{}{sep}done_task={id}#tasks", next.as_str())).into_response())
}

/// The task a page was sent back to after it was marked done (`?done_task=`), if it is one of `cell_id`'s and done:
/// the page says so and offers to undo it.
pub async fn just_done(state: &AppState, cell_id: i64, task_id: Option<i64>) -> AppResult<Option<meetings::Task>> {
    let Some(id) = task_id else { return Ok(None) };
    let Some((cell, _)) = meetings::task_cell(state.pool(), id).await? else { return Ok(None) };
    Ok(meetings::task(state.pool(), id).await?.filter(|t| cell == cell_id && t.is_done()))
}
