//! The demo data: loads into an empty database only, and its meetings keep the rules of DOMAIN.md §8.
use sqlx::PgPool;

#[sqlx::test]
async fn the_small_demo_loads_and_every_roster_matches_the_roll(pool: PgPool) {
    let summary = chibo::demo::load(&pool, chibo::demo::Scale::Small, chibo::domain::time::today()).await.unwrap();
    assert!(summary.contains("meetings:"), "{summary}");
    // per-member rosters hold exactly the members on the roll that day
    let (missing, extra): (i64, i64) = sqlx::query_as(
        "with roll as (
            select mt.id as meeting_id, s.member_id from meetings mt
            join member_stints s on s.cell_id = mt.cell_id and s.start_on <= mt.held_on
                 and (s.end_on is null or s.end_on >= mt.held_on)
            where mt.present is null),
         att as (select meeting_id, member_id from attendance)
         select (select count(*) from (select * from roll except select * from att) a),
                (select count(*) from (select * from att except select * from roll) b)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((missing, extra), (0, 0));
    // the restructure: no district is open after 30/06/2025, and the communes hang under the province
    let open_districts: i64 = sqlx::query_scalar(
        "select count(*) from units where kind = 'district' and (valid_to is null or valid_to >= '2025-07-01')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(open_districts, 0);
    // the reporting cycle: reports from reporting_since in every state, some late, the current month open
    let settings = chibo::db::settings::get(&pool).await.unwrap();
    let since = settings.reporting_since.expect("the demo requires reports");
    let states: Vec<(String, i64)> =
        sqlx::query_as("select state, count(*) from cell_reports group by state order by state")
            .fetch_all(&pool)
            .await
            .unwrap();
    let count = |state: &str| states.iter().find(|(s, _)| s == state).map_or(0, |(_, n)| *n);
    assert!(count("approved") > count("submitted") + count("draft") + count("returned"), "{states:?}");
    assert!(count("submitted") > 0 && count("draft") > 0, "{states:?}");
    assert_eq!(count("returned"), 1, "{states:?}");
    let (late, early, current, unreasoned, never): (i64, i64, i64, i64, i64) = sqlx::query_as(
        "select count(*) filter (where first_submitted_on > (month + interval '1 month')::date + $2 - 1),
                count(*) filter (where month < $1),
                count(*) filter (where month >= date_trunc('month', $3::date)),
                count(*) filter (where submitted_on is not null and reason is null and not exists (
                    select 1 from meetings m where m.cell_id = r.cell_id and m.kind = 'regular'
                       and date_trunc('month', m.held_on) = r.month)),
                (select count(*) from units u cross join generate_series($1::date, date_trunc('month', $3::date) - interval '2 month', interval '1 month') g(month)
                 where u.kind = 'cell' and u.valid_from <= g.month and (u.valid_to is null or u.valid_to >= g.month)
                   and not exists (select 1 from cell_reports x where x.cell_id = u.id and x.month = g.month and x.submitted_on is not null))
         from cell_reports r",
    )
    .bind(since)
    .bind(settings.report_deadline_day as i32)
    .bind(chibo::domain::time::today())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(late > 0, "some reports came in after the deadline");
    assert_eq!(
        (early, current, unreasoned),
        (0, 0, 0),
        "none before reporting_since, none this month, a reason for a month without a regular meeting"
    );
    assert!(never > 0, "a few months were never submitted");
    let returned: (String, Option<String>) = sqlx::query_as(
        "select u.code, r.returned_reason from cell_reports r join units u on u.id = r.cell_id where r.state = 'returned'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(returned.0, "TQ-LB-01-01", "the demo secretary's cell was sent back");
    assert!(returned.1.is_some_and(|r| !r.is_empty()));
    // one login per role
    let roles: i64 = sqlx::query_scalar("select count(distinct role) from users").fetch_one(&pool).await.unwrap();
    assert_eq!(roles, 5);
    // and a second load is refused rather than doubling everything
    let again = chibo::demo::load(&pool, chibo::demo::Scale::Small, chibo::domain::time::today()).await;
    assert!(again.is_err());
}
