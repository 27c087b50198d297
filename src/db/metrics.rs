//! The metric engine: DOMAIN.md §5 for any unit and period, on the structure as it stood in each month and year.
//! Reads the rollups of migration 0004 (per unit, child and month, quarter or year), so that a dashboard reads
//! rows in proportion to the units it shows, not to the cells under it or to the history; only the point-in-time
//! figure (secretaries trained) reads one row per cell, for one month. The dashboard, its exports, the JSON API and
//! `chibo report` all call `report()`; none computes a figure of its own. Their renderings (JSON, CSV, XLSX) are
//! `web::report`'s. The day the report is asked on (`today`) is the caller's: this module reads no clock.
use chrono::NaiveDate;
use sqlx::PgPool;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgTypeInfo, PgValueRef};
use sqlx::{Decode, Postgres, Type};
use std::collections::{BTreeMap, HashMap};

use crate::db::units::{self, Unit};
use crate::domain::metrics::{Figure, Period, Reporting, add_months};
use crate::domain::reports::Settings;
use crate::domain::time;
use crate::domain::vocab::{Metric, OfficialGroup, UnknownCode};

/// A unit's figures for a period, with its direct children's (each only for the months it was one).
#[derive(Debug, Clone)]
pub struct Report {
    pub unit: Unit,
    pub period: Period,
    /// every metric, in the order of `Metric::ALL`
    pub metrics: Vec<(Metric, Figure)>,
    /// Regulation 18 participation by official group, in the order of `OfficialGroup::ALL`
    pub reg18_by_group: Vec<(OfficialGroup, Figure)>,
    pub children: Vec<ChildReport>,
    /// The month in progress, when the period holds it: it does not count for `meeting_regularity` until it has
    /// ended (DOMAIN.md §5), and is shown as progress instead.
    pub progress: Option<Progress>,
    /// The months the reporting metrics count (DOMAIN.md §10), or why none.
    pub reporting: Reporting,
}

/// How far the month in progress is: cells that have held a regular meeting in it so far, of the cells open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub month: NaiveDate,
    pub met: i64,
    pub open: i64,
}

#[derive(Debug, Clone)]
pub struct ChildReport {
    pub unit: Unit,
    pub metrics: Vec<(Metric, Figure)>,
    /// When the unit was a child here for part of the period only (it moved in or out, opened or closed): the
    /// first month it counts from, if after the period's start, and the last, if before the period's end. Its
    /// figures count only those months.
    pub covers: Option<(Option<NaiveDate>, Option<NaiveDate>)>,
}

impl Report {
    pub fn figure(&self, metric: Metric) -> Figure {
        find(&self.metrics, metric)
    }

    /// Whether a programme sets a target for any of the unit's metrics over the period.
    pub fn has_targets(&self) -> bool {
        self.metrics.iter().any(|(_, f)| f.target.is_some())
    }
}

impl ChildReport {
    pub fn figure(&self, metric: Metric) -> Figure {
        find(&self.metrics, metric)
    }
}

fn find(list: &[(Metric, Figure)], metric: Metric) -> Figure {
    list.iter().find(|(k, _)| *k == metric).map(|(_, f)| *f).unwrap_or_else(|| Figure::new(0, 0, None))
}

/// What the `metric` column of the annual stores (`cell_year_stats`, `unit_year_rollup`) holds: a metric's code
/// (`cells_good_or_better`), or `reg18:<official group>`. A code that is neither is a decode error, never dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoredMetric {
    Metric(Metric),
    Reg18(OfficialGroup),
}

impl StoredMetric {
    pub fn parse(s: &str) -> Option<StoredMetric> {
        match s.strip_prefix("reg18:") {
            Some(group) => OfficialGroup::parse(group).map(StoredMetric::Reg18),
            None => Metric::parse(s).map(StoredMetric::Metric),
        }
    }
}

