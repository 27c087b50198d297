//! Published reports (DOMAIN.md §10): a committee, a district or the province publishes the report of a unit for a
//! period; its figures are frozen (the report contract's JSON, `web::report::json`, stored whole by
//! `db::published`) with who and when, listed, and printable as the A4 report forever. The published page compares
//! the frozen figures with today's and says, in words, which changed: old and new side by side, per metric and per
//! child row. Everything here reads the stored JSON by its keys, so that a metric added to the engine later is
//! published, printed and compared with no change here.
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use serde_json::Value;

use super::extract::{Form, Path};
use super::routes::{Access, Routes};
use super::view::{Label, Layout};
use super::{AppError, AppResult, AppState, CurrentUser};
use crate::db::published::{self, NewPublication, Summary};
use crate::db::units::{self, Unit};
use crate::db::{metrics, sessions};
use crate::domain::metrics::Period;
use crate::domain::time;
use crate::domain::vocab::{Metric, OfficialGroup};
use crate::i18n;

pub fn routes() -> Routes {
    Routes::default()
        .get("/dashboard/{code}/published", Access::ReadUnit, list)
        .post("/dashboard/{code}/publish", Access::Publish, publish)
        .get("/dashboard/{code}/published/{id}", Access::ReadUnit, show)
}

/// The longest note a publication may carry (the table allows no more).
const NOTE_MAX: usize = 1000;

fn period_label(p: &Period) -> String {
    if p.from == p.to {
        crate::tr1("dash.month", time::format_month(p.from))
    } else {
        format!("{} – {}", time::format_month(p.from), time::format_month(p.to))
    }
}

/// "01/12/2026 08:40", local time.
fn moment(at: chrono::DateTime<chrono::Utc>) -> String {
    time::local(at).format("%d/%m/%Y %H:%M").to_string()
}

/// The issuing body printed above the unit's name: its parent today, in capitals (as the printed report has it).
async fn issuer(state: &AppState, unit: &Unit, today: NaiveDate) -> AppResult<String> {
    let chain = units::ancestors(state.pool(), unit.id, today).await?;
    Ok(chain.iter().rev().nth(1).map(|p| p.name.to_uppercase()).unwrap_or_default())
}

async fn unit_in_scope(state: &AppState, user: &CurrentUser, code: &str) -> AppResult<Unit> {
    let unit = units::by_code(state.pool(), code).await?.ok_or(AppError::NotFound)?;
    user.require_scope(state, unit.id).await?;
    Ok(unit)
}

// ---------------------------------------------------------------------------------------------------------------
// The list, with the form that publishes

#[derive(Deserialize, Default)]
pub struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

pub struct ListRow {
    pub id: i64,
    pub period: String,
    pub at: String,
    pub by: String,
    pub note: Option<String>,
}

#[derive(Template)]
#[template(path = "published/list.html")]
struct ListPage {
    layout: Layout,
    unit: Unit,
    can_publish: bool,
    from: String,
    to: String,
    note: String,
    key: String,
    /// what is wrong with the form sent, and the field it concerns
    error: Option<(&'static str, &'static str)>,
    reports: Vec<ListRow>,
}

impl ListPage {
    /// The message at a field, when the form sent was refused there.
    fn error_at(&self, field: &str) -> Option<&'static str> {
        self.error.filter(|(f, _)| *f == field).map(|(_, message)| message)
    }
}

struct Draft {
    from: String,
    to: String,
    note: String,
    key: String,
    error: Option<(&'static str, &'static str)>,
}

async fn render_list(state: &AppState, user: &CurrentUser, unit: Unit, draft: Draft) -> AppResult<Html<String>> {
    let today = time::today();
    let reports = published::list(state.pool(), unit.id)
        .await?
        .into_iter()
        .map(|s: Summary| ListRow {
            id: s.id,
            period: period_label(&s.period),
            at: moment(s.published_at),
            by: s.published_by,
            note: s.note,
        })
        .collect();
    let ancestors = units::ancestors(state.pool(), unit.id, today).await?;
    let page = ListPage {
        layout: Layout::new(user).with_units(&ancestors, user.user.unit_id).dashboards(),
        can_publish: user.role().can_publish_reports(),
        from: draft.from,
        to: draft.to,
        note: draft.note,
        key: draft.key,
        error: draft.error,
        reports,
        unit,
    };
    Ok(Html(page.render()?))
}

