//! Officials who attend cell meetings under Regulation 18.
use chrono::{Datelike, NaiveDate};
use sqlx::{FromRow, PgExecutor};

use crate::domain::vocab::OfficialGroup;

#[derive(Debug, Clone, FromRow)]
pub struct Official {
    pub id: i64,
    pub code: String,
    pub full_name: String,
    pub group: OfficialGroup,
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
    sqlx::query_as!(
        Official,
        r#"select o.id, o.code, o.full_name, o."group" as "group: OfficialGroup" from officials o
           where o.id in (select official_id from reg18_assignments where cell_id = $1 and year = $2)
              or (o.unit_id = any($3) and o."group" = $5)
              or o.id in (select official_id from meeting_guests where meeting_id = $4)
           order by o.full_name"#,
        cell_id,
        day.year() as i16,
        ancestor_ids,
        meeting_id,
        OfficialGroup::GrassrootsCommittee.as_str()
    )
    .fetch_all(db)
    .await
}
