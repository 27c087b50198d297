//! Every secretary at once, on the web (issue 17 item 2, DOMAIN.md §13): for a unit, the cells open today with their
//! secretary and the state of their account; one button makes an account for each secretary who has none, with a
//! one-time activation link, and answers with the printable sheets (one A4 page per grassroots committee, each link
//! also as a QR code). The links are shown on that answer only (stored as hashes): a double submit of the same form
//! issues the same accounts' links again rather than making anything twice, and "print again" issues new links for
//! the accounts not yet activated. `chibo user secretaries` writes the same sheets from the command line.
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::extract::Form;
use super::routes::{Access, Routes};
use super::view::Layout;
use super::{AppResult, AppState, CurrentUser};
use crate::db::activation::{self, AccountState, Activation, CellAccount};
use crate::db::units::{self, Unit};
use crate::domain::time;

pub fn routes() -> Routes {
    Routes::default()
        .get("/units/{code}/secretaries", Access::ManageAccounts, page)
        .post("/units/{code}/secretaries", Access::ManageAccounts, create)
        .post("/units/{code}/secretaries/reissue", Access::ManageAccounts, reissue)
}

/// The cells listed one by one up to this many (a commune's, a district's); above it the counts only.
const SHOWN: usize = 400;

#[derive(Template)]
#[template(path = "admin/secretaries.html")]
struct SecretariesPage {
    layout: Layout,
    unit: Unit,
    rows: Vec<CellAccount>,
    to_create: usize,
    pending: usize,
    active: usize,
    no_secretary: usize,
    /// names this form, so that sending it twice makes one batch
    batch: String,
    done: Option<&'static str>,
}

impl SecretariesPage {
    fn state_label(&self, state: &AccountState) -> &'static str {
        crate::tr(match state {
            AccountState::NoSecretary => "activation.state.no_secretary",
            AccountState::ToCreate => "activation.state.to_create",
            AccountState::Pending => "activation.state.pending",
            AccountState::Active => "activation.state.active",
            AccountState::Disabled => "activation.state.disabled",
        })
    }
}

async fn unit_of(state: &AppState, code: &str) -> AppResult<Unit> {
    units::by_code(state.pool(), code).await?.ok_or(super::AppError::NotFound)
}

async fn render(state: &AppState, user: &CurrentUser, unit: Unit, done: Option<&'static str>) -> AppResult<Response> {
    let rows = activation::status(state.pool(), unit.id, time::today()).await?;
    let count = |s: AccountState| rows.iter().filter(|r| r.state == s).count();
    let page = SecretariesPage {
        layout: Layout::new(user),
        to_create: count(AccountState::ToCreate),
        pending: count(AccountState::Pending),
        active: count(AccountState::Active),
        no_secretary: count(AccountState::NoSecretary),
        unit,
        rows,
        batch: crate::db::sessions::new_token(),
        done,
    };
    Ok(Html(page.render()?).into_response())
}

