//! Handlers of the meeting pages.
use crate::web::extract::{Fields, Path};
use crate::web::view::Label;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use super::form::{Criterion, FieldError, FormContext, RawMeeting, RawTask, validate};
use crate::db::meetings::{self, Guest, Meeting, Task, Updated};
use crate::db::members::{self, RollMember};
use crate::db::officials::{self, Official};
use crate::db::units::{self, Unit};
use crate::domain::meeting::{AttendanceStatus, MeetingDraft, MeetingKind, Rating};
use crate::domain::rubric::{self, Facts, Rubric, Warning};
use crate::domain::time;
use crate::web::view::Layout;
use crate::web::{AppError, AppResult, AppState, CurrentUser};

/// The cell named in the path, if the user may see it.
pub(crate) async fn load_cell(state: &AppState, user: &CurrentUser, code: &str) -> AppResult<Unit> {
    let cell = units::by_code(state.pool(), code).await?.filter(Unit::is_cell).ok_or(AppError::NotFound)?;
    user.require_scope(state, cell.id).await?;
    Ok(cell)
}

/// The meeting with this id and its cell, if the user may see them.
async fn load_meeting(state: &AppState, user: &CurrentUser, id: i64) -> AppResult<(Meeting, Unit)> {
    let meeting = meetings::get(state.pool(), id).await?.ok_or(AppError::NotFound)?;
    user.require_scope(state, meeting.cell_id).await?;
    let cell = units::by_id(state.pool(), meeting.cell_id).await?;
    Ok((meeting, cell))
}

/// The criteria of a rubric version as the form shows them, in the request's language.
fn criteria(rubric: &Rubric) -> Vec<Criterion> {
    let en = crate::i18n::lang() == crate::i18n::Lang::En;
    rubric
        .criteria
        .iter()
        .map(|c| Criterion {
            key: c.key.clone(),
            label: if en { c.label_en.clone() } else { c.label_vi.clone() },
            max_points: c.max_points,
        })
        .collect()
}

/// The rubric a meeting is judged by: its stored version while its date is the one stored, else the version in
/// force on `day` (DOMAIN.md §11: a new version never changes how an old meeting was judged).
pub(crate) fn rubric_for(versions: &[Rubric], day: NaiveDate, stored: Option<(NaiveDate, i64)>) -> AppResult<Rubric> {
    let kept = stored.filter(|(held_on, _)| *held_on == day).and_then(|(_, id)| versions.iter().find(|v| v.id == id));
    kept.or_else(|| rubric::in_force(versions, day))
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no rubric version")))
}

/// Everything the form needs around the typed values, read for the date typed (or today).
struct Surroundings {
    day: NaiveDate,
    roll: Vec<RollMember>,
    /// every rubric version (the page script picks the one in force when the date changes)
    versions: Vec<Rubric>,
    /// the version the meeting is judged by
    rubric: Rubric,
    criteria: Vec<Criterion>,
    guests: Vec<Official>,
    other_regular: Vec<(i64, NaiveDate)>,
    task_ids: Vec<i64>,
    ancestors: Vec<Unit>,
}

async fn surroundings(
    state: &AppState,
    cell: &Unit,
    meeting: Option<&Meeting>,
    raw: &RawMeeting,
) -> AppResult<Surroundings> {
    let meeting_id = meeting.map(|m| m.id);
    let pool = state.pool();
    let today = time::today();
    let day = raw.held_on().filter(|d| cell.is_open_on(*d)).unwrap_or(today.min(cell.valid_to.unwrap_or(today)));
    let ancestors = units::ancestors(pool, cell.id, today).await?;
    let ancestor_ids: Vec<i64> = ancestors.iter().map(|u| u.id).collect();
    let versions = crate::db::rubric::versions(pool).await?;
    let rubric_day = raw.held_on().unwrap_or(day);
    let rubric = rubric_for(&versions, rubric_day, meeting.map(|m| (m.held_on, m.rubric_version_id)))?;
    let task_ids = match meeting_id {
        Some(id) => meetings::tasks(pool, id).await?.into_iter().map(|t| t.id).collect(),
        None => Vec::new(),
    };
    Ok(Surroundings {
        day,
        roll: members::roll(pool, cell.id, day).await?,
        criteria: criteria(&rubric),
        versions,
        rubric,
        guests: officials::guest_candidates(pool, cell.id, &ancestor_ids, day, meeting_id).await?,
        other_regular: meetings::regular_in_month(pool, cell.id, day, meeting_id).await?,
        task_ids,
        ancestors,
    })
}

