//! The import bundle (DOMAIN.md §8) and `chibo export`: bad bundles are listed by file and line and write
//! nothing; a round trip gives the same bytes; the 2025 restructure entered afterwards leaves 2022 as it was.
use chibo::db::{metrics, units};
use chibo::domain::metrics::{Lang, Period};
use chibo::import::{self, Outcome};
use chibo::web::problems::text_in;
use sqlx::PgPool;

/// A new, migrated database beside the test's own, for imports that must start empty.
async fn empty_database(pool: &PgPool, tag: &str) -> PgPool {
    let source: String = sqlx::query_scalar("select current_database()").fetch_one(pool).await.unwrap();
    let name = format!("{tag}_{}", &source[source.len().saturating_sub(20)..]).to_lowercase();
    sqlx::query(sqlx::AssertSqlSafe(format!("drop database if exists \"{name}\""))).execute(pool).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("create database \"{name}\""))).execute(pool).await.unwrap();
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for the tests");
    let (server, _) = base.rsplit_once('/').unwrap();
    let copy = PgPool::connect(&format!("{server}/{name}")).await.unwrap();
    chibo::db::migrate(&copy).await.unwrap();
    copy
}

/// Every index and constraint of the database's tables, by name and definition.
async fn indexes_and_keys(pool: &PgPool) -> Vec<(String, String)> {
    sqlx::query_as(
        "select indexname::text, indexdef from pg_indexes where schemaname = 'public'
         union all
         select conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid) from pg_constraint
         where connamespace = 'public'::regnamespace
         order by 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("chibo-{tag}-{}-{}", std::process::id(), rand_suffix()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn rand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64
}

fn bundle(files: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    files.iter().map(|(n, t)| (n.to_string(), t.as_bytes().to_vec())).collect()
}

fn rendered(out: &Outcome) -> Vec<String> {
    out.problems.iter().map(|p| text_in(p, Lang::En)).collect()
}

async fn report_json(pool: &PgPool, code: &str, from: &str, to: &str) -> String {
    let unit = units::by_code(pool, code).await.unwrap().expect("unit exists");
    let r = metrics::report(pool, unit, Period::parse(from, to).unwrap(), chibo::domain::time::today()).await.unwrap();
    chibo::web::report::json(&r).to_string()
}

async fn rows(pool: &PgPool) -> Vec<i64> {
    let mut counts = Vec::new();
    for t in [
        "units",
        "unit_moves",
        "members",
        "meetings",
        "attendance",
        "meeting_guests",
        "member_classifications",
        "cell_reports",
        "settings",
        "audit_log",
    ] {
        counts.push(
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {t}"))).fetch_one(pool).await.unwrap(),
        );
    }
    counts
}

#[sqlx::test]
async fn export_import_into_an_empty_database_and_export_again_gives_the_same_bytes(pool: PgPool) {
    chibo::demo::load(&pool, chibo::demo::Scale::Small, chibo::domain::time::today()).await.unwrap();
    // a meeting made on the web has no ref: it travels as web-<id>
    sqlx::query("update meetings set ref = null where ref = (select min(ref) from meetings where kind = 'regular')")
        .execute(&pool)
        .await
        .unwrap();
    let first = temp_dir("export1");
    let files = import::export::export(&pool, &first).await.unwrap();
    assert_eq!(files.len(), 15, "every file of DOMAIN.md §8 and §10 is written");
    // the reporting cycle travels too: the settings, and reports in every state (a returned one comes back as
    // submitted: the file holds the dates, not the review)
    let settings = std::fs::read_to_string(first.join("settings.csv")).unwrap();
    assert_eq!(settings, "key,value\nreport_deadline_day,5\nreporting_since,2025-01\n");
    let reports = std::fs::read_to_string(first.join("reports.csv")).unwrap();
    assert!(reports.starts_with("cell_code,month,submitted_on,approved_on,reason\n"), "{reports:.200}");
    let report_lines: Vec<&str> = reports.lines().skip(1).collect();
    assert!(report_lines.len() > 100, "{} report rows", report_lines.len());
    assert!(report_lines.iter().any(|l| l.ends_with(",,,")), "a draft");
    assert!(report_lines.iter().any(|l| l.split(',').nth(3).is_some_and(str::is_empty) && !l.ends_with(",,,")));
    assert!(report_lines.iter().any(|l| l.split(',').nth(4).is_some_and(|r| !r.is_empty())), "a reason");

    let copy = empty_database(&pool, "imported").await;
    let out = import::import_quiet(&copy, import::read_dir(&first).unwrap(), false).await.unwrap();
    assert_eq!(rendered(&out), Vec::<String>::new());
    assert!(out.written && out.total_changed() > 20_000, "{:?}", out.changed);
    // a large bundle into empty tables is loaded without the tables' indexes and foreign keys, made again after:
    // every one of them is back as the migrations made it, and a foreign key refuses a row again
    assert_eq!(indexes_and_keys(&copy).await, indexes_and_keys(&pool).await);
    let orphan = sqlx::query(
        "insert into attendance (meeting_id, member_id, status) values ((select min(id) from meetings), -1, 'present')",
    )
    .execute(&copy)
    .await;
    assert!(orphan.is_err_and(|e| e.to_string().contains("attendance_member_id_fkey")));

    let second = temp_dir("export2");
    import::export::export(&copy, &second).await.unwrap();
    for (name, _) in &files {
        let a = std::fs::read(first.join(name)).unwrap();
        let b = std::fs::read(second.join(name)).unwrap();
        assert!(a == b, "{name} differs after the round trip");
    }
    // the figures come out the same, from the stores the import rebuilt
    for (code, from, to) in
        [("TQ", "2020-01", "2025-12"), ("TQ-LB-01", "2024-01", "2024-12"), ("TQ", "2025-07", "2025-09")]
    {
        assert_eq!(report_json(&pool, code, from, to).await, report_json(&copy, code, from, to).await, "{code}");
    }

    // the same bundle again changes nothing, in either database
    let states: Vec<(String, i64)> =
        sqlx::query_as("select state, count(*) from cell_reports group by state order by state")
            .fetch_all(&copy)
            .await
            .unwrap();
    assert!(states.iter().all(|(s, _)| s != "returned"), "{states:?}");
    assert_eq!(chibo::db::settings::get(&copy).await.unwrap(), chibo::db::settings::get(&pool).await.unwrap());
    let before = rows(&copy).await;
    let again = import::import_quiet(&copy, import::read_dir(&first).unwrap(), false).await.unwrap();
    assert!(again.problems.is_empty() && again.total_changed() == 0, "{:?}", again.changed);
    assert_eq!(rows(&copy).await, before);
    let same = import::import_quiet(&pool, import::read_dir(&first).unwrap(), false).await.unwrap();
    assert!(same.problems.is_empty(), "{:?}", rendered(&same));
    let returned: i64 = sqlx::query_scalar("select count(*) from cell_reports where state = 'returned'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(returned, 1, "a report the bundle restates as it is keeps its review");
    let third = temp_dir("export3");
    import::export::export(&pool, &third).await.unwrap();
    for (name, _) in &files {
        assert!(std::fs::read(first.join(name)).unwrap() == std::fs::read(third.join(name)).unwrap(), "{name}");
    }
    for d in [first, second, third] {
        let _ = std::fs::remove_dir_all(d);
    }

    // an attendance file alone, for a meeting made on the web (web-<id>, not in the bundle's meetings.csv): its rows
    // are merged, not left out because the meeting has no ref to join on
    let (meeting, member, code): (i64, i64, String) = sqlx::query_as(
        "select m.id, a.member_id, mm.code from meetings m join attendance a on a.meeting_id = m.id
         join members mm on mm.id = a.member_id
         where m.kind = 'regular' and m.present is null and a.status = 'present' and a.mode = 'in_person'
           and not exists (select 1 from cell_reports r where r.cell_id = m.cell_id and r.state = 'approved'
                           and r.month = date_trunc('month', m.held_on)::date)
         order by m.id, a.member_id limit 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    sqlx::query("update meetings set ref = null where id = $1").bind(meeting).execute(&pool).await.unwrap();
    let attendance = format!("meeting_ref,member_code,status\nweb-{meeting},{code},unexcused\n");
    let out = import::import_quiet(&pool, bundle(&[("attendance.csv", &attendance)]), false).await.unwrap();
    assert!(out.problems.is_empty(), "{:?}", rendered(&out));
    assert_eq!(out.changed.get("attendance"), Some(&1), "{:?}", out.changed);
    let status: String = sqlx::query_scalar("select status from attendance where meeting_id = $1 and member_id = $2")
        .bind(meeting)
        .bind(member)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "unexcused");
}

const REPORTS_HEADER: &str = "cell_code,month,submitted_on,approved_on,reason";
const MEETING_HEADER: &str =
    "ref,cell_code,held_on,kind,topic,started_at,ended_at,rating,score,present,excused,unexcused,exempt";
const GOOD_MEETING: &str = "X1,A,2026-10-08,regular,Sinh hoạt thường kỳ tháng 10,14:00,16:00,good,92,,,,";
const ROSTER: &str =
    "meeting_ref,member_code,status\nX1,M1,present\nX1,M2,present\nX1,M3,excused\nX1,M4,present\nX1,M5,exempt\n";

/// What is wrong, the bundle's files, and the line that must be listed.
type Case = (&'static str, Vec<(&'static str, String)>, &'static str);

#[sqlx::test]
async fn bad_bundles_are_listed_by_file_and_line_and_write_nothing(pool: PgPool) {
    crate::common::seed(&pool).await;
    let meetings = format!("{MEETING_HEADER}\n{GOOD_MEETING}\n");
    let cases: Vec<Case> = vec![
        (
            "missing column",
            vec![("members.csv", "code,full_name,gender,birth_date,joined_on,official_on,cell_code,left_on\n".into())],
            "members.csv:1: missing column ethnicity",
        ),
        (
            "unknown column",
            vec![("units.csv", "code,kind,name,parent_code,valid_from,valid_to,cell_type,colour\n".into())],
            "units.csv:1: unknown column colour",
        ),
        (
            "bad date",
            vec![(
                "members.csv",
                "code,full_name,gender,birth_date,ethnicity,joined_on,official_on,cell_code,left_on\n\
                 M10,Hà Thị Lan,female,1980-13-01,Tày,2015-01-01,,A,\n"
                    .into(),
            )],
            "members.csv:2: birth_date: bad date '1980-13-01' (expected YYYY-MM-DD)",
        ),
        (
            "unknown code",
            vec![("meetings.csv", format!("{MEETING_HEADER}\nX2,ZZ,2026-10-08,thematic,Chuyên đề,,,,,,,,\n"))],
            "meetings.csv:2: cell_code: unknown 'ZZ' (not in the bundle nor in the database)",
        ),
        (
            "duplicate code",
            vec![(
                "units.csv",
                "code,kind,name,parent_code,valid_from,valid_to,cell_type\n\
                 N1,cell,Chi bộ thôn Mới,XL,2026-01-01,,village\n\
                 N1,cell,Chi bộ thôn Mới 2,XL,2026-01-01,,village\n"
                    .into(),
            )],
            "units.csv:3: duplicate code 'N1' (also on line 2)",
        ),
        (
            // the reader hashes every row's key as it reads: a repeated key sends the file to the `dup` check
            "a repeated attendance row",
            vec![
                ("meetings.csv", meetings.clone()),
                ("attendance.csv", format!("{ROSTER}X1,M2,excused\n")),
            ],
            "attendance.csv:7: duplicate meeting_ref / member_code 'X1 / M2' (also on line 3)",
        ),
        (
            "a cycle of parents",
            vec![("moves.csv", "code,parent_code,effective_on\nD1,XL,2024-01-01\n".into())],
            "moves.csv:2: a cycle of parents: 'D1' is under itself from 01/01/2024",
        ),
        (
            "a cycle among new units",
            vec![(
                "units.csv",
                "code,kind,name,parent_code,valid_from,valid_to,cell_type\n\
                 N2,committee,Đảng bộ xã Một,N3,2026-01-01,,\n\
                 N3,committee,Đảng bộ xã Hai,N2,2026-01-01,,\n"
                    .into(),
            )],
            "units.csv:2: a cycle of parents: 'N2' is under itself from 01/01/2026",
        ),
        (
            "a unit above its parent's level",
            vec![(
                "units.csv",
                "code,kind,name,parent_code,valid_from,valid_to,cell_type\n\
                 N4,province,Đảng bộ tỉnh Mới,XL,2026-01-01,,\n"
                    .into(),
            )],
            "units.csv:2: kind: a province cannot be under 'XL', a committee",
        ),
        (
            "a unit at its parent's level",
            vec![(
                "units.csv",
                "code,kind,name,parent_code,valid_from,valid_to,cell_type\n\
                 N5,committee,Đảng bộ xã Mới,YY,2026-01-01,,\n"
                    .into(),
            )],
            "units.csv:2: kind: a committee cannot be under 'YY', a committee",
        ),
        (
            "a unit's level changed to that of a unit under it",
            vec![(
                "units.csv",
                "code,kind,name,parent_code,valid_from,valid_to,cell_type\n\
                 D1,committee,Đảng bộ huyện Lâm Bình,P,2000-01-01,,\n"
                    .into(),
            )],
            "units.csv:2: kind: 'XL', a committee, is under this unit, so it cannot be a committee",
        ),
        (
            "a move under a unit of the same level",
            vec![("moves.csv", "code,parent_code,effective_on\nXL,YY,2026-01-01\n".into())],
            "moves.csv:2: parent_code: a committee cannot be under 'YY', a committee",
        ),
        (
            "a move under a unit of a deeper level",
            vec![("moves.csv", "code,parent_code,effective_on\nD2,XL,2026-01-01\n".into())],
            "moves.csv:2: parent_code: a district cannot be under 'XL', a committee",
        ),
        (
            "a move outside the unit's validity",
            vec![("moves.csv", "code,parent_code,effective_on\nA,YY,2019-06-01\n".into())],
            "moves.csv:2: 01/06/2019 is outside the time 'A' is open (01/01/2020 – )",
        ),
        (
            "attendance of a member not in that cell that day",
            vec![("meetings.csv", meetings.clone()), ("attendance.csv", format!("{ROSTER}X1,M6,present\n"))],
            "attendance.csv:7: member 'M6' is not on the roll of cell 'A' on 08/10/2026",
        ),
        (
            // while the attendance table is empty the load itself proves the references: these are found after it
            "an attendance row of a member nobody knows",
            vec![("meetings.csv", meetings.clone()), ("attendance.csv", format!("{ROSTER}X1,M99,present\n"))],
            "attendance.csv:7: member_code: unknown 'M99' (not in the bundle nor in the database)",
        ),
        (
            "an attendance row of a meeting nobody knows",
            vec![("meetings.csv", meetings.clone()), ("attendance.csv", format!("{ROSTER}X9,M1,present\n"))],
            "attendance.csv:7: meeting_ref: unknown 'X9' (not in the bundle nor in the database)",
        ),
        (
            "a regular meeting whose roster misses a member",
            vec![("meetings.csv", meetings.clone()), ("attendance.csv", ROSTER.replace("X1,M4,present\n", ""))],
            "meetings.csv:2: regular meeting 'X1' has no row for member 'M4', who is on the cell's roll on 08/10/2026",
        ),
        (
            // as many rows as the roll has members, one of them for a member who is not on it: the roster check,
            // which counts before it searches, still names the one missing
            "a roster with a member swapped for one not on the roll",
            vec![("meetings.csv", meetings.clone()), ("attendance.csv", ROSTER.replace("X1,M4,present", "X1,M6,present"))],
            "meetings.csv:2: regular meeting 'X1' has no row for member 'M4', who is on the cell's roll on 08/10/2026",
        ),
        (
            "exempt status for a member not exempt",
            vec![("meetings.csv", meetings.clone()), ("attendance.csv", ROSTER.replace("M4,present", "M4,exempt"))],
            "attendance.csv:5: member 'M4' is not exempt on 08/10/2026",
        ),
        (
            "a guest who is not an official",
            vec![
                ("meetings.csv", meetings.clone()),
                ("attendance.csv", ROSTER.into()),
                ("guests.csv", "meeting_ref,official_code\nX1,M1\n".into()),
            ],
            "guests.csv:2: official_code: unknown 'M1' (not in the bundle nor in the database)",
        ),
        (
            "a classification level that does not exist",
            vec![("classifications.csv", "year,subject,code,level\n2025,cell,A,superb\n".into())],
            "classifications.csv:2: level: 'superb' is not one of: excellent, good, complete, fail",
        ),
        (
            "a transfer before the member joined",
            vec![("transfers.csv", "member_code,cell_code,effective_on\nM1,B,2009-01-01\n".into())],
            "transfers.csv:2: effective_on must be after joined_on",
        ),
        (
            "a month that is none",
            vec![("reports.csv", format!("{REPORTS_HEADER}\nA,2026-13,,,\n"))],
            "reports.csv:2: month: bad month '2026-13' (expected YYYY-MM)",
        ),
        (
            "a report of an unknown cell",
            vec![("reports.csv", format!("{REPORTS_HEADER}\nZZ,2026-10,2026-11-02,,\n"))],
            "reports.csv:2: cell_code: unknown 'ZZ' (not in the bundle nor in the database)",
        ),
        (
            "a report of a unit that is not a cell",
            vec![("reports.csv", format!("{REPORTS_HEADER}\nXL,2026-10,2026-11-02,,\n"))],
            "reports.csv:2: cell_code: 'XL' is not a cell",
        ),
        (
            "a report approved without being submitted",
            vec![("reports.csv", format!("{REPORTS_HEADER}\nA,2026-10,,2026-11-03,\n"))],
            "reports.csv:2: approved_on: a report cannot be approved without submitted_on",
        ),
        (
            "a report approved before it was submitted",
            vec![("reports.csv", format!("{REPORTS_HEADER}\nA,2026-10,2026-11-03,2026-11-02,\n"))],
            "reports.csv:2: approved_on must not be before submitted_on",
        ),
        (
            "a report submitted before its month",
            vec![("reports.csv", format!("{REPORTS_HEADER}\nA,2026-10,2026-09-30,,\n"))],
            "reports.csv:2: submitted_on: a month's report cannot be submitted before the month begins (10/2026)",
        ),
        (
            "a cell's month reported twice",
            vec![("reports.csv", format!("{REPORTS_HEADER}\nA,2026-10,2026-11-02,,\nA,2026-10,,,\n"))],
            "reports.csv:3: duplicate cell_code / month 'A / 2026-10' (also on line 2)",
        ),
        (
            "a month before the cell opened",
            vec![("reports.csv", format!("{REPORTS_HEADER}\nA,2019-12,2020-01-03,,\n"))],
            "reports.csv:2: cell 'A' is not open in 12/2019",
        ),
        (
            "a month after the cell closed",
            vec![
                ("units.csv", "code,kind,name,parent_code,valid_from,valid_to,cell_type\nN6,cell,Chi bộ cũ,XL,2020-01-01,2024-06-30,village\n".into()),
                ("reports.csv", format!("{REPORTS_HEADER}\nN6,2024-06,2024-07-01,,\nN6,2024-07,2024-08-01,,\n")),
            ],
            "reports.csv:3: cell 'N6' is not open in 07/2024",
        ),
        (
            "a setting that is none",
            vec![("settings.csv", "key,value\ndeadline,5\n".into())],
            "settings.csv:2: key: 'deadline' is not one of: reporting_since, report_deadline_day",
        ),
        (
            "reporting_since that is no month",
            vec![("settings.csv", "key,value\nreporting_since,2025/01\n".into())],
            "settings.csv:2: value: bad month '2025/01' (expected YYYY-MM)",
        ),
        (
            "a deadline day past the 28th",
            vec![("settings.csv", "key,value\nreport_deadline_day,31\n".into())],
            "settings.csv:2: value: '31' is not a whole number from 1 to 28",
        ),
        (
            "a setting given twice",
            vec![("settings.csv", "key,value\nreport_deadline_day,5\nreport_deadline_day,6\n".into())],
            "settings.csv:3: duplicate key 'report_deadline_day' (also on line 2)",
        ),
        (
            "a file that is not part of a bundle",
            vec![("people.csv", "code\nM1\n".into())],
            "people.csv: not a bundle file",
        ),
    ];
    let before = rows(&pool).await;
    for (what, files, expected) in cases {
        let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
        let out = import::import_quiet(&pool, bundle(&files), false).await.unwrap();
        let listed = rendered(&out);
        assert!(listed.iter().any(|l| l.starts_with(expected)), "{what}: expected {expected:?}, got {listed:#?}");
        assert!(!out.written, "{what}");
        assert_eq!(rows(&pool).await, before, "{what}: something was written");
    }

    // attendance still empty: an unknown member found by the load is listed as the checks before it would (alone: not
    // also as a member missing from the roster), and with the other files' problems when the import stops earlier
    let typo = ROSTER.replace("X1,M4,present", "X1,M4x,present");
    let out = import::import_quiet(
        &pool,
        bundle(&[("meetings.csv", meetings.as_str()), ("attendance.csv", typo.as_str())]),
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        rendered(&out),
        ["attendance.csv:5: member_code: unknown 'M4x' (not in the bundle nor in the database)"],
        "a typo in a member's code"
    );
    let files = [
        ("meetings.csv", meetings.as_str()),
        ("attendance.csv", typo.as_str()),
        ("classifications.csv", "year,subject,code,level\n2025,cell,A,superb\n"),
    ];
    let listed = rendered(&import::import_quiet(&pool, bundle(&files), false).await.unwrap());
    for expected in [
        "attendance.csv:5: member_code: unknown 'M4x' (not in the bundle nor in the database)",
        "classifications.csv:2: level: 'superb' is not one of: excellent, good, complete, fail",
    ] {
        assert!(listed.iter().any(|l| l == expected), "{expected}: {listed:?}");
    }
    assert_eq!(rows(&pool).await, before, "nothing was written");

    // every error of a bundle is listed, each with its file and line, in Vietnamese by default
    let out = import::import_quiet(
        &pool,
        bundle(&[
            ("classifications.csv", "year,subject,code,level\n2025,cell,A,superb\n2025,member,M99,good\n"),
            ("members.csv", "code,full_name,gender,birth_date,ethnicity,joined_on,official_on,cell_code,left_on\nM10,Hà Thị Lan,nữ,1980-01-01,Tày,2015-01-01,,A,\n"),
        ]),
        false,
    )
    .await
    .unwrap();
    let vi: Vec<String> = out.problems.iter().map(|p| text_in(p, Lang::Vi)).collect();
    assert_eq!(
        vi,
        [
            "members.csv:2: giới tính (gender): giá trị không hợp lệ «nữ» (một trong: male, female)",
            "classifications.csv:2: mức xếp loại (level): giá trị không hợp lệ «superb» (một trong: excellent, good, complete, fail)",
            "classifications.csv:3: mã (code): không có «M99» trong gói hay trong cơ sở dữ liệu",
        ]
    );
    // the same problems as values: where, which message, the values it quotes
    let found: Vec<_> = out
        .problems
        .iter()
        .map(|p| (p.file.as_str(), p.line, p.column.as_deref(), p.kind(), p.args.join("|")))
        .collect();
    assert_eq!(
        found,
        [
            ("members.csv", 2, Some("gender"), "choice", "nữ|male, female".to_string()),
            ("classifications.csv", 2, Some("level"), "choice", "superb|excellent, good, complete, fail".to_string()),
            ("classifications.csv", 3, Some("code"), "unknown", "M99".to_string()),
        ]
    );

    // the same files made right are written, once
    let good = [
        ("meetings.csv", meetings.as_str()),
        ("attendance.csv", ROSTER),
        ("guests.csv", "meeting_ref,official_code\nX1,O1\n"),
    ];
    let dry = import::import_quiet(&pool, bundle(&good), true).await.unwrap();
    assert!(dry.problems.is_empty() && !dry.written, "{:?}", rendered(&dry));
    assert_eq!(rows(&pool).await, before, "a dry run writes nothing");
    let out = import::import_quiet(&pool, bundle(&good), false).await.unwrap();
    assert!(out.problems.is_empty() && out.written, "{:?}", rendered(&out));
    assert_eq!(out.changed.get("attendance"), Some(&5));
    let again = import::import_quiet(&pool, bundle(&good), false).await.unwrap();
    assert_eq!(again.total_changed(), 0);
    // with attendance stored, unknown references are found before anything is written, and a member off the roll
    // by the search line by line (on a first load: counted on the loaded rows first)
    for (extra, expected) in [
        ("X1,M99,present\n", "attendance.csv:7: member_code: unknown 'M99' (not in the bundle nor in the database)"),
        ("X9,M1,present\n", "attendance.csv:7: meeting_ref: unknown 'X9' (not in the bundle nor in the database)"),
        ("X1,M6,present\n", "attendance.csv:7: member 'M6' is not on the roll of cell 'A' on 08/10/2026"),
    ] {
        let attendance = format!("{ROSTER}{extra}");
        let files = [("meetings.csv", meetings.as_str()), ("attendance.csv", attendance.as_str())];
        let out = import::import_quiet(&pool, bundle(&files), false).await.unwrap();
        assert!(rendered(&out).iter().any(|l| l.starts_with(expected)), "{expected}: {:?}", rendered(&out));
        assert!(!out.written);
    }
    let report = report_json(&pool, "A", "2026-10", "2026-10").await;
    assert!(report.contains(r#""attendance_rate":{"denominator":4,"met":null,"numerator":3"#), "{report}");

    // reports and settings made right are written, once; their states follow their dates
    let reports = format!(
        "{REPORTS_HEADER}\nA,2026-08,,,\nA,2026-09,2026-10-04,2026-10-06,\nA,2026-10,2026-11-07,,\n\
         B,2026-10,2026-11-02,,\"Lũ, đường bị chia cắt\"\n"
    );
    let good = [
        ("reports.csv", reports.as_str()),
        ("settings.csv", "key,value\nreporting_since,2026-01\nreport_deadline_day,05\n"),
    ];
    let out = import::import_quiet(&pool, bundle(&good), false).await.unwrap();
    assert!(out.problems.is_empty() && out.written, "{:?}", rendered(&out));
    assert_eq!((out.changed.get("cell_reports"), out.changed.get("settings")), (Some(&4), Some(&2)));
    type Day = Option<chrono::NaiveDate>;
    let stored: Vec<(String, String, Day, Day, Option<String>)> = sqlx::query_as(
        "select u.code, r.state, r.first_submitted_on, r.approved_on, r.reason from cell_reports r
         join units u on u.id = r.cell_id order by u.code, r.month",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    assert_eq!(
        stored,
        [
            ("A".into(), "draft".into(), None, None, None),
            ("A".into(), "approved".into(), d("2026-10-04"), d("2026-10-06"), None),
            ("A".into(), "submitted".into(), d("2026-11-07"), None, None),
            ("B".into(), "submitted".into(), d("2026-11-02"), None, Some("Lũ, đường bị chia cắt".into())),
        ]
    );
    let settings = chibo::db::settings::get(&pool).await.unwrap();
    assert_eq!((settings.reporting_since, settings.report_deadline_day), (d("2026-01-01"), 5));
    let again = import::import_quiet(&pool, bundle(&good), false).await.unwrap();
    assert!(again.problems.is_empty() && again.total_changed() == 0, "{:?}", again.changed);
}

#[sqlx::test]
async fn the_2025_restructure_entered_later_leaves_a_2022_report_unchanged(pool: PgPool) {
    chibo::demo::load(&pool, chibo::demo::Scale::Small, chibo::domain::time::today()).await.unwrap();
    let dir = temp_dir("restructure");
    import::export::export(&pool, &dir).await.unwrap();
    // the bundle as it stood before 1 July 2025 was entered: Lâm Bình district still open, no moves
    let units = std::fs::read_to_string(dir.join("units.csv")).unwrap();
    let lam_binh = units.lines().find(|l| l.starts_with("TQ-LB,")).unwrap().to_string();
    std::fs::write(dir.join("units.csv"), units.replace(&lam_binh, &lam_binh.replace(",2025-06-30,", ",,"))).unwrap();
    let std_units = std::fs::read_to_string(dir.join("units.csv")).unwrap();
    assert!(std_units.contains("TQ-LB,district,Đảng bộ huyện Lâm Bình,TQ,2000-01-01,,\n"), "{std_units}");
    std::fs::write(dir.join("moves.csv"), "code,parent_code,effective_on\n").unwrap();

    let db = empty_database(&pool, "restructure").await;
    let out = import::import_quiet(&db, import::read_dir(&dir).unwrap(), false).await.unwrap();
    assert!(out.problems.is_empty(), "{:?}", rendered(&out));
    let before_2022 = report_json(&db, "TQ", "2022-01", "2022-12").await;
    let lb_2022 = report_json(&db, "TQ-LB", "2022-01", "2022-12").await;
    assert!(report_json(&db, "TQ", "2025-07", "2025-12").await.contains(r#""unit":"TQ-LB""#));

    // the restructure as a bundle: the district closes, its communes go straight under the province
    let restructure = bundle(&[
        ("units.csv", &format!("code,kind,name,parent_code,valid_from,valid_to,cell_type\n{lam_binh}\n")),
        (
            "moves.csv",
            "code,parent_code,effective_on\nTQ-LB-01,TQ,2025-07-01\nTQ-LB-02,TQ,2025-07-01\nTQ-LB-VP,TQ-CQ,2025-07-01\n",
        ),
    ]);
    let out = import::import_quiet(&db, restructure, false).await.unwrap();
    assert!(out.problems.is_empty(), "{:?}", rendered(&out));
    assert_eq!(out.changed.get("unit_moves"), Some(&3));

    assert_eq!(report_json(&db, "TQ", "2022-01", "2022-12").await, before_2022, "2022 as it was");
    assert_eq!(report_json(&db, "TQ-LB", "2022-01", "2022-12").await, lb_2022);
    let after = report_json(&db, "TQ", "2025-07", "2025-12").await;
    assert!(!after.contains(r#""unit":"TQ-LB""#) && after.contains(r#""unit":"TQ-LB-01""#), "{after}");
    // and the same as the demo, which was built with the restructure
    assert_eq!(after, report_json(&pool, "TQ", "2025-07", "2025-12").await);
    let _ = std::fs::remove_dir_all(dir);
}

/// The names in a member search's results table, in the order shown.
fn result_names(body: &str) -> Vec<String> {
    body.split("<tr><td>")
        .skip(1)
        .map(|r| {
            // a name may be a link to the member's record (for those who keep records)
            let r = if r.starts_with("<a ") { &r[r.find('>').unwrap() + 1..] } else { r };
            r[..r.find(['<', '\n']).unwrap()].trim().to_string()
        })
        .collect()
}

#[sqlx::test]
async fn member_search_ignores_accents_and_case_and_lists_by_given_name(pool: PgPool) {
    let app = crate::common::TestApp::new(pool).await;
    let members = "code,full_name,gender,birth_date,ethnicity,joined_on,official_on,cell_code,left_on\n\
        M20,Nguyễn Thị Hòa,female,1985-02-01,Tày,2015-01-01,2016-01-01,A,\n\
        M21,Nguyễn Thị Ánh,female,1990-03-01,Kinh,2016-01-01,2017-01-01,B,\n\
        M22,Nguyễn Thiện An,male,1988-04-01,Dao,2017-01-01,,A,\n\
        M23,Nguyễn Thị Lan,female,1979-05-01,Tày,2012-01-01,2013-01-01,C,\n\
        M24,Lê Thị Bích,female,1992-06-01,Nùng,2018-01-01,2019-01-01,A,\n";
    let out = import::import_quiet(&app.pool, bundle(&[("members.csv", members)]), false).await.unwrap();
    assert!(out.problems.is_empty(), "{:?}", rendered(&out));

    // the commune's clerk: cells A and B, not C
    let mut clerk = app.login("clerk").await;
    let page = clerk.get("/units/XL/members?q=nguyen+thi").await;
    assert_eq!(result_names(&page.body), ["Nguyễn Thiện An", "Nguyễn Thị Ánh", "Nguyễn Thị Hòa"], "{}", page.body);
    let page = clerk.get("/units/XL/members?q=NGUYEN").await;
    assert_eq!(result_names(&page.body), ["Nguyễn Thiện An", "Nguyễn Văn An", "Nguyễn Thị Ánh", "Nguyễn Thị Hòa"]);
    // a tone mark placed the other way, or missing, finds the same person
    for q in ["hoà nguyễn", "nguyen Hòa", "HOA NGUYEN"] {
        let encoded: String = q
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect();
        let page = clerk.get(&format!("/units/XL/members?q={encoded}")).await;
        assert_eq!(result_names(&page.body), ["Nguyễn Thị Hòa"], "{q}");
    }
    // by given name; the same letters ordered by tone (Hoa before Hòa)
    let page = clerk.get("/units/XL/members?q=hoa").await;
    assert_eq!(result_names(&page.body), ["Hoàng Thị Bình", "Nông Thị Hoa", "Nguyễn Thị Hòa"]);
    let page = clerk.get("/units/XL/members?q=tran").await;
    assert!(page.body.contains("Không tìm thấy đảng viên nào"), "{}", page.body);

    // a cell's secretary searches their own cell; a province viewer may not see names at all
    let mut sec = app.login("sec_a").await;
    let page = sec.get("/units/A/members?q=nguyen").await;
    assert_eq!(result_names(&page.body), ["Nguyễn Thiện An", "Nguyễn Văn An", "Nguyễn Thị Hòa"]);
    assert_eq!(sec.get("/units/XL/members?q=nguyen").await.status, axum::http::StatusCode::FORBIDDEN);
    let mut viewer = app.login("viewer").await;
    assert_eq!(viewer.get("/units/P/members?q=nguyen").await.status, axum::http::StatusCode::FORBIDDEN);
}
