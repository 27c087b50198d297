//! The rollups checked against a recomputation from the raw rows, after every kind of change the app makes.
use sqlx::PgPool;

use crate::metrics::d;

/// The cell-month sums from the raw rows: the meetings' and the reports' (DOMAIN.md §10; a row per cell-month with
/// either).
const RECOMPUTED: &str = "
    select coalesce(s.cell_id, r.cell_id), coalesce(s.month, r.month), coalesce(s.regular_meetings, 0),
           coalesce(s.present, 0), coalesce(s.excused, 0), coalesce(s.unexcused, 0), coalesce(s.rated, 0),
           coalesce(s.good, 0), coalesce(s.fair, 0), coalesce(s.average, 0), coalesce(s.weak, 0),
           coalesce(s.thematic_meetings, 0), coalesce(r.submitted, 0), coalesce(r.on_time, 0), coalesce(r.approved, 0),
           coalesce(s.timed_meetings, 0), coalesce(s.long_meetings, 0), coalesce(s.online, 0),
           coalesce(s.present_listed, 0)
    from (select m.cell_id, date_trunc('month', m.held_on)::date as month,
               count(*) filter (where m.kind = 'regular')::int as regular_meetings,
               coalesce(sum(case when m.kind = 'regular' then coalesce(m.present, (select count(*) from attendance a where a.meeting_id = m.id and a.status = 'present')) end), 0)::bigint as present,
               coalesce(sum(case when m.kind = 'regular' then coalesce(m.excused, (select count(*) from attendance a where a.meeting_id = m.id and a.status = 'excused')) end), 0)::bigint as excused,
               coalesce(sum(case when m.kind = 'regular' then coalesce(m.unexcused, (select count(*) from attendance a where a.meeting_id = m.id and a.status = 'unexcused')) end), 0)::bigint as unexcused,
               count(*) filter (where m.kind = 'regular' and m.rating is not null)::int as rated,
               count(*) filter (where m.kind = 'regular' and m.rating = 'good')::int as good,
               count(*) filter (where m.kind = 'regular' and m.rating = 'fair')::int as fair,
               count(*) filter (where m.kind = 'regular' and m.rating = 'average')::int as average,
               count(*) filter (where m.kind = 'regular' and m.rating = 'weak')::int as weak,
               count(*) filter (where m.kind = 'thematic' or (m.kind = 'regular' and m.combined_thematic))::int
                   as thematic_meetings,
               count(*) filter (where m.kind = 'regular' and m.started_at is not null and m.ended_at is not null)::int
                   as timed_meetings,
               count(*) filter (where m.kind = 'regular' and m.started_at is not null and m.ended_at is not null
                   and m.ended_at - m.started_at >= make_interval(mins => (select case when m.combined_thematic
                       then v.min_minutes_combined else v.min_minutes end from rubric_versions v
                       where v.id = m.rubric_version_id)))::int as long_meetings,
               coalesce(sum(case when m.kind = 'regular' and m.present is null then (select count(*) from attendance a where a.meeting_id = m.id and a.status = 'present' and a.mode = 'online') end), 0)::bigint as online,
               coalesce(sum(case when m.kind = 'regular' and m.present is null then (select count(*) from attendance a where a.meeting_id = m.id and a.status = 'present') end), 0)::bigint as present_listed
        from meetings m group by 1, 2) s
    full join (
        select cell_id, month, (state in ('submitted', 'approved'))::int as submitted,
               coalesce(first_submitted_on <= (month + interval '1 month')::date
                        + coalesce((select value::int from settings where key = 'report_deadline_day'), 5) - 1,
                        false)::int as on_time,
               (state = 'approved')::int as approved
        from cell_reports) r on r.cell_id = s.cell_id and r.month = s.month";

