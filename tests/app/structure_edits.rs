//! Structure edits touch only what they move (issue 19 item 1, migration 0019). After each kind of edit, made as
//! the app makes it (a units.csv or moves.csv import, which the record pages also write through), every metric store
//! equals a full rebuild, and the rows written are those of the cells concerned and of their old and new ancestors,
//! from the effective date on; a rename writes none. A meeting saved while a cell moves is neither held up nor lost.
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use chrono::NaiveDate;
use sqlx::{PgConnection, PgPool};

use crate::common::TestApp;

/// Every table `rebuild_metric_stores()` writes.
const STORES: [&str; 7] = [
    "cell_places",
    "cell_month_stats",
    "cell_year_stats",
    "cell_secretary_status",
    "unit_month_rollup",
    "unit_quarter_rollup",
    "unit_year_rollup",
];

/// Every row of every store, as text, by table.
async fn stores(conn: &mut PgConnection) -> BTreeMap<&'static str, BTreeSet<String>> {
    let mut all = BTreeMap::new();
    for table in STORES {
        // the table names are the constants above
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select r::text from {table} r")))
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        all.insert(table, rows.into_iter().collect());
    }
    all
}

/// The stores as they are, against the same stores rebuilt whole from the raw rows (rolled back after): equal, row
/// for row, in every table.
async fn assert_stores_match_rebuild(pool: &PgPool, when: &str) {
    let mut tx = pool.begin().await.unwrap();
    let kept = stores(&mut tx).await;
    sqlx::query("select rebuild_metric_stores()").execute(&mut *tx).await.unwrap();
    let rebuilt = stores(&mut tx).await;
    tx.rollback().await.unwrap();
    assert!(rebuilt["unit_month_rollup"].len() > 100, "the rebuild found the data");
    for table in STORES {
        let (k, r) = (&kept[table], &rebuilt[table]);
        let missing: Vec<_> = r.difference(k).take(5).collect();
        let extra: Vec<_> = k.difference(r).take(5).collect();
        assert!(missing.is_empty() && extra.is_empty(), "{table} {when}: missing {missing:?}, extra {extra:?}");
    }
}

/// A point in the database's history: a row written later carries a later transaction id (`xmin`).
async fn mark(pool: &PgPool) -> i64 {
    let xid: i64 = sqlx::query_scalar("select txid_current()").fetch_one(pool).await.unwrap();
    xid % (1 << 32)
}

/// The store rows written since `since` outside what the edit concerns: the places of `cells`, the rollup rows of
/// `units`, from `from` on. Also the number of store rows written since `since`, all told.
async fn written_outside(
    pool: &PgPool,
    since: i64,
    cells: &[i64],
    units: &[i64],
    from: NaiveDate,
) -> (Vec<String>, i64) {
    let outside: Vec<String> = sqlx::query_scalar(
        "select 'cell_places ' || r::text from cell_places r where r.xmin::text::bigint >= $1
             and not (r.cell_id = any($2)
                      and r.starts_on >= case r.period when 'month' then date_trunc('month', $4::date)
                                                       else date_trunc('year', $4::date) end)
         union all
         select 'cell_secretary_status ' || r::text from cell_secretary_status r where r.xmin::text::bigint >= $1
             and not (r.cell_id = any($2) and r.month >= date_trunc('month', $4::date))
         union all
         select 'unit_month_rollup ' || r::text from unit_month_rollup r where r.xmin::text::bigint >= $1
             and not (r.unit_id = any($3) and r.month >= date_trunc('month', $4::date))
         union all
         select 'unit_quarter_rollup ' || r::text from unit_quarter_rollup r where r.xmin::text::bigint >= $1
             and not (r.unit_id = any($3) and r.quarter >= date_trunc('quarter', $4::date))
         union all
         select 'unit_year_rollup ' || r::text from unit_year_rollup r where r.xmin::text::bigint >= $1
             and not (r.unit_id = any($3) and r.year >= extract(year from $4::date))
         union all
         select 'cell_month_stats ' || r::text from cell_month_stats r where r.xmin::text::bigint >= $1
         union all
         select 'cell_year_stats ' || r::text from cell_year_stats r where r.xmin::text::bigint >= $1
         limit 10",
    )
    .bind(since)
    .bind(cells)
    .bind(units)
    .bind(from)
    .fetch_all(pool)
    .await
    .unwrap();
    let mut total = 0;
    for table in STORES {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select count(*) from {table} r where r.xmin::text::bigint >= $1"
        )))
        .bind(since)
        .fetch_one(pool)
        .await
        .unwrap();
        total += n;
    }
    (outside, total)
}

