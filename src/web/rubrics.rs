//! Administrators: the rubric versions of the 100-point helper (DOMAIN.md §11). Each version lists the meetings
//! it judges; a new one is added with its criteria, checked at its fields (points adding up to 100, bands in
//! order, a start after the last version's). A version that judges meetings is never edited, only followed by a
//! new one (PostgreSQL refuses the change too, migration 0017).
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;

use super::extract::Fields;
use super::routes::{Access, Routes};
use super::view::Layout;
use super::{AppError, AppResult, AppState, CurrentUser};
use crate::domain::rubric::{Bands, Criterion, NewVersion, Rubric, VersionProblem};
use crate::domain::time;

pub fn routes() -> Routes {
    Routes::default().get("/admin/rubrics", Access::Admin, page).post("/admin/rubrics", Access::Admin, create)
}

/// Rows of criteria the form offers.
const ROWS: usize = 12;

/// The new-version form as typed.
#[derive(Debug, Clone, Default)]
struct Typed {
    code: String,
    valid_from: String,
    good: String,
    fair: String,
    average: String,
    min_minutes: String,
    min_minutes_combined: String,
    notice_required: bool,
    /// (key, Vietnamese label, English label, points) per row
    criteria: Vec<[String; 4]>,
}

impl Typed {
    fn from_pairs(pairs: Vec<(String, String)>) -> (Typed, Option<String>) {
        let mut t = Typed { criteria: vec![Default::default(); ROWS], ..Typed::default() };
        let mut csrf = None;
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => csrf = Some(v),
                "code" => t.code = v,
                "valid_from" => t.valid_from = v,
                "good" => t.good = v,
                "fair" => t.fair = v,
                "average" => t.average = v,
                "min_minutes" => t.min_minutes = v,
                "min_minutes_combined" => t.min_minutes_combined = v,
                "notice_required" => t.notice_required = v == "1",
                _ => {
                    if let Some((n, field)) = k.strip_prefix("criterion.").and_then(|k| k.split_once('.'))
                        && let Ok(n) = n.parse::<usize>()
                        && n < ROWS
                    {
                        let i = ["key", "label_vi", "label_en", "points"].iter().position(|f| *f == field);
                        if let Some(i) = i {
                            t.criteria[n][i] = v;
                        }
                    }
                }
            }
        }
        (t, csrf)
    }

    /// The last version as a starting point: its criteria and rules, a start date to fill in.
    fn following(last: Option<&Rubric>) -> Typed {
        let mut t = Typed { criteria: vec![Default::default(); ROWS], ..Typed::default() };
        if let Some(v) = last {
            t.good = v.bands.good.to_string();
            t.fair = v.bands.fair.to_string();
            t.average = v.bands.average.to_string();
            t.min_minutes = v.min_minutes.to_string();
            t.min_minutes_combined = v.min_minutes_combined.to_string();
            t.notice_required = v.notice_required;
            for (row, c) in t.criteria.iter_mut().zip(&v.criteria) {
                *row = [c.key.clone(), c.label_vi.clone(), c.label_en.clone(), c.max_points.to_string()];
            }
        }
        t
    }
}

/// A version on the page, with the meetings it judges.
struct Listed {
    rubric: Rubric,
    meetings: i64,
    first: Option<NaiveDate>,
    last: Option<NaiveDate>,
}

#[derive(Template)]
#[template(path = "admin/rubrics.html")]
struct RubricsPage {
    layout: Layout,
    versions: Vec<Listed>,
    typed: Typed,
    errors: Vec<(String, String)>,
    saved: bool,
    top_admin: bool,
}

