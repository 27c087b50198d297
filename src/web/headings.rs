//! Spreadsheets as they are (issue 17 item 4): an upload whose file names or headings chibo does not know is kept
//! (`db::headings`, a day, for its sender only) and this page asks, for each heading it does not know, which
//! column of the bundle it holds, or to ignore it. The answers are remembered, and the kept files are imported
//! as any upload is (`web::upload`), read under the mapping (`import::headings`).
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use std::collections::HashMap;
use std::time::Duration;

use super::extract::{Fields, Path};
use super::jobs;
use super::routes::{Access, Routes};
use super::view::Layout;
use super::{AppError, AppResult, AppState, CurrentUser};
use crate::db::headings::{self as store, Decided, Draft};
use crate::import::headings::{Choice, Plan, Refusal, plan};
use crate::import::spec::FILES;

pub fn routes() -> Routes {
    Routes::default().get("/import/headings/{id}", Access::Admin, page).post(
        "/import/headings/{id}",
        Access::Admin,
        send,
    )
}

/// An upload is kept this long for its headings to be mapped.
pub const KEEP_FOR: chrono::TimeDelta = chrono::TimeDelta::days(1);
/// The most an upload kept for mapping may hold (its files as unpacked): a province's members list is about 10 MB.
pub const KEEP_MAX: usize = 64 * 1024 * 1024;

/// The bundle's columns for a `<select>`, grouped per file.
#[derive(Clone)]
pub struct Group {
    pub file: &'static str,
    /// (value sent, label)
    pub options: Vec<(String, String)>,
}

fn groups() -> Vec<Group> {
    let lang = crate::i18n::lang();
    FILES
        .iter()
        .map(|f| Group {
            file: f.name,
            options: f
                .cols
                .iter()
                .map(|c| (Choice::Column(f.name, c.name).value(), super::problems::column_in(c.name, lang)))
                .collect(),
        })
        .collect()
}

pub struct Row {
    pub field: String,
    pub heading: String,
    pub samples: String,
    pub selected: String,
    pub error: Option<&'static str>,
}

pub struct SheetView {
    pub name: String,
    /// the bundle file it is, when known without asking
    pub file: Option<&'static str>,
    /// headings already known, as "heading → column"
    pub known: Vec<String>,
    pub rows: Vec<Row>,
    pub groups: Vec<Group>,
}

