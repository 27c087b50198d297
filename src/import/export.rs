//! `chibo export DIR`: the whole database as an import bundle (DOMAIN.md §8), in a fixed order, so that
//! export → import into an empty database → export gives the same bytes.
use futures_util::StreamExt;
use sqlx::{Connection, PgPool};
use std::io::Write;

/// Each file and the query that makes it; columns in DOMAIN.md's order, rows by their keys.
pub const QUERIES: &[(&str, &str)] = &[
    (
        "units.csv",
        "select u.code, u.kind, u.name, p.code as parent_code, u.valid_from, u.valid_to, u.cell_type
         from units u left join units p on p.id = u.parent_id order by u.code collate \"C\"",
    ),
    (
        "moves.csv",
        "select u.code, p.code as parent_code, m.effective_on
         from unit_moves m join units u on u.id = m.unit_id join units p on p.id = m.parent_id
         order by u.code collate \"C\", m.effective_on",
    ),
    (
        "members.csv",
        "select m.code, m.full_name, m.gender, m.birth_date, m.ethnicity, m.joined_on, m.official_on,
                u.code as cell_code, m.left_on
         from members m join units u on u.id = m.cell_id order by m.code collate \"C\"",
    ),
    (
        "transfers.csv",
        "select m.code as member_code, u.code as cell_code, t.effective_on
         from member_transfers t join members m on m.id = t.member_id join units u on u.id = t.cell_id
         order by m.code collate \"C\", t.effective_on",
    ),
    (
        "exemptions.csv",
        "select m.code as member_code, e.valid_from, e.valid_to
         from exemptions e join members m on m.id = e.member_id order by m.code collate \"C\", e.valid_from",
    ),
    (
        "positions.csv",
        "select u.code as cell_code, m.code as member_code, p.position, p.valid_from, p.valid_to
         from positions p join units u on u.id = p.cell_id join members m on m.id = p.member_id
         order by u.code collate \"C\", m.code collate \"C\", p.position collate \"C\", p.valid_from",
    ),
    (
        "trainings.csv",
        "select m.code as member_code, t.trained_on, t.course
         from trainings t join members m on m.id = t.member_id
         order by m.code collate \"C\", t.trained_on, t.course collate \"C\" nulls first",
    ),
    (
        "meetings.csv",
        "select coalesce(x.ref, 'web-' || x.id) as ref, u.code as cell_code, x.held_on, x.kind, x.topic,
                to_char(x.started_at, 'HH24:MI') as started_at, to_char(x.ended_at, 'HH24:MI') as ended_at,
                x.rating, x.score, x.present, x.excused, x.unexcused, x.exempt
         from meetings x join units u on u.id = x.cell_id order by coalesce(x.ref, 'web-' || x.id) collate \"C\"",
    ),
    (
        "attendance.csv",
        "select coalesce(x.ref, 'web-' || x.id) as meeting_ref, m.code as member_code, a.status
         from attendance a join meetings x on x.id = a.meeting_id join members m on m.id = a.member_id
         order by coalesce(x.ref, 'web-' || x.id) collate \"C\", m.code collate \"C\"",
    ),
    (
        "officials.csv",
        "select o.code, o.full_name, o.\"group\", u.code as unit_code
         from officials o join units u on u.id = o.unit_id order by o.code collate \"C\"",
    ),
    (
        "assignments.csv",
        "select o.code as official_code, u.code as cell_code, r.year, r.required
         from reg18_assignments r join officials o on o.id = r.official_id join units u on u.id = r.cell_id
         order by o.code collate \"C\", u.code collate \"C\", r.year",
    ),
    (
        "guests.csv",
        "select coalesce(x.ref, 'web-' || x.id) as meeting_ref, o.code as official_code
         from meeting_guests g join meetings x on x.id = g.meeting_id join officials o on o.id = g.official_id
         order by coalesce(x.ref, 'web-' || x.id) collate \"C\", o.code collate \"C\"",
    ),
    (
        "classifications.csv",
        "select year, subject, code, level from (
             select c.year, 'cell' as subject, u.code, c.level from cell_classifications c join units u on u.id = c.cell_id
             union all
             select c.year, 'member', m.code, c.level from member_classifications c join members m on m.id = c.member_id
         ) x order by year, subject, code collate \"C\"",
    ),
];

/// Writes every file of the bundle into `dir` (created if missing) from one consistent snapshot; returns the
/// files written with the lines after each header (a row whose value spans lines counts each line).
pub async fn export(pool: &PgPool, dir: &std::path::Path) -> anyhow::Result<Vec<(String, u64)>> {
    std::fs::create_dir_all(dir)?;
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only").execute(&mut *tx).await?;
    sqlx::query("set local datestyle = 'ISO, YMD'").execute(&mut *tx).await?;
    let mut written = Vec::new();
    for (name, query) in QUERIES {
        let path = dir.join(name);
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
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