impl RubricsPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }

    fn row_error(&self, n: &usize, field: &str) -> Option<&str> {
        self.error(&format!("criterion-{n}-{field}"))
    }

    fn label(&self, c: &Criterion) -> String {
        if crate::i18n::lang() == crate::i18n::Lang::En { c.label_en.clone() } else { c.label_vi.clone() }
    }
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    typed: Option<Typed>,
    errors: Vec<(String, String)>,
    saved: bool,
) -> AppResult<Response> {
    let pool = state.pool();
    let rubrics = crate::db::rubric::versions(pool).await?;
    let usage = crate::db::rubric::usage(pool).await?;
    let typed = typed.unwrap_or_else(|| Typed::following(rubrics.last()));
    let versions = rubrics
        .into_iter()
        .rev()
        .map(|rubric| {
            let (_, meetings, first, last) = usage.iter().find(|u| u.0 == rubric.id).copied().unwrap_or_default();
            Listed { rubric, meetings, first, last }
        })
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = RubricsPage {
        layout: Layout::new(user),
        versions,
        typed,
        errors,
        saved,
        top_admin: user.is_top_admin(state).await?,
    };
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(serde::Deserialize)]
struct PageQuery {
    saved: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> AppResult<Response> {
    user.require_admin(&state, user.user.unit_id).await?;
    render(&state, &user, None, Vec::new(), q.saved.is_some()).await
}

/// Reads the typed version; problems at their fields.
fn check(t: &Typed, last_from: Option<NaiveDate>) -> Result<NewVersion, Vec<(String, String)>> {
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut err = |field: &str, message: String| errors.push((field.to_string(), message));
    let code = t.code.trim();
    let code_ok = !code.is_empty()
        && code.len() <= 40
        && code.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c));
    if !code_ok {
        err("code", crate::tr("rubrics.err.code").into());
    }
    let valid_from = time::parse_date(&t.valid_from);
    if valid_from.is_none() {
        err("valid_from", crate::tr("rubrics.err.valid_from").into());
    }
    let number = |s: &str, max: u16| s.trim().parse::<u16>().ok().filter(|n| (1..=max).contains(n));
    let (good, fair, average) = (number(&t.good, 100), number(&t.fair, 100), number(&t.average, 100));
    if good.is_none() || fair.is_none() || average.is_none() {
        err("bands", crate::tr("rubrics.err.bands").into());
    }
    let (min, min_combined) = (number(&t.min_minutes, 1440), number(&t.min_minutes_combined, 1440));
    if min.is_none() || min_combined.is_none() {
        err("min_minutes", crate::tr("rubrics.err.minutes").into());
    }
    let mut criteria = Vec::new();
    for (n, [key, vi, en, points]) in t.criteria.iter().enumerate() {
        let (key, vi, en, points) = (key.trim(), vi.trim(), en.trim(), points.trim());
        if key.is_empty() && vi.is_empty() && en.is_empty() && points.is_empty() {
            continue;
        }
        let key_ok = key.len() <= 40
            && key.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            err(&format!("criterion-{n}-key"), crate::tr1("rubrics.err.key", n + 1));
        }
        if vi.is_empty() || en.is_empty() || vi.chars().count() > 200 || en.chars().count() > 200 {
            err(&format!("criterion-{n}-label_vi"), crate::tr1("rubrics.err.labels", n + 1));
        }
        match points.parse::<u8>().ok().filter(|p| (1..=100).contains(p)) {
            Some(p) => criteria.push(Criterion {
                key: key.to_string(),
                label_vi: vi.to_string(),
                label_en: en.to_string(),
                max_points: p,
            }),
            None => err(&format!("criterion-{n}-points"), crate::tr1("rubrics.err.points", n + 1)),
        }
    }
    let (Some(valid_from), Some(good), Some(fair), Some(average), Some(min), Some(min_combined)) =
        (valid_from, good, fair, average, min, min_combined)
    else {
        return Err(errors);
    };
    let version = NewVersion {
        code: code.to_string(),
        valid_from,
        bands: Bands { good: good as u8, fair: fair as u8, average: average as u8 },
        min_minutes: min,
        min_minutes_combined: min_combined,
        notice_required: t.notice_required,
        criteria,
    };
    for p in version.problems(last_from) {
        match p {
            VersionProblem::PointsSum(sum) => err("criteria", crate::tr1("rubrics.err.sum", sum)),
            VersionProblem::NoCriteria => err("criteria", crate::tr("rubrics.err.none").into()),
            VersionProblem::DuplicateKey => err("criteria", crate::tr("rubrics.err.duplicate").into()),
            VersionProblem::BandsOrder => err("bands", crate::tr("rubrics.err.bands").into()),
            VersionProblem::StartsTooEarly(last) => {
                err("valid_from", crate::tr1("rubrics.err.too_early", time::format_date(last)))
            }
        }
    }
    if errors.is_empty() { Ok(version) } else { Err(errors) }
}

async fn create(State(state): State<AppState>, user: CurrentUser, Fields(pairs): Fields) -> AppResult<Response> {
    let (typed, csrf) = Typed::from_pairs(pairs);
    user.check_csrf(csrf.as_deref())?;
    // the rules hold for the whole tree: only an administrator of the whole tree adds a version
    if !user.is_top_admin(&state).await? {
        return Err(AppError::Forbidden);
    }
    let last_from = crate::db::rubric::versions(state.pool()).await?.last().map(|v| v.valid_from);
    match check(&typed, last_from) {
        Err(errors) => render(&state, &user, Some(typed), errors, false).await,
        Ok(version) => match crate::db::rubric::create(state.pool(), &user.actor(), &version).await? {
            Some(_) => Ok(Redirect::to("/admin/rubrics?saved=1").into_response()),
            None => {
                let errors = vec![("code".to_string(), crate::tr1("rubrics.err.taken", &version.code))];
                render(&state, &user, Some(typed), errors, false).await
            }
        },
    }
}
