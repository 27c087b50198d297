//! The metric engine: DOMAIN.md §5 for any unit and period, on the structure as it stood in each month and year.
//! Reads the stores of migration 0003 (cell places and cell-month sums), so that a dashboard reads rows in
//! proportion to the cells under the unit, not to the history. The dashboard, its exports, the JSON API and
//! `chibo report` all call `report()`; none computes a figure of its own.
use chrono::NaiveDate;
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};

use crate::db::units::{self, Unit};
use crate::domain::metrics::{Figure, METRICS, OFFICIAL_GROUPS, Period, add_months};
use crate::domain::time;

/// A unit's figures for a period, with its direct children's (each only for the months it was one).
#[derive(Debug, Clone)]
pub struct Report {
    pub unit: Unit,
    pub period: Period,
    pub metrics: Vec<(&'static str, Figure)>,
    pub reg18_by_group: Vec<(&'static str, Figure)>,
    pub children: Vec<ChildReport>,
}

#[derive(Debug, Clone)]
pub struct ChildReport {
    pub unit: Unit,
    pub metrics: Vec<(&'static str, Figure)>,
}

impl Report {
    pub fn figure(&self, key: &str) -> Figure {
        find(&self.metrics, key)
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

type Row = (bool, Option<i64>, i64, i64);
/// (is the total, child, present, expected, good, rated, months with a regular meeting, open months)
type MonthlyRow = (bool, Option<i64>, i64, i64, i64, i64, i64, i64);
/// (is the total over children, is the total over groups, child, group, attended, required)
type Reg18Row = (bool, bool, Option<i64>, Option<String>, i64, i64);

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

const CHILD: &str = "p.ancestors[array_position(p.ancestors, $1) + 1]";

pub async fn report(pool: &PgPool, unit: Unit, asked: Period) -> sqlx::Result<Report> {
    let period = clamp(asked);
    let u = unit.id;
    let mut sums = Sums::default();

    // monthly: attendance, good meetings, regularity
    let monthly: Vec<MonthlyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select grouping(child) = 1, child,
                coalesce(sum(present), 0)::bigint, coalesce(sum(present + excused + unexcused), 0)::bigint,
                coalesce(sum(good), 0)::bigint, coalesce(sum(rated), 0)::bigint,
                (count(*) filter (where regular_meetings > 0))::bigint, count(*)::bigint
         from (select {CHILD} as child, s.*
               from cell_places p left join cell_month_stats s on s.cell_id = p.cell_id and s.month = p.starts_on
               where p.period = 'month' and p.ancestors @> array[$1::bigint] and p.starts_on between $2 and $3) r
         group by grouping sets ((child), ())"
    )))
    .bind(u)
    .bind(period.from)
    .bind(period.to)
    .fetch_all(pool)
    .await?;
    for (total, child, present, expected, good, rated, regular, open) in monthly {
        let who = if total { None } else { child.or(Some(0)) };
        sums.add(who, "attendance_rate", present, expected);
        sums.add(who, "good_meeting_share", good, rated);
        sums.add(who, "meeting_regularity", regular, open);
    }

    if let Some((q1, q_last)) = period.whole_quarters() {
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "with months as (
                select p.cell_id, date_trunc('quarter', p.starts_on) as quarter, p.starts_on, p.ancestors,
                       coalesce(s.thematic_meetings, 0) as thematic
                from cell_places p left join cell_month_stats s on s.cell_id = p.cell_id and s.month = p.starts_on
                where p.period = 'month' and p.starts_on between $2 and $3
                  and p.cell_id in (select cell_id from cell_places where period = 'month'
                                    and ancestors @> array[$1::bigint] and starts_on between $2 and $3)),
             quarters as (
                select distinct on (cell_id, quarter) ancestors,
                       sum(thematic) over (partition by cell_id, quarter) as thematic
                from months order by cell_id, quarter, starts_on)
             select grouping(child) = 1, child, (count(*) filter (where thematic > 0))::bigint, count(*)::bigint
             from (select {} as child, thematic from quarters p where p.ancestors @> array[$1::bigint]) r
             group by grouping sets ((child), ())",
            CHILD
        )))
        .bind(u)
        .bind(q1)
        .bind(add_months(q_last, 2))
        .fetch_all(pool)
        .await?;
        collect(&mut sums, "thematic_coverage", rows);
    }

    if let Some((y1, y2)) = period.whole_years() {
        let cells: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select grouping(child) = 1, child,
                    (count(*) filter (where level in ('excellent', 'good')))::bigint, count(*)::bigint
             from (select {CHILD} as child, c.level
                   from cell_classifications c
                   join cell_places p on p.cell_id = c.cell_id and p.period = 'year'
                                     and p.starts_on = make_date(c.year, 1, 1)
                   where c.year between $2 and $3 and p.ancestors @> array[$1::bigint]) r
             group by grouping sets ((child), ())"
        )))
        .bind(u)
        .bind(y1 as i16)
        .bind(y2 as i16)
        .fetch_all(pool)
        .await?;
        collect(&mut sums, "cells_good_or_better", cells);

        // a member counts where they were on 31 December, or on their last day on the roll
        let members: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "with places as (
                select cell_id from cell_places where period = 'year' and ancestors @> array[$1::bigint]
                  and starts_on between make_date($2, 1, 1) and make_date($3, 1, 1)),
             candidates as (
                select id from members where cell_id in (select cell_id from places)
                union select member_id from member_transfers where cell_id in (select cell_id from places)),
             classified as (
                select mc.level, mc.year, m.id as member_id, m.cell_id as first_cell,
                       least(make_date(mc.year, 12, 31), m.left_on - 1) as ref
                from candidates c join member_classifications mc on mc.member_id = c.id
                join members m on m.id = c.id
                where mc.year between $2 and $3),
             placed as materialized (
                select c.level, c.year,
                       coalesce((select t.cell_id from member_transfers t
                                 where t.member_id = c.member_id and t.effective_on <= c.ref
                                 order by t.effective_on desc limit 1), c.first_cell) as cell_id
                from classified c)
             select grouping(child) = 1, child,
                    (count(*) filter (where level in ('excellent', 'good')))::bigint, count(*)::bigint
             from (select {CHILD} as child, placed.level
                   from placed join cell_places p on p.cell_id = placed.cell_id and p.period = 'year'
                                                 and p.starts_on = make_date(placed.year, 1, 1)
                   where p.ancestors @> array[$1::bigint]) r
             group by grouping sets ((child), ())"
        )))
        .bind(u)
        .bind(y1 as i16)
        .bind(y2 as i16)
        .fetch_all(pool)
        .await?;
        collect(&mut sums, "members_good_or_better", members);

        let reg18: Vec<Reg18Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select grouping(child) = 1, grouping(\"group\") = 1, child, \"group\",
                        coalesce(sum(attended), 0)::bigint, coalesce(sum(required), 0)::bigint
                 from (select {CHILD} as child, o.\"group\", a.required, coalesce(att.n, 0) as attended
                       from reg18_assignments a join officials o on o.id = a.official_id
                       join cell_places p on p.cell_id = a.cell_id and p.period = 'year'
                                         and p.starts_on = make_date(a.year, 1, 1)
                       left join (select g.official_id, m.cell_id, extract(year from m.held_on)::int as year,
                                         count(*) as n
                                  from meeting_guests g join meetings m on m.id = g.meeting_id
                                  where m.held_on >= make_date($2, 1, 1) and m.held_on < make_date($3 + 1, 1, 1)
                                    and m.cell_id in (select cell_id from cell_places where period = 'year'
                                                      and ancestors @> array[$1::bigint])
                                  group by 1, 2, 3) att
                              on att.official_id = a.official_id and att.cell_id = a.cell_id and att.year = a.year
                       where a.year between $2 and $3 and p.ancestors @> array[$1::bigint]) r
                 group by grouping sets ((child), (), (\"group\"))"
        )))
        .bind(u)
        .bind(y1 as i16)
        .bind(y2 as i16)
        .fetch_all(pool)
        .await?;
        for (child_total, group_total, child, group, num, den) in reg18 {
            match (child_total, group_total, group) {
                // per group, for the unit
                (true, false, Some(g)) => {
                    if let Some(key) = OFFICIAL_GROUPS.iter().find(|k| **k == g) {
                        sums.add(None, group_key(key), num, den);
                    }
                }
                (true, true, _) => sums.add(None, "reg18_participation", num, den),
                (false, true, _) => sums.add(child.or(Some(0)), "reg18_participation", num, den),
                _ => {}
            }
        }
    }

    // point in time: the secretaries of the cells open on the period's last day (or today, if earlier)
    let day = period.end_day().min(time::today());
    let trained: Vec<Row> = sqlx::query_as(
        "with recursive periods as (
            select unit_id, parent_id, start_on, coalesce(end_on, date '9999-12-31') as end_on from unit_parent_periods),
         chain(cell_id, unit_id, depth) as (
            select c.id, c.id, 0 from units c
            where c.kind = 'cell' and c.valid_from <= $2 and (c.valid_to is null or c.valid_to >= $2)
            union all
            select ch.cell_id, p.parent_id, ch.depth + 1
            from chain ch join periods p on p.unit_id = ch.unit_id and $2 between p.start_on and p.end_on
            where p.parent_id is not null and ch.depth < 32),
         cells as (
            select cell_id as id, array_agg(unit_id order by depth desc) as ancestors from chain group by cell_id),
         secretaries as (
            select cells.ancestors[array_position(cells.ancestors, $1) + 1] as child,
                   exists(select 1 from trainings t where t.member_id = s.member_id and t.trained_on <= $2) as trained
            from cells join positions s on s.cell_id = cells.id and s.position = 'secretary'
                 and s.valid_from <= $2 and (s.valid_to is null or s.valid_to >= $2)
            where cells.ancestors @> array[$1::bigint])
         select grouping(child) = 1, child, (count(*) filter (where trained))::bigint, count(*)::bigint
         from secretaries group by grouping sets ((child), ())",
    )
    .bind(u)
    .bind(day)
    .fetch_all(pool)
    .await?;
    collect(&mut sums, "secretaries_trained", trained);

    build(pool, unit, asked, sums).await
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
        children.push(ChildReport { metrics: figures(id, &s), unit: child });
    }
    children.sort_by(|a, b| a.unit.name.cmp(&b.unit.name));
    Ok(Report { unit, period, metrics, reg18_by_group, children })
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

