//! The import from the web: the bundle's CSV files, a zip of them, or one XLSX workbook with a sheet per file
//! name. It runs as a background job (`jobs`); the job's page shows each step as it comes, refreshing itself
//! (no script needed), then the outcome: every problem as `file:line: message`, or what was written.
use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::handler::Handler;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::io::{Cursor, Read};
use std::time::Duration;

use super::jobs::{self, Job};
use super::routes::{Access, Routes};
use super::view::Layout;
use super::{AppError, AppResult, AppState, CurrentUser};
use crate::db::units;
use crate::domain::{Role, time};
use crate::import::csv::write_field;

/// The largest upload taken: a province's whole history (the province demo's bundle is 241 MB).
const MAX_UPLOAD: usize = 400 * 1024 * 1024;

pub fn routes() -> Routes {
    Routes::default().get("/import", Access::Admin, page).post(
        "/import",
        Access::Admin,
        upload.layer(DefaultBodyLimit::max(MAX_UPLOAD)),
    )
}

#[derive(Deserialize, Default)]
struct PageQuery {
    job: Option<i64>,
}

#[derive(Template)]
#[template(path = "import/page.html")]
struct ImportPage {
    layout: Layout,
    job: Option<Job>,
    recent: Vec<Job>,
    error: Option<String>,
}

/// Imports write anywhere in the tree: only administrators whose scope is the whole tree.
async fn require_top_admin(state: &AppState, user: &CurrentUser) -> AppResult<()> {
    if user.role() != Role::Admin {
        return Err(AppError::Forbidden);
    }
    if units::ancestors(state.pool(), user.user.unit_id, time::today()).await?.len() != 1 {
        return Err(AppError::Forbidden);
    }
    Ok(())
}

async fn page(State(state): State<AppState>, user: CurrentUser, Query(q): Query<PageQuery>) -> AppResult<Response> {
    // a record form's job belongs to whoever sent it: its progress is shown here too
    let job = match q.job {
        Some(id) => Some(jobs::load(state.pool(), id, user.user.id).await?.ok_or(AppError::NotFound)?),
        None => None,
    };
    if job.as_ref().is_none_or(|j| j.form.is_none()) {
        require_top_admin(&state, &user).await?;
    }
    if let Some(j) = job.as_ref().filter(|j| !j.running() && j.form.is_some()) {
        // a record saved (or refused) after the wait: back to its page, which shows the outcome
        let back = j.back.clone().unwrap_or_else(|| "/".into());
        let sep = if back.contains('?') { '&' } else { '?' };
        return Ok(Redirect::to(&format!("{back}{sep}job={}", j.id)).into_response());
    }
    let recent = if job.is_none() { jobs::recent_uploads(state.pool(), user.user.id).await? } else { Vec::new() };
    let page = ImportPage { layout: Layout::new(&user), job, recent, error: None };
    Ok(Html(page.render()?).into_response())
}

async fn upload(State(state): State<AppState>, user: CurrentUser, req: axum::extract::Request) -> AppResult<Response> {
    use axum::extract::FromRequest;
    require_top_admin(&state, &user).await?;
    let multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        // not an upload: refused, as a forged form if it does not carry this session's token
        let axum::Form(form) = axum::Form::<std::collections::HashMap<String, String>>::from_request(req, &state)
            .await
            .map_err(|_| AppError::Csrf)?;
        user.check_csrf(form.get("csrf").map(String::as_str))?;
        return Err(AppError::BadRequest(crate::tr("upload.err.choose_files").into()));
    }
    let mut multipart = Multipart::from_request(req, &state).await.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut names = Vec::new();
    let mut csrf = None;
    let mut dry_run = false;
    let mut problem = None;
    while let Some(field) = multipart.next_field().await.map_err(|e| AppError::BadRequest(e.body_text()))? {
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let bytes = field.bytes().await.map_err(|e| AppError::BadRequest(e.body_text()))?;
        match (name.as_str(), file_name) {
            ("csrf", _) => csrf = Some(String::from_utf8_lossy(&bytes).into_owned()),
            ("dry_run", _) => dry_run = true,
            ("files", Some(f)) if !f.is_empty() => {
                names.push(f.clone());
                if let Err(e) = unpack(&f, bytes.to_vec(), &mut files) {
                    problem.get_or_insert(format!("{f}: {e}"));
                }
            }
            _ => {}
        }
    }
    user.check_csrf(csrf.as_deref())?;
    if problem.is_none() && files.is_empty() {
        problem = Some(crate::tr("upload.err.no_files").into());
    }
    if let Some(error) = problem {
        let recent = jobs::recent_uploads(state.pool(), user.user.id).await?;
        let page = ImportPage { layout: Layout::new(&user), job: None, recent, error: Some(error) };
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }
    let req = jobs::Request {
        source: names.join(", "),
        files,
        dry_run,
        form: None,
        back: None,
        // recorded under the uploader's unit, so that it shows in their audit trail
        audit_as: Some(crate::import::AuditAs {
            action: "import",
            entity: "bundle",
            entity_id: String::new(),
            unit_id: Some(user.user.unit_id),
            before: None,
            after: None,
        }),
    };
    let job = jobs::run(&state, &user, req, Duration::from_secs(2)).await?;
    Ok(Redirect::to(&format!("/import?job={}", job.id)).into_response())
}

