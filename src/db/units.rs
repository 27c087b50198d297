//! Units (province, district, committee, cell) and their place in the tree on a given day.
use chrono::NaiveDate;
use sqlx::{FromRow, PgExecutor};

#[derive(Debug, Clone, FromRow)]
pub struct Unit {
    pub id: i64,
    pub code: String,
    pub kind: String,
    pub name: String,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub cell_type: Option<String>,
}

impl Unit {
    pub fn is_cell(&self) -> bool {
        self.kind == "cell"
    }

    pub fn is_open_on(&self, d: NaiveDate) -> bool {
        self.valid_from <= d && self.valid_to.is_none_or(|to| d <= to)
    }
}

const COLUMNS: &str = "id, code, kind, name, valid_from, valid_to, cell_type";

pub async fn by_code(db: impl PgExecutor<'_>, code: &str) -> sqlx::Result<Option<Unit>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("select {COLUMNS} from units where code = $1")))
        .bind(code)
        .fetch_optional(db)
        .await
}

pub async fn by_id(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Unit> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("select {COLUMNS} from units where id = $1")))
        .bind(id)
        .fetch_one(db)
        .await
}

/// SQL for the parent of unit `u` on day `$d` (DOMAIN.md §4): its latest move on or before that day, else the
/// parent it opened with.
macro_rules! parent_on {
    ($u:literal, $d:literal) => {
        concat!(
            "coalesce((select mv.parent_id from unit_moves mv where mv.unit_id = ",
            $u,
            ".id and mv.effective_on <= ",
            $d,
            " order by mv.effective_on desc limit 1), ",
            $u,
            ".parent_id)"
        )
    };
}

/// Is `unit_id` inside the subtree of `scope_id` as the tree stands on `day`?
pub async fn is_within(db: impl PgExecutor<'_>, scope_id: i64, unit_id: i64, day: NaiveDate) -> sqlx::Result<bool> {
    let sql = concat!(
        "with recursive up(id, depth) as (
            select $2::bigint, 0
            union all
            select ",
        parent_on!("u", "$3"),
        ", up.depth + 1 from up join units u on u.id = up.id
            where up.depth < 32 and ",
        parent_on!("u", "$3"),
        " is not null
        )
        select exists(select 1 from up where id = $1)"
    );
    sqlx::query_scalar(sql).bind(scope_id).bind(unit_id).bind(day).fetch_one(db).await
}

/// The chain of units from the root down to `unit_id` on `day` (for breadcrumbs and document headers).
pub async fn ancestors(db: impl PgExecutor<'_>, unit_id: i64, day: NaiveDate) -> sqlx::Result<Vec<Unit>> {
    let sql = concat!(
        "with recursive up(id, depth) as (
            select $1::bigint, 0
            union all
            select ",
        parent_on!("u", "$2"),
        ", up.depth + 1 from up join units u on u.id = up.id
            where up.depth < 32 and ",
        parent_on!("u", "$2"),
        " is not null
        )
        select u.id, u.code, u.kind, u.name, u.valid_from, u.valid_to, u.cell_type
        from up join units u on u.id = up.id order by up.depth desc"
    );
    sqlx::query_as(sql).bind(unit_id).bind(day).fetch_all(db).await
}

/// The units directly under `unit_id` on `day`, open that day.
pub async fn children(db: impl PgExecutor<'_>, unit_id: i64, day: NaiveDate) -> sqlx::Result<Vec<Unit>> {
    let sql = concat!(
        "select u.id, u.code, u.kind, u.name, u.valid_from, u.valid_to, u.cell_type from units u
         where ",
        parent_on!("u", "$2"),
        " = $1 and u.valid_from <= $2 and (u.valid_to is null or u.valid_to >= $2)
         order by u.kind, u.name"
    );
    sqlx::query_as(sql).bind(unit_id).bind(day).fetch_all(db).await
}

/// `unit_id` and every unit under it as the tree stands on `day` (closed units included: they keep their
/// last parent).
pub async fn subtree_ids(db: impl PgExecutor<'_>, unit_id: i64, day: NaiveDate) -> sqlx::Result<Vec<i64>> {
    let sql = concat!(
        "with recursive down(id, depth) as (
            select $1::bigint, 0
            union all
            select u.id, down.depth + 1 from down join units u on ",
        parent_on!("u", "$2"),
        " = down.id where down.depth < 32
        )
        select id from down"
    );
    sqlx::query_scalar(sql).bind(unit_id).bind(day).fetch_all(db).await
}

pub async fn by_ids(db: impl PgExecutor<'_>, ids: &[i64]) -> sqlx::Result<Vec<Unit>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("select {COLUMNS} from units where id = any($1)")))
        .bind(ids)
        .fetch_all(db)
        .await
}
