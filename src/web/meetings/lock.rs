//! The lock of an approved month (DOMAIN.md §10, migration 0012) as the meeting form says it: an error at the date
//! field, in the user's language, instead of a failed save.
use chrono::NaiveDate;

use super::form::FieldError;
use crate::db::units::Unit;
use crate::domain::vocab::ReportState;
use crate::web::{AppResult, AppState};

/// The lock's refusal (SQLSTATE `CB001`) as an error at the date field; any other error as it is.
pub(super) fn locked_field(e: sqlx::Error) -> AppResult<FieldError> {
    match crate::db::reports::locked_month(&e) {
        Some(month) => Ok(at_date(&month)),
        None => Err(e.into()),
    }
}

/// The error to show as the edit form of a meeting held on `day` opens, if its month is approved.
pub(super) async fn said_on_opening(state: &AppState, cell: &Unit, day: NaiveDate) -> AppResult<Vec<FieldError>> {
    let report = crate::db::reports::get(state.pool(), cell.id, day).await?;
    if report.state != ReportState::Approved {
        return Ok(Vec::new());
    }
    Ok(vec![at_date(&format!("{}/{}", cell.code, day.format("%Y-%m")))])
}

fn at_date(month: &str) -> FieldError {
    FieldError { field: "held_on".into(), message: crate::web::reports::locked_message(month) }
}
