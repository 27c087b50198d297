//! Rubric versions (DOMAIN.md §11): read whole (a handful of rows), added by administrators, never changed once a
//! meeting is judged by them (PostgreSQL refuses it, migration 0017). Each meeting stores its version.
use chrono::NaiveDate;
use serde_json::json;
use sqlx::{PgExecutor, PgPool};

use crate::db::audit::{self, Actor, Change};
use crate::domain::rubric::{Bands, Criterion, NewVersion, Rubric};

/// Every version with its criteria, the oldest first.
pub async fn versions(db: impl PgExecutor<'_> + Copy) -> sqlx::Result<Vec<Rubric>> {
    let heads = sqlx::query!(
        "select id, code, valid_from, good_from, fair_from, average_from, min_minutes, min_minutes_combined,
                notice_required
         from rubric_versions order by valid_from"
    )
    .fetch_all(db)
    .await?;
    let criteria = sqlx::query!(
        "select version_id, key, label_vi, label_en, max_points from rubric_criteria order by version_id, position"
    )
    .fetch_all(db)
    .await?;
    Ok(heads
        .into_iter()
        .map(|h| Rubric {
            id: h.id,
            code: h.code,
            valid_from: h.valid_from,
            bands: Bands { good: h.good_from as u8, fair: h.fair_from as u8, average: h.average_from as u8 },
            min_minutes: h.min_minutes as u16,
            min_minutes_combined: h.min_minutes_combined as u16,
            notice_required: h.notice_required,
            criteria: criteria
                .iter()
                .filter(|c| c.version_id == h.id)
                .map(|c| Criterion {
                    key: c.key.clone(),
                    label_vi: c.label_vi.clone(),
                    label_en: c.label_en.clone(),
                    max_points: c.max_points as u8,
                })
                .collect(),
        })
        .collect())
}

/// How many meetings each version judges, with the first and last day among them: (version, count, first, last).
pub async fn usage(pool: &PgPool) -> sqlx::Result<Vec<(i64, i64, Option<NaiveDate>, Option<NaiveDate>)>> {
    let rows = sqlx::query!(
        r#"select v.id, count(m.id) as "meetings!", min(m.held_on) as first, max(m.held_on) as last
           from rubric_versions v left join meetings m on m.rubric_version_id = v.id
           group by v.id order by v.id"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.meetings, r.first, r.last)).collect())
}

/// Adds a version with its criteria in one transaction, audited; `None` if its code or start is taken.
pub async fn create(pool: &PgPool, actor: &Actor, v: &NewVersion) -> sqlx::Result<Option<i64>> {
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        "insert into rubric_versions (code, valid_from, good_from, fair_from, average_from, min_minutes,
                                      min_minutes_combined, notice_required)
         values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict do nothing returning id",
        v.code,
        v.valid_from,
        i16::from(v.bands.good),
        i16::from(v.bands.fair),
        i16::from(v.bands.average),
        v.min_minutes as i16,
        v.min_minutes_combined as i16,
        v.notice_required,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else {
        tx.rollback().await?;
        return Ok(None);
    };
    let keys: Vec<&str> = v.criteria.iter().map(|c| c.key.as_str()).collect();
    let vi: Vec<&str> = v.criteria.iter().map(|c| c.label_vi.as_str()).collect();
    let en: Vec<&str> = v.criteria.iter().map(|c| c.label_en.as_str()).collect();
    let points: Vec<i16> = v.criteria.iter().map(|c| i16::from(c.max_points)).collect();
    sqlx::query!(
        "insert into rubric_criteria (version_id, key, label_vi, label_en, max_points, position)
         select $1, c.key, c.vi, c.en, c.points, c.n
         from unnest($2::text[], $3::text[], $4::text[], $5::smallint[]) with ordinality c(key, vi, en, points, n)",
        id,
        &keys as &[&str],
        &vi as &[&str],
        &en as &[&str],
        &points
    )
    .execute(&mut *tx)
    .await?;
    let root = sqlx::query_scalar!("select id from units where parent_id is null order by id limit 1")
        .fetch_optional(&mut *tx)
        .await?;
    let after = json!({
        "code": v.code, "valid_from": v.valid_from, "bands": v.bands, "min_minutes": v.min_minutes,
        "min_minutes_combined": v.min_minutes_combined, "notice_required": v.notice_required, "criteria": v.criteria,
    });
    let change = Change {
        action: "create",
        entity: "rubric_version",
        entity_id: id.to_string(),
        unit_id: root,
        before: None,
        after: Some(after),
    };
    audit::record(&mut tx, actor, change).await?;
    tx.commit().await?;
    Ok(Some(id))
}
