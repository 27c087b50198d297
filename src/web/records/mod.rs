//! Keeping the structure and the people current: a unit's record (open, close, move, cells under it, officials and
//! their Regulation 18 assignments, classifications) and a member's record (details, probation → official,
//! leaving, transfers, exemptions, positions, trainings, classifications), each with its history.
//!
//! Every form writes one row of an import bundle file (DOMAIN.md §8) and sends it through the import: the same
//! checks (codes, dates, cycles, moves inside validity, rolls, overlaps), one transaction, the metric stores kept
//! exact, and an audit entry for the record. Dated facts (moves, transfers, exemptions, positions) are added, never
//! overwritten, so every record keeps its history. A change that takes long (a move at province scale rebuilds
//! the stores) goes on in the background and its page shows the progress.
use crate::web::view::Label;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Map, Value};
use sqlx::PgPool;
use std::collections::HashMap;
use std::time::Duration;

use super::extract::{Fields, LocalPath, Path};
use super::jobs::{self, Job};
use super::routes::{Access, Routes};
use super::view::Layout;
use super::{AppError, AppResult, AppState, CurrentUser};
use crate::db::audit::{self, Entry};
use crate::db::records;
use crate::db::units::{self, Unit};
use crate::domain::limits;
use crate::domain::time;
use crate::domain::vocab::{AttendanceStatus, ClassSubject, JobState};
use crate::import::spec;
use crate::import::{AuditAs, csv::write_field};
use form::{Names, RecordForm, Table, table};

mod form;

pub fn routes() -> Routes {
    Routes::default()
        .get("/units/{code}/records", Access::ManageRecords, unit_page)
        .post("/units/{code}/records", Access::ManageRecords, save)
        .get("/members/{code}", Access::ManageRecords, member_page)
}

/// The files a record form may write; meetings come through their own pages.
const WRITABLE: [&str; 10] = [
    "units.csv",
    "moves.csv",
    "members.csv",
    "transfers.csv",
    "exemptions.csv",
    "positions.csv",
    "trainings.csv",
    "officials.csv",
    "assignments.csv",
    "classifications.csv",
];

/// How long a save is waited for before its progress page is shown instead.
const WAIT: Duration = Duration::from_secs(8);

#[derive(Deserialize, Default)]
struct PageQuery {
    job: Option<i64>,
}

async fn job_of(state: &AppState, user: &CurrentUser, q: &PageQuery) -> AppResult<Option<Job>> {
    Ok(match q.job {
        Some(id) => jobs::load(state.pool(), id, user.user.id).await?,
        None => None,
    })
}

/// One change in a record's history, its record before and after in the user's words (names, not codes).
pub struct Change {
    pub entry: Entry,
    pub before: Vec<(String, String)>,
    pub after: Vec<(String, String)>,
}

async fn history(pool: &PgPool, entity: &str, code: &str) -> sqlx::Result<Vec<Entry>> {
    audit::for_entity(pool, entity, code).await
}

/// The tables and the history with names for codes, read in one query for the page.
async fn named(pool: &PgPool, tables: Vec<Table>, entries: Vec<Entry>) -> sqlx::Result<(Vec<Table>, Vec<Change>)> {
    let (mut units, mut members) = (Vec::new(), Vec::new());
    for t in &tables {
        t.codes(&mut units, &mut members);
    }
    for e in &entries {
        for record in [e.before.as_ref(), e.after.as_ref()] {
            form::codes_in(form::record_values(record).into_iter(), &mut units, &mut members);
        }
    }
    let (units, members) = records::names(pool, &units, &members).await?;
    let names = Names { units, members };
    let tables = tables.into_iter().map(|t| t.named(&names)).collect();
    let changes = entries
        .into_iter()
        .map(|entry| Change {
            before: form::described(entry.before.as_ref(), &names),
            after: form::described(entry.after.as_ref(), &names),
            entry,
        })
        .collect();
    Ok((tables, changes))
}

#[derive(Template)]
#[template(path = "records/unit.html")]
struct UnitPage {
    layout: Layout,
    unit: Unit,
    parent: Option<Unit>,
    children: Vec<Unit>,
    moves: Table,
    classifications: Table,
    officials: Table,
    assignments: Table,
    forms: Vec<RecordForm>,
    history: Vec<Change>,
    /// where the forms post and come back to
    post_unit: String,
    back: String,
}