async fn assert_rollups_agree(pool: &PgPool, when: &str) {
    let diff: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select count(*) from ((select * from cell_month_stats except ({RECOMPUTED}))
                               union all (({RECOMPUTED}) except select * from cell_month_stats)) d"
    )))
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(diff, 0, "the cell-month sums disagree with the raw rows {when}");
    // members' classes counted on the cell cell_of() gives for 31 December or their last day
    let placed: i64 = sqlx::query_scalar(
        "with ruled as (
             select c.cell_id, mc.year::int as year, count(*) filter (where mc.level in ('excellent', 'good')) as num,
                    count(*) as den
             from member_classifications mc join members m on m.id = mc.member_id
             cross join lateral cell_of(m.id, least(make_date(mc.year, 12, 31), m.left_on - 1)) c(cell_id)
             group by 1, 2),
         stored as (
             select cell_id, year::int as year, num::bigint, den::bigint from cell_year_stats
             where metric = 'members_good_or_better')
         select count(*) from ((select * from ruled except select * from stored)
                               union all (select * from stored except select * from ruled)) d",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(placed, 0, "members' classes are not counted on their cells by cell_of() {when}");

    // the rollups kept by deltas against the same rollups rebuilt whole from the raw rows (rolled back after)
    let mut tx = pool.begin().await.unwrap();
    let kept = rollup_rows(&mut tx).await;
    sqlx::query("select rebuild_metric_stores()").execute(&mut *tx).await.unwrap();
    let rebuilt = rollup_rows(&mut tx).await;
    tx.rollback().await.unwrap();
    assert!(rebuilt.len() > 100, "the rebuild found the data");
    let missing: Vec<_> = rebuilt.difference(&kept).take(5).collect();
    let extra: Vec<_> = kept.difference(&rebuilt).take(5).collect();
    assert!(missing.is_empty() && extra.is_empty(), "rollups {when}: missing {missing:?}, extra {extra:?}");
}

