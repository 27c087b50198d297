//! What the route guard (`web::access`) asks before any handler runs: the unit an object named in a path
//! belongs to today, and whether it lies inside a user's scope. One round trip each.
use chrono::NaiveDate;
use sqlx::PgExecutor;

/// Where the object named in a path belongs, and whether that is inside the scope of `scope_id` on `day`;
/// `None` when no such object exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    pub unit_id: i64,
    pub in_scope: bool,
}

/// A unit by its code.
pub async fn unit(db: impl PgExecutor<'_>, code: &str, scope_id: i64, day: NaiveDate) -> sqlx::Result<Option<Placed>> {
    let row = sqlx::query!(
        r#"select u.id as "id!", unit_within($2, u.id, $3) as "in_scope!" from units u where u.code = $1"#,
        code,
        scope_id,
        day
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Placed { unit_id: r.id, in_scope: r.in_scope }))
}

/// The cell a meeting was held by.
pub async fn meeting(db: impl PgExecutor<'_>, id: i64, scope_id: i64, day: NaiveDate) -> sqlx::Result<Option<Placed>> {
    let row = sqlx::query!(
        r#"select m.cell_id as "id!", unit_within($2, m.cell_id, $3) as "in_scope!" from meetings m where m.id = $1"#,
        id,
        scope_id,
        day
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Placed { unit_id: r.id, in_scope: r.in_scope }))
}

/// The cell of the meeting a task was resolved at.
pub async fn task(db: impl PgExecutor<'_>, id: i64, scope_id: i64, day: NaiveDate) -> sqlx::Result<Option<Placed>> {
    let row = sqlx::query!(
        r#"select m.cell_id as "id!", unit_within($2, m.cell_id, $3) as "in_scope!"
           from tasks t join meetings m on m.id = t.meeting_id where t.id = $1"#,
        id,
        scope_id,
        day
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Placed { unit_id: r.id, in_scope: r.in_scope }))
}

/// The cell a member is in on `day`, as the roll reads it.
pub async fn member(
    db: impl PgExecutor<'_>,
    code: &str,
    scope_id: i64,
    day: NaiveDate,
) -> sqlx::Result<Option<Placed>> {
    let row = sqlx::query!(
        r#"select c.cell_id as "id!", unit_within($2, c.cell_id, $3) as "in_scope!"
           from members m cross join lateral cell_of(m.id, $3) c(cell_id) where m.code = $1 and c.cell_id is not null"#,
        code,
        scope_id,
        day
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Placed { unit_id: r.id, in_scope: r.in_scope }))
}

/// The unit a user account is bound to.
pub async fn user(db: impl PgExecutor<'_>, id: i64, scope_id: i64, day: NaiveDate) -> sqlx::Result<Option<Placed>> {
    let row = sqlx::query!(
        r#"select u.unit_id as "id!", unit_within($2, u.unit_id, $3) as "in_scope!" from users u where u.id = $1"#,
        id,
        scope_id,
        day
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Placed { unit_id: r.id, in_scope: r.in_scope }))
}

/// The owner of an API token.
pub async fn token_owner(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!("select user_id from api_tokens where id = $1", id).fetch_optional(db).await
}