impl Type<Postgres> for StoredMetric {
    fn type_info() -> PgTypeInfo {
        <&str as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <&str as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for StoredMetric {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        let code = <&str as Decode<Postgres>>::decode(value)?;
        Ok(StoredMetric::parse(code).ok_or_else(|| UnknownCode { of: "StoredMetric", code: code.to_string() })?)
    }
}

/// (numerator, denominator) per metric, for the unit (`None`) and each child (`Some(id)`); and the unit's
/// Regulation 18 sums by official group.
#[derive(Default)]
struct Sums {
    metrics: HashMap<Option<i64>, HashMap<Metric, (i64, i64)>>,
    groups: HashMap<OfficialGroup, (i64, i64)>,
}

impl Sums {
    fn add(&mut self, who: Option<i64>, metric: Metric, num: i64, den: i64) {
        let e = self.metrics.entry(who).or_default().entry(metric).or_default();
        e.0 += num;
        e.1 += den;
    }
}

/// (is the total, child (0: a cell's own row), numerator, denominator)
pub type Row = (bool, Option<i64>, i64, i64);

/// Adds rows of (is the total, child, numerator, denominator) under `metric`.
fn collect(sums: &mut Sums, metric: Metric, rows: Vec<Row>) {
    for (total, child, num, den) in rows {
        sums.add(if total { None } else { child.or(Some(0)) }, metric, num, den);
    }
}

/// Months after `today`'s have not happened: a period is counted up to that month at most.
fn clamp(period: Period, today: NaiveDate) -> Period {
    let now = time::month_start(today);
    Period { from: period.from, to: period.to.min(now).max(period.from) }
}

/// The report of `unit` for the months `asked`, as of `today` (the month in progress and those after it do not
/// count as ended).
pub async fn report(pool: &PgPool, unit: Unit, asked: Period, today: NaiveDate) -> sqlx::Result<Report> {
    let period = clamp(asked, today);
    let u = unit.id;
    // a month (a quarter) counts for regularity (thematic coverage) only once it has ended
    let current = time::month_start(today);
    let mut sums = Sums::default();

    // monthly: attendance, good meetings, regularity (child 0 is a cell's own row); and the reporting metrics over
    // the cell-months open from `reporting_since` whose deadline has passed on `today` (the rules' SQL form,
    // migration 0013, in the same round trip: their Rust form decides `Report::reporting` from the settings read here)
    let monthly = sqlx::query!(
        r#"with w as materialized (
            select s.since, s.day, case when s.since is not null then greatest($2::date, s.since) end as first,
                   least($3::date, last_due_month($5, s.day)) as last
            from (select reporting_since() as since, report_deadline_day() as day) s)
         select grouping(child_id) = 1 as "total!", child_id as "child_id?",
                coalesce(sum(present), 0)::bigint as "present!", coalesce(sum(expected), 0)::bigint as "expected!",
                coalesce(sum(good), 0)::bigint as "good!", coalesce(sum(rated), 0)::bigint as "rated!",
                coalesce(sum(regular_cells) filter (where month < $4), 0)::bigint as "regular!",
                coalesce(sum(open_cells) filter (where month < $4), 0)::bigint as "open!",
                coalesce(sum(open_cells) filter (where month between w.first and w.last), 0)::bigint as "due!",
                coalesce(sum(submitted) filter (where month between w.first and w.last), 0)::bigint as "submitted!",
                coalesce(sum(on_time) filter (where month between w.first and w.last), 0)::bigint as "on_time!",
                coalesce(sum(approved) filter (where month between w.first and w.last), 0)::bigint as "approved!",
                coalesce(sum(long_meetings), 0)::bigint as "long!", coalesce(sum(timed_meetings), 0)::bigint as "timed!",
                coalesce(sum(online), 0)::bigint as "online!", coalesce(sum(present_listed), 0)::bigint as "listed!",
                min(month) as "first?", max(month) as "last?",
                (select since from w) as "since?", (select day from w) as "deadline_day!"
         from unit_month_rollup cross join w where unit_id = $1 and month between $2 and $3
         group by grouping sets ((child_id), ())"#,
        u,
        period.from,
        period.to,
        current,
        today,
    )
    .fetch_all(pool)
    .await?;
    let mut covers = HashMap::new();
    let mut settings = Settings::default();
    for r in monthly {
        let who = if r.total { None } else { r.child_id };
        // the total row of a unit with no month in the period (closed, or not yet open) has no first or last month
        if let (Some(child), Some(first), Some(last)) = (who, r.first, r.last)
            && (first, last) != (period.from, period.to)
        {
            covers.insert(child, ((first > period.from).then_some(first), (last < period.to).then_some(last)));
        }
        settings = Settings { reporting_since: r.since, report_deadline_day: r.deadline_day as u32 };
        sums.add(who, Metric::AttendanceRate, r.present, r.expected);
        sums.add(who, Metric::GoodMeetingShare, r.good, r.rated);
        sums.add(who, Metric::MeetingRegularity, r.regular, r.open);
        sums.add(who, Metric::ReportingCompleteness, r.submitted, r.due);
        sums.add(who, Metric::ReportingTimeliness, r.on_time, r.due);
        sums.add(who, Metric::ReportsApproved, r.approved, r.due);
        sums.add(who, Metric::DurationCompliance, r.long, r.timed);
        sums.add(who, Metric::OnlineShare, r.online, r.listed);
    }