/// A record page's form: (bundle file, title, button, the fields it fixes to this record).
type FormSpec = (&'static str, &'static str, &'static str, &'static [&'static str]);

/// The forms of a cell's record page.
const CELL_FORMS: &[FormSpec] = &[
    ("units.csv", "records.form.unit_edit", "records.form.save", &["code"]),
    ("moves.csv", "records.form.move", "records.form.move_button", &["code"]),
    (
        "classifications.csv",
        "records.form.cell_classification",
        "records.form.save_classification",
        &["subject", "code"],
    ),
    ("members.csv", "records.form.add_member", "records.form.add", &["cell_code"]),
    ("assignments.csv", "records.form.assign", "records.form.assign_button", &["cell_code"]),
];

/// The forms of a province's, district's or committee's record page.
const UNIT_FORMS: &[FormSpec] = &[
    ("units.csv", "records.form.unit_edit", "records.form.save", &["code"]),
    ("moves.csv", "records.form.move", "records.form.move_button", &["code"]),
    ("units.csv", "records.form.add_unit", "records.form.add", &["parent_code"]),
    ("officials.csv", "records.form.add_official", "records.form.add", &["unit_code"]),
];

/// The forms of a member's record page.
const MEMBER_FORMS: &[FormSpec] = &[
    ("members.csv", "records.form.member_edit", "records.form.save", &["code", "cell_code"]),
    ("transfers.csv", "records.form.transfer", "records.form.transfer_button", &["member_code"]),
    ("exemptions.csv", "records.form.exemption", "records.form.save", &["member_code"]),
    ("positions.csv", "records.form.position", "records.form.save", &["member_code", "cell_code"]),
    ("trainings.csv", "records.trainings", "records.form.save", &["member_code"]),
    (
        "classifications.csv",
        "records.form.member_classification",
        "records.form.save_classification",
        &["subject", "code"],
    ),
];

/// A page's forms from their specs: `value` gives each fixed field's value; the first form (the record's own row)
/// is filled with `own`; each shows the outcome of the user's last save through it (`job`), and offers `units` (the
/// user's scope) by name where it asks for a unit.
fn forms<'a>(
    specs: &[FormSpec],
    value: impl Fn(&str, &str) -> &'a str,
    own: Option<&impl serde::Serialize>,
    job: Option<&Job>,
    units: &[records::UnitChoice],
) -> Vec<RecordForm> {
    specs
        .iter()
        .enumerate()
        .map(|(i, &(file, title, button, fields))| {
            let fixed: Vec<(&str, &str)> = fields.iter().map(|f| (*f, value(file, f))).collect();
            let form = RecordForm::new(file, crate::tr(title), crate::tr(button), &fixed);
            let form = if i == 0 { form.filled(own) } else { form };
            form.after(job).choosing_units(units)
        })
        .collect()
}

async fn unit_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<PageQuery>,
) -> AppResult<Html<String>> {
    let pool = state.pool();
    let unit = units::by_code(pool, &code).await?.ok_or(AppError::NotFound)?;
    require_manage(&state, &user, unit.id).await?;
    let job = job_of(&state, &user, &q).await?;
    let today = time::today();
    let ancestors = units::ancestors(pool, unit.id, today).await?;
    let parent = ancestors.iter().rev().nth(1).cloned();
    let own = records::unit(pool, &code).await?;
    let specs = if unit.is_cell() { CELL_FORMS } else { UNIT_FORMS };
    // only cells are classified here (members on their page)
    let value = |_: &str, field: &str| if field == "subject" { ClassSubject::Cell.as_str() } else { code.as_str() };
    let units = records::units_in_scope(pool, user.user.unit_id, today).await?;
    let forms = forms(specs, value, own.as_ref(), job.as_ref(), &units);
    let classifications = records::classifications(pool, ClassSubject::Cell, &code).await?;
    let tables = vec![
        table("moves.csv", &records::moves(pool, &code).await?, &["code"]),
        table("classifications.csv", &classifications, &["subject", "code"]),
        table("officials.csv", &records::officials_of(pool, &code).await?, &["unit_code"]),
        table("assignments.csv", &records::assignments(pool, &code).await?, &["cell_code"]),
    ];
    let (tables, history) = named(pool, tables, history(pool, "unit", &code).await?).await?;
    let [moves, classifications, officials, assignments]: [Table; 4] =
        tables.try_into().map_err(|_| AppError::NotFound)?;
    let page = UnitPage {
        layout: Layout::new(&user).with_units(&ancestors, user.user.unit_id),
        parent,
        children: units::children(pool, unit.id, today).await?,
        moves,
        classifications,
        officials,
        assignments,
        forms,
        history,
        post_unit: code.clone(),
        back: format!("/units/{code}/records"),
        unit,
    };
    Ok(Html(page.render()?))
}

