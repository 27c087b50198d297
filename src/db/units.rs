//! Units (province, district, committee, cell) and their place in the tree on a given day.
use chrono::NaiveDate;
use sqlx::PgExecutor;

use crate::domain::vocab::{CellType, UnitKind};

#[derive(Debug, Clone)]
pub struct Unit {
    pub id: i64,
    pub code: String,
    pub kind: UnitKind,
    pub name: String,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub cell_type: Option<CellType>,
}

impl Unit {
    pub fn is_cell(&self) -> bool {
        self.kind == UnitKind::Cell
    }

    pub fn is_open_on(&self, d: NaiveDate) -> bool {
        self.valid_from <= d && self.valid_to.is_none_or(|to| d <= to)
    }
}

pub async fn by_code(db: impl PgExecutor<'_>, code: &str) -> sqlx::Result<Option<Unit>> {
    sqlx::query_as!(
        Unit,
        r#"select id, code, kind as "kind: UnitKind", name, valid_from, valid_to, cell_type as "cell_type: CellType"
           from units where code = $1"#,
        code
    )
    .fetch_optional(db)
    .await
}

pub async fn by_id(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Unit> {
    sqlx::query_as!(
        Unit,
        r#"select id, code, kind as "kind: UnitKind", name, valid_from, valid_to, cell_type as "cell_type: CellType"
           from units where id = $1"#,
        id
    )
    .fetch_one(db)
    .await
}

/// Is `unit_id` inside the subtree of `scope_id` as the tree stands on `day`?
pub async fn is_within(db: impl PgExecutor<'_>, scope_id: i64, unit_id: i64, day: NaiveDate) -> sqlx::Result<bool> {
    // one definition of the rule, shared with the route guard (migration 0010)
    sqlx::query_scalar!(r#"select unit_within($1, $2, $3) as "within!""#, scope_id, unit_id, day).fetch_one(db).await
}

/// The chain of units from the root down to `unit_id` on `day` (for breadcrumbs and document headers).
pub async fn ancestors(db: impl PgExecutor<'_>, unit_id: i64, day: NaiveDate) -> sqlx::Result<Vec<Unit>> {
    // up(id, depth): the unit and the units above it on the day, the unit itself at depth 0
    sqlx::query_as!(
        Unit,
        r#"with recursive up(id, depth) as (
               select $1::bigint, 0
               union all
               select p.parent_id, up.depth + 1 from up cross join lateral parent_on(up.id, $2) p(parent_id)
               where up.depth < 32 and p.parent_id is not null
           )
           select u.id, u.code, u.kind as "kind: UnitKind", u.name, u.valid_from, u.valid_to,
                  u.cell_type as "cell_type: CellType"
           from up join units u on u.id = up.id order by up.depth desc"#,
        unit_id,
        day
    )
    .fetch_all(db)
    .await
}

/// The units directly under `unit_id` on `day`, open that day.
pub async fn children(db: impl PgExecutor<'_>, unit_id: i64, day: NaiveDate) -> sqlx::Result<Vec<Unit>> {
    sqlx::query_as!(
        Unit,
        r#"select u.id, u.code, u.kind as "kind: UnitKind", u.name, u.valid_from, u.valid_to,
                  u.cell_type as "cell_type: CellType"
           from units u cross join lateral parent_on(u.id, $2) p(parent_id)
           where p.parent_id = $1 and is_open(u.valid_from, u.valid_to, $2)
           order by u.kind, u.name"#,
        unit_id,
        day
    )
    .fetch_all(db)
    .await
}

/// `unit_id` and every unit under it as the tree stands on `day` (closed units included: they keep their
/// last parent).
pub async fn subtree_ids(db: impl PgExecutor<'_>, unit_id: i64, day: NaiveDate) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar!(
        r#"with recursive parents as materialized (
               -- every unit's parent once, rather than once per unit at each level of the walk
               select u.id, p.parent_id from units u cross join lateral parent_on(u.id, $2) p(parent_id)
           ),
           down(id, depth) as (
               select $1::bigint, 0
               union all
               select c.id, down.depth + 1 from down join parents c on c.parent_id = down.id where down.depth < 32
           )
           select id as "id!" from down"#,
        unit_id,
        day
    )
    .fetch_all(db)
    .await
}

pub async fn by_ids(db: impl PgExecutor<'_>, ids: &[i64]) -> sqlx::Result<Vec<Unit>> {
    sqlx::query_as!(
        Unit,
        r#"select id, code, kind as "kind: UnitKind", name, valid_from, valid_to, cell_type as "cell_type: CellType"
           from units where id = any($1)"#,
        ids
    )
    .fetch_all(db)
    .await
}