    let ended = Period { from: period.from, to: period.to.min(add_months(current, -1)) };
    if let Some((q1, q_last)) = (ended.to >= ended.from).then(|| ended.whole_quarters()).flatten() {
        let rows = sqlx::query!(
            r#"select grouping(child_id) = 1 as "total!", child_id as "child_id?",
                    coalesce(sum(thematic_cells), 0)::bigint as "num!", coalesce(sum(open_cells), 0)::bigint as "den!"
             from unit_quarter_rollup where unit_id = $1 and quarter between $2 and $3
             group by grouping sets ((child_id), ())"#,
            u,
            q1,
            q_last,
        )
        .fetch_all(pool)
        .await?;
        collect(
            &mut sums,
            Metric::ThematicCoverage,
            rows.into_iter().map(|r| (r.total, r.child_id, r.num, r.den)).collect(),
        );
    }

    if let Some((y1, y2)) = period.whole_years() {
        let rows = sqlx::query!(
            r#"select grouping(child_id) = 1 as "total!", child_id as "child_id?", metric as "metric: StoredMetric",
                    sum(num)::bigint as "num!", sum(den)::bigint as "den!"
             from unit_year_rollup where unit_id = $1 and year between $2 and $3
             group by grouping sets ((metric, child_id), (metric))"#,
            u,
            y1 as i16,
            y2 as i16,
        )
        .fetch_all(pool)
        .await?;
        for r in rows {
            let who = if r.total { None } else { r.child_id };
            match r.metric {
                StoredMetric::Reg18(group) => {
                    sums.add(who, Metric::Reg18Participation, r.num, r.den);
                    if who.is_none() {
                        let e = sums.groups.entry(group).or_default();
                        e.0 += r.num;
                        e.1 += r.den;
                    }
                }
                StoredMetric::Metric(metric) => sums.add(who, metric, r.num, r.den),
            }
        }
    }

    // point in time: the secretaries of the cells open on the period's last day (or today, if earlier)
    let day = period.end_day().min(today);
    collect(&mut sums, Metric::SecretariesTrained, secretaries_trained(pool, u, day).await?);