async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> AppResult<Html<String>> {
    let unit = unit_in_scope(&state, &user, &code).await?;
    let today = time::today();
    // the dashboard's period when it sent one, else this year to date (as the dashboard's default)
    let period = match (&q.from, &q.to) {
        (Some(f), Some(t)) => Period::parse(f, t),
        _ => None,
    }
    .unwrap_or(Period {
        from: NaiveDate::from_ymd_opt(today.year(), 1, 1).expect("1 January"),
        to: time::month_start(today),
    });
    let draft = Draft {
        from: period.from_label(),
        to: period.to_label(),
        note: String::new(),
        key: sessions::new_token(),
        error: None,
    };
    render_list(&state, &user, unit, draft).await
}

#[derive(Deserialize)]
struct PublishForm {
    csrf: Option<String>,
    from: Option<String>,
    to: Option<String>,
    note: Option<String>,
    key: Option<String>,
}

async fn publish(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Form(form): Form<PublishForm>,
) -> AppResult<Response> {
    user.check_csrf(form.csrf.as_deref())?;
    if !user.role().can_publish_reports() {
        return Err(AppError::Forbidden);
    }
    let unit = unit_in_scope(&state, &user, &code).await?;
    let key = form.key.as_deref().unwrap_or_default().trim().to_string();
    if key.is_empty() || key.len() > 200 {
        return Err(AppError::BadRequest("idempotency key".into()));
    }
    let today = time::today();
    let (from, to) = (form.from.unwrap_or_default(), form.to.unwrap_or_default());
    let note = form.note.unwrap_or_default().trim().to_string();
    let period = Period::parse(&from, &to);
    let error = match period {
        None => Some(("from", "published.err.period")),
        Some(p) if p.from > time::month_start(today) => Some(("from", "published.err.future")),
        _ if note.chars().count() > NOTE_MAX => Some(("note", "published.err.note")),
        _ => None,
    };
    let (Some(period), None) = (period, error) else {
        let error = error.map(|(field, key)| (field, crate::tr(key)));
        let page = render_list(&state, &user, unit, Draft { from, to, note, key, error }).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let report = metrics::report(state.pool(), unit.clone(), period, today).await?;
    let issuer = issuer(&state, &unit, today).await?;
    let publication = NewPublication {
        unit_id: unit.id,
        period: report.period,
        unit_name: &unit.name,
        issuer: &issuer,
        report: super::report::json(&report),
        note: (!note.is_empty()).then_some(note.as_str()),
        idempotency_key: &key,
    };
    let id = published::publish(state.pool(), &user.actor(), publication).await?;
    Ok(Redirect::to(&format!("/dashboard/{}/published/{id}", unit.code)).into_response())
}

// ---------------------------------------------------------------------------------------------------------------
// One published report: the frozen figures on A4, and what changed since

/// One figure as the report contract stores it.
struct Stored<'a>(&'a Value);

impl Stored<'_> {
    fn int(&self, key: &str) -> i64 {
        self.0.get(key).and_then(Value::as_i64).unwrap_or(0)
    }

    fn value(&self) -> Option<f64> {
        self.0.get("value").and_then(Value::as_f64)
    }

    fn target(&self) -> Option<f64> {
        self.0.get("target").and_then(Value::as_f64)
    }

    fn met(&self) -> Option<bool> {
        self.0.get("met").and_then(Value::as_bool)
    }

    /// The same figure (compared by what it says, not by how its numbers were written down).
    fn same(&self, other: &Stored) -> bool {
        let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() < 1e-12,
            (a, b) => a.is_none() && b.is_none(),
        };
        self.int("numerator") == other.int("numerator")
            && self.int("denominator") == other.int("denominator")
            && close(self.value(), other.value())
            && close(self.target(), other.target())
            && self.met() == other.met()
    }

    fn fraction(&self) -> String {
        format!("{} / {}", i18n::count(self.int("numerator")), i18n::count(self.int("denominator")))
    }

    /// "85,00 % (17 / 20)", with the target and whether it is met when there is one.
    fn in_words(&self) -> String {
        let mut text = format!("{} ({})", i18n::percent(self.value()), self.fraction());
        if let Some(t) = self.target() {
            let met = match self.met() {
                Some(true) => crate::tr("dash.met"),
                Some(false) => crate::tr("dash.unmet"),
                None => crate::tr("dash.no_data"),
            };
            text.push_str(&format!(", {} {} — {met}", crate::tr("dash.target"), i18n::percent(Some(t))));
        }
        text
    }
}

