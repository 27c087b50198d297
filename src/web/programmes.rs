//! Administrators: programmes (Project 16 and its successors) and their targets per metric and per unit.
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::extract::Form;
use super::routes::{Access, Routes};
use super::view::Layout;
use super::{AppResult, AppState, CurrentUser};
use crate::db::programmes::{self, Programme, Target};
use crate::db::units;
use crate::domain::metrics::Period;
use crate::domain::vocab::Metric;
use crate::web::view::Label;

pub fn routes() -> Routes {
    Routes::default()
        .get("/admin/programmes", Access::Admin, page)
        .post("/admin/programmes", Access::Admin, create)
        .post("/admin/programmes/targets", Access::Admin, set_target)
        .post("/admin/programmes/targets/remove", Access::Admin, remove_target)
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct ProgrammeForm {
    csrf: Option<String>,
    code: String,
    name: String,
    from: String,
    to: String,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct TargetForm {
    csrf: Option<String>,
    programme: String,
    metric: String,
    unit: String,
    target: String,
}

/// A target's row sends which target it is as "programme/metric/unit", so that the page holds one form field of
/// each name a person fills in.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RemoveForm {
    csrf: Option<String>,
    target: String,
}

#[derive(Template)]
#[template(path = "admin/programmes.html")]
struct ProgrammesPage {
    layout: Layout,
    programmes: Vec<Programme>,
    targets: Vec<Target>,
    metrics: Vec<(&'static str, &'static str)>,
    new: ProgrammeForm,
    target: TargetForm,
    errors: Vec<(&'static str, String)>,
    saved: Option<&'static str>,
    /// an administrator of the whole tree: programmes and province-wide targets are theirs
    top_admin: bool,
}

impl ProgrammesPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }

    fn percent(&self, t: &f64) -> String {
        crate::i18n::percent(Some(*t))
    }
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    new: ProgrammeForm,
    target: TargetForm,
    errors: Vec<(&'static str, String)>,
    saved: Option<&'static str>,
) -> AppResult<Response> {
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = ProgrammesPage {
        layout: Layout::new(user),
        programmes: programmes::list(state.pool()).await?,
        targets: programmes::targets(state.pool()).await?,
        metrics: Metric::ALL.iter().map(|m| (m.as_str(), m.label())).collect(),
        new,
        target,
        errors,
        saved,
        top_admin: user.is_top_admin(state).await?,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// The page; `?programme=&metric=&unit=` fills the target form to change an existing target.
async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Query(edit): axum::extract::Query<TargetForm>,
) -> AppResult<Response> {
    user.require_admin(&state, user.user.unit_id).await?;
    render(&state, &user, ProgrammeForm::default(), TargetForm { csrf: None, ..edit }, Vec::new(), None).await
}

/// Removes a target: a province-wide one by an administrator of the whole tree, a unit's override by an
/// administrator whose scope holds the unit.
async fn remove_target(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(remove): Form<RemoveForm>,
) -> AppResult<Response> {
    user.check_csrf(remove.csrf.as_deref())?;
    user.require_admin(&state, user.user.unit_id).await?;
    // "programme/metric/unit" (unit blank: the programme's default); a unit code and a metric key hold no '/'
    let mut parts = remove.target.rsplitn(3, '/');
    let (unit, metric, programme) = (parts.next(), parts.next(), parts.next());
    let form = TargetForm {
        programme: programme.unwrap_or_default().to_string(),
        metric: metric.unwrap_or_default().to_string(),
        unit: unit.unwrap_or_default().to_string(),
        ..TargetForm::default()
    };
    let Some(programme) = programmes::list(state.pool()).await?.into_iter().find(|p| p.code == form.programme) else {
        let errors = vec![("programme", crate::tr("programmes.err.programme").to_string())];
        return render(&state, &user, ProgrammeForm::default(), TargetForm::default(), errors, None).await;
    };
    let unit_id = match form.unit.trim() {
        "" if user.is_top_admin(&state).await? => None,
        "" => return Err(super::AppError::Forbidden),
        code => {
            let unit = units::by_code(state.pool(), code).await?.ok_or(super::AppError::NotFound)?;
            user.require_admin(&state, unit.id).await?;
            Some(unit.id)
        }
    };
    // a metric code that is none (a forged form) removes nothing
    let Some(metric) = Metric::parse(&form.metric) else {
        let errors = vec![("metric", crate::tr("programmes.err.metric").to_string())];
        return render(&state, &user, ProgrammeForm::default(), TargetForm::default(), errors, None).await;
    };
    programmes::remove_target(state.pool(), &user.actor(), programme.id, metric, unit_id).await?;
    render(
        &state,
        &user,
        ProgrammeForm::default(),
        TargetForm::default(),
        Vec::new(),
        Some(crate::tr("programmes.target_removed")),
    )
    .await
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<ProgrammeForm>,
) -> AppResult<Response> {
    user.check_csrf(form.csrf.as_deref())?;
    // a programme holds for the whole tree: only an administrator of the whole tree starts one
    if !user.is_top_admin(&state).await? {
        return Err(super::AppError::Forbidden);
    }
    let mut errors = Vec::new();
    let code = form.code.trim();
    if code.is_empty() || code.len() > 40 {
        errors.push(("code", crate::tr("programmes.err.code").to_string()));
    }
    if form.name.trim().is_empty() {
        errors.push(("name", crate::tr("programmes.err.name").to_string()));
    }
    let period = Period::parse(&form.from, &form.to);
    if period.is_none() {
        errors.push(("from", crate::tr("programmes.err.period").to_string()));
    }
    if let (true, Some(p)) = (errors.is_empty(), period) {
        let created = programmes::create(state.pool(), &user.actor(), code, form.name.trim(), p.from, p.to).await?;
        if created.is_some() {
            return Ok(Redirect::to("/admin/programmes").into_response());
        }
        errors.push(("code", crate::tr1("programmes.err.code_taken", code)));
    }
    render(&state, &user, form, TargetForm::default(), errors, None).await
}

/// "90", "90,5", "90.5 %" → 0.905
fn parse_percent(s: &str) -> Option<f64> {
    let v: f64 = s.trim().trim_end_matches('%').trim().replace(',', ".").parse().ok()?;
    (0.0..=200.0).contains(&v).then_some(v / 100.0)
}

async fn set_target(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<TargetForm>,
) -> AppResult<Response> {
    user.check_csrf(form.csrf.as_deref())?;
    user.require_admin(&state, user.user.unit_id).await?;
    let mut errors = Vec::new();
    let programme = programmes::list(state.pool()).await?.into_iter().find(|p| p.code == form.programme);
    if programme.is_none() {
        errors.push(("programme", crate::tr("programmes.err.programme").to_string()));
    }
    let metric = Metric::parse(&form.metric);
    if metric.is_none() {
        errors.push(("metric", crate::tr("programmes.err.metric").to_string()));
    }
    let target = parse_percent(&form.target);
    if target.is_none() {
        errors.push(("target", crate::tr("programmes.err.target").to_string()));
    }
    let unit_code = form.unit.trim();
    let mut unit_id = None;
    if unit_code.is_empty() && !user.is_top_admin(&state).await? {
        // a target without a unit holds for the whole tree; an administrator of a subtree sets its overrides only
        errors.push(("unit", crate::tr("programmes.err.unit_required").to_string()));
    }
    if !unit_code.is_empty() {
        match units::by_code(state.pool(), unit_code).await? {
            Some(u)
                if units::is_within(state.pool(), user.user.unit_id, u.id, crate::domain::time::today()).await? =>
            {
                unit_id = Some(u.id)
            }
            _ => errors.push(("unit", crate::tr1("programmes.err.unit", unit_code))),
        }
    }
    if let (true, Some(p), Some(m), Some(t)) = (errors.is_empty(), &programme, metric, target) {
        programmes::set_target(state.pool(), &user.actor(), p.id, m, unit_id, t).await?;
        return render(
            &state,
            &user,
            ProgrammeForm::default(),
            TargetForm::default(),
            Vec::new(),
            Some(crate::tr("programmes.target_saved")),
        )
        .await;
    }
    render(&state, &user, ProgrammeForm::default(), form, errors, None).await
}
