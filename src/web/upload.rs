//! The import from the web: the bundle's CSV files, a zip of them, or one XLSX workbook with a sheet per file
//! name (unpacked by `import::unpack`, field by field as the multipart body arrives, after the session's token).
//! It runs as a background job (`jobs`); the job's page shows each step as it comes, refreshing itself
//! (no script needed), then the outcome: every problem as `file:line: message`, or what was written. An upload
//! with sheet names or headings of its own that no saved mapping names is kept and asked about first
//! (`web::headings`).
use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::handler::Handler;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::time::Duration;

use super::extract::LocalPath;
use super::headings;
use super::jobs::{self, Job};
use super::routes::{Access, Routes};
use super::view::Layout;
use super::{AppError, AppResult, AppState, CurrentUser};
use crate::import::problem::{QUOTE_MAX, clip};
use crate::import::unpack::{Budget, LIMITS, MAX_UPLOAD, unpack};

pub fn routes() -> Routes {
    Routes::default().get("/import", Access::Admin, page).get("/import/template.xlsx", Access::Admin, template).post(
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

async fn page(State(state): State<AppState>, user: CurrentUser, Query(q): Query<PageQuery>) -> AppResult<Response> {
    // a record form's job belongs to whoever sent it: its progress is shown here too
    let job = match q.job {
        Some(id) => Some(jobs::load(state.pool(), id, user.user.id).await?.ok_or(AppError::NotFound)?),
        None => None,
    };
    // imports write anywhere in the tree: only administrators whose scope is the whole tree
    if job.as_ref().is_none_or(|j| j.form.is_none()) && !user.is_top_admin(&state).await? {
        return Err(AppError::Forbidden);
    }
    if let Some(j) = job.as_ref().filter(|j| !j.running() && j.form.is_some()) {
        // a record saved (or refused) after the wait: back to its page, which shows the outcome
        let back = LocalPath::parse_or(j.back.as_deref(), "/");
        return Ok(back.redirect_with(&format!("job={}", j.id), None).into_response());
    }
    let recent = if job.is_none() { jobs::recent_uploads(state.pool(), user.user.id).await? } else { Vec::new() };
    let page = ImportPage { layout: Layout::new(&user), job, recent, error: None };
    Ok(Html(page.render()?).into_response())
}

async fn upload(State(state): State<AppState>, user: CurrentUser, req: axum::extract::Request) -> AppResult<Response> {
    use axum::extract::FromRequest;
    if !user.is_top_admin(&state).await? {
        return Err(AppError::Forbidden);
    }
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
    let bad = |e: axum::extract::multipart::MultipartError| AppError::BadRequest(e.body_text());
    let mut multipart = Multipart::from_request(req, &state).await.map_err(|e| AppError::BadRequest(e.body_text()))?;
    // the session's token first (the form sends it first): for a forged form nothing more is read, no zip expanded
    let token = match multipart.next_field().await.map_err(bad)? {
        Some(field) if field.name() == Some("csrf") => read_token(field).await,
        _ => None,
    };
    user.check_csrf(token.as_deref())?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut names = Vec::new();
    let mut dry_run = false;
    let mut problem = None;
    let mut budget = Budget::new(LIMITS);
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        if problem.is_some() {
            // refused already: the rest is read, so that the browser gets the answer, but neither kept nor opened
            while field.chunk().await.map_err(bad)?.is_some() {}
            continue;
        }
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        match (name.as_str(), file_name) {
            ("dry_run", _) => dry_run = true,
            ("files", Some(f)) if !f.is_empty() => {
                let bytes = field.bytes().await.map_err(bad)?;
                let shown = clip(&f, QUOTE_MAX);
                names.push(shown.clone());
                if let Err(e) = unpack(&f, bytes.into(), &mut files, &mut budget) {
                    problem = Some(format!("{shown}: {e}"));
                    files = Vec::new();
                }
            }
            _ => {}
        }
    }
    if problem.is_none() && files.is_empty() {
        problem = Some(crate::tr("upload.err.no_files").into());
    }
    if let Some(error) = problem {
        let recent = jobs::recent_uploads(state.pool(), user.user.id).await?;
        let page = ImportPage { layout: Layout::new(&user), job: None, recent, error: Some(error) };
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }
    let source = clip(&names.join(", "), 4 * QUOTE_MAX);
    // spreadsheets as they are: a file or heading of the user's own that no mapping names yet is asked about on
    // the headings page, the files kept meanwhile (web::headings)
    let plan = crate::import::headings::plan(&files, &crate::db::headings::saved(state.pool()).await?);
    if !plan.complete() {
        let size: usize = files.iter().map(|(_, b)| b.len()).sum();
        if size > headings::KEEP_MAX {
            let error = crate::tr1("headings.err.too_big", headings::KEEP_MAX / (1024 * 1024));
            let recent = jobs::recent_uploads(state.pool(), user.user.id).await?;
            let page = ImportPage { layout: Layout::new(&user), job: None, recent, error: Some(error) };
            return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
        }
        let now = chrono::Utc::now();
        let id = crate::db::headings::keep(
            state.pool(),
            user.user.id,
            &source,
            dry_run,
            &files,
            now,
            now + headings::KEEP_FOR,
        )
        .await?;
        return Ok(Redirect::to(&format!("/import/headings/{id}")).into_response());
    }
    let req = jobs::Request {
        source,
        files,
        dry_run,
        form: None,
        back: None,
        audit_as: Some(audit_as(&user)),
        mapping: plan.mapping(),
    };
    let job = jobs::run(&state, &user, req, Duration::from_secs(2)).await?;
    Ok(Redirect::to(&format!("/import?job={}", job.id)).into_response())
}

/// An upload is recorded under the uploader's unit, so that it shows in their audit trail.
pub(super) fn audit_as(user: &CurrentUser) -> crate::import::AuditAs {
    crate::import::AuditAs {
        action: "import",
        entity: "bundle",
        entity_id: String::new(),
        unit_id: Some(user.user.unit_id),
        before: None,
        after: None,
    }
}

/// The form's token: a few dozen characters, so that reading stops at 256 bytes.
async fn read_token(mut field: axum::extract::multipart::Field<'_>) -> Option<String> {
    let mut token = Vec::new();
    while let Some(chunk) = field.chunk().await.ok()? {
        token.extend_from_slice(&chunk);
        if token.len() > 256 {
            return None;
        }
    }
    String::from_utf8(token).ok()
}

/// The bundle as an XLSX workbook to fill in: a sheet per file, its columns in the header row and under each a note
/// in Vietnamese (what it holds, whether it may be blank, its form), the notes row skipped when the workbook is
/// imported.
async fn template(_user: CurrentUser) -> AppResult<Response> {
    let bytes = template_xlsx().map_err(|e| AppError::Internal(anyhow::anyhow!("xlsx: {e}")))?;
    let headers = [
        (axum::http::header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"chibo-mau-nhap.xlsx\""),
    ];
    Ok((headers, bytes).into_response())
}

fn template_xlsx() -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use crate::import::spec::{FILES, Kind};
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let note = Format::new().set_italic().set_text_wrap().set_font_color("#505a5f");
    for file in FILES {
        let sheet = book.add_worksheet();
        sheet.set_name(file.name)?;
        for (i, col) in file.cols.iter().enumerate() {
            let i = i as u16;
            let required = crate::i18n::tr_vi(if col.blank_ok { "template.optional" } else { "template.required" });
            let form =
                match col.kind {
                    Kind::Code => {
                        crate::i18n::tr_vi("template.code").replacen("{}", &crate::domain::limits::CODE.to_string(), 1)
                    }
                    Kind::Text(max) => crate::i18n::tr_vi("template.text").replacen("{}", &max.to_string(), 1),
                    Kind::Date => crate::i18n::tr_vi("template.date").to_string(),
                    Kind::Time => crate::i18n::tr_vi("template.time").to_string(),
                    Kind::Month => crate::i18n::tr_vi("template.month").to_string(),
                    Kind::Int(lo, hi) => crate::i18n::tr_vi("template.int")
                        .replacen("{}", &lo.to_string(), 1)
                        .replacen("{}", &hi.to_string(), 1),
                    Kind::Choice(codes) => crate::i18n::tr_vi("template.choice").replacen("{}", &codes.join(", "), 1),
                };
            let label = crate::i18n::tr_vi(&format!("col.{}", col.name));
            let mark = if i == 0 { format!("{} ", crate::import::unpack::NOTES_MARK) } else { String::new() };
            sheet.write_string_with_format(0, i, col.name, &bold)?;
            sheet.write_string_with_format(1, i, format!("{mark}{label}: {required}; {form}"), &note)?;
            sheet.set_column_width(i, 24)?;
        }
        sheet.write_string_with_format(2, 0, "", &Format::new())?;
        sheet.set_row_height(1, 60)?;
        sheet.set_freeze_panes(2, 0)?;
    }
    book.save_to_buffer()
}