    let mut report = build(pool, unit, asked, period, sums).await?;
    report.reporting = Reporting::of(&settings, period, today);
    for c in &mut report.children {
        c.covers = covers.get(&c.unit.id).copied();
    }
    if period.to == current && period.from <= current {
        let p = sqlx::query!(
            r#"select coalesce(sum(regular_cells), 0)::bigint as "met!", coalesce(sum(open_cells), 0)::bigint as "open!"
             from unit_month_rollup where unit_id = $1 and month = $2"#,
            u,
            current,
        )
        .fetch_one(pool)
        .await?;
        report.progress = Some(Progress { month: current, met: p.met, open: p.open });
    }
    Ok(report)
}

/// `secretaries_trained` on `day` for a unit and its children: the counts on the month's first day from the rollups,
/// plus the cells whose status changed between that day and `day`. When a unit moved in between, places differ
/// from the month's, and the live computation answers instead.
pub async fn secretaries_trained(pool: &PgPool, unit_id: i64, day: NaiveDate) -> sqlx::Result<Vec<Row>> {
    let first = time::month_start(day);
    let moved = sqlx::query_scalar!(
        r#"select exists(select 1 from unit_moves where effective_on > $1 and effective_on <= $2) as "moved!""#,
        first,
        day,
    )
    .fetch_one(pool)
    .await?;
    if moved {
        return secretaries_trained_live(pool, unit_id, day).await;
    }
    let rows = sqlx::query!(
        r#"with changed as (
            select cell_id from positions where position = 'secretary'
               and ((valid_from > $2 and valid_from <= $3) or (valid_to >= $2 and valid_to < $3))
            union
            select s.cell_id from trainings t join positions s on s.member_id = t.member_id and s.position = 'secretary'
            where t.trained_on > $2 and t.trained_on <= $3
            union
            select id from units where kind = 'cell'
               and ((valid_from > $2 and valid_from <= $3) or (valid_to >= $2 and valid_to < $3))),
         status as (
            select p.ancestors[array_position(p.ancestors, $1) + 1] as child, d.sign, st.has, st.trained
            from changed c join cell_places p on p.cell_id = c.cell_id and p.period = 'month' and p.starts_on = $2
            cross join (values ($2::date, -1), ($3::date, 1)) d(day, sign)
            cross join lateral (
                select count(s.member_id)::int as has,
                       (count(s.member_id) filter (where exists(select 1 from trainings t
                                                  where t.member_id = s.member_id and t.trained_on <= d.day)))::int as trained
                from units u
                left join positions s on s.cell_id = u.id and s.position = 'secretary'
                                     and is_open(s.valid_from, s.valid_to, d.day)
                where u.id = c.cell_id and is_open(u.valid_from, u.valid_to, d.day)) st
            where p.ancestors @> array[$1::bigint])
         select grouping(child_id) = 1 as "total!", child_id as "child_id?",
                coalesce(sum(trained), 0)::bigint as "num!", coalesce(sum(secretaries), 0)::bigint as "den!"
         from (select child_id, trained, secretaries from unit_month_rollup where unit_id = $1 and month = $2
               union all
               select coalesce(child, 0), sign * trained, sign * has from status) r
         group by grouping sets ((child_id), ())"#,
        unit_id,
        first,
        day,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.total, r.child_id, r.num, r.den)).collect())
}