/// The cells under the unit `code` at any time (itself if a cell), and every unit their places name now.
async fn concerned(pool: &PgPool, code: &str) -> (Vec<i64>, Vec<i64>) {
    let cells: Vec<i64> = sqlx::query_scalar(
        "with recursive down(id) as (
             select id from units where code = $1
             union
             select l.unit_id from down join (select id as unit_id, parent_id from units
                                              union all select unit_id, parent_id from unit_moves) l
                                        on l.parent_id = down.id)
         select d.id from down d join units u on u.id = d.id where u.kind = 'cell'",
    )
    .bind(code)
    .fetch_all(pool)
    .await
    .unwrap();
    let units: Vec<i64> =
        sqlx::query_scalar("select distinct unnest(ancestors) from cell_places where cell_id = any($1)")
            .bind(&cells)
            .fetch_all(pool)
            .await
            .unwrap();
    (cells, units)
}

/// The units.csv line of `code` as it stands, with another name and closing date when given.
async fn unit_line(pool: &PgPool, code: &str, name: Option<&str>, valid_to: Option<&str>) -> String {
    let (kind, old_name, parent, from, to, cell_type): (
        String,
        String,
        Option<String>,
        NaiveDate,
        Option<NaiveDate>,
        Option<String>,
    ) = sqlx::query_as(
        "select u.kind, u.name, p.code, u.valid_from, u.valid_to, u.cell_type
             from units u left join units p on p.id = u.parent_id where u.code = $1",
    )
    .bind(code)
    .fetch_one(pool)
    .await
    .unwrap();
    let to = valid_to.map(str::to_string).or(to.map(|d| d.to_string())).unwrap_or_default();
    format!(
        "code,kind,name,parent_code,valid_from,valid_to,cell_type\n{code},{kind},{},{},{from},{to},{}\n",
        name.unwrap_or(&old_name),
        parent.unwrap_or_default(),
        cell_type.unwrap_or_default()
    )
}

/// One structure edit through the import, then: the stores equal a rebuild, and what it wrote lies within the
/// cells under `moved` and their old and new ancestors, from `from` on.
async fn edit(app: &TestApp, file: &str, csv: &str, moved: &str, from: &str, when: &str) {
    let pool = &app.pool;
    let from = NaiveDate::parse_from_str(from, "%Y-%m-%d").unwrap();
    let (mut cells, mut units) = concerned(pool, moved).await;
    let since = mark(pool).await;
    app.import(&[(file, csv)]).await;
    // a new cell is concerned once it exists
    let (new_cells, after) = concerned(pool, moved).await;
    cells.extend(new_cells);
    units.extend(after);
    let (outside, total) = written_outside(pool, since, &cells, &units, from).await;
    assert!(outside.is_empty(), "{when}: rows written beyond the cells moved: {outside:#?}");
    assert!(total > 0, "{when}: the stores took the change");
    let places: i64 = sqlx::query_scalar("select count(*) from cell_places").fetch_one(pool).await.unwrap();
    assert!(total < places / 2, "{when}: {total} store rows written, of {places} places: not a rebuild");
    assert_stores_match_rebuild(pool, when).await;
}

/// The small demo (2020 to now, with the 2025 restructure: meetings, reports, classifications, secretaries in
/// every year) and an app on it.
async fn demo(pool: PgPool) -> TestApp {
    chibo::demo::load(&pool, chibo::demo::Scale::Small, chibo::domain::time::today()).await.unwrap();
    TestApp::init(pool).without_fixture().build().await
}

/// Two communes of the demo with cells, and a cell of each.
async fn communes(pool: &PgPool) -> [String; 4] {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select distinct on (c.code) c.code, u.code from units c join units u on u.parent_id = c.id and u.kind = 'cell'
         where c.kind = 'committee' and u.valid_to is null order by c.code, u.code limit 2",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2, "the demo has two communes with cells");
    [rows[0].0.clone(), rows[0].1.clone(), rows[1].0.clone(), rows[1].1.clone()]
}