async fn page(State(state): State<AppState>, user: CurrentUser, Path(code): Path<String>) -> AppResult<Response> {
    let unit = unit_of(&state, &code).await?;
    render(&state, &user, unit, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BatchForm {
    csrf: Option<String>,
    batch: String,
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(code): Path<String>,
    Form(form): Form<BatchForm>,
) -> AppResult<Response> {
    user.check_csrf(form.csrf.as_deref())?;
    let unit = unit_of(&state, &code).await?;
    // a batch name the page gave: letters and digits only, else none (no double-submit protection, nothing worse)
    let batch = Some(form.batch.as_str()).filter(|b| {
        (16..=128).contains(&b.len()) && b.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    });
    let made = activation::activate_secretaries(state.pool(), &user.actor(), unit.id, time::today(), batch).await?;
    if made.is_empty() {
        return render(&state, &user, unit, Some(crate::tr("activation.nothing"))).await;
    }
    sheet_response(&state, &headers, &unit, &made)
}

async fn reissue(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(code): Path<String>,
    Form(form): Form<BatchForm>,
) -> AppResult<Response> {
    user.check_csrf(form.csrf.as_deref())?;
    let unit = unit_of(&state, &code).await?;
    let made = activation::reissue(state.pool(), &user.actor(), unit.id, time::today()).await?;
    if made.is_empty() {
        return render(&state, &user, unit, Some(crate::tr("activation.nothing_pending"))).await;
    }
    sheet_response(&state, &headers, &unit, &made)
}

fn sheet_response(state: &AppState, headers: &HeaderMap, unit: &Unit, made: &[Activation]) -> AppResult<Response> {
    let origin = super::admin::origin(state, headers);
    let back = format!("/units/{}/secretaries", unit.code);
    let html = Sheet::new(made, &origin, Some(back), None).render()?;
    Ok(Html(html).into_response())
}

/// One secretary's line on a sheet.
pub struct SheetRow {
    pub cell_code: String,
    pub cell_name: String,
    pub full_name: String,
    pub username: String,
    pub link: String,
    /// the link as an inline SVG QR code
    pub qr: String,
}

/// A grassroots committee's page of the sheet.
pub struct SheetGroup {
    pub committee_code: String,
    pub committee_name: String,
    pub rows: Vec<SheetRow>,
}

/// The printable activation sheets: a page per grassroots committee.
#[derive(Template)]
#[template(path = "admin/activation_sheet.html")]
pub struct Sheet {
    pub groups: Vec<SheetGroup>,
    note: String,
    made: usize,
    /// the page to go back to (the web), none in a file written by the command line
    back: Option<String>,
    /// the style sheet written into the file (the command line's files stand alone), else linked
    inline_css: Option<&'static str>,
}

/// `static/print.css`, for sheets written as files.
pub const PRINT_CSS: &str = include_str!("../../static/print.css");

impl Sheet {
    /// `made` in committee order (as [`activation::activate_secretaries`] returns them); links under `origin`.
    pub fn new(made: &[Activation], origin: &str, back: Option<String>, inline_css: Option<&'static str>) -> Sheet {
        let mut groups: Vec<SheetGroup> = Vec::new();
        for a in made {
            let link = format!("{origin}/reset/{}", a.token);
            let row = SheetRow {
                cell_code: a.cell_code.clone(),
                cell_name: a.cell_name.clone(),
                full_name: a.full_name.clone(),
                username: a.username.clone(),
                qr: qr_svg(&link),
                link,
            };
            match groups.last_mut() {
                Some(g) if g.committee_code == a.committee_code => g.rows.push(row),
                _ => groups.push(SheetGroup {
                    committee_code: a.committee_code.clone(),
                    committee_name: a.committee_name.clone(),
                    rows: vec![row],
                }),
            }
        }
        let note = crate::tr("activation.sheet.note").replace("{}", &activation::ACTIVATION_DAYS.to_string());
        Sheet { groups, note, made: made.len(), back, inline_css }
    }

    /// One stand-alone HTML file per committee: (file name, HTML), for the command line.
    pub fn files(made: &[Activation], origin: &str) -> Result<Vec<(String, String)>, askama::Error> {
        let Sheet { groups, note, inline_css, .. } = Sheet::new(made, origin, None, Some(PRINT_CSS));
        let mut out = Vec::new();
        for group in groups {
            let file: String = group
                .committee_code
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
                .collect();
            let name = format!("{}.html", if file.is_empty() { "units".into() } else { file });
            let one = Sheet { made: group.rows.len(), groups: vec![group], note: note.clone(), back: None, inline_css };
            out.push((name, one.render()?));
        }
        Ok(out)
    }
}

/// The link as a QR code, an inline SVG drawn here (no script, no network); empty if the link does not fit in one.
pub fn qr_svg(link: &str) -> String {
    let Ok(code) = qrcode::QrCode::new(link.as_bytes()) else { return String::new() };
    let svg = code.render::<qrcode::render::svg::Color>().min_dimensions(120, 120).quiet_zone(true).build();
    // inline in HTML: without the XML declaration
    svg.find("<svg").map_or(svg.clone(), |at| svg[at..].to_string())
}