#[derive(Template)]
#[template(path = "records/member.html")]
struct MemberPage {
    layout: Layout,
    code: String,
    full_name: String,
    cell: Unit,
    probationary: bool,
    left_on: String,
    transfers: Table,
    exemptions: Table,
    positions: Table,
    trainings: Table,
    classifications: Table,
    forms: Vec<RecordForm>,
    history: Vec<Change>,
    post_unit: String,
    back: String,
    /// this year's meetings and the member's status at each: (meeting id, date, kind, status), labels shown
    attendance: Vec<(i64, String, &'static str, &'static str)>,
    /// the year's tally: (present, excused, unexcused, exempt)
    tally: (usize, usize, usize, usize),
    year: i32,
}

impl MemberPage {
    /// The page's forms that write these files (names separated by spaces), in the page's order.
    fn forms_of(&self, files: &str) -> Vec<&RecordForm> {
        self.forms.iter().filter(|f| files.split(' ').any(|n| n == f.file)).collect()
    }

    /// Whether a group is shown open: one of its forms was just saved or was refused.
    fn open(&self, files: &str) -> bool {
        self.forms_of(files).iter().any(|f| f.saved || f.has_errors())
    }
}

async fn member_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<PageQuery>,
) -> AppResult<Html<String>> {
    let pool = state.pool();
    let own = records::member(pool, &code).await?.ok_or(AppError::NotFound)?;
    let today = time::today();
    let cell_code = current_cell(pool, &code).await?.ok_or(AppError::NotFound)?;
    let cell = units::by_code(pool, &cell_code).await?.ok_or(AppError::NotFound)?;
    require_manage(&state, &user, cell.id).await?;
    let job = job_of(&state, &user, &q).await?;
    let value = |file: &str, field: &str| match (file, field) {
        (_, "subject") => ClassSubject::Member.as_str(),
        // the cell they joined in is part of their own row; a position is held in the cell they are in now
        ("members.csv", "cell_code") => own.cell_code.as_str(),
        (_, "cell_code") => cell_code.as_str(),
        _ => code.as_str(),
    };
    let units = records::units_in_scope(pool, user.user.unit_id, today).await?;
    let forms = forms(MEMBER_FORMS, value, Some(&own), job.as_ref(), &units);
    let classifications = records::classifications(pool, ClassSubject::Member, &code).await?;
    let tables = vec![
        table("transfers.csv", &records::transfers(pool, &code).await?, &["member_code"]),
        table("exemptions.csv", &records::exemptions(pool, &code).await?, &["member_code"]),
        table("positions.csv", &records::positions(pool, &code).await?, &["member_code"]),
        table("trainings.csv", &records::trainings(pool, &code).await?, &["member_code"]),
        table("classifications.csv", &classifications, &["subject", "code"]),
    ];
    let (tables, history) = named(pool, tables, history(pool, "member", &code).await?).await?;
    let [transfers, exemptions, positions, trainings, classifications]: [Table; 5] =
        tables.try_into().map_err(|_| AppError::NotFound)?;
    let ancestors = units::ancestors(pool, cell.id, today).await?;
    use chrono::Datelike;
    let year = today.year();
    let meetings = crate::db::members::attendance_in_year(pool, &code, year).await?;
    let count = |s: AttendanceStatus| meetings.iter().filter(|a| a.status == s).count();
    let tally = (
        count(AttendanceStatus::Present),
        count(AttendanceStatus::Excused),
        count(AttendanceStatus::Unexcused),
        count(AttendanceStatus::Exempt),
    );
    let attendance = meetings
        .iter()
        .map(|a| (a.meeting_id, time::format_date(a.held_on), a.kind.label(), a.status.label()))
        .collect();
    let page = MemberPage {
        attendance,
        tally,
        year,
        layout: Layout::new(&user).with_units(&ancestors, user.user.unit_id),
        full_name: own.full_name.clone(),
        probationary: !own.is_official_on(today),
        left_on: own.left_on.map_or(String::new(), time::format_date),
        transfers,
        exemptions,
        positions,
        trainings,
        classifications,
        forms,
        history,
        post_unit: cell.code.clone(),
        back: format!("/members/{code}"),
        code,
        cell,
    };
    Ok(Html(page.render()?))
}

/// The cell a member is in today.
async fn current_cell(pool: &PgPool, member: &str) -> sqlx::Result<Option<String>> {
    records::current_cell(pool, member, time::today()).await
}

/// Committee clerks and administrators, for a unit in their scope.
async fn require_manage(state: &AppState, user: &CurrentUser, unit_id: i64) -> AppResult<()> {
    if !user.role().can_manage_records() {
        return Err(AppError::Forbidden);
    }
    user.require_scope(state, unit_id).await
}