#[derive(Template)]
#[template(path = "import/headings.html")]
struct HeadingsPage {
    layout: Layout,
    id: i64,
    source: String,
    dry_run: bool,
    sheets: Vec<SheetView>,
    /// (field, message) of each refusal, for the summary
    errors: Vec<(String, &'static str)>,
}

fn field(s: usize, h: usize) -> String {
    format!("h-{s}-{h}")
}

fn view(
    plan: &Plan,
    answers: &HashMap<(usize, usize), String>,
    refused: &HashMap<(usize, usize), Refusal>,
) -> (Vec<SheetView>, Vec<(String, &'static str)>) {
    let all = groups();
    let mut errors = Vec::new();
    let mut sheets = Vec::new();
    for (s, sheet) in plan.sheets.iter().enumerate() {
        if !sheet.asks() {
            continue;
        }
        let known = sheet
            .headings
            .iter()
            .filter_map(|h| match h.known? {
                Choice::Column(_, col) => {
                    Some(format!("{} → {}", h.text, super::problems::column_in(col, crate::i18n::lang())))
                }
                Choice::Ignore => Some(format!("{} → {}", h.text, crate::tr("headings.ignore"))),
            })
            .collect();
        let mut rows = Vec::new();
        for (h, heading) in sheet.headings.iter().enumerate() {
            if heading.known.is_some() {
                continue;
            }
            let at = (s, h);
            let error = refused.get(&at).map(|r| crate::tr(r.key()));
            if let Some(e) = error {
                errors.push((field(s, h), e));
            }
            let selected = match answers.get(&at) {
                Some(v) => v.clone(),
                None => heading.suggested.map(Choice::value).unwrap_or_default(),
            };
            let samples = if heading.samples.is_empty() {
                crate::tr("headings.no_samples").to_string()
            } else {
                crate::tr1("headings.samples", heading.samples.join(" · "))
            };
            let shown =
                if heading.text.is_empty() { crate::tr("headings.blank").to_string() } else { heading.text.clone() };
            rows.push(Row { field: field(s, h), heading: shown, samples, selected, error });
        }
        let groups = match sheet.file {
            Some(f) => all.iter().filter(|g| g.file == f).cloned().collect(),
            None => all.clone(),
        };
        sheets.push(SheetView { name: sheet.name.clone(), file: sheet.file, known, rows, groups });
    }
    (sheets, errors)
}

async fn kept(state: &AppState, user: &CurrentUser, id: i64) -> AppResult<(Draft, Plan)> {
    // imports write anywhere in the tree: only administrators whose scope is the whole tree
    if !user.is_top_admin(state).await? {
        return Err(AppError::Forbidden);
    }
    let draft = store::draft(state.pool(), id, user.user.id, Utc::now()).await?.ok_or(AppError::NotFound)?;
    let saved = store::saved(state.pool()).await?;
    let plan = plan(&draft.files, &saved);
    Ok((draft, plan))
}

async fn page(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> AppResult<Response> {
    let (draft, plan) = kept(&state, &user, id).await?;
    let (sheets, errors) = view(&plan, &HashMap::new(), &HashMap::new());
    let page =
        HeadingsPage { layout: Layout::new(&user), id, source: draft.source, dry_run: draft.dry_run, sheets, errors };
    Ok(Html(page.render()?).into_response())
}

/// The choices sent: saved with the upload used up (one transaction, audited), then the upload imported as any
/// other, its job's page shown; refused choices come back at their fields, as chosen.
async fn send(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Fields(fields): Fields,
) -> AppResult<Response> {
    let csrf = fields.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str());
    user.check_csrf(csrf)?;
    let (draft, plan) = kept(&state, &user, id).await?;
    let mut sent = HashMap::new();
    for (k, v) in &fields {
        let Some((s, h)) = k.strip_prefix("h-").and_then(|r| r.split_once('-')) else { continue };
        let (Ok(s), Ok(h)) = (s.parse::<usize>(), h.parse::<usize>()) else { continue };
        // a field sent twice is refused as not chosen
        if sent.insert((s, h), v.clone()).is_some() {
            sent.insert((s, h), String::new());
        }
    }
    let answers: HashMap<_, _> = sent.iter().filter_map(|(&at, v)| Some((at, Choice::parse(v)?))).collect();
    let chosen = match plan.choose(&answers) {
        Ok(chosen) => chosen,
        Err(refused) => {
            let (sheets, errors) = view(&plan, &sent, &refused);
            let page = HeadingsPage {
                layout: Layout::new(&user),
                id,
                source: draft.source,
                dry_run: draft.dry_run,
                sheets,
                errors,
            };
            return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
        }
    };
    // what the audit trail keeps: each heading asked about and what it became
    let after = serde_json::json!({
        "source": draft.source,
        "files": chosen.files.iter().map(|(n, f)| serde_json::json!({"name": n, "file": f})).collect::<Vec<_>>(),
        "headings": chosen.headings.iter().map(|(f, h, c)| serde_json::json!({"file": f, "heading": h, "column": c})).collect::<Vec<_>>(),
    });
    let decided = Decided { files: &chosen.files, headings: &chosen.headings, unit_id: user.user.unit_id, after };
    if !store::decide(state.pool(), &user.actor(), draft.id, user.user.id, decided).await? {
        return Err(AppError::NotFound);
    }
    let req = jobs::Request {
        source: draft.source,
        files: draft.files,
        dry_run: draft.dry_run,
        form: None,
        back: None,
        audit_as: Some(super::upload::audit_as(&user)),
        mapping: chosen.mapping,
    };
    let job = jobs::run(&state, &user, req, Duration::from_secs(2)).await?;
    Ok(Redirect::to(&format!("/import?job={}", job.id)).into_response())
}
