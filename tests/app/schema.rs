//! `db/functions.sql` is the live definition of every function, view and trigger of chibo's schema, as the
//! migrations leave them: one file to read instead of the history of redefinitions across migrations. This test
//! makes it again from a freshly migrated database and fails when the committed file is stale.
use sqlx::PgPool;

const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/db/functions.sql");
const REGENERATE: &str = "CHIBO_WRITE_FUNCTIONS=1 cargo test --test app schema::";

/// Functions (not the extensions'), then views, then triggers (not the ones PostgreSQL makes for foreign keys),
/// each as PostgreSQL prints it, in a stable order.
const DEFINITIONS: &str = "
    select def from (
        select 1 as part, p.proname::text as name, pg_get_function_identity_arguments(p.oid) as detail,
               rtrim(pg_get_functiondef(p.oid), E'\\n') || ';' as def
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = current_schema()
          and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid
                          and d.deptype = 'e')
        union all
        select 2, c.relname::text, '',
               format(E'CREATE OR REPLACE VIEW %I.%I AS\\n%s', n.nspname, c.relname, pg_get_viewdef(c.oid, true))
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = current_schema() and c.relkind = 'v'
        union all
        select 3, c.relname::text, t.tgname::text, pg_get_triggerdef(t.oid, true) || ';'
        from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = current_schema() and not t.tgisinternal
    ) d
    order by part, name collate \"C\", detail collate \"C\"";

async fn live(pool: &PgPool) -> String {
    let defs: Vec<String> = sqlx::query_scalar(DEFINITIONS).fetch_all(pool).await.unwrap();
    let mut text = format!(
        "-- The live definition of every function, view and trigger of chibo's schema, as the migrations leave them.\n\
         -- Generated from a freshly migrated database by tests/app/schema.rs: do not edit. After a migration that\n\
         -- changes any of them: {REGENERATE}\n"
    );
    for def in defs {
        text.push('\n');
        text.push_str(&def);
        text.push('\n');
    }
    text
}

#[sqlx::test]
async fn db_functions_sql_is_what_the_migrations_make(pool: PgPool) {
    let live = live(&pool).await;
    if std::env::var("CHIBO_WRITE_FUNCTIONS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(std::path::Path::new(FILE).parent().unwrap()).unwrap();
        std::fs::write(FILE, &live).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(FILE).unwrap_or_default();
    if committed != live {
        let (c, l): (Vec<&str>, Vec<&str>) = (committed.lines().collect(), live.lines().collect());
        let i = (0..c.len().max(l.len())).find(|&i| c.get(i) != l.get(i)).unwrap_or(c.len());
        let (n, committed_line, live_line) =
            (i + 1, c.get(i).copied().unwrap_or("(end of file)"), l.get(i).copied().unwrap_or("(end of file)"));
        panic!(
            "db/functions.sql is not what the migrations make: line {n} is\n  {committed_line}\nin the file but\n  \
             {live_line}\nin a freshly migrated database. Regenerate it with\n  {REGENERATE}\nand commit it."
        );
    }
}

/// `.sqlx/` is the offline cache of the compile-time-checked queries (`query!`, `query_as!`): CI builds with
/// `SQLX_OFFLINE=true` from it. This is `cargo sqlx prepare --check` without sqlx-cli: every cached query is
/// described again against a freshly migrated database and must come out as cached (its columns, their types and
/// origins, its parameters), and must still be written somewhere in the source. A query whose file is
/// missing fails the build itself. To refresh the cache after changing a query or a migration:
/// `scripts/sqlx-prepare`.
#[sqlx::test]
async fn the_query_cache_is_what_the_schema_says(pool: PgPool) {
    use sqlx::{Executor, SqlSafeStr};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let squash = |s: &str| s.replace("\\\n", " ").split_whitespace().collect::<Vec<_>>().join(" ");
    let mut sources = String::new();
    for dir in ["src", "tests", "bench"] {
        let mut stack = vec![root.join(dir)];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    sources.push_str(&squash(&std::fs::read_to_string(&path).unwrap()));
                    sources.push('\n');
                }
            }
        }
    }
    let mut conn = pool.acquire().await.unwrap();
    let (mut checked, mut problems) = (0, Vec::new());
    for entry in std::fs::read_dir(root.join(".sqlx")).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let cached: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(entry.path()).unwrap()).unwrap();
        let query = cached["query"].as_str().unwrap().to_string();
        let start: String = squash(&query).chars().take(80).collect();
        if !sources.contains(&start) {
            problems.push(format!("{name}: no longer in the source: {start}…"));
            continue;
        }
        match (&mut *conn).describe(sqlx::AssertSqlSafe(query.clone()).into_sql_str()).await {
            Err(e) => problems.push(format!("{name}: the schema refuses it: {e}")),
            Ok(live) => {
                // columns (names, types, origins) and parameters; not the nullability, which sqlx infers from the
                // plan PostgreSQL chooses and may differ between two empty databases
                let live = serde_json::to_value(&live).unwrap();
                for part in ["columns", "parameters"] {
                    if live[part] != cached["describe"][part] {
                        problems
                            .push(format!("{name}: {part} cached {} but now {}", cached["describe"][part], live[part]));
                    }
                }
            }
        }
        checked += 1;
    }
    assert!(problems.is_empty(), "the query cache is stale; run scripts/sqlx-prepare\n{}", problems.join("\n"));
    println!("{checked} cached queries match the schema");
}

/// The two temporal rules come in two forms: on a day (`cell_of`, `parent_on`, used by the roll, the scope and the
/// triggers) and as periods (the views `member_stints`, `unit_parent_periods`, used to place whole histories at once,
/// where calling the day form per day would be too slow). Each form is written once; this test holds the two to the
/// same answer on every day a member belongs (a unit is open), 2010–2026, a member's transfer and a unit's move
/// included.
#[sqlx::test]
async fn the_day_and_period_forms_of_each_rule_agree(pool: PgPool) {
    let app = crate::common::TestApp::new(pool).await;
    sqlx::query(
        "insert into unit_moves (unit_id, parent_id, effective_on)
         select c.id, y.id, '2025-07-01' from units c, units y where c.code = 'B' and y.code = 'YY'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let disagreements: Vec<String> = sqlx::query_scalar(
        "with days as (select d::date as day from generate_series('2009-12-31'::date, '2027-01-01', '1 day') d)
         select format('member %s on %s: cell_of %s, member_stints %s', m.code, days.day, c.cell_id, s.cell_id)
         from members m cross join days
         cross join lateral cell_of(m.id, days.day) c(cell_id)
         left join member_stints s on s.member_id = m.id and days.day >= s.start_on
                                   and (s.end_on is null or days.day <= s.end_on)
         where days.day >= m.joined_on and (m.left_on is null or days.day < m.left_on)
           and c.cell_id is distinct from s.cell_id
         union all
         select format('unit %s on %s: parent_on %s, unit_parent_periods %s', u.code, days.day, p.parent_id, pp.parent_id)
         from units u cross join days
         cross join lateral parent_on(u.id, days.day) p(parent_id)
         left join unit_parent_periods pp on pp.unit_id = u.id and days.day >= pp.start_on
                                         and (pp.end_on is null or days.day <= pp.end_on)
         where is_open(u.valid_from, u.valid_to, days.day) and p.parent_id is distinct from pp.parent_id
         limit 10",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