/// The units a row names (directly, or through the member or official it is about) that exist today; `subject`
/// is the row's, for a classification.
async fn units_named(
    pool: &PgPool,
    file: &str,
    row: &HashMap<String, String>,
    subject: Option<ClassSubject>,
) -> sqlx::Result<Vec<i64>> {
    let mut ids = Vec::new();
    // a value with a control character names nothing (and PostgreSQL refuses NUL): the import refuses its row
    let get = |k: &str| {
        row.get(k).map(|s| s.trim().to_string()).filter(|s| !s.is_empty() && limits::forbidden_char(s).is_none())
    };
    let mut unit_codes = Vec::new();
    let mut member_codes = Vec::new();
    let mut official_codes = Vec::new();
    for col in ["parent_code", "cell_code", "unit_code"] {
        unit_codes.extend(get(col));
    }
    match file {
        "units.csv" | "moves.csv" => unit_codes.extend(get("code")),
        "members.csv" => member_codes.extend(get("code")),
        "officials.csv" => official_codes.extend(get("code")),
        "classifications.csv" if subject == Some(ClassSubject::Member) => member_codes.extend(get("code")),
        "classifications.csv" => unit_codes.extend(get("code")),
        _ => {}
    }
    member_codes.extend(get("member_code"));
    official_codes.extend(get("official_code"));
    for c in &unit_codes {
        ids.extend(units::by_code(pool, c).await?.map(|u| u.id));
    }
    for m in &member_codes {
        if let Some(cell) = current_cell(pool, m).await? {
            ids.extend(units::by_code(pool, &cell).await?.map(|u| u.id));
        }
    }
    for o in &official_codes {
        ids.extend(records::official_unit(pool, o).await?);
    }
    Ok(ids)
}