/// A metric's label by its key; a key this build does not know (stored by a later one) as stored.
fn metric_label(key: &str) -> String {
    Metric::parse(key).map(|m| m.label().to_string()).unwrap_or_else(|| key.to_string())
}

fn group_label(key: &str) -> String {
    let group = OfficialGroup::parse(key).map(|g| g.label().to_string()).unwrap_or_else(|| key.to_string());
    format!("{} — {group}", Metric::Reg18Participation.label())
}

/// An object of the report (`metrics`, `reg18_by_group`) as its entries in stored order.
fn entries<'a>(v: &'a Value, key: &str) -> Vec<(&'a str, &'a Value)> {
    v.get(key).and_then(Value::as_object).map(|o| o.iter().map(|(k, f)| (k.as_str(), f)).collect()).unwrap_or_default()
}

fn children(v: &Value) -> Vec<&Value> {
    v.get("children").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default()
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// One figure that is not what was published: where, which, then and now.
#[derive(Debug, PartialEq)]
pub struct Changed {
    pub unit: String,
    pub metric: String,
    pub published: String,
    pub now: String,
}

/// The figures of `live` that differ from those `frozen` published (both the report contract's JSON), in words:
/// the unit's metrics and Regulation 18 groups, then each child's row (a child no longer, or newly, in the report
/// is one line). A metric the frozen report did not have (added to chibo since) is not a change.
pub fn changes(frozen: &Value, live: &Value, unit_name: &str) -> Vec<Changed> {
    let mut out = Vec::new();
    compare(&mut out, unit_name, (frozen, live), "metrics", metric_label);
    compare(&mut out, unit_name, (frozen, live), "reg18_by_group", group_label);
    let (old_children, new_children) = (children(frozen), children(live));
    for old in &old_children {
        let name = text(old, "name");
        match new_children.iter().find(|c| text(c, "unit") == text(old, "unit")) {
            Some(new) => compare(&mut out, name, (old, new), "metrics", metric_label),
            None => out.push(Changed {
                unit: name.to_string(),
                metric: crate::tr("published.whole_row").into(),
                published: crate::tr("published.was_child").into(),
                now: crate::tr("published.no_longer_child").into(),
            }),
        }
    }
    for new in new_children.iter().filter(|c| !old_children.iter().any(|o| text(o, "unit") == text(c, "unit"))) {
        out.push(Changed {
            unit: text(new, "name").to_string(),
            metric: crate::tr("published.whole_row").into(),
            published: crate::tr("published.not_child").into(),
            now: crate::tr("published.now_child").into(),
        });
    }
    out
}

/// The figures of one section (`metrics`, `reg18_by_group`) of one unit that differ, then and now.
fn compare(out: &mut Vec<Changed>, unit: &str, (old, new): (&Value, &Value), section: &str, label: fn(&str) -> String) {
    let now = entries(new, section);
    for (key, figure) in entries(old, section) {
        let current = now.iter().find(|(k, _)| *k == key).map(|(_, f)| Stored(f));
        if current.as_ref().is_some_and(|c| c.same(&Stored(figure))) {
            continue;
        }
        out.push(Changed {
            unit: unit.to_string(),
            metric: label(key),
            published: Stored(figure).in_words(),
            now: current.map(|f| f.in_words()).unwrap_or_else(|| crate::tr("published.gone").into()),
        });
    }
}

pub struct Line {
    pub label: String,
    pub value: String,
    pub fraction: String,
    pub target: Option<String>,
    pub met: Option<bool>,
}

pub struct ChildRow {
    pub name: String,
    pub cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "published/show.html")]