/// `secretaries_trained` on `day` from the raw rows, each cell on its chain of that very day: the fallback of
/// `secretaries_trained`, and what the tests hold it to.
pub async fn secretaries_trained_live(pool: &PgPool, unit_id: i64, day: NaiveDate) -> sqlx::Result<Vec<Row>> {
    let rows = sqlx::query!(
        r#"with recursive chain(cell_id, unit_id, depth) as (
            select c.id, c.id, 0 from units c
            where c.kind = 'cell' and is_open(c.valid_from, c.valid_to, $2)
            union all
            select ch.cell_id, p.parent_id, ch.depth + 1
            from chain ch join unit_parent_periods p on p.unit_id = ch.unit_id and is_open(p.start_on, p.end_on, $2)
            where p.parent_id is not null and ch.depth < 32),
         cells as (
            select cell_id as id, array_agg(unit_id order by depth desc) as ancestors from chain group by cell_id),
         secretaries as (
            select cells.ancestors[array_position(cells.ancestors, $1) + 1] as child,
                   exists(select 1 from trainings t where t.member_id = s.member_id and t.trained_on <= $2) as trained
            from cells join positions s on s.cell_id = cells.id and s.position = 'secretary'
                 and is_open(s.valid_from, s.valid_to, $2)
            where cells.ancestors @> array[$1::bigint])
         select grouping(child) = 1 as "total!", case when grouping(child) = 0 then coalesce(child, 0) end as "child?",
                (count(*) filter (where trained))::bigint as "num!", count(*)::bigint as "den!"
         from secretaries group by grouping sets ((child), ())"#,
        unit_id,
        day,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.total, r.child, r.num, r.den)).collect())
}

/// Targets of the programme that covers `month`: a unit's own override, else the default.
async fn targets(pool: &PgPool, unit_ids: &[i64], month: NaiveDate) -> sqlx::Result<HashMap<(i64, Metric), f64>> {
    let rows = sqlx::query!(
        r#"select t.unit_id, t.metric as "metric: Metric", t.target::float8 as "target!"
         from programme_targets t join programmes p on p.id = t.programme_id
         where p.from_month <= $2 and p.to_month >= $2 and (t.unit_id is null or t.unit_id = any($1))
         order by p.from_month desc"#,
        unit_ids,
        month,
    )
    .fetch_all(pool)
    .await?;
    let mut out = HashMap::new();
    for id in unit_ids {
        for r in rows.iter().filter(|r| r.unit_id.is_none()) {
            out.entry((*id, r.metric)).or_insert(r.target);
        }
    }
    for r in &rows {
        if let Some(unit) = r.unit_id {
            out.insert((unit, r.metric), r.target);
        }
    }
    Ok(out)
}

/// The report from its sums: figures with their targets, children by name. `period` is `asked` as counted.
async fn build(pool: &PgPool, unit: Unit, asked: Period, period: Period, mut sums: Sums) -> sqlx::Result<Report> {
    let child_ids: Vec<i64> = sums.metrics.keys().filter_map(|k| *k).filter(|id| *id != 0).collect();
    let mut ids = child_ids.clone();
    ids.push(unit.id);
    let targets = targets(pool, &ids, period.to).await?;
    let figures = |id: i64, s: &HashMap<Metric, (i64, i64)>| -> Vec<(Metric, Figure)> {
        Metric::ALL
            .iter()
            .map(|m| {
                let (n, d) = s.get(m).copied().unwrap_or_default();
                (*m, Figure::new(n, d, targets.get(&(id, *m)).copied()))
            })
            .collect()
    };
    let own = sums.metrics.remove(&None).unwrap_or_default();
    let metrics = figures(unit.id, &own);
    let reg18_by_group = OfficialGroup::ALL
        .iter()
        .map(|g| {
            let (n, d) = sums.groups.get(g).copied().unwrap_or_default();
            (*g, Figure::new(n, d, None))
        })
        .collect();
    let mut children = Vec::new();
    let found: BTreeMap<i64, Unit> = units::by_ids(pool, &child_ids).await?.into_iter().map(|u| (u.id, u)).collect();
    for (id, child) in found {
        let s = sums.metrics.remove(&Some(id)).unwrap_or_default();
        children.push(ChildReport { metrics: figures(id, &s), unit: child, covers: None });
    }
    children.sort_by(|a, b| a.unit.name.cmp(&b.unit.name));
    Ok(Report {
        unit,
        period: asked,
        metrics,
        reg18_by_group,
        children,
        progress: None,
        reporting: Reporting::NotRequired,
    })
}