#[derive(Template)]
#[template(path = "records/confirm.html")]
struct ConfirmPage {
    layout: Layout,
    /// "Chuyển … từ … sang … từ ngày …?"
    question: String,
    post_unit: String,
    /// the form's fields, sent again with the confirmation
    fields: Vec<(&'static str, String)>,
    back: String,
}

/// The question a transfer asks before it is saved, naming the member, the cells and the day; None when the form
/// names no member, cell or day that exists (the import then says what is wrong, at its field).
async fn transfer_question(pool: &PgPool, form: &HashMap<String, String>) -> AppResult<Option<String>> {
    let get = |k: &str| {
        form.get(k).map(|s| s.trim().to_string()).filter(|s| !s.is_empty() && limits::forbidden_char(s).is_none())
    };
    let (Some(member), Some(to), Some(day)) = (get("member_code"), get("cell_code"), get("effective_on")) else {
        return Ok(None);
    };
    let Some(day) = time::parse_date(&day) else { return Ok(None) };
    let Some(member) = records::member(pool, &member).await? else { return Ok(None) };
    let Some(to) = units::by_code(pool, &to).await? else { return Ok(None) };
    let from = match current_cell(pool, &member.code).await? {
        Some(c) => units::by_code(pool, &c).await?.map_or(c, |u| u.name),
        None => return Ok(None),
    };
    let question = crate::tr("records.confirm_transfer")
        .replacen("{}", &member.full_name, 1)
        .replacen("{}", &from, 1)
        .replacen("{}", &to.name, 1)
        .replacen("{}", &time::format_date(day), 1);
    Ok(Some(question))
}

/// Saves one record: the form becomes one row of its bundle file and goes through the import.
async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Fields(pairs): Fields,
) -> AppResult<Response> {
    // each field comes once from the page: a field sent twice is a forged form, refused whole
    let mut form: HashMap<String, String> = HashMap::new();
    for (k, v) in pairs {
        if form.contains_key(&k) {
            let shown: String = k.chars().take(60).collect();
            return Err(AppError::Refused(crate::tr1("input.twice", shown)));
        }
        form.insert(k, v);
    }
    user.check_csrf(form.get("csrf").map(String::as_str))?;
    let pool = state.pool();
    let unit = units::by_code(pool, &code).await?.ok_or(AppError::NotFound)?;
    require_manage(&state, &user, unit.id).await?;
    let file = form.get("file").map(String::as_str).unwrap_or_default();
    let Some(spec) = WRITABLE.contains(&file).then(|| spec::spec(file)).flatten() else {
        return Err(AppError::BadRequest(crate::tr("records.err.unknown_form").into()));
    };
    // a classification's subject, read once; one the vocabulary does not know is refused by the import, at its field
    let subject = form.get("subject").and_then(|s| ClassSubject::parse(s.trim()));
    // every unit the row names, directly or through a member or official, must be in the user's scope
    for id in units_named(pool, file, &form, subject).await? {
        user.require_scope(&state, id).await?;
    }
    if file == "transfers.csv"
        && form.get("confirmed").map(String::as_str) != Some("1")
        && let Some(question) = transfer_question(pool, &form).await?
    {
        let fields = std::iter::once("file")
            .chain(std::iter::once("back"))
            .chain(spec.cols.iter().map(|c| c.name))
            .map(|k| (k, form.get(k).cloned().unwrap_or_default()))
            .collect();
        let back = LocalPath::parse_or(form.get("back").map(String::as_str), &format!("/units/{code}/records"));
        let page = ConfirmPage {
            layout: Layout::new(&user),
            question,
            post_unit: code,
            fields,
            back: back.as_str().to_string(),
        };
        return Ok(Html(page.render()?).into_response());
    }
    if file == "units.csv" && form.get("parent_code").is_none_or(|p| p.trim().is_empty()) {
        // without a parent: only the top of the tree itself, edited; a new top is not made from a page
        let code = form.get("code").map(|c| c.trim()).filter(|c| limits::forbidden_char(c).is_none());
        let top = match units::by_code(pool, code.unwrap_or_default()).await? {
            Some(u) => units::ancestors(pool, u.id, time::today()).await?.len() == 1,
            None => false,
        };
        if !top {
            return Err(AppError::Forbidden);
        }
    }
    let mut csv = String::new();
    let mut after = Map::new();
    for (i, c) in spec.cols.iter().enumerate() {
        if i > 0 {
            csv.push(',');
        }
        csv.push_str(c.name);
    }
    csv.push('\n');
    for (i, c) in spec.cols.iter().enumerate() {
        let v = form.get(c.name).map(|s| s.trim()).unwrap_or_default();
        if i > 0 {
            csv.push(',');
        }
        write_field(&mut csv, v);
        after.insert(c.name.to_string(), Value::String(v.to_string()));
    }
    csv.push('\n');
    let (entity, key) = match file {
        "units.csv" | "moves.csv" => ("unit", "code"),
        "members.csv" => ("member", "code"),
        "officials.csv" => ("official", "code"),
        "assignments.csv" => ("official", "official_code"),
        "classifications.csv" if subject == Some(ClassSubject::Member) => ("member", "code"),
        "classifications.csv" => ("unit", "code"),
        _ => ("member", "member_code"),
    };
    let entity_id = form.get(key).map(|s| s.trim().to_string()).unwrap_or_default();
    // the record as it stands, for the audit trail (a code with a control character names none)
    let before = match file {
        _ if limits::forbidden_char(&entity_id).is_some() => None,
        "units.csv" => records::unit(pool, &entity_id).await?.and_then(|r| serde_json::to_value(r).ok()),
        "members.csv" => records::member(pool, &entity_id).await?.and_then(|r| serde_json::to_value(r).ok()),
        "officials.csv" => records::official(pool, &entity_id).await?.and_then(|r| serde_json::to_value(r).ok()),
        _ => None,
    };
    let action = match (file, &before) {
        ("units.csv" | "members.csv" | "officials.csv", Some(_)) => "update",
        _ => "create",
    };
    let back = LocalPath::parse_or(form.get("back").map(String::as_str), &format!("/units/{code}/records"));
    // what was typed, to fill the form again if the row is refused (the file name included); a control character,
    // which no page shows and PostgreSQL does not store, is kept as U+FFFD where it was
    let typed: Map<String, Value> = form
        .iter()
        .filter(|(k, _)| *k == "file" || spec.cols.iter().any(|c| c.name == k.as_str()))
        .map(|(k, v)| (k.clone(), Value::String(limits::printable(v))))
        .collect();
    let req = jobs::Request {
        source: file.to_string(),
        files: vec![(file.to_string(), csv.into_bytes())],
        dry_run: false,
        form: Some(Value::Object(typed)),
        back: Some(back.clone()),
        audit_as: Some(AuditAs {
            action,
            entity,
            entity_id,
            unit_id: Some(unit.id),
            before,
            after: Some(Value::Object(after)),
        }),
        mapping: Default::default(),
    };
    let job = jobs::run(&state, &user, req, WAIT).await?;
    let anchor = format!("f-{}", file.trim_end_matches(".csv"));
    Ok(match job.state {
        JobState::Running => Redirect::to(&format!("/import?job={}", job.id)).into_response(),
        _ => back.redirect_with(&format!("job={}", job.id), Some(&anchor)).into_response(),
    })
}