/// The bundle files inside one uploaded file.
pub fn unpack(name: &str, bytes: Vec<u8>, files: &mut Vec<(String, Vec<u8>)>) -> Result<(), String> {
    let lower = name.to_lowercase();
    let base = |n: &str| n.rsplit(['/', '\\']).next().unwrap_or(n).to_string();
    if lower.ends_with(".zip") {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| crate::tr("upload.err.zip").to_string())?;
        for i in 0..zip.len() {
            let mut entry = zip.by_index(i).map_err(|_| crate::tr("upload.err.zip").to_string())?;
            let entry_name = base(&entry.name().map_err(|_| crate::tr("upload.err.zip_name").to_string())?);
            if entry.is_dir() || !entry_name.to_lowercase().ends_with(".csv") || entry_name.starts_with('.') {
                continue;
            }
            let mut content = Vec::new();
            entry.read_to_end(&mut content).map_err(|_| crate::tr1("upload.err.unzip", &entry_name))?;
            files.push((entry_name, content));
        }
        Ok(())
    } else if lower.ends_with(".xlsx") {
        workbook(bytes, files)
    } else {
        files.push((base(name), bytes));
        Ok(())
    }
}

/// Each sheet of a workbook as the CSV file of its name: dates as YYYY-MM-DD, times as HH:MM, whole numbers
/// without a decimal point; the sheet's row numbers are the lines errors name.
fn workbook(bytes: Vec<u8>, files: &mut Vec<(String, Vec<u8>)>) -> Result<(), String> {
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|_| crate::tr("upload.err.xlsx").to_string())?;
    for sheet in book.sheet_names() {
        let range = book.worksheet_range(&sheet).map_err(|_| crate::tr1("upload.err.sheet", &sheet))?;
        let mut csv = String::new();
        // rows are counted from the sheet's first row, so that line numbers match what the user sees
        let skipped = range.start().map_or(0, |(row, _)| row as usize);
        for _ in 0..skipped {
            csv.push('\n');
        }
        // the header's width for every row: a blank last column is still a column
        let used = |row: &[Data]| row.iter().rposition(|c| !matches!(c, Data::Empty)).map_or(0, |i| i + 1);
        let width = range.rows().next().map_or(0, used);
        for row in range.rows() {
            if used(row) == 0 {
                // a blank row: a blank line, skipped by the reader and counted
                csv.push('\n');
                continue;
            }
            let cells = row.iter().chain(std::iter::repeat(&Data::Empty)).take(width.max(used(row)));
            for (i, cell) in cells.enumerate() {
                if i > 0 {
                    csv.push(',');
                }
                let text = match cell {
                    Data::Empty | Data::Error(_) => String::new(),
                    Data::String(s) => s.clone(),
                    Data::Int(i) => i.to_string(),
                    Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
                    Data::Float(f) => f.to_string(),
                    Data::Bool(b) => b.to_string(),
                    Data::DateTime(d) => match d.as_datetime() {
                        Some(dt) if d.as_f64() < 1.0 => dt.format("%H:%M").to_string(),
                        Some(dt) => dt.format("%Y-%m-%d").to_string(),
                        None => d.to_string(),
                    },
                    Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
                };
                write_field(&mut csv, &text);
            }
            csv.push('\n');
        }
        let name = if sheet.to_lowercase().ends_with(".csv") { sheet.clone() } else { format!("{sheet}.csv") };
        files.push((name, csv.into_bytes()));
    }
    Ok(())
}
