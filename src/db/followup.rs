//! The lists a committee acts on (DOMAIN.md §7), for the cells under a unit as the tree stands in the month
//! concerned.
use chrono::{Datelike, NaiveDate};
use sqlx::PgPool;

use crate::domain::metrics::add_months;
use crate::domain::time;

#[derive(Debug, Clone)]
pub struct CellFlag {
    pub code: String,
    pub name: String,
    /// why the cell is listed (`web/followup.rs` words them)
    pub reasons: Vec<Reason>,
}

/// Why a cell is on a follow-up list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// No regular meeting logged in `month` (its first day).
    NotLogged { month: NaiveDate },
    /// No regular meeting in this many of the last three closed months (two or three).
    Missed(i64),
    /// No regular meeting in the last closed month (the only one missed of the three).
    MissedLast,
    /// Attendance below 80 % over the last three closed months.
    LowAttendance,
    /// Rated weak this many times in the last three closed months.
    Weak(i64),
    /// Classified as failing its tasks in this year.
    FailedYear(i32),
    /// The report of `month` (its first day) is past its deadline and not submitted (DOMAIN.md §10).
    ReportOverdue { month: NaiveDate },
}

#[derive(Debug, Clone)]
pub struct MemberFlag {
    /// the member's code, for a link to their record
    pub code: String,
    pub cell_code: String,
    pub cell_name: String,
    pub full_name: String,
    pub detail: MemberDetail,
}

/// What puts a member on a follow-up list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberDetail {
    /// Absent without reason in `months` months of `year`.
    Absent { months: i64, year: i32 },
    /// A probationary member who joined on `joined_on` completes 12 months on `due_on`.
    ProbationDue { joined_on: NaiveDate, due_on: NaiveDate },
}

#[derive(Debug, Clone)]
pub struct SmallCell {
    pub code: String,
    pub name: String,
    pub members: i64,
    pub cadre: Option<String>,
}

pub struct FollowUp {
    /// the last closed month
    pub month: NaiveDate,
    pub no_meeting: Vec<CellFlag>,
    pub watch: Vec<CellFlag>,
    pub absent_members: Vec<MemberFlag>,
    pub probation_due: Vec<MemberFlag>,
    pub small_cells: Vec<SmallCell>,
}