fn check(cell: &Unit, raw: &RawMeeting, s: &Surroundings) -> Result<MeetingDraft, Vec<FieldError>> {
    let guest_ids: Vec<i64> = s.guests.iter().map(|g| g.id).collect();
    validate(
        raw,
        &FormContext {
            today: time::today(),
            cell,
            roll: &s.roll,
            criteria: &s.criteria,
            guest_ids: &guest_ids,
            other_regular: &s.other_regular,
            task_ids: &s.task_ids,
        },
    )
}

pub struct RosterRow {
    pub id: i64,
    pub name: String,
    pub exempt: bool,
    pub official: bool,
    pub status: AttendanceStatus,
    /// the reason typed (or saved) beside the member, kept whatever the status
    pub reason: String,
    /// ticked as attending online
    pub online: bool,
}

impl RosterRow {
    /// Whether the roll call offers this status for the member: only an exempt member may be marked exempt.
    fn offers(&self, status: &AttendanceStatus) -> bool {
        *status != AttendanceStatus::Exempt || self.exempt
    }

    fn is(&self, status: &AttendanceStatus) -> bool {
        self.status == *status
    }
}

#[derive(Template)]
#[template(path = "meetings/form.html")]
struct FormPage {
    layout: Layout,
    cell: Unit,
    action: String,
    editing: bool,
    raw: RawMeeting,
    errors: Vec<FieldError>,
    roster: Vec<RosterRow>,
    roster_day: String,
    criteria: Vec<Criterion>,
    /// the version judging the meeting: its code and what it asks, in words
    rubric_code: String,
    rubric_hint: String,
    /// every version as data for the page script (bands, minimums, criteria, hint): the same rows the server
    /// judges by, so that the script's suggestion cannot differ from the server's
    rubrics_json: String,
    /// the total and the rating its bands suggest, when every criterion has points
    suggestion: String,
    /// HD 42's warnings about the form as typed (the page script keeps them up to date as it changes)
    warnings: Vec<String>,
    guests: Vec<Official>,
    tasks: Vec<RawTask>,
    show_confirm: bool,
    /// the month's regular meeting already logged (id, date), linked from the confirmation
    logged_regular: Option<(i64, String)>,
    kinds: &'static [MeetingKind],
    statuses: &'static [AttendanceStatus],
    ratings: &'static [Rating],
    present_count: usize,
    expected_count: usize,
    /// the limit of the long texts (content, resolution), under their labels
    long_text_hint: String,
}

impl FormPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }

    fn att_error(&self, member_id: &i64) -> Option<&str> {
        self.error(&format!("att-{member_id}"))
    }

    fn reason_error(&self, member_id: &i64) -> Option<&str> {
        self.error(&format!("reason-{member_id}"))
    }

    fn score_error(&self, key: &str) -> Option<&str> {
        self.error(&format!("score-{key}"))
    }

    fn task_error(&self, n: &usize, field: &str) -> Option<&str> {
        self.error(&format!("task-{n}-{field}"))
    }

    fn has_guest(&self, id: &i64) -> bool {
        self.raw.guests.iter().any(|g| *g == id.to_string())
    }

    fn score_value(&self, key: &str) -> &str {
        self.raw.score.get(key).map(String::as_str).unwrap_or_default()
    }
}

