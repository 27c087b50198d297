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
    // one login per role
    let roles: i64 = sqlx::query_scalar("select count(distinct role) from users").fetch_one(&pool).await.unwrap();
    assert_eq!(roles, 5);
    // and a second load is refused rather than doubling everything
    let again = chibo::demo::load(&pool, chibo::demo::Scale::Small, chibo::domain::time::today()).await;
    assert!(again.is_err());
}