#[sqlx::test]
async fn every_kind_of_structure_edit_leaves_the_stores_as_a_rebuild_would(pool: PgPool) {
    let app = demo(pool).await;
    let pool = &app.pool;
    let [one, cell_one, two, cell_two] = communes(pool).await;
    assert_stores_match_rebuild(pool, "after the demo load").await;

    // a rename writes no store row at all
    let since = mark(pool).await;
    let before = stores(&mut pool.acquire().await.unwrap()).await;
    app.import(&[("units.csv", &unit_line(pool, &one, Some("Đảng bộ xã Đổi Tên"), None).await)]).await;
    let name: String =
        sqlx::query_scalar("select name from units where code = $1").bind(&one).fetch_one(pool).await.unwrap();
    assert_eq!(name, "Đảng bộ xã Đổi Tên");
    let (_, total) = written_outside(pool, since, &[], &[], NaiveDate::from_ymd_opt(1900, 1, 1).unwrap()).await;
    assert_eq!(total, 0, "a rename writes no store row");
    assert_eq!(stores(&mut pool.acquire().await.unwrap()).await, before, "a rename changes no store");

    // a new cell, opened in the past, with meetings in two years (one thematic)
    let new_cell = format!(
        "code,kind,name,parent_code,valid_from,valid_to,cell_type\nSE-NEW,cell,Chi bộ thôn Mới,{one},2023-03-15,,village\n"
    );
    edit(&app, "units.csv", &new_cell, "SE-NEW", "2023-03-01", "after a new cell").await;
    app.meeting("SE-NEW", "2023-05-10").counts([5, 1, 0, 0]).save().await;
    app.meeting("SE-NEW", "2024-02-10")
        .kind(chibo::domain::meeting::MeetingKind::Thematic)
        .topic("Chuyên đề")
        .counts([4, 0, 1, 0])
        .save()
        .await;
    assert_stores_match_rebuild(pool, "after the new cell's meetings").await;

    // its closing date
    let close = unit_line(pool, "SE-NEW", None, Some("2024-06-30")).await;
    edit(&app, "units.csv", &close, "SE-NEW", "2024-06-01", "after closing a cell").await;

    // a cell moves to the other commune, then back
    let header = "code,parent_code,effective_on\n";
    let away = format!("{header}{cell_one},{two},2024-02-01\n");
    edit(&app, "moves.csv", &away, &cell_one, "2024-02-01", "after moving a cell").await;
    let back = format!("{header}{cell_one},{one},2024-09-01\n");
    edit(&app, "moves.csv", &back, &cell_one, "2024-09-01", "after moving the cell back").await;
    // the same move, corrected to another parent (the move's row updated)
    let corrected = format!("{header}{cell_one},{one},2024-02-01\n");
    edit(&app, "moves.csv", &corrected, &cell_one, "2024-02-01", "after correcting a move").await;

    // a commune with all its cells goes straight under the province, two years before the restructure
    let province: String =
        sqlx::query_scalar("select code from units where kind = 'province'").fetch_one(pool).await.unwrap();
    let commune = format!("{header}{two},{province},2023-07-01\n");
    edit(&app, "moves.csv", &commune, &two, "2023-07-01", "after moving a commune with its cells").await;

    // a move dated in the past: a cell of the second commune counted under the first since March 2020
    let past = format!("{header}{cell_two},{one},2020-03-01\n");
    edit(&app, "moves.csv", &past, &cell_two, "2020-03-01", "after a move dated in the past").await;

    // the reports read the stores: the cell moved in 2020 counts under the first commune in 2021
    let first = chibo::db::units::by_code(pool, &one).await.unwrap().unwrap();
    let year = chibo::domain::metrics::Period::parse("2021-01", "2021-12").unwrap();
    let report = chibo::db::metrics::report(pool, first, year, chibo::domain::time::today()).await.unwrap();
    assert!(report.children.iter().any(|c| c.unit.code == cell_two), "{cell_two} counts under {one} in 2021");
}