/// Every non-empty row of the rollups and of the annual cell sums, as text, sorted.
async fn rollup_rows(tx: &mut sqlx::PgConnection) -> std::collections::BTreeSet<String> {
    let rows: Vec<String> = sqlx::query_scalar(
        "select 'm' || r::text from unit_month_rollup r
         where (open_cells, regular_cells, present, expected, rated, good, fair, average, weak, submitted, on_time,
                approved, timed_meetings, long_meetings, online, present_listed)
               <> (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
         union all select 'q' || r::text from unit_quarter_rollup r where (open_cells, thematic_cells) <> (0, 0)
         union all select 'y' || r::text from unit_year_rollup r where (num, den) <> (0, 0)
         union all select 'c' || r::text from cell_year_stats r
         union all select 's' || r::text from cell_secretary_status r",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    rows.into_iter().collect()
}

#[sqlx::test]
async fn the_rollups_never_disagree_with_the_raw_rows(pool: PgPool) {
    chibo::demo::load(&pool, chibo::demo::Scale::Small, chibo::domain::time::today()).await.unwrap();
    assert_rollups_agree(&pool, "after the demo load").await;
    let ids: Vec<i64> = sqlx::query_scalar("select id from meetings where present is null order by id limit 40")
        .fetch_all(&pool)
        .await
        .unwrap();
    // edit statuses, move a meeting to another month, change a rating, turn one into a thematic meeting
    sqlx::query("update attendance set status = 'unexcused' where meeting_id = any($1) and status = 'present'")
        .bind(&ids[0..10])
        .execute(&pool)
        .await
        .unwrap();
    assert_rollups_agree(&pool, "after editing statuses").await;
    sqlx::query("update meetings set held_on = held_on + 40, rating = 'weak' where id = any($1)")
        .bind(&ids[10..20])
        .execute(&pool)
        .await
        .unwrap();
    assert_rollups_agree(&pool, "after moving meetings to another month").await;
    sqlx::query("update meetings set kind = 'thematic', rating = null where id = any($1)")
        .bind(&ids[20..25])
        .execute(&pool)
        .await
        .unwrap();
    assert_rollups_agree(&pool, "after changing kinds").await;
    // HD 42's facts: members online, meetings combined with the thematic part, meetings cut short
    let regular: Vec<i64> = sqlx::query_scalar(
        "select m.id from meetings m where m.present is null and m.kind = 'regular' and m.id <> all($1)
           and not exists(select 1 from cell_reports r where r.cell_id = m.cell_id and r.state = 'approved'
                          and r.month = date_trunc('month', m.held_on)::date)
         order by m.id limit 30",
    )
    .bind(&ids)
    .fetch_all(&pool)
    .await
    .unwrap();
    sqlx::query("update attendance set mode = 'online' where meeting_id = any($1) and status = 'present'")
        .bind(&regular[0..10])
        .execute(&pool)
        .await
        .unwrap();
    assert_rollups_agree(&pool, "after members attended online").await;
    sqlx::query("update meetings set combined_thematic = true where id = any($1)")
        .bind(&regular[10..20])
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "update meetings set ended_at = started_at + interval '75 minutes' where id = any($1) and started_at < '22:00'",
    )
    .bind(&regular[15..25])
    .execute(&pool)
    .await
    .unwrap();
    assert_rollups_agree(&pool, "after combining and shortening meetings").await;
    sqlx::query("delete from meetings where id = any($1)").bind(&ids[25..40]).execute(&pool).await.unwrap();
    assert_rollups_agree(&pool, "after deleting meetings").await;
    sqlx::query("delete from attendance where meeting_id = $1").bind(ids[0]).execute(&pool).await.unwrap();
    sqlx::query("update meetings set present = 3, excused = 1, unexcused = 0, exempt = 0 where id = $1")
        .bind(ids[0])
        .execute(&pool)
        .await
        .unwrap();
    assert_rollups_agree(&pool, "after turning a meeting into paper-book counts").await;

    // the annual stores: classifications, transfers, leaving, Regulation 18 assignments, guests, groups
    for (sql, when) in [
        (
            "update cell_classifications set level = case level when 'good' then 'fail' else 'good' end
          where cell_id in (select cell_id from cell_classifications order by cell_id limit 5)",
            "after reclassifying cells",
        ),
        (
            "delete from cell_classifications where (cell_id, year) in
          (select cell_id, year from cell_classifications order by cell_id desc limit 3)",
            "after deleting a cell's class",
        ),
        (
            "update member_classifications set level = 'fail'
          where member_id in (select member_id from member_classifications order by member_id limit 30)",
            "after reclassifying members",
        ),
        (
            "insert into member_transfers (member_id, cell_id, effective_on)
          select m.id, (select id from units where kind = 'cell' and id <> m.cell_id and valid_to is null
                        order by id limit 1), date '2023-06-01'
          from members m where m.left_on is null and m.joined_on < date '2023-01-01'
            and not exists (select 1 from member_transfers t where t.member_id = m.id)
          order by m.id limit 4",
            "after transferring members",
        ),
        (
            "update members set left_on = date '2024-03-01'
          where id in (select member_id from member_classifications where year = 2024 order by member_id limit 3)
            and joined_on < date '2024-03-01'",
            "after members left",
        ),
        (
            "delete from member_classifications where member_id in
          (select member_id from member_classifications order by member_id desc limit 4)",
            "after deleting members' classes",
        ),
        (
            "update reg18_assignments set required = required + 2
          where (official_id, cell_id, year) in (select official_id, cell_id, year from reg18_assignments limit 5)",
            "after changing what is required",
        ),
        (
            "delete from meeting_guests where meeting_id in (select meeting_id from meeting_guests limit 5)",
            "after removing guests",
        ),
        (
            "update officials set \"group\" = 'advisory_staff'
          where id in (select official_id from reg18_assignments order by official_id limit 1)",
            "after an official changed group",
        ),
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap_or_else(|e| panic!("{when}: {e}"));
        assert_rollups_agree(&pool, when).await;
    }

    // the monthly reports (DOMAIN.md §10): written, approved, returned, the deadline day moved, deleted
    for (sql, when) in [
        (
            "insert into cell_reports (cell_id, month, state, first_submitted_on, submitted_on)
          select p.cell_id, p.starts_on, 'submitted', p.starts_on + 33 + (p.cell_id % 5)::int,
                 p.starts_on + 33 + (p.cell_id % 5)::int
          from cell_places p where p.period = 'month' and p.starts_on between date '2024-01-01' and date '2024-06-01'
            and not exists (select 1 from cell_reports r where r.cell_id = p.cell_id and r.month = p.starts_on)
            and p.cell_id % 3 <> 0",
            "after reports were submitted",
        ),
        (
            "update cell_reports set state = 'approved', approved_on = submitted_on + 3
          where state = 'submitted' and month < date '2024-04-01' and cell_id % 2 = 0",
            "after reports were approved",
        ),
        (
            "update cell_reports set state = 'returned', returned_reason = 'Thiếu biên bản'
          where state = 'submitted' and month = date '2024-05-01'",
            "after reports were returned",
        ),
        (
            "insert into settings (key, value) values ('report_deadline_day', '7')
          on conflict (key) do update set value = excluded.value",
            "after the deadline day moved",
        ),
        ("delete from cell_reports where month = date '2024-02-01'", "after reports were deleted"),
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap_or_else(|e| panic!("{when}: {e}"));
        assert_rollups_agree(&pool, when).await;
    }
    let on_time: i64 =
        sqlx::query_scalar("select coalesce(sum(on_time), 0) from cell_month_stats").fetch_one(&pool).await.unwrap();
    assert!(on_time > 0, "some reports were on time");

    // secretaries: one leaves this month, others are trained this month, a training is struck off
    let today = chibo::domain::time::today();
    let first = chibo::domain::time::month_start(today);
    for (sql, when) in [
        (
            "update positions set valid_to = $1 where position = 'secretary' and valid_to is null
            and valid_from < $1 and cell_id in (select id from units where kind = 'cell' order by code limit 2)",
            "after a secretary left this month",
        ),
        (
            "insert into trainings (member_id, trained_on, course)
          select s.member_id, $1, 'Lớp bồi dưỡng bí thư' from positions s
          where s.position = 'secretary' and s.valid_to is null
            and not exists (select 1 from trainings t where t.member_id = s.member_id)
          order by s.member_id limit 3",
            "after secretaries were trained this month",
        ),
        (
            "delete from trainings where member_id in (select member_id from positions where position = 'secretary'
            and valid_to is null order by member_id desc limit 2) and $1 is not null",
            "after trainings were struck off",
        ),
    ] {
        sqlx::query(sql)
            .bind(first + chrono::Days::new(1))
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("{when}: {e}"));
        assert_rollups_agree(&pool, when).await;
    }
    let units: Vec<i64> = sqlx::query_scalar(
        "(select id from units where parent_id is null) union all (select id from units where kind <> 'cell' limit 4)
         union all (select id from units where kind = 'cell' order by code limit 3)",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let days = [today, first, first + chrono::Days::new(1), d(2025, 7, 1), d(2025, 7, 15), d(2024, 6, 30)];
    for unit in units {
        for day in days {
            let sorted = |mut rows: Vec<chibo::db::metrics::Row>| {
                rows.retain(|r| r.3 > 0);
                rows.sort();
                rows
            };
            let stored = sorted(chibo::db::metrics::secretaries_trained(&pool, unit, day).await.unwrap());
            let live = sorted(chibo::db::metrics::secretaries_trained_live(&pool, unit, day).await.unwrap());
            assert_eq!(stored, live, "secretaries trained under unit {unit} on {day}");
        }
    }
    let counted: i64 = sqlx::query_scalar("select count(*) from cell_year_stats").fetch_one(&pool).await.unwrap();
    assert!(counted > 0, "the demo has annual records");
}
