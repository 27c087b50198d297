//! `chibo export DIR`: the whole database as an import bundle (DOMAIN.md §8), in a fixed order, so that
//! export → import into an empty database → export gives the same bytes.
use futures_util::StreamExt;
use sqlx::{Connection, PgPool};
use std::io::Write;

/// Each file and the query that makes it (kept with the other queries in `db`, where the record pages read them too).
pub use crate::db::records::QUERIES;

/// Writes every file of the bundle into `dir` (created if missing) from one consistent snapshot; returns the
/// files written with the lines after each header (a row whose value spans lines counts each line).
pub async fn export(pool: &PgPool, dir: &std::path::Path) -> anyhow::Result<Vec<(String, u64)>> {
    std::fs::create_dir_all(dir)?;
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    sqlx::query!("set transaction isolation level repeatable read, read only").execute(&mut *tx).await?;
    sqlx::query!("set local datestyle = 'ISO, YMD'").execute(&mut *tx).await?;
    let mut written = Vec::new();
    for (name, query) in QUERIES {
        let path = dir.join(name);
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
        // dynamic: COPY of each file's query
        let sql = format!("copy ({query}) to stdout with (format csv, header)");
        let mut stream = tx.copy_out_raw(&sql).await?;
        let mut lines = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            lines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
            file.write_all(&chunk)?;
        }
        drop(stream);
        file.flush()?;
        written.push((name.to_string(), lines.saturating_sub(1)));
    }
    tx.commit().await?;
    Ok(written)
}
