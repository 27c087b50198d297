//! The metric engine: DOMAIN.md §5 for any unit and period, on the structure as it stood in each month and year.
//! Reads the rollups of migration 0004 (per unit, child and month, quarter or year), so that a dashboard reads
//! rows in proportion to the units it shows, not to the cells under it or to the history; only the point-in-time
//! figure (secretaries trained) reads one row per cell, for one month. The dashboard, its exports, the JSON API and
//! `chibo report` all call `report()`; none computes a figure of its own.
use chrono::NaiveDate;
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};

use crate::db::units::{self, Unit};
use crate::domain::metrics::{Figure, METRICS, OFFICIAL_GROUPS, Period};
use crate::domain::time;

/// A unit's figures for a period, with its direct children's (each only for the months it was one).
#[derive(Debug, Clone)]
pub struct Report {
    pub unit: Unit,
    pub period: Period,
    pub metrics: Vec<(&'static str, Figure)>,
    pub reg18_by_group: Vec<(&'static str, Figure)>,
    pub children: Vec<ChildReport>,
    /// The month in progress, when the period holds it: it does not count for `meeting_regularity` until it has
    /// ended (DOMAIN.md §5), and is shown as progress instead.
    pub progress: Option<Progress>,
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
    pub metrics: Vec<(&'static str, Figure)>,
    /// When the unit was a child here for part of the period only (it moved in or out, opened or closed): the
    /// first month it counts from, if after the period's start, and the last, if before the period's end. Its
    /// figures count only those months.
    pub covers: Option<(Option<NaiveDate>, Option<NaiveDate>)>,
}

impl Report {
    pub fn figure(&self, key: &str) -> Figure {
        find(&self.metrics, key)
    }

    /// Whether a programme sets a target for any of the unit's metrics over the period.
    pub fn has_targets(&self) -> bool {
        self.metrics.iter().any(|(_, f)| f.target.is_some())
    }
}

impl ChildReport {
    pub fn figure(&self, key: &str) -> Figure {
        find(&self.metrics, key)
    }
}

fn find(list: &[(&'static str, Figure)], key: &str) -> Figure {
    list.iter().find(|(k, _)| *k == key).map(|(_, f)| *f).unwrap_or_else(|| Figure::new(0, 0, None))
}

/// (numerator, denominator) per metric key, for the unit (`None`) and each child (`Some(id)`).
#[derive(Default)]
struct Sums(HashMap<Option<i64>, HashMap<&'static str, (i64, i64)>>);

impl Sums {
    fn add(&mut self, who: Option<i64>, key: &'static str, num: i64, den: i64) {
        let e = self.0.entry(who).or_default().entry(key).or_default();
        e.0 += num;
        e.1 += den;
    }
}

/// (is the total, child (0: a cell's own row), numerator, denominator)
pub type Row = (bool, Option<i64>, i64, i64);
/// (is the total, child, present, expected, good, rated, months with a regular meeting, open months, first and last
/// month with a row)
type MonthlyRow = (bool, Option<i64>, i64, i64, i64, i64, i64, i64, NaiveDate, NaiveDate);

/// Adds rows of (is the total, child, numerator, denominator) under `key`.
fn collect(sums: &mut Sums, key: &'static str, rows: Vec<Row>) {
    for (total, child, num, den) in rows {
        sums.add(if total { None } else { child.or(Some(0)) }, key, num, den);
    }
}

/// Months after the current one have not happened: a period is counted up to this month at most.
fn clamp(period: Period) -> Period {
    let now = time::month_start(time::today());
    Period { from: period.from, to: period.to.min(now).max(period.from) }
}

pub async fn report(pool: &PgPool, unit: Unit, asked: Period) -> sqlx::Result<Report> {
    let period = clamp(asked);
    let u = unit.id;
    // a month (a quarter) counts for regularity (thematic coverage) only once it has ended
    let current = time::month_start(time::today());
    let mut sums = Sums::default();

    // monthly: attendance, good meetings, regularity (child 0 is a cell's own row)
    let monthly: Vec<MonthlyRow> = sqlx::query_as(
        "select grouping(child_id) = 1, child_id,
                coalesce(sum(present), 0)::bigint, coalesce(sum(expected), 0)::bigint,
                coalesce(sum(good), 0)::bigint, coalesce(sum(rated), 0)::bigint,
                coalesce(sum(regular_cells) filter (where month < $4), 0)::bigint,
                coalesce(sum(open_cells) filter (where month < $4), 0)::bigint, min(month), max(month)
         from unit_month_rollup where unit_id = $1 and month between $2 and $3
         group by grouping sets ((child_id), ())",
    )
    .bind(u)
    .bind(period.from)
    .bind(period.to)
    .bind(current)
    .fetch_all(pool)
    .await?;
    let mut covers = HashMap::new();
    for (total, child, present, expected, good, rated, regular, open, first, last) in monthly {
        let who = if total { None } else { child };
        if let (Some(child), false) = (who, first == period.from && last == period.to) {
            covers.insert(child, ((first > period.from).then_some(first), (last < period.to).then_some(last)));
        }
        sums.add(who, "attendance_rate", present, expected);
        sums.add(who, "good_meeting_share", good, rated);
        sums.add(who, "meeting_regularity", regular, open);
    }

    let ended = Period { from: period.from, to: period.to.min(crate::domain::metrics::add_months(current, -1)) };
    if let Some((q1, q_last)) = (ended.to >= ended.from).then(|| ended.whole_quarters()).flatten() {
        let rows: Vec<Row> = sqlx::query_as(
            "select grouping(child_id) = 1, child_id,
                    coalesce(sum(thematic_cells), 0)::bigint, coalesce(sum(open_cells), 0)::bigint
             from unit_quarter_rollup where unit_id = $1 and quarter between $2 and $3
             group by grouping sets ((child_id), ())",
        )
        .bind(u)
        .bind(q1)
        .bind(q_last)
        .fetch_all(pool)
        .await?;
        collect(&mut sums, "thematic_coverage", rows);
    }

    if let Some((y1, y2)) = period.whole_years() {
        // (is the total over children, child, metric, numerator, denominator)
        let rows: Vec<(bool, Option<i64>, String, i64, i64)> = sqlx::query_as(
            "select grouping(child_id) = 1, child_id, metric, sum(num)::bigint, sum(den)::bigint
             from unit_year_rollup where unit_id = $1 and year between $2 and $3
             group by grouping sets ((metric, child_id), (metric))",
        )
        .bind(u)
        .bind(y1 as i16)
        .bind(y2 as i16)
        .fetch_all(pool)
        .await?;
        for (total, child, metric, num, den) in rows {
            let who = if total { None } else { child };
            if let Some(group) = metric.strip_prefix("reg18:") {
                sums.add(who, "reg18_participation", num, den);
                if let (None, Some(g)) = (who, OFFICIAL_GROUPS.iter().find(|g| **g == group)) {
                    sums.add(None, group_key(g), num, den);
                }
            } else if let Some(key) = METRICS.iter().find(|k| **k == metric) {
                sums.add(who, key, num, den);
            }
        }
    }

    // point in time: the secretaries of the cells open on the period's last day (or today, if earlier)
    let day = period.end_day().min(time::today());
    collect(&mut sums, "secretaries_trained", secretaries_trained(pool, u, day).await?);

    let mut report = build(pool, unit, asked, sums).await?;
    for c in &mut report.children {
        c.covers = covers.get(&c.unit.id).copied();
    }
    if period.to == current && period.from <= current {
        let (met, open): (i64, i64) = sqlx::query_as(
            "select coalesce(sum(regular_cells), 0)::bigint, coalesce(sum(open_cells), 0)::bigint
             from unit_month_rollup where unit_id = $1 and month = $2",
        )
        .bind(u)
        .bind(current)
        .fetch_one(pool)
        .await?;
        report.progress = Some(Progress { month: current, met, open });
    }
    Ok(report)
}

/// `secretaries_trained` on `day` for a unit and its children: the counts on the month's first day from the rollups,
/// plus the cells whose status changed between that day and `day`. When a unit moved in between, places differ
/// from the month's, and the live computation answers instead.
pub async fn secretaries_trained(pool: &PgPool, unit_id: i64, day: NaiveDate) -> sqlx::Result<Vec<Row>> {
    let first = time::month_start(day);
    let moved: bool =
        sqlx::query_scalar("select exists(select 1 from unit_moves where effective_on > $1 and effective_on <= $2)")
            .bind(first)
            .bind(day)
            .fetch_one(pool)
            .await?;
    if moved {
        return secretaries_trained_live(pool, unit_id, day).await;
    }
    sqlx::query_as(
        "with changed as (
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
         select grouping(child_id) = 1, child_id, coalesce(sum(trained), 0)::bigint, coalesce(sum(secretaries), 0)::bigint
         from (select child_id, trained, secretaries from unit_month_rollup where unit_id = $1 and month = $2
               union all
               select coalesce(child, 0), sign * trained, sign * has from status) r
         group by grouping sets ((child_id), ())",
    )
    .bind(unit_id)
    .bind(first)
    .bind(day)
    .fetch_all(pool)
    .await
}

/// `secretaries_trained` on `day` from the raw rows, each cell on its chain of that very day: the fallback of
/// `secretaries_trained`, and what the tests hold it to.
pub async fn secretaries_trained_live(pool: &PgPool, unit_id: i64, day: NaiveDate) -> sqlx::Result<Vec<Row>> {
    sqlx::query_as(
        "with recursive chain(cell_id, unit_id, depth) as (
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
         select grouping(child) = 1, case when grouping(child) = 0 then coalesce(child, 0) end,
                (count(*) filter (where trained))::bigint, count(*)::bigint
         from secretaries group by grouping sets ((child), ())",
    )
    .bind(unit_id)
    .bind(day)
    .fetch_all(pool)
    .await
}

/// The reg18 key of one official group, kept apart from the metric keys.
fn group_key(group: &'static str) -> &'static str {
    match group {
        "provincial_standing" => "reg18:provincial_standing",
        "provincial_committee" => "reg18:provincial_committee",
        "district_standing" => "reg18:district_standing",
        "district_committee" => "reg18:district_committee",
        "advisory_staff" => "reg18:advisory_staff",
        _ => "reg18:grassroots_committee",
    }
}

/// Targets of the programme that covers the period's last month: a unit's own override, else the default.
async fn targets(pool: &PgPool, unit_ids: &[i64], month: NaiveDate) -> sqlx::Result<HashMap<(i64, String), f64>> {
    let rows: Vec<(Option<i64>, String, f64)> = sqlx::query_as(
        "select t.unit_id, t.metric, t.target::float8 from programme_targets t join programmes p on p.id = t.programme_id
         where p.from_month <= $2 and p.to_month >= $2 and (t.unit_id is null or t.unit_id = any($1))
         order by p.from_month desc",
    )
    .bind(unit_ids)
    .bind(month)
    .fetch_all(pool)
    .await?;
    let mut out = HashMap::new();
    for id in unit_ids {
        for (unit, metric, target) in &rows {
            if unit.is_none() {
                out.entry((*id, metric.clone())).or_insert(*target);
            }
        }
    }
    for (unit, metric, target) in rows.into_iter().filter(|(u, _, _)| u.is_some()) {
        out.insert((unit.expect("filtered"), metric), target);
    }
    Ok(out)
}

async fn build(pool: &PgPool, unit: Unit, period: Period, mut sums: Sums) -> sqlx::Result<Report> {
    let child_ids: Vec<i64> = sums.0.keys().filter_map(|k| *k).filter(|id| *id != 0).collect();
    let mut ids = child_ids.clone();
    ids.push(unit.id);
    let targets = targets(pool, &ids, clamp(period).to).await?;
    let figures = |id: i64, s: &HashMap<&'static str, (i64, i64)>| -> Vec<(&'static str, Figure)> {
        METRICS
            .iter()
            .map(|k| {
                let (n, d) = s.get(k).copied().unwrap_or_default();
                (*k, Figure::new(n, d, targets.get(&(id, k.to_string())).copied()))
            })
            .collect()
    };
    let own = sums.0.remove(&None).unwrap_or_default();
    let metrics = figures(unit.id, &own);
    let reg18_by_group = OFFICIAL_GROUPS
        .iter()
        .map(|g| {
            let (n, d) = own.get(group_key(g)).copied().unwrap_or_default();
            (*g, Figure::new(n, d, None))
        })
        .collect();
    let mut children = Vec::new();
    let found: BTreeMap<i64, Unit> = units::by_ids(pool, &child_ids).await?.into_iter().map(|u| (u.id, u)).collect();
    for (id, child) in found {
        let s = sums.0.remove(&Some(id)).unwrap_or_default();
        children.push(ChildReport { metrics: figures(id, &s), unit: child, covers: None });
    }
    children.sort_by(|a, b| a.unit.name.cmp(&b.unit.name));
    Ok(Report { unit, period, metrics, reg18_by_group, children, progress: None })
}

fn figure_json(f: &Figure) -> serde_json::Value {
    serde_json::to_value(f).expect("a figure serializes")
}

fn metrics_json(list: &[(&'static str, Figure)]) -> serde_json::Value {
    serde_json::Value::Object(list.iter().map(|(k, f)| (k.to_string(), figure_json(f))).collect())
}

impl Report {
    /// The report contract of DOMAIN.md §9.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "unit": self.unit.code,
            "from": self.period.from_label(),
            "to": self.period.to_label(),
            "metrics": metrics_json(&self.metrics),
            "reg18_by_group": metrics_json(&self.reg18_by_group),
            "children": self.children.iter().map(|c| serde_json::json!({
                "unit": c.unit.code,
                "name": c.unit.name,
                "metrics": metrics_json(&c.metrics),
            })).collect::<Vec<_>>(),
        })
    }

    /// The same as a table: one row per unit and metric (the unit first, then its children), plus the unit's
    /// Regulation 18 groups as `reg18_participation.<group>`.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("unit,name,metric,numerator,denominator,value,target,met\n");
        let mut row = |unit: &Unit, key: &str, f: &Figure| {
            let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{}\n",
                csv_field(&unit.code),
                csv_field(&unit.name),
                key,
                f.numerator,
                f.denominator,
                opt(f.value),
                opt(f.target),
                f.met.map(|m| m.to_string()).unwrap_or_default()
            ));
        };
        for (k, f) in &self.metrics {
            row(&self.unit, k, f);
        }
        for (g, f) in &self.reg18_by_group {
            row(&self.unit, &format!("reg18_participation.{g}"), f);
        }
        for c in &self.children {
            for (k, f) in &c.metrics {
                row(&c.unit, k, f);
            }
        }
        out
    }
}

/// A text field of a CSV file made for people (opened in a spreadsheet), quoted when it holds a comma, quote or line
/// break. A text that a spreadsheet would take for a formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage
/// return) gets a leading `'`, which spreadsheets show as text and do not run: a unit renamed
/// `=HYPERLINK("http://…")` stays a name. The import bundle (`chibo export`) does not do this: it is data for chibo,
/// written back byte for byte on import, and a name starting with `-` is a name there.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
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

/// (month, present, expected, rated, good, fair, average, weak, cells with a regular meeting, open cells)
type MonthRow = (NaiveDate, i64, i64, i64, i64, i64, i64, i64, i64, i64);

/// The monthly trend of a unit over a period (each month on the structure as it stood then).
pub async fn monthly(pool: &PgPool, unit_id: i64, asked: Period) -> sqlx::Result<Vec<MonthFigures>> {
    let period = clamp(asked);
    let rows: Vec<MonthRow> = sqlx::query_as(
        "select month, sum(present)::bigint, sum(expected)::bigint, sum(rated)::bigint, sum(good)::bigint,
                sum(fair)::bigint, sum(average)::bigint, sum(weak)::bigint, sum(regular_cells)::bigint,
                sum(open_cells)::bigint
         from unit_month_rollup where unit_id = $1 and month between $2 and $3
         group by month order by month",
    )
    .bind(unit_id)
    .bind(period.from)
    .bind(period.to)
    .fetch_all(pool)
    .await?;
    let targets = targets(pool, &[unit_id], period.to).await?;
    let target = |k: &str| targets.get(&(unit_id, k.to_string())).copied();
    Ok(rows
        .into_iter()
        .map(|(month, present, expected, rated, g, f, a, w, regular, open)| MonthFigures {
            month,
            attendance_rate: Figure::new(present, expected, target("attendance_rate")),
            good_meeting_share: Figure::new(g, rated, target("good_meeting_share")),
            // the month in progress is not a miss: no point on the trend until it has ended
            meeting_regularity: if month < time::month_start(time::today()) {
                Figure::new(regular, open, target("meeting_regularity"))
            } else {
                Figure::new(0, 0, target("meeting_regularity"))
            },
            ratings: [g, f, a, w],
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn a_text_a_spreadsheet_would_run_is_written_as_text() {
        assert_eq!(csv_field("=1+2"), "'=1+2");
        assert_eq!(csv_field("+84 912"), "'+84 912");
        assert_eq!(csv_field("-2"), "'-2");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("\tx"), "'\tx");
        assert_eq!(csv_field("\rx"), "\"'\rx\"");
        assert_eq!(csv_field(r#"=HYPERLINK("http://e.example","x")"#), r#""'=HYPERLINK(""http://e.example"",""x"")""#);
        assert_eq!(csv_field("Chi bộ thôn Khuổi Trang"), "Chi bộ thôn Khuổi Trang");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
    }
}