/// The lists for the cells under `unit_id`, as they stand on `today`: of the month before `today`'s. An earlier
/// month's lists are those of a `today` in the month after it (its last day: what the page showed then).
pub async fn follow_up(pool: &PgPool, unit_id: i64, today: NaiveDate) -> sqlx::Result<FollowUp> {
    let month = add_months(time::month_start(today), -1);
    let three_ago = add_months(month, -2);
    let year_start = NaiveDate::from_ymd_opt(today.year(), 1, 1).expect("1 January");

    let no_meeting = sqlx::query!(
        "select u.code, u.name
         from cell_places p join units u on u.id = p.cell_id
         left join cell_month_stats s on s.cell_id = p.cell_id and s.month = p.starts_on
         where p.period = 'month' and p.starts_on = $2 and p.ancestors @> array[$1::bigint]
           and coalesce(s.regular_meetings, 0) = 0
         order by u.name",
        unit_id,
        month
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|c| CellFlag { code: c.code, name: c.name, reasons: vec![Reason::NotLogged { month }] })
    .collect();

    // missing meetings, low attendance or repeated weak ratings over the last three closed months; a fail last year
    let last_year = today.year() - 1;
    let watch = sqlx::query!(
        r#"with last3 as (
            select p.cell_id, count(*) as open_months,
                   count(*) filter (where coalesce(s.regular_meetings, 0) = 0) as missed,
                   coalesce(sum(s.present), 0) as present,
                   coalesce(sum(s.present + s.excused + s.unexcused), 0) as expected,
                   coalesce(sum(s.weak), 0) as weak
            from cell_places p left join cell_month_stats s on s.cell_id = p.cell_id and s.month = p.starts_on
            where p.period = 'month' and p.starts_on between $2 and $3 and p.ancestors @> array[$1::bigint]
              and p.cell_id in (select cell_id from cell_places where period = 'month' and starts_on = $3
                                and ancestors @> array[$1::bigint])
            group by p.cell_id)
         select u.code, u.name, l.missed as "missed!",
                (l.missed = 1 and exists(select 1 from cell_places q
                     left join cell_month_stats t on t.cell_id = q.cell_id and t.month = q.starts_on
                     where q.cell_id = l.cell_id and q.period = 'month' and q.starts_on = $3
                       and coalesce(t.regular_meetings, 0) = 0)) as "missed_last!",
                (l.expected > 0 and l.present * 100 < l.expected * 80) as "low_attendance!",
                l.weak::bigint as "weak!",
                exists(select 1 from cell_classifications c where c.cell_id = l.cell_id
                       and c.year = $4 and c.level = 'fail') as "failed!"
         from last3 l join units u on u.id = l.cell_id
         where l.missed >= 1 or (l.expected > 0 and l.present * 100 < l.expected * 80) or l.weak >= 2
            or exists(select 1 from cell_classifications c where c.cell_id = l.cell_id and c.year = $4 and c.level = 'fail')
         order by u.name"#,
        unit_id,
        three_ago,
        month,
        last_year as i16
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|w| {
        let mut reasons = Vec::new();
        if w.missed >= 2 {
            reasons.push(Reason::Missed(w.missed));
        } else if w.missed_last {
            reasons.push(Reason::MissedLast);
        }
        if w.low_attendance {
            reasons.push(Reason::LowAttendance);
        }
        if w.weak >= 2 {
            reasons.push(Reason::Weak(w.weak));
        }
        if w.failed {
            reasons.push(Reason::FailedYear(last_year));
        }
        CellFlag { code: w.code, name: w.name, reasons }
    })
    .filter(|c| !c.reasons.is_empty())
    .collect();
    let watch = with_overdue_reports(pool, unit_id, today, watch).await?;

    // each of the three lists below is of the cells under the unit this month:
    // `cell_id in (select cell_id from cell_places where period = 'month' and starts_on = $2 and ancestors @> ...)`
    let absent_members = sqlx::query!(
        r#"select m.code, u.code as cell_code, u.name as cell_name, m.full_name,
                  count(distinct date_trunc('month', mt.held_on)) as "months!"
           from attendance a join meetings mt on mt.id = a.meeting_id join members m on m.id = a.member_id
           join units u on u.id = mt.cell_id
           where a.status = 'unexcused' and mt.held_on >= $3 and mt.held_on <= $4
             and mt.cell_id in (select cell_id from cell_places where period = 'month' and starts_on = $2
                                and ancestors @> array[$1::bigint])
           group by u.code, u.name, m.id, m.code, m.full_name
           having count(distinct date_trunc('month', mt.held_on)) >= 3
           order by u.name, m.full_name"#,
        unit_id,
        time::month_start(today),
        year_start,
        today
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|a| MemberFlag {
        code: a.code,
        cell_code: a.cell_code,
        cell_name: a.cell_name,
        full_name: a.full_name,
        detail: MemberDetail::Absent { months: a.months, year: today.year() },
    })
    .collect();

    let probation_due = sqlx::query!(
        r#"select m.code, u.code as cell_code, u.name as cell_name, m.full_name, m.joined_on,
                  (m.joined_on + interval '12 months')::date as "due_on!"
           from members m cross join lateral cell_of(m.id, $3) c(cell_id) join units u on u.id = c.cell_id
           where m.official_on is null and m.left_on is null and m.joined_on + interval '12 months' <= $3 + 30
             and u.id in (select cell_id from cell_places where period = 'month' and starts_on = $2
                          and ancestors @> array[$1::bigint])
           order by m.joined_on"#,
        unit_id,
        time::month_start(today),
        today
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|p| MemberFlag {
        code: p.code,
        cell_code: p.cell_code,
        cell_name: p.cell_name,
        full_name: p.full_name,
        detail: MemberDetail::ProbationDue { joined_on: p.joined_on, due_on: p.due_on },
    })
    .collect();

    let small_cells = sqlx::query_as!(
        SmallCell,
        r#"with roll as (
              select c.cell_id from members m cross join lateral cell_of(m.id, $3) c(cell_id)
              where is_open(m.joined_on, m.left_on - 1, $3))
           select u.code, u.name, count(r.cell_id) as "members!",
                  (select string_agg(o.full_name, ', ') from reg18_assignments a join officials o on o.id = a.official_id
                   where a.cell_id = u.id and a.year = $4 and o."group" = 'grassroots_committee') as cadre
           from units u left join roll r on r.cell_id = u.id
           where u.id in (select cell_id from cell_places where period = 'month' and starts_on = $2
                          and ancestors @> array[$1::bigint])
             and is_open(u.valid_from, u.valid_to, $3)
           group by u.id, u.code, u.name having count(r.cell_id) < 7
           order by cadre nulls first, u.name"#,
        unit_id,
        time::month_start(today),
        today,
        today.year() as i16
    )
    .fetch_all(pool)
    .await?;

    Ok(FollowUp { month, no_meeting, watch, absent_members, probation_due, small_cells })
}

/// The watch list with the cells whose report of one of the last three months due (from `reporting_since`) is past
/// its deadline and neither submitted nor approved: each such month a reason, the cells in order of name.
async fn with_overdue_reports(
    pool: &PgPool,
    unit_id: i64,
    today: NaiveDate,
    mut watch: Vec<CellFlag>,
) -> sqlx::Result<Vec<CellFlag>> {
    let settings = super::settings::get(pool).await?;
    let Some(since) = settings.reporting_since else { return Ok(watch) };
    let last_due = settings.last_due_month(today);
    let first = add_months(last_due, -2).max(since);
    if first > last_due {
        return Ok(watch);
    }
    let overdue = sqlx::query!(
        r#"select u.code, u.name, p.starts_on as month
         from cell_places p join units u on u.id = p.cell_id
         left join cell_reports r on r.cell_id = p.cell_id and r.month = p.starts_on
         where p.period = 'month' and p.starts_on between $2 and $3 and p.ancestors @> array[$1::bigint]
           and r.state is distinct from 'submitted' and r.state is distinct from 'approved'
         order by u.name, p.starts_on"#,
        unit_id,
        first,
        last_due
    )
    .fetch_all(pool)
    .await?;
    let mut added = false;
    for o in overdue {
        let reason = Reason::ReportOverdue { month: o.month };
        match watch.iter_mut().find(|c| c.code == o.code) {
            Some(c) => c.reasons.push(reason),
            None => {
                added = true;
                watch.push(CellFlag { code: o.code, name: o.name, reasons: vec![reason] });
            }
        }
    }
    if added {
        watch.sort_by(|a, b| a.name.cmp(&b.name));
    }
    Ok(watch)
}