struct ShowPage {
    code: String,
    unit_name: String,
    issuer: String,
    period_label: String,
    place_date: String,
    published_line: String,
    note: Option<String>,
    lines: Vec<Line>,
    columns: Vec<String>,
    rows: Vec<ChildRow>,
    no_targets: bool,
    changes: Vec<Changed>,
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, id)): Path<(String, i64)>,
) -> AppResult<Html<String>> {
    let unit = unit_in_scope(&state, &user, &code).await?;
    let found = published::get(state.pool(), unit.id, id).await?.ok_or(AppError::NotFound)?;
    let today = time::today();
    let frozen = &found.report;
    let live = metrics::report(state.pool(), unit.clone(), found.summary.period, today).await?;
    let changes = changes(frozen, &super::report::json(&live), &found.unit_name);
    let lines: Vec<Line> = entries(frozen, "metrics")
        .into_iter()
        .map(|(key, f)| {
            let f = Stored(f);
            Line {
                label: metric_label(key),
                value: i18n::percent(f.value()),
                fraction: f.fraction(),
                target: f.target().map(|t| i18n::percent(Some(t))),
                met: f.met(),
            }
        })
        .collect();
    // the printed report's columns, those the frozen report holds
    let first = children(frozen).first().copied().cloned().unwrap_or(Value::Null);
    let shown: Vec<&str> = super::dashboard::SHOWN
        .iter()
        .map(|m| m.as_str())
        .filter(|k| entries(&first, "metrics").iter().any(|(key, _)| key == k))
        .collect();
    let rows = children(frozen)
        .into_iter()
        .map(|c| {
            let figures = entries(c, "metrics");
            ChildRow {
                name: text(c, "name").to_string(),
                cells: shown
                    .iter()
                    .map(|k| {
                        let f = figures.iter().find(|(key, _)| key == k).map(|(_, f)| Stored(f).value());
                        i18n::percent(f.flatten())
                    })
                    .collect(),
            }
        })
        .collect();
    let s = &found.summary;
    let page = ShowPage {
        code: unit.code,
        issuer: found.issuer.clone(),
        period_label: period_label(&s.period),
        place_date: time::local(s.published_at).format(crate::tr("minutes.date_format")).to_string(),
        published_line: crate::tr2("published.by", moment(s.published_at), &s.published_by),
        note: s.note.clone(),
        no_targets: lines.iter().all(|l| l.target.is_none()),
        lines,
        columns: shown.iter().map(|k| metric_label(k)).collect(),
        rows,
        changes,
        unit_name: found.unit_name,
    };
    Ok(Html(page.render()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(n: i64, d: i64) -> Value {
        serde_json::json!({"numerator": n, "denominator": d, "value": n as f64 / d as f64, "target": null, "met": null})
    }

    fn report(a: Value, b: Value, extra: bool) -> Value {
        let mut metrics = serde_json::json!({"attendance_rate": a});
        if extra {
            metrics["a_metric_added_later"] = figure(1, 1);
        }
        serde_json::json!({
            "unit": "XL", "from": "2026-01", "to": "2026-03",
            "metrics": metrics,
            "reg18_by_group": {},
            "children": [{"unit": "A", "name": "Chi bộ A", "metrics": {"attendance_rate": b}}],
        })
    }

    #[test]
    fn only_figures_that_differ_are_changes_and_a_new_metric_is_not_one() {
        let frozen = report(figure(17, 20), figure(9, 10), false);
        assert!(changes(&frozen, &report(figure(17, 20), figure(9, 10), true), "XL").is_empty());
        let found = changes(&frozen, &report(figure(16, 20), figure(8, 10), true), "Đảng ủy XL");
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].unit, "Đảng ủy XL");
        assert_eq!(found[1].unit, "Chi bộ A");
        assert!(found[0].published.contains("17 / 20") && found[0].now.contains("16 / 20"), "{found:?}");
    }

    #[test]
    fn a_child_that_left_or_joined_is_one_line() {
        let frozen = report(figure(1, 2), figure(1, 2), false);
        let mut live = frozen.clone();
        live["children"][0]["unit"] = "B".into();
        live["children"][0]["name"] = "Chi bộ B".into();
        let found = changes(&frozen, &live, "XL");
        assert_eq!(found.iter().map(|c| c.unit.as_str()).collect::<Vec<_>>(), ["Chi bộ A", "Chi bộ B"]);
    }
}