/// A CSV field, quoted when it holds a comma, quote or line break.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// One month of a unit's history: the monthly metrics and the ratings of its regular meetings.
#[derive(Debug, Clone)]
pub struct MonthFigures {
    pub month: NaiveDate,
    pub attendance_rate: Figure,
    pub good_meeting_share: Figure,
    /// good, fair, average, weak
    pub ratings: [i64; 4],
}

/// (month, present, expected, rated, good, fair, average, weak)
type MonthRow = (NaiveDate, i64, i64, i64, i64, i64, i64, i64);

/// The monthly trend of a unit over a period (each month on the structure as it stood then).
pub async fn monthly(pool: &PgPool, unit_id: i64, asked: Period) -> sqlx::Result<Vec<MonthFigures>> {
    let period = clamp(asked);
    let rows: Vec<MonthRow> = sqlx::query_as(
        "select p.starts_on, coalesce(sum(s.present), 0)::bigint,
                coalesce(sum(s.present + s.excused + s.unexcused), 0)::bigint, coalesce(sum(s.rated), 0)::bigint,
                coalesce(sum(s.good), 0)::bigint, coalesce(sum(s.fair), 0)::bigint,
                coalesce(sum(s.average), 0)::bigint, coalesce(sum(s.weak), 0)::bigint
         from cell_places p left join cell_month_stats s on s.cell_id = p.cell_id and s.month = p.starts_on
         where p.period = 'month' and p.ancestors @> array[$1::bigint] and p.starts_on between $2 and $3
         group by p.starts_on order by p.starts_on",
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
        .map(|(month, present, expected, rated, g, f, a, w)| MonthFigures {
            month,
            attendance_rate: Figure::new(present, expected, target("attendance_rate")),
            good_meeting_share: Figure::new(g, rated, target("good_meeting_share")),
            ratings: [g, f, a, w],
        })
        .collect())
}
