//! What the route guard (`web::access`) asks before any handler runs: the unit an object named in a path
//! belongs to today, and whether it lies inside a user's scope. One round trip.
use chrono::NaiveDate;
use sqlx::PgExecutor;

/// Where the object named in a path belongs, and whether that is inside the scope asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    pub unit_id: i64,
    pub in_scope: bool,
}

/// What a path can name, and how it is named.
#[derive(Debug, Clone, Copy)]
pub enum Named<'a> {
    /// A unit (a cell too) by its code.
    Unit(&'a str),
    /// A member by their code: placed in the cell they are in on the day, as the roll reads it.
    Member(&'a str),
    /// A meeting: placed in the cell that held it.
    Meeting(i64),
    /// A task: placed in the cell of the meeting that resolved it.
    Task(i64),
    /// A user account: placed in the unit it is bound to.
    User(i64),
}

/// Where `named` belongs and whether the scope of `scope_id` holds it on `day`; `None` when it does not exist.
pub async fn place(
    db: impl PgExecutor<'_>,
    named: Named<'_>,
    scope_id: i64,
    day: NaiveDate,
) -> sqlx::Result<Option<Placed>> {
    let (kind, code, id) = match named {
        Named::Unit(code) => ("unit", Some(code), None),
        Named::Member(code) => ("member", Some(code), None),
        Named::Meeting(id) => ("meeting", None, Some(id)),
        Named::Task(id) => ("task", None, Some(id)),
        Named::User(id) => ("user", None, Some(id)),
    };
    let row = sqlx::query!(
        r#"select p.unit_id as "unit_id!", unit_within($4, p.unit_id, $5) as "in_scope!" from (
               select u.id as unit_id from units u where $1 = 'unit' and u.code = $2
               union all
               select c.cell_id from members m cross join lateral cell_of(m.id, $5) c(cell_id)
               where $1 = 'member' and m.code = $2 and c.cell_id is not null
               union all
               select m.cell_id from meetings m where $1 = 'meeting' and m.id = $3
               union all
               select m.cell_id from tasks t join meetings m on m.id = t.meeting_id where $1 = 'task' and t.id = $3
               union all
               select u.unit_id from users u where $1 = 'user' and u.id = $3
           ) p
           limit 1"#,
        kind,
        code,
        id,
        scope_id,
        day
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Placed { unit_id: r.unit_id, in_scope: r.in_scope }))
}

/// The owner of an API token.
pub async fn token_owner(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!("select user_id from api_tokens where id = $1", id).fetch_optional(db).await
}
