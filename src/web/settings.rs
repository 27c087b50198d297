//! Administrators: the reporting cycle's settings (DOMAIN.md §10), `reporting_since` and `report_deadline_day`.
//! Everyone with the administrator role sees them; only an administrator of the whole tree changes them.
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::extract::Form;
use super::routes::{Access, Routes};
use super::view::Layout;
use super::{AppError, AppResult, AppState, CurrentUser};
use crate::db;
use crate::domain::reports::Settings;
use crate::domain::time;

pub fn routes() -> Routes {
    Routes::default().get("/admin/settings", Access::Admin, page).post("/admin/settings", Access::Admin, save)
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct SettingsForm {
    csrf: Option<String>,
    reporting_since: String,
    report_deadline_day: String,
}

impl SettingsForm {
    fn of(s: &Settings) -> SettingsForm {
        SettingsForm {
            csrf: None,
            reporting_since: s.reporting_since.map(|m| m.format("%Y-%m").to_string()).unwrap_or_default(),
            report_deadline_day: s.report_deadline_day.to_string(),
        }
    }

    /// The settings the form holds, or the problems at their fields.
    fn parse(&self) -> Result<Settings, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let since = self.reporting_since.trim();
        let reporting_since = if since.is_empty() {
            None
        } else {
            let month = time::parse_month(since).filter(|m| (1930..=2200).contains(&chrono::Datelike::year(m)));
            if month.is_none() {
                errors.push(("reporting_since", crate::tr("settings.err.month").to_string()));
            }
            month
        };
        let day = self.report_deadline_day.trim().parse::<u32>().ok().filter(|d| (1..=28).contains(d));
        if day.is_none() {
            errors.push(("report_deadline_day", crate::tr("settings.err.day").to_string()));
        }
        match day {
            Some(report_deadline_day) if errors.is_empty() => Ok(Settings { reporting_since, report_deadline_day }),
            _ => Err(errors),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    layout: Layout,
    form: SettingsForm,
    errors: Vec<(&'static str, String)>,
    saved: bool,
    /// an administrator of the whole tree: the settings hold province-wide, so only they change them
    top_admin: bool,
}

impl SettingsPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    form: SettingsForm,
    errors: Vec<(&'static str, String)>,
    saved: bool,
) -> AppResult<Response> {
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page =
        SettingsPage { layout: Layout::new(user), form, errors, saved, top_admin: user.is_top_admin(state).await? };
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Shown {
    saved: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Query(shown): axum::extract::Query<Shown>,
) -> AppResult<Response> {
    user.require_admin(&state, user.user.unit_id).await?;
    let current = db::settings::get(state.pool()).await?;
    render(&state, &user, SettingsForm::of(&current), Vec::new(), shown.saved.is_some()).await
}

async fn save(State(state): State<AppState>, user: CurrentUser, Form(form): Form<SettingsForm>) -> AppResult<Response> {
    user.check_csrf(form.csrf.as_deref())?;
    if !user.is_top_admin(&state).await? {
        return Err(AppError::Forbidden);
    }
    match form.parse() {
        Ok(new) => {
            db::settings::set(state.pool(), &user.actor(), new).await?;
            Ok(Redirect::to("/admin/settings?saved=1").into_response())
        }
        Err(errors) => render(&state, &user, form, errors, false).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(since: &str, day: &str) -> SettingsForm {
        SettingsForm { csrf: None, reporting_since: since.into(), report_deadline_day: day.into() }
    }

    #[test]
    fn the_form_takes_a_month_and_a_day_from_1_to_28() {
        let s = form("2025-01", " 7 ").parse().unwrap();
        assert_eq!(s.reporting_since, time::parse_month("2025-01"));
        assert_eq!(s.report_deadline_day, 7);
        assert_eq!(form("", "5").parse().unwrap().reporting_since, None);
        let fields = |f: SettingsForm| f.parse().unwrap_err().into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        assert_eq!(fields(form("2025-13", "29")), ["reporting_since", "report_deadline_day"]);
        assert_eq!(fields(form("01/2025", "5")), ["reporting_since"]);
        assert_eq!(fields(form("2025-01", "0")), ["report_deadline_day"]);
        assert_eq!(fields(form("2025-01", "x")), ["report_deadline_day"]);
    }
}