/// The record pages write a structure edit through the same import: a new cell, a move and a closing date made
/// by an administrator on the fixture province, with meetings in several years.
#[sqlx::test]
async fn structure_edits_from_the_record_pages_leave_the_stores_as_a_rebuild_would(pool: PgPool) {
    let app = TestApp::new(pool).await;
    for (cell, day) in
        [("A", "2022-03-05"), ("B", "2023-04-06"), ("C", "2024-05-07"), ("B", "2025-11-08"), ("A", "2026-10-09")]
    {
        app.meeting(cell, day).rating(chibo::domain::meeting::Rating::Good).save().await;
    }
    let mut admin = app.login("admin").await;
    for (page, unit, file, fields) in [
        (
            "/units/XL/records",
            "XL",
            "units.csv",
            vec![
                ("code", "XL-05"),
                ("kind", "cell"),
                ("name", "Chi bộ thôn Nà Thưa"),
                ("parent_code", "XL"),
                ("valid_from", "2023-01-01"),
                ("valid_to", ""),
                ("cell_type", "village"),
            ],
        ),
        (
            "/units/B/records",
            "B",
            "moves.csv",
            vec![("code", "B"), ("parent_code", "YY"), ("effective_on", "2024-01-01")],
        ),
        (
            "/units/XL/records",
            "XL",
            "units.csv",
            vec![
                ("code", "XL-05"),
                ("kind", "cell"),
                ("name", "Chi bộ thôn Nà Thưa"),
                ("parent_code", "XL"),
                ("valid_from", "2023-01-01"),
                ("valid_to", "2025-12-31"),
                ("cell_type", "village"),
            ],
        ),
    ] {
        let token = admin.csrf(page).await;
        let mut form = vec![("csrf", token.as_str()), ("file", file), ("back", page), ("confirmed", "1")];
        form.extend_from_slice(&fields);
        let sent = admin.post(&format!("/units/{unit}/records"), &form).await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{file}: {}", sent.body);
        let page = admin.follow(sent).await;
        assert!(page.text().contains("Đã lưu."), "{file}: {}", page.text());
        // the fixture is small: compare with a rebuild even below the size the helper expects
        let mut tx = app.pool.begin().await.unwrap();
        let kept = stores(&mut tx).await;
        sqlx::query("select rebuild_metric_stores()").execute(&mut *tx).await.unwrap();
        assert_eq!(stores(&mut tx).await, kept, "the stores after {file} from {unit}'s page");
        tx.rollback().await.unwrap();
    }
    // B's 2025 meeting counts under Côn Lôn, its 2023 meeting under Xuân Lập
    let counted = |unit: &'static str, month: &'static str| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i32>(
                "select coalesce(sum(r.regular_cells), 0)::int from unit_month_rollup r join units u on u.id = r.unit_id
                 where u.code = $1 and r.month = $2::date and r.child_id <> 0",
            )
            .bind(unit)
            .bind(month)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(counted("YY", "2025-11-01").await, 1);
    assert_eq!(counted("XL", "2025-11-01").await, 0);
    assert_eq!(counted("XL", "2023-04-01").await, 1);
}

/// A meeting saved while a cell moves: never held up by the move for a second, and counted where the cell now is.
#[sqlx::test]
async fn a_meeting_saved_during_a_move_is_neither_blocked_nor_lost(pool: PgPool) {
    let app = demo(pool).await;
    let pool = app.pool.clone();
    let [_, cell, two, _] = communes(&pool).await;
    let month = chibo::domain::time::today().format("%Y-%m-01").to_string();
    let day = chibo::domain::time::today().format("%Y-%m-%d").to_string();
    let count = |pool: PgPool, month: String, unit: String| async move {
        sqlx::query_scalar::<_, i64>(
            "select coalesce(sum(regular_meetings), 0) from cell_month_stats s join units u on u.id = s.cell_id
             where u.code = $1 and s.month = $2::date",
        )
        .bind(unit)
        .bind(month)
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    let before = count(pool.clone(), month.clone(), cell.clone()).await;

    // the move, as the record page or an upload makes it, in its own connection and task
    let moves = format!("code,parent_code,effective_on\n{cell},{two},{month}\n");
    let mover = {
        let pool = pool.clone();
        tokio::spawn(async move {
            let files = vec![("moves.csv".to_string(), moves.into_bytes())];
            chibo::import::import_quiet(&pool, files, false).await.unwrap()
        })
    };
    // meanwhile the cell's secretary saves meetings of this month, one after another, until the move is done
    let mut saves = Vec::new();
    loop {
        let started = Instant::now();
        app.meeting(&cell, day.as_str()).rating(chibo::domain::meeting::Rating::Fair).save().await;
        saves.push(started.elapsed());
        if mover.is_finished() {
            break;
        }
    }
    let out = mover.await.unwrap();
    assert!(out.written && out.problems.is_empty(), "the move was written");
    let slowest = saves.iter().max().unwrap();
    assert!(*slowest < Duration::from_secs(1), "a save waited {slowest:?} for the move ({} saves)", saves.len());

    // every save counted, in the cell's month and under its new commune
    let after = count(pool.clone(), month.clone(), cell.clone()).await;
    assert_eq!(after - before, saves.len() as i64, "every meeting saved is counted");
    let under: i64 = sqlx::query_scalar(
        "select coalesce(sum(r.regular_cells), 0) from unit_month_rollup r
         where r.unit_id = (select id from units where code = $1) and r.child_id = (select id from units where code = $2)
           and r.month = $3::date",
    )
    .bind(&two)
    .bind(&cell)
    .bind(&month)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(under, 1, "the cell's month counts under its new commune");
    assert_stores_match_rebuild(&pool, "after saves during a move").await;
}
