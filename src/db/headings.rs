//! The mappings of users' own file names and headings onto the bundle's (migration 0023, `import::headings`), and
//! the uploads kept while their headings are mapped.
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{Connection, PgPool};

use crate::db::audit::{self, Actor, Change};
use crate::import::headings::Saved;

/// Every mapping remembered.
pub async fn saved(pool: &PgPool) -> sqlx::Result<Saved> {
    let mut saved = Saved::default();
    for r in sqlx::query!("select name, file from import_file_names").fetch_all(pool).await? {
        saved.add_file(r.name, r.file.as_deref());
    }
    for r in sqlx::query!("select file, heading, col from import_headings").fetch_all(pool).await? {
        saved.add_heading(&r.file, r.heading, r.col.as_deref());
    }
    Ok(saved)
}

/// An upload kept while its headings are mapped.
#[derive(Debug)]
pub struct Draft {
    pub id: i64,
    pub source: String,
    pub dry_run: bool,
    pub files: Vec<(String, Vec<u8>)>,
}

/// Keeps `user_id`'s upload until `expires_at`, in place of any they kept before; uploads past their time are
/// deleted on the way. Returns its id.
pub async fn keep(
    pool: &PgPool,
    user_id: i64,
    source: &str,
    dry_run: bool,
    files: &[(String, Vec<u8>)],
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<i64> {
    let mut tx = pool.begin().await?;
    sqlx::query!("delete from import_drafts where user_id = $1 or expires_at <= $2", user_id, now)
        .execute(&mut *tx)
        .await?;
    let id = sqlx::query_scalar!(
        "insert into import_drafts (user_id, source, dry_run, created_at, expires_at) values ($1, $2, $3, $4, $5)
         returning id",
        user_id,
        source,
        dry_run,
        now,
        expires_at
    )
    .fetch_one(&mut *tx)
    .await?;
    for (position, (name, content)) in files.iter().enumerate() {
        sqlx::query!(
            "insert into import_draft_files (draft_id, position, name, content) values ($1, $2, $3, $4)",
            id,
            position as i32,
            name,
            content
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Deletes the kept uploads past their time (the imports' sweep, every ten minutes); returns how many.
pub async fn sweep(pool: &PgPool, now: DateTime<Utc>) -> sqlx::Result<u64> {
    Ok(sqlx::query!("delete from import_drafts where expires_at <= $1", now).execute(pool).await?.rows_affected())
}

/// `user_id`'s kept upload `id`, unless it has expired.
pub async fn draft(pool: &PgPool, id: i64, user_id: i64, now: DateTime<Utc>) -> sqlx::Result<Option<Draft>> {
    let Some(d) = sqlx::query!(
        "select id, source, dry_run from import_drafts where id = $1 and user_id = $2 and expires_at > $3",
        id,
        user_id,
        now
    )
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let files = sqlx::query!("select name, content from import_draft_files where draft_id = $1 order by position", id)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| (r.name, r.content))
        .collect();
    Ok(Some(Draft { id: d.id, source: d.source, dry_run: d.dry_run, files }))
}

/// What the headings page decided: remembered names and headings (see `import::headings::Chosen`).
pub struct Decided<'a> {
    pub files: &'a [(String, Option<&'static str>)],
    pub headings: &'a [(&'static str, String, Option<&'static str>)],
    /// the audit row's unit (the user's) and what it records
    pub unit_id: i64,
    pub after: Value,
}

/// In one transaction: uses up `user_id`'s kept upload `draft_id`, remembers what was decided and audits it.
/// False (nothing written) if the upload was used or deleted meanwhile.
pub async fn decide(pool: &PgPool, actor: &Actor, draft_id: i64, user_id: i64, d: Decided<'_>) -> sqlx::Result<bool> {
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    let used =
        sqlx::query_scalar!("delete from import_drafts where id = $1 and user_id = $2 returning id", draft_id, user_id)
            .fetch_optional(&mut *tx)
            .await?;
    if used.is_none() {
        return Ok(false);
    }
    for (name, file) in d.files {
        sqlx::query!(
            "insert into import_file_names (name, file, saved_by) values ($1, $2, $3)
             on conflict (name) do update set file = excluded.file, saved_by = excluded.saved_by, saved_at = now()",
            name,
            *file,
            actor.user_id
        )
        .execute(&mut *tx)
        .await?;
    }
    for (file, heading, col) in d.headings {
        sqlx::query!(
            "insert into import_headings (file, heading, col, saved_by) values ($1, $2, $3, $4)
             on conflict (file, heading) do update set col = excluded.col, saved_by = excluded.saved_by,
                 saved_at = now()",
            *file,
            heading,
            *col,
            actor.user_id
        )
        .execute(&mut *tx)
        .await?;
    }
    let change = Change {
        action: "update",
        entity: "heading_mapping",
        entity_id: String::new(),
        unit_id: Some(d.unit_id),
        before: None,
        after: Some(d.after),
    };
    audit::record(&mut tx, actor, change).await?;
    tx.commit().await?;
    Ok(true)
}