/// One month of a unit's history: the monthly metrics and the ratings of its regular meetings.
#[derive(Debug, Clone)]
pub struct MonthFigures {
    pub month: NaiveDate,
    pub attendance_rate: Figure,
    pub good_meeting_share: Figure,
    pub meeting_regularity: Figure,
    /// good, fair, average, weak
    pub ratings: [i64; 4],
}

/// The monthly trend of a unit over a period (each month on the structure as it stood then), as of `today`.
pub async fn monthly(pool: &PgPool, unit_id: i64, asked: Period, today: NaiveDate) -> sqlx::Result<Vec<MonthFigures>> {
    let period = clamp(asked, today);
    let rows = sqlx::query!(
        r#"select month, sum(present)::bigint as "present!", sum(expected)::bigint as "expected!",
                sum(rated)::bigint as "rated!", sum(good)::bigint as "good!", sum(fair)::bigint as "fair!",
                sum(average)::bigint as "average!", sum(weak)::bigint as "weak!",
                sum(regular_cells)::bigint as "regular!", sum(open_cells)::bigint as "open!"
         from unit_month_rollup where unit_id = $1 and month between $2 and $3
         group by month order by month"#,
        unit_id,
        period.from,
        period.to,
    )
    .fetch_all(pool)
    .await?;
    let targets = targets(pool, &[unit_id], period.to).await?;
    let target = |m: Metric| targets.get(&(unit_id, m)).copied();
    let current = time::month_start(today);
    Ok(rows
        .into_iter()
        .map(|r| MonthFigures {
            month: r.month,
            attendance_rate: Figure::new(r.present, r.expected, target(Metric::AttendanceRate)),
            good_meeting_share: Figure::new(r.good, r.rated, target(Metric::GoodMeetingShare)),
            // the month in progress is not a miss: no point on the trend until it has ended
            meeting_regularity: if r.month < current {
                Figure::new(r.regular, r.open, target(Metric::MeetingRegularity))
            } else {
                Figure::new(0, 0, target(Metric::MeetingRegularity))
            },
            ratings: [r.good, r.fair, r.average, r.weak],
        })
        .collect())
}

/// Whether some open cell's places stop before December of next year, the horizon a full rebuild gives every cell
/// (`refresh_cell_places()`); a structure edit (migration 0019) extends only the cells it concerns. Probes each open
/// cell's last month by the primary key, stopping at the first one short.
pub async fn places_short(pool: &PgPool) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (
               select 1 from units c
               where c.kind = 'cell' and c.valid_to is null
                 and not exists (select 1 from cell_places p
                                 where p.cell_id = c.id and p.period = 'month'
                                   and p.starts_on = (date_trunc('year', current_date)
                                                      + interval '1 year 11 months')::date)) as "short!""#
    )
    .fetch_one(pool)
    .await
}

/// Once a year (the first day some cell's places fall short of next December): every store rebuilt, so that the
/// new year's months have their places. True if it rebuilt.
pub async fn extend_places(pool: &PgPool) -> sqlx::Result<bool> {
    if !places_short(pool).await? {
        return Ok(false);
    }
    sqlx::query!("select rebuild_metric_stores()").execute(pool).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::StoredMetric;
    use crate::domain::vocab::{Metric, OfficialGroup};

    #[test]
    fn stored_metric_codes_parse_to_a_metric_or_a_group() {
        assert_eq!(StoredMetric::parse("cells_good_or_better"), Some(StoredMetric::Metric(Metric::CellsGoodOrBetter)));
        assert_eq!(
            StoredMetric::parse("reg18:advisory_staff"),
            Some(StoredMetric::Reg18(OfficialGroup::AdvisoryStaff))
        );
        assert_eq!(StoredMetric::parse("reg18:nobody"), None, "an unknown group is no group");
        assert_eq!(StoredMetric::parse("reg18_participation:x"), None);
        assert_eq!(StoredMetric::parse("advisory_staff"), None);
    }
}
