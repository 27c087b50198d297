//! Officials who attend cell meetings under Regulation 18.
use chrono::{Datelike, NaiveDate};
use sqlx::{FromRow, PgExecutor};

#[derive(Debug, Clone, FromRow)]
pub struct Official {
    pub id: i64,
    pub code: String,
    pub full_name: String,
    pub group: String,
}

/// Officials who may be recorded as guests of a cell's meeting on `day`: those assigned to the cell that year,
/// the grassroots committee members of the units above it, and any already recorded at `meeting_id`.
pub async fn guest_candidates(
    db: impl PgExecutor<'_>,
    cell_id: i64,
    ancestor_ids: &[i64],
    day: NaiveDate,
    meeting_id: Option<i64>,
) -> sqlx::Result<Vec<Official>> {
    sqlx::query_as(
        "select o.id, o.code, o.full_name, o.\"group\" from officials o
         where o.id in (select official_id from reg18_assignments where cell_id = $1 and year = $2)
            or (o.unit_id = any($3) and o.\"group\" = 'grassroots_committee')
            or o.id in (select official_id from meeting_guests where meeting_id = $4)
         order by o.full_name",
    )
    .bind(cell_id)
    .bind(day.year() as i16)
    .bind(ancestor_ids)
    .bind(meeting_id)
    .fetch_all(db)
    .await
}
