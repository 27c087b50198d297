//! The backup procedure of README.md ("Backups"): `pg_dump --format=custom`, then `pg_restore` into a new
//! database, gives every report back identical, and the restored database keeps its stores up to date.
use chibo::db::{metrics, units};
use chibo::domain::metrics::Period;
use sqlx::PgPool;
use std::process::Command;

/// The URL of another database on the same server as DATABASE_URL.
fn url_of(database: &str) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for the tests");
    let (server, _) = base.rsplit_once('/').expect("a URL with a database name");
    format!("{server}/{database}")
}

async fn reports(pool: &PgPool, codes: &[String], periods: &[Period]) -> Vec<String> {
    let mut out = Vec::new();
    for code in codes {
        let unit = units::by_code(pool, code).await.unwrap().expect("the unit exists");
        for p in periods {
            let r = metrics::report(pool, unit.clone(), *p, chibo::domain::time::today()).await.unwrap();
            out.push(chibo::web::report::json(&r).to_string());
            out.push(chibo::web::report::csv(&r));
        }
    }
    out
}

#[sqlx::test]
async fn a_dump_restored_into_a_new_database_gives_every_report_identical(pool: PgPool) {
    chibo::demo::load(&pool, chibo::demo::Scale::Small, chibo::domain::time::today()).await.unwrap();
    let source: String = sqlx::query_scalar("select current_database()").fetch_one(&pool).await.unwrap();
    // database names are cut at 63 bytes: keep the copy's name short and distinct
    let restored = format!("restored_{}", &source[source.len().saturating_sub(24)..]).to_lowercase();
    let dump = std::env::temp_dir().join(format!("{source}.dump"));

    let status = Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--file"])
        .arg(&dump)
        .arg(url_of(&source))
        .status()
        .expect("pg_dump runs");
    assert!(status.success(), "pg_dump failed");
    sqlx::query(sqlx::AssertSqlSafe(format!("drop database if exists \"{restored}\""))).execute(&pool).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("create database \"{restored}\""))).execute(&pool).await.unwrap();
    let status = Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname"])
        .arg(url_of(&restored))
        .arg(&dump)
        .status()
        .expect("pg_restore runs");
    let _ = std::fs::remove_file(&dump);
    assert!(status.success(), "pg_restore failed");

    let copy = PgPool::connect(&url_of(&restored)).await.unwrap();
    let codes: Vec<String> = sqlx::query_scalar(
        "(select code from units where parent_id is null order by code limit 1)
         union all (select code from units where kind = 'district' order by code limit 1)
         union all (select code from units where kind = 'committee' order by code limit 2)
         union all (select code from units where kind = 'cell' order by code limit 2)",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(codes.len(), 6, "the demo has every level");
    let periods: Vec<Period> = [("2020-01", "2025-12"), ("2024-01", "2024-12"), ("2025-04", "2025-09")]
        .iter()
        .map(|(f, t)| Period::parse(f, t).unwrap())
        .collect();
    let before = reports(&pool, &codes, &periods).await;
    let after = reports(&copy, &codes, &periods).await;
    let counted = |r: &String| {
        serde_json::from_str::<serde_json::Value>(r)
            .is_ok_and(|j| j["metrics"]["attendance_rate"]["numerator"].as_i64().unwrap_or(0) > 0)
    };
    assert!(before.iter().filter(|r| counted(r)).count() >= 6, "the reports hold figures");
    assert_eq!(before, after, "a report differs after the restore");

    // the restored database is a working one: its stores follow a change as the original's do
    for db in [&pool, &copy] {
        sqlx::query("update meetings set rating = 'weak' where id = (select min(id) from meetings where kind = 'regular' and rating = 'good')")
            .execute(db)
            .await
            .unwrap();
    }
    assert_eq!(reports(&pool, &codes, &periods).await, reports(&copy, &codes, &periods).await);
    let audit: i64 = sqlx::query_scalar("select count(*) from audit_log").fetch_one(&copy).await.unwrap();
    let original: i64 = sqlx::query_scalar("select count(*) from audit_log").fetch_one(&pool).await.unwrap();
    assert_eq!(audit, original, "the audit trail came along");
    copy.close().await;
    sqlx::query(sqlx::AssertSqlSafe(format!("drop database \"{restored}\""))).execute(&pool).await.unwrap();
}