#[allow(clippy::too_many_arguments)]
async fn render_form(
    state: &AppState,
    user: &CurrentUser,
    cell: Unit,
    meeting: Option<&Meeting>,
    raw: RawMeeting,
    errors: Vec<FieldError>,
    status: StatusCode,
    known: Option<Surroundings>,
) -> AppResult<Response> {
    let meeting_id = meeting.map(|m| m.id);
    // the checks have usually just read them: reading them again would double the queries of a refused form
    let s = match known {
        Some(s) => s,
        None => surroundings(state, &cell, meeting, &raw).await?,
    };
    let roster: Vec<RosterRow> = s
        .roll
        .iter()
        .map(|m| RosterRow {
            id: m.id,
            name: m.full_name.clone(),
            exempt: m.exempt,
            official: m.is_official_on(&s.day),
            status: raw
                .attendance
                .get(&m.id.to_string())
                .and_then(|v| AttendanceStatus::parse(v))
                .unwrap_or(if m.exempt { AttendanceStatus::Exempt } else { AttendanceStatus::Present }),
            reason: raw.reasons.get(&m.id.to_string()).cloned().unwrap_or_default(),
            online: raw.online.contains(&m.id.to_string()),
        })
        .collect();
    let present_count = roster.iter().filter(|r| r.status == AttendanceStatus::Present).count();
    let expected_count = roster.iter().filter(|r| r.status != AttendanceStatus::Exempt).count();
    let mut tasks = raw.tasks.clone();
    let min_rows = if raw.action == "add_task" { tasks.len() + 1 } else { 3 };
    while tasks.len() < min_rows.max(tasks.len()) {
        tasks.push(RawTask::default());
    }
    // asked only of a regular meeting refused for being the month's second, or already confirmed: never up front,
    // and never on a thematic meeting's form; with a link to the meeting already logged
    let show_confirm = raw.confirm_second || errors.iter().any(|e| e.field == "confirm_second");
    let logged_regular = s.other_regular.first().map(|(id, day)| (*id, time::format_date(*day)));
    let suggestion = suggestion(&s.rubric, &raw);
    let warnings = form_warnings(&s.rubric, &raw);
    let page = FormPage {
        suggestion,
        warnings,
        layout: Layout::new(user).with_units(&s.ancestors, user.user.unit_id),
        action: match meeting_id {
            Some(id) => format!("/meetings/{id}"),
            None => format!("/cells/{}/meetings", cell.code),
        },
        editing: meeting_id.is_some(),
        cell,
        raw,
        errors,
        roster,
        roster_day: time::format_date(s.day),
        rubric_code: s.rubric.code.clone(),
        rubric_hint: rubric_hint(&s.rubric),
        rubrics_json: rubrics_json(&s.versions),
        criteria: s.criteria,
        guests: s.guests,
        tasks,
        show_confirm,
        logged_regular,
        kinds: MeetingKind::ALL,
        statuses: AttendanceStatus::ALL,
        ratings: Rating::ALL,
        present_count,
        expected_count,
        long_text_hint: crate::tr1("input.limit_hint", crate::i18n::count(crate::domain::limits::LONG_TEXT as i64)),
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// A warning in words (DOMAIN.md §11: said, never refused).
pub(crate) fn warning_text(w: &Warning) -> String {
    match *w {
        Warning::Short { minutes, minimum } => crate::tr2("warn.short", minutes, minimum),
        Warning::LateMaterials { posted } => crate::tr1("warn.late_materials", time::format_date(posted)),
        Warning::NoNotice => crate::tr("warn.no_notice").to_string(),
    }
}

/// The warnings about the form as typed, under `rubric` (what cannot be read yet is not warned about).
fn form_warnings(rubric: &Rubric, raw: &RawMeeting) -> Vec<String> {
    let (Some(kind), Some(held_on)) = (MeetingKind::parse(&raw.kind), raw.held_on()) else { return Vec::new() };
    let times = time::parse_time(&raw.started_at).zip(time::parse_time(&raw.ended_at)).filter(|(s, e)| e > s);
    let facts = Facts {
        notice_on: time::parse_date(&raw.notice_on),
        prepared_on: time::parse_date(&raw.prepared_on),
        materials_on: time::parse_date(&raw.materials_on),
        combined_thematic: raw.combined_thematic,
    };
    rubric::warnings(rubric, kind, held_on, times, &facts).iter().map(warning_text).collect()
}

/// What a rubric version asks, in words: its code and start, its bands and the minimum length of a meeting.
pub(crate) fn rubric_hint(r: &Rubric) -> String {
    crate::tr("mform.rubric_hint")
        .replacen("{}", &r.code, 1)
        .replacen("{}", &time::format_date(r.valid_from), 1)
        .replacen("{}", &r.bands.good.to_string(), 1)
        .replacen("{}", &r.bands.fair.to_string(), 1)
        .replacen("{}", &r.bands.average.to_string(), 1)
        .replacen("{}", &r.min_minutes.to_string(), 1)
        .replacen("{}", &r.min_minutes_combined.to_string(), 1)
}

/// Every version as the page script reads it (`data-rubrics`).
fn rubrics_json(versions: &[Rubric]) -> String {
    let list: Vec<serde_json::Value> = versions
        .iter()
        .map(|v| {
            serde_json::json!({
                "code": v.code,
                "from": v.valid_from.format("%Y-%m-%d").to_string(),
                "bands": v.bands,
                "min": v.min_minutes,
                "min_combined": v.min_minutes_combined,
                "notice": v.notice_required,
                "hint": rubric_hint(v),
                "criteria": criteria(v).iter().map(|c| serde_json::json!({
                    "key": c.key, "label": c.label, "max": c.max_points,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::Value::Array(list).to_string()
}

/// "Total 86/100 points — suggests: fair" when every criterion of `rubric` has points within its maximum.
fn suggestion(rubric: &Rubric, raw: &RawMeeting) -> String {
    let points: Option<Vec<u8>> = rubric
        .criteria
        .iter()
        .map(|c| raw.score.get(&c.key)?.trim().parse::<u8>().ok().filter(|p| *p <= c.max_points))
        .collect();
    match points {
        Some(p) if !p.is_empty() => {
            let total: u8 = p.iter().sum();
            crate::tr2("mform.js.total", total, rubric.bands.suggest(total).label())
        }
        _ => String::new(),
    }
}

/// The form as sent; one that sends a field twice was not made by the page (which gives each field once) and is
/// refused whole rather than read one way or the other.
fn read_form(pairs: Vec<(String, String)>) -> AppResult<RawMeeting> {
    RawMeeting::from_pairs(pairs).map_err(|name| {
        let shown: String = name.chars().take(60).collect();
        AppError::Refused(crate::tr1("input.twice", shown))
    })
}

pub async fn new_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let cell = load_cell(&state, &user, &code).await?;
    user.require_edit(&state, cell.id).await?;
    let raw = RawMeeting {
        held_on: time::today().format("%Y-%m-%d").to_string(),
        kind: MeetingKind::Regular.as_str().into(),
        idempotency_key: crate::db::sessions::new_token(),
        ..RawMeeting::default()
    };
    render_form(&state, &user, cell, None, raw, Vec::new(), StatusCode::OK, None).await
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Fields(pairs): Fields,
) -> AppResult<Response> {
    let cell = load_cell(&state, &user, &code).await?;
    user.require_edit(&state, cell.id).await?;
    let raw = read_form(pairs)?;
    user.check_csrf(raw.csrf.as_deref())?;
    let key = raw.idempotency_key.trim();
    if key.is_empty() || key.len() > 100 || key.chars().any(char::is_control) {
        return Err(AppError::BadRequest("idempotency key".into()));
    }
    // The same form sent again (double tap, resend after a lost answer): show what the first one saved.
    let saved = meetings::by_idempotency_key(state.pool(), key).await?;
    if let Some(id) = saved {
        return Ok(Redirect::to(&format!("/meetings/{id}?saved=1")).into_response());
    }
    if raw.action == "add_task" {
        return render_form(&state, &user, cell, None, raw, Vec::new(), StatusCode::OK, None).await;
    }
    let s = surroundings(&state, &cell, None, &raw).await?;
    match check(&cell, &raw, &s) {
        Err(errors) => {
            render_form(&state, &user, cell, None, raw, errors, StatusCode::UNPROCESSABLE_ENTITY, Some(s)).await
        }
        Ok(draft) => match meetings::create(state.pool(), &user.actor(), cell.id, key, &draft).await {
            Ok(created) => Ok(Redirect::to(&format!("/meetings/{}?saved=1", created.id())).into_response()),
            Err(e) => {
                let locked = super::lock::locked_field(e)?;
                render_form(&state, &user, cell, None, raw, vec![locked], StatusCode::CONFLICT, Some(s)).await
            }
        },
    }
}

pub async fn edit_form(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> AppResult<Response> {
    let (meeting, cell) = load_meeting(&state, &user, id).await?;
    user.require_edit(&state, cell.id).await?;
    let raw = raw_from_meeting(&state, &meeting).await?;
    // a meeting of an approved month is locked: said before anything is typed
    let errors = super::lock::said_on_opening(&state, &cell, meeting.held_on).await?;
    render_form(&state, &user, cell, Some(&meeting), raw, errors, StatusCode::OK, None).await
}

/// The stored meeting as the form shows it.
async fn raw_from_meeting(state: &AppState, m: &Meeting) -> AppResult<RawMeeting> {
    let pool = state.pool();
    let fmt_time = |t: Option<chrono::NaiveTime>| t.map(time::format_time).unwrap_or_default();
    let id_or_blank = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let attendance = meetings::attendance(pool, m.id).await?;
    Ok(RawMeeting {
        held_on: m.held_on.format("%Y-%m-%d").to_string(),
        kind: m.kind.as_str().into(),
        started_at: fmt_time(m.started_at),
        ended_at: fmt_time(m.ended_at),
        location: m.location.clone(),
        topic: m.topic.clone(),
        content: m.content.clone(),
        resolution: m.resolution.clone(),
        chair: id_or_blank(m.chair_id),
        minute_taker: id_or_blank(m.minute_taker_id),
        rating: m.rating.map(|r| r.as_str().to_string()).unwrap_or_default(),
        notice_on: m.notice_on.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
        prepared_on: m.prepared_on.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
        materials_on: m.materials_on.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
        combined_thematic: m.combined_thematic,
        online: attendance.iter().filter(|a| a.online()).map(|a| a.member_id.to_string()).collect(),
        // every part stored, under the keys of the version that judged it
        score: m
            .score_detail
            .as_ref()
            .and_then(|d| d.as_object())
            .map(|o| o.iter().filter_map(|(k, p)| Some((k.clone(), p.as_u64()?.to_string()))).collect())
            .unwrap_or_default(),
        attendance: attendance.iter().map(|a| (a.member_id.to_string(), a.status.as_str().to_string())).collect(),
        reasons: attendance.into_iter().filter_map(|a| Some((a.member_id.to_string(), a.reason?))).collect(),
        guests: meetings::guests(pool, m.id).await?.into_iter().map(|g| g.id.to_string()).collect(),
        tasks: meetings::tasks(pool, m.id)
            .await?
            .into_iter()
            .map(|t| RawTask {
                id: t.id.to_string(),
                description: t.description,
                assignee: t.assignee_id.to_string(),
                due: t.due_on.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
            })
            .collect(),
        confirm_second: false,
        idempotency_key: String::new(),
        version: m.version.to_string(),
        csrf: None,
        action: String::new(),
    })
}

pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Fields(pairs): Fields,
) -> AppResult<Response> {
    let (meeting, cell) = load_meeting(&state, &user, id).await?;
    user.require_edit(&state, cell.id).await?;
    let mut raw = read_form(pairs)?;
    user.check_csrf(raw.csrf.as_deref())?;
    let version: i32 = raw.version.parse().map_err(|_| AppError::BadRequest("version".into()))?;
    if raw.action == "add_task" {
        return render_form(&state, &user, cell, Some(&meeting), raw, Vec::new(), StatusCode::OK, None).await;
    }
    let s = surroundings(&state, &cell, Some(&meeting), &raw).await?;
    let draft = match check(&cell, &raw, &s) {
        Err(errors) => {
            return render_form(
                &state,
                &user,
                cell,
                Some(&meeting),
                raw,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(s),
            )
            .await;
        }
        Ok(draft) => draft,
    };
    let saved = match meetings::update(state.pool(), &user.actor(), id, version, &draft).await {
        Ok(saved) => saved,
        Err(e) => {
            let locked = super::lock::locked_field(e)?;
            return render_form(&state, &user, cell, Some(&meeting), raw, vec![locked], StatusCode::CONFLICT, Some(s))
                .await;
        }
    };
    match saved {
        Updated::Saved => Ok(Redirect::to(&format!("/meetings/{id}?saved=1")).into_response()),
        Updated::Conflict => {
            let conflict = FieldError { field: "version".into(), message: crate::tr("meeting.conflict").into() };
            // keep the version the user started from, so that saving again is refused again until they reload
            raw.version = version.to_string();
            render_form(&state, &user, cell, Some(&meeting), raw, vec![conflict], StatusCode::CONFLICT, Some(s)).await
        }
    }
}

#[derive(Template)]
#[template(path = "meetings/list.html")]
struct ListPage {
    layout: Layout,
    cell: Unit,
    meetings: Vec<meetings::MeetingSummary>,
    can_edit: bool,
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Html<String>> {
    let cell = load_cell(&state, &user, &code).await?;
    let ancestors = units::ancestors(state.pool(), cell.id, time::today()).await?;
    let page = ListPage {
        layout: Layout::new(&user).with_units(&ancestors, user.user.unit_id),
        meetings: meetings::list_for_cell(state.pool(), cell.id, 500).await?,
        can_edit: user.role().can_edit_meetings(),
        cell,
    };
    Ok(Html(page.render()?))
}

/// A meeting's record as the pages show it.
pub struct MeetingView {
    pub meeting: Meeting,
    pub cell: Unit,
    pub ancestors: Vec<Unit>,
    pub attendance: Vec<meetings::AttendanceRow>,
    pub guests: Vec<Guest>,
    pub tasks: Vec<Task>,
    pub chair: Option<String>,
    pub minute_taker: Option<String>,
    /// the rubric version the meeting is judged by
    pub rubric: Option<Rubric>,
    /// HD 42's warnings about it, in words
    pub warnings: Vec<String>,
}

impl MeetingView {
    async fn load(state: &AppState, meeting: Meeting, cell: Unit) -> AppResult<MeetingView> {
        let pool = state.pool();
        let attendance = meetings::attendance(pool, meeting.id).await?;
        let name_of = |id: Option<i64>| {
            id.and_then(|id| attendance.iter().find(|a| a.member_id == id)).map(|a| a.full_name.clone())
        };
        let rubric = crate::db::rubric::versions(pool).await?.into_iter().find(|v| v.id == meeting.rubric_version_id);
        let times = meeting.started_at.zip(meeting.ended_at);
        let warnings = rubric
            .as_ref()
            .map(|r| rubric::warnings(r, meeting.kind, meeting.held_on, times, &meeting.facts()))
            .unwrap_or_default()
            .iter()
            .map(warning_text)
            .collect();
        Ok(MeetingView {
            rubric,
            warnings,
            chair: name_of(meeting.chair_id),
            minute_taker: name_of(meeting.minute_taker_id),
            ancestors: units::ancestors(pool, cell.id, meeting.held_on).await?,
            guests: meetings::guests(pool, meeting.id).await?,
            tasks: meetings::tasks(pool, meeting.id).await?,
            attendance,
            meeting,
            cell,
        })
    }

    pub fn kind_label(&self) -> &'static str {
        self.meeting.kind.label()
    }

    pub fn rating_label(&self) -> &'static str {
        self.meeting.rating.map(Label::label).unwrap_or(crate::tr("meeting.not_rated"))
    }

    /// Members present online.
    pub fn online_count(&self) -> usize {
        self.attendance.iter().filter(|a| a.online()).count()
    }

    /// Names of the members absent with a reason, comma-separated.
    pub fn excused_names(&self) -> String {
        self.names(AttendanceStatus::Excused)
    }

    /// Names of the members absent without a reason, comma-separated.
    pub fn unexcused_names(&self) -> String {
        self.names(AttendanceStatus::Unexcused)
    }

    /// Each name, followed by the reason in brackets where one was given.
    fn names(&self, status: AttendanceStatus) -> String {
        let of = |a: &meetings::AttendanceRow| {
            a.reason.as_ref().map_or(a.full_name.clone(), |r| format!("{} ({r})", a.full_name))
        };
        self.attendance.iter().filter(|a| a.status == status).map(of).collect::<Vec<_>>().join(", ")
    }
}

#[derive(Template)]
#[template(path = "meetings/show.html")]
struct ShowPage {
    layout: Layout,
    v: MeetingView,
    saved: bool,
    can_edit: bool,
    can_see_names: bool,
    today: NaiveDate,
    /// a task just marked done here: said, with an undo button
    done_task: Option<meetings::Task>,
    /// this page's address, to come back to after an undo
    here: String,
}

#[derive(Deserialize)]
pub struct ShowQuery {
    saved: Option<String>,
    done_task: Option<i64>,
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> AppResult<Html<String>> {
    let (meeting, cell) = load_meeting(&state, &user, id).await?;
    let done_task = super::tasks::just_done(&state, cell.id, q.done_task).await?;
    let v = MeetingView::load(&state, meeting, cell).await?;
    let page = ShowPage {
        done_task,
        here: format!("/meetings/{id}"),
        layout: Layout::new(&user).with_units(&v.ancestors, user.user.unit_id),
        saved: q.saved.is_some(),
        can_edit: user.role().can_edit_meetings(),
        can_see_names: user.role().can_see_names(),
        today: time::today(),
        v,
    };
    Ok(Html(page.render()?))
}

#[derive(Template)]
#[template(path = "meetings/minutes.html")]
struct MinutesPage {
    v: MeetingView,
    place: String,
    issuer: String,
    official_count: usize,
    probationary_count: usize,
}

/// The biên bản, laid out as a Party document for A4 printing.
pub async fn minutes(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> AppResult<Html<String>> {
    if !user.role().can_see_names() {
        return Err(AppError::Forbidden);
    }
    let (meeting, cell) = load_meeting(&state, &user, id).await?;
    let roll = members::roll(state.pool(), cell.id, meeting.held_on).await?;
    let official_count = roll.iter().filter(|m| m.is_official_on(&meeting.held_on)).count();
    let v = MeetingView::load(&state, meeting, cell).await?;
    let parent = v.ancestors.iter().rev().nth(1);
    let issuer = parent.map(|p| p.name.to_uppercase()).unwrap_or_default();
    let place = parent
        .map(|p| {
            p.name
                .trim_start_matches("Đảng bộ ")
                .trim_start_matches("xã ")
                .trim_start_matches("phường ")
                .trim_start_matches("thị trấn ")
                .to_string()
        })
        .unwrap_or_default();
    let page = MinutesPage { probationary_count: roll.len() - official_count, official_count, place, issuer, v };
    Ok(Html(page.render()?))
}
