//! The log-meeting form: what the browser sends, and its checks, turning it into a `MeetingDraft` or into
//! messages next to the fields (DOMAIN.md §6, §8). Pure: every check is unit-testable without a database.
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::db::members::RollMember;
use crate::db::units::Unit;
use crate::domain::limits::{self, TextProblem};
use crate::domain::meeting::{AttendanceStatus, MeetingDraft, MeetingKind, Rating, TaskDraft};
use crate::domain::rubric::Facts;
use crate::domain::time::{format_date, format_month, parse_date, parse_time};

/// The form as typed, kept as text so that a refused form comes back exactly as the user left it.
#[derive(Debug, Clone, Default)]
pub struct RawMeeting {
    pub held_on: String,
    pub kind: String,
    pub started_at: String,
    pub ended_at: String,
    pub location: String,
    pub topic: String,
    pub content: String,
    pub resolution: String,
    pub chair: String,
    pub minute_taker: String,
    pub rating: String,
    /// HD 42: the notice, the committee's preparatory meeting, the materials posted (dates as typed)
    pub notice_on: String,
    pub prepared_on: String,
    pub materials_on: String,
    /// the regular meeting also held the quarter's thematic part
    pub combined_thematic: bool,
    pub score: BTreeMap<String, String>,
    /// member id → status, as sent
    pub attendance: BTreeMap<String, String>,
    /// member id → the reason typed beside them, read only if they are marked excused
    pub reasons: BTreeMap<String, String>,
    /// member ids ticked as attending online (read only for present members)
    pub online: BTreeSet<String>,
    pub guests: Vec<String>,
    pub tasks: Vec<RawTask>,
    pub confirm_second: bool,
    pub idempotency_key: String,
    pub version: String,
    pub csrf: Option<String>,
    /// "save", or "add_task" to get one more empty task row without saving
    pub action: String,
}

#[derive(Debug, Clone, Default)]
pub struct RawTask {
    pub id: String,
    pub description: String,
    pub assignee: String,
    pub due: String,
}

impl RawMeeting {
    /// Reads the urlencoded pairs; unknown keys are ignored. Every field but `guest` (a box per official) comes
    /// once from the page: a field sent twice is returned as the error, for the form to be refused whole.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Result<RawMeeting, String> {
        let mut raw = RawMeeting::default();
        let mut tasks: BTreeMap<usize, RawTask> = BTreeMap::new();
        let mut seen: HashSet<String> = HashSet::new();
        for (key, value) in pairs {
            if key != "guest" && is_field(&key) && !seen.insert(key.clone()) {
                return Err(key);
            }
            match key.as_str() {
                "held_on" => raw.held_on = value,
                "kind" => raw.kind = value,
                "started_at" => raw.started_at = value,
                "ended_at" => raw.ended_at = value,
                "location" => raw.location = value,
                "topic" => raw.topic = value,
                "content" => raw.content = value,
                "resolution" => raw.resolution = value,
                "chair" => raw.chair = value,
                "minute_taker" => raw.minute_taker = value,
                "rating" => raw.rating = value,
                "notice_on" => raw.notice_on = value,
                "prepared_on" => raw.prepared_on = value,
                "materials_on" => raw.materials_on = value,
                "combined_thematic" => raw.combined_thematic = value == "1",
                "guest" => raw.guests.push(value),
                "confirm_second" => raw.confirm_second = value == "1",
                "idempotency_key" => raw.idempotency_key = value,
                "version" => raw.version = value,
                "csrf" => raw.csrf = Some(value),
                "action" => raw.action = value,
                _ => {
                    if let Some(member) = key.strip_prefix("att.") {
                        raw.attendance.insert(member.to_string(), value);
                    } else if let Some(member) = key.strip_prefix("online.") {
                        if value == "1" {
                            raw.online.insert(member.to_string());
                        }
                    } else if let Some(member) = key.strip_prefix("reason.") {
                        raw.reasons.insert(member.to_string(), value);
                    } else if let Some(criterion) = key.strip_prefix("score.") {
                        raw.score.insert(criterion.to_string(), value);
                    } else if let Some((n, field)) = key.strip_prefix("task.").and_then(|k| k.split_once('.'))
                        && let Ok(n) = n.parse::<usize>()
                        && n < 100
                    {
                        let task = tasks.entry(n).or_default();
                        match field {
                            "id" => task.id = value,
                            "description" => task.description = value,
                            "assignee" => task.assignee = value,
                            "due" => task.due = value,
                            _ => {}
                        }
                    }
                }
            }
        }
        raw.tasks = tasks.into_values().collect();
        Ok(raw)
    }

    /// The date typed, if it is a date.
    pub fn held_on(&self) -> Option<NaiveDate> {
        parse_date(&self.held_on)
    }
}

/// A name the form reads (the others are ignored, repeated or not).
fn is_field(key: &str) -> bool {
    const SINGLE: [&str; 21] = [
        "held_on",
        "kind",
        "started_at",
        "ended_at",
        "location",
        "topic",
        "content",
        "resolution",
        "chair",
        "minute_taker",
        "rating",
        "notice_on",
        "prepared_on",
        "materials_on",
        "combined_thematic",
        "guest",
        "confirm_second",
        "idempotency_key",
        "version",
        "csrf",
        "action",
    ];
    SINGLE.contains(&key)
        || key.starts_with("att.")
        || key.starts_with("reason.")
        || key.starts_with("online.")
        || key.starts_with("score.")
        || key.strip_prefix("task.").and_then(|k| k.split_once('.')).is_some_and(|(n, field)| {
            n.parse::<usize>().is_ok_and(|n| n < 100) && ["id", "description", "assignee", "due"].contains(&field)
        })
}

/// The message for a text field that holds a control character or is too long, if it does.
fn text_problem(label: &str, value: &str, max: usize) -> Option<String> {
    match limits::check_text(value, max) {
        Ok(()) => None,
        Err(TextProblem::Control(c)) => Some(crate::tr2("input.control", label, limits::code_point(c))),
        Err(TextProblem::TooLong { max, length }) => Some(format!(
            "{} {}",
            crate::tr2("input.too_long", label, crate::i18n::count(max as i64)),
            crate::tr1("input.length_now", crate::i18n::count(length as i64))
        )),
    }
}

/// A problem with one field: `field` is the id of the control the message belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// One criterion of the 100-point helper.
#[derive(Debug, Clone)]
pub struct Criterion {
    pub key: String,
    pub label: String,
    pub max_points: u8,
}

/// What the checks need to know beyond the form.
pub struct FormContext<'a> {
    pub today: NaiveDate,
    pub cell: &'a Unit,
    /// The roll on the date typed (or today, if no date could be read).
    pub roll: &'a [RollMember],
    pub criteria: &'a [Criterion],
    /// Officials who may be recorded as guests.
    pub guest_ids: &'a [i64],
    /// Other regular meetings of the cell in the month of the date typed.
    pub other_regular: &'a [(i64, NaiveDate)],
    /// Existing task ids of the meeting being edited.
    pub task_ids: &'a [i64],
}

pub fn validate(raw: &RawMeeting, ctx: &FormContext) -> Result<MeetingDraft, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut err = |field: &str, message: String| errors.push(FieldError { field: field.into(), message });

    let held_on = match raw.held_on() {
        None if raw.held_on.trim().is_empty() => {
            err("held_on", crate::tr("mform.err.held_on_missing").into());
            None
        }
        None => {
            err("held_on", crate::tr("mform.err.held_on_format").into());
            None
        }
        Some(d) if d > ctx.today => {
            err("held_on", crate::tr1("mform.err.held_on_future", format_date(ctx.today)));
            None
        }
        Some(d) if d < ctx.cell.valid_from => {
            err("held_on", crate::tr1("mform.err.before_opened", format_date(ctx.cell.valid_from)));
            None
        }
        Some(d) if ctx.cell.valid_to.is_some_and(|to| d > to) => {
            let to = ctx.cell.valid_to.expect("checked");
            err("held_on", crate::tr1("mform.err.after_closed", format_date(to)));
            None
        }
        Some(d) => Some(d),
    };

    let kind = MeetingKind::parse(&raw.kind);
    if kind.is_none() {
        err("kind", crate::tr("mform.err.kind").into());
    }

    // HD 42's dates: optional, each a date when given (warned about, never refused, when late or missing)
    let mut fact_date = |field: &str, typed: &str| match typed.trim() {
        "" => None,
        s => {
            let parsed = parse_date(s);
            if parsed.is_none() {
                err(field, crate::tr("mform.err.fact_date").into());
            }
            parsed
        }
    };
    let facts = Facts {
        notice_on: fact_date("notice_on", &raw.notice_on),
        prepared_on: fact_date("prepared_on", &raw.prepared_on),
        materials_on: fact_date("materials_on", &raw.materials_on),
        combined_thematic: raw.combined_thematic,
    };
    if raw.combined_thematic && kind.is_some_and(|k| k != MeetingKind::Regular) {
        err("combined_thematic", crate::tr("mform.err.combined").into());
    }

    let started_at = parse_time(&raw.started_at);
    let ended_at = parse_time(&raw.ended_at);
    if started_at.is_none() {
        err("started_at", crate::tr("mform.err.started_at").into());
    }
    match (started_at, ended_at) {
        (_, None) => err("ended_at", crate::tr("mform.err.ended_at").into()),
        (Some(s), Some(e)) if e <= s => err("ended_at", crate::tr1("mform.err.ended_before", s.format("%H:%M"))),
        _ => {}
    }

    let topic = raw.topic.trim();
    if topic.is_empty() {
        err("topic", crate::tr("mform.err.topic").into());
    }
    // the texts saved as typed: no control character (PostgreSQL refuses NUL), each within its length
    for (field, label, value, max) in [
        ("location", "mform.location", &raw.location, limits::LOCATION),
        ("topic", "mform.topic", &raw.topic, limits::TOPIC),
        ("content", "mform.content", &raw.content, limits::LONG_TEXT),
        ("resolution", "mform.resolution", &raw.resolution, limits::LONG_TEXT),
    ] {
        if let Some(message) = text_problem(crate::tr(label), value.trim(), max) {
            err(field, message);
        }
    }

    // The roster: exactly one status for each member on the roll that day.
    let on_roll: HashMap<String, &RollMember> = ctx.roll.iter().map(|m| (m.id.to_string(), m)).collect();
    let missing: Vec<&str> = ctx
        .roll
        .iter()
        .filter(|m| !raw.attendance.contains_key(&m.id.to_string()))
        .map(|m| m.full_name.as_str())
        .collect();
    let extra = raw.attendance.keys().filter(|k| !on_roll.contains_key(*k)).count();
    let mut attendance = Vec::new();
    let mut reasons = Vec::new();
    let mut online = Vec::new();
    if held_on.is_some() && (!missing.is_empty() || extra > 0) {
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(crate::tr1("mform.err.roster_missing", missing.join(", ")));
        }
        if extra > 0 {
            parts.push(crate::tr1("mform.err.roster_extra", extra));
        }
        err(
            "roster",
            format!(
                "{} ({}). {}",
                crate::tr1("mform.err.roster", held_on.map(format_date).unwrap_or_default()),
                parts.join("; "),
                crate::tr("mform.err.roster_updated")
            ),
        );
    } else {
        for m in ctx.roll {
            let sent = raw.attendance.get(&m.id.to_string()).map(String::as_str).unwrap_or_default();
            match AttendanceStatus::parse(sent) {
                Some(AttendanceStatus::Exempt) if !m.exempt => {
                    err(&format!("att-{}", m.id), crate::tr1("mform.err.not_exempt", &m.full_name))
                }
                Some(s) => {
                    attendance.push((m.id, s));
                    if s == AttendanceStatus::Present && raw.online.contains(&m.id.to_string()) {
                        online.push(m.id);
                    }
                    let reason = raw.reasons.get(&m.id.to_string()).map(|r| r.trim()).unwrap_or_default();
                    if s == AttendanceStatus::Excused && !reason.is_empty() {
                        let label = crate::tr1("mform.reason_of", &m.full_name);
                        match text_problem(&label, reason, limits::REASON) {
                            Some(message) => err(&format!("reason-{}", m.id), message),
                            None => reasons.push((m.id, reason.to_string())),
                        }
                    }
                }
                None => err(&format!("att-{}", m.id), crate::tr1("mform.err.status", &m.full_name)),
            }
        }
    }

    let member_ref = |field: &str, v: &str, errs: &mut Vec<FieldError>| -> Option<i64> {
        if v.trim().is_empty() {
            return None;
        }
        match v.parse::<i64>().ok().filter(|id| ctx.roll.iter().any(|m| m.id == *id)) {
            Some(id) => Some(id),
            None => {
                errs.push(FieldError { field: field.into(), message: crate::tr("mform.err.member").into() });
                None
            }
        }
    };
    let chair_id = member_ref("chair", &raw.chair, &mut errors);
    let minute_taker_id = member_ref("minute_taker", &raw.minute_taker, &mut errors);
    let mut err = |field: &str, message: String| errors.push(FieldError { field: field.into(), message });

    let rating = match raw.rating.as_str() {
        "" => {
            if kind == Some(MeetingKind::Regular) {
                err("rating", crate::tr("mform.err.rating").into());
            }
            None
        }
        r => {
            let parsed = Rating::parse(r);
            if parsed.is_none() {
                err("rating", crate::tr("mform.err.rating_choice").into());
            }
            parsed
        }
    };

    let mut score_detail = Vec::new();
    for c in ctx.criteria {
        let typed = raw.score.get(&c.key).map(|s| s.trim()).unwrap_or_default();
        if typed.is_empty() {
            continue;
        }
        match typed.parse::<u8>().ok().filter(|p| *p <= c.max_points) {
            Some(p) => score_detail.push((c.key.clone(), p)),
            None => err(&format!("score-{}", c.key), crate::tr2("mform.err.score", &c.label, c.max_points)),
        }
    }
    let score_detail = (score_detail.len() == ctx.criteria.len()).then_some(score_detail);

    let mut guests = Vec::new();
    for g in &raw.guests {
        match g.parse::<i64>().ok().filter(|id| ctx.guest_ids.contains(id)) {
            Some(id) if !guests.contains(&id) => guests.push(id),
            Some(_) => {}
            None => err("guests", crate::tr("mform.err.guests").into()),
        }
    }

    let mut tasks = Vec::new();
    let known_tasks: HashSet<i64> = ctx.task_ids.iter().copied().collect();
    for (n, t) in raw.tasks.iter().enumerate() {
        let description = t.description.trim();
        if description.is_empty() && t.assignee.trim().is_empty() && t.due.trim().is_empty() {
            continue;
        }
        if description.is_empty() {
            err(&format!("task-{n}-description"), crate::tr("mform.err.task").into());
        }
        if let Some(message) = text_problem(&crate::tr1("mform.task_n", n + 1), description, limits::TASK) {
            err(&format!("task-{n}-description"), message);
        }
        let assignee = t.assignee.parse::<i64>().ok().filter(|id| ctx.roll.iter().any(|m| m.id == *id));
        if assignee.is_none() {
            err(&format!("task-{n}-assignee"), crate::tr("mform.err.assignee").into());
        }
        let due_on = match t.due.trim() {
            "" => None,
            s => match parse_date(s) {
                Some(d) if held_on.is_some_and(|h| d < h) => {
                    err(&format!("task-{n}-due"), crate::tr("mform.err.due_before").into());
                    None
                }
                Some(d) => Some(d),
                None => {
                    err(&format!("task-{n}-due"), crate::tr("mform.err.due_format").into());
                    None
                }
            },
        };
        let id = t.id.parse::<i64>().ok().filter(|id| known_tasks.contains(id));
        if let Some(assignee_id) = assignee {
            tasks.push(TaskDraft { id, assignee_id, description: description.to_string(), due_on });
        }
    }

    if kind == Some(MeetingKind::Regular)
        && let (Some(d), Some((_, first))) = (held_on, ctx.other_regular.first())
        && !raw.confirm_second
    {
        err("confirm_second", crate::tr2("mform.err.second_regular", format_month(d), format_date(*first)));
    }

    let (Some(held_on), Some(kind), Some(started_at), Some(ended_at)) = (held_on, kind, started_at, ended_at) else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(MeetingDraft {
        held_on,
        kind,
        started_at,
        ended_at,
        location: raw.location.trim().to_string(),
        topic: topic.to_string(),
        content: raw.content.trim().to_string(),
        resolution: raw.resolution.trim().to_string(),
        chair_id,
        minute_taker_id,
        rating,
        score_detail,
        attendance,
        reasons,
        online,
        facts,
        guests,
        tasks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_field_sent_twice_refuses_the_form_whole() {
        for key in ["att.14", "score.conduct", "topic", "held_on", "task.0.description", "csrf", "action"] {
            let sent = pairs(&[("topic", "Họp chi bộ"), (key, "một"), ("rating", "good"), (key, "hai")]);
            let sent = if key == "topic" { sent[1..].to_vec() } else { sent };
            assert_eq!(RawMeeting::from_pairs(sent).err().as_deref(), Some(key), "{key}");
        }
        // a box per official, and names the form does not read, may come more than once
        let raw = RawMeeting::from_pairs(pairs(&[
            ("guest", "7"),
            ("guest", "8"),
            ("other", "1"),
            ("other", "2"),
            ("task.100.description", "x"),
            ("task.100.description", "y"),
            ("task.0.colour", "x"),
            ("task.0.colour", "y"),
            ("att.14", "present"),
            ("att.15", "excused"),
        ]))
        .expect("nothing sent twice that the form reads");
        assert_eq!(raw.guests, ["7", "8"]);
        assert_eq!(raw.attendance.len(), 2);
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// Checks `raw` for a cell of two members on 27/11/2026.
    fn check(raw: &RawMeeting) -> Result<MeetingDraft, Vec<FieldError>> {
        let cell = Unit {
            id: 1,
            code: "A".into(),
            kind: crate::domain::vocab::UnitKind::Cell,
            name: "Chi bộ thôn Khuổi Trang".into(),
            valid_from: day(2020, 1, 1),
            valid_to: None,
            cell_type: Some(crate::domain::vocab::CellType::Village),
        };
        let roll: Vec<RollMember> = (1..=2)
            .map(|i| RollMember {
                id: i,
                code: format!("M{i}"),
                full_name: format!("Nguyễn Văn {i}"),
                official_on: Some(day(2011, 1, 1)),
                exempt: false,
            })
            .collect();
        let ctx = FormContext {
            today: day(2026, 11, 27),
            cell: &cell,
            roll: &roll,
            criteria: &[],
            guest_ids: &[],
            other_regular: &[],
            task_ids: &[],
        };
        validate(raw, &ctx)
    }

    fn meeting(topic: &str) -> RawMeeting {
        RawMeeting::from_pairs(pairs(&[
            ("held_on", "2026-11-20"),
            ("kind", "thematic"),
            ("started_at", "19:00"),
            ("ended_at", "21:00"),
            ("topic", topic),
            ("att.1", "present"),
            ("att.2", "present"),
            ("task.0.description", "Vận động các hộ"),
            ("task.0.assignee", "1"),
        ]))
        .unwrap()
    }

    fn errors_at(raw: &RawMeeting) -> Vec<(String, String)> {
        check(raw).err().unwrap_or_default().into_iter().map(|e| (e.field, e.message)).collect()
    }

    #[test]
    fn a_control_character_in_a_text_is_refused_at_its_field() {
        assert!(check(&meeting("Họp chi bộ\r\ntháng 11\t")).is_ok());
        let raw = meeting("Họp chi bộ\0");
        assert_eq!(
            errors_at(&raw),
            [("topic".to_string(), "Chủ đề: có ký tự điều khiển không lưu được (U+0000); hãy xóa ký tự đó.".into())]
        );
        for (field, set) in [
            ("location", (|r: &mut RawMeeting| r.location = "Nhà\u{1b}văn hóa".into()) as fn(&mut RawMeeting)),
            ("content", |r| r.content = "\0".into()),
            ("resolution", |r| r.resolution = "Nghị quyết\u{7f}".into()),
            ("task-0-description", |r| r.tasks[0].description = "Vận\0 động".into()),
        ] {
            let mut raw = meeting("Họp chi bộ");
            set(&mut raw);
            let errors = errors_at(&raw);
            assert_eq!(errors.len(), 1, "{field}: {errors:?}");
            assert_eq!(errors[0].0, field);
            assert!(errors[0].1.contains("có ký tự điều khiển không lưu được"), "{errors:?}");
        }
    }

    #[test]
    fn each_text_is_checked_against_its_limit() {
        let at_limit = |n: usize| "ệ".repeat(n);
        let mut raw = meeting(&at_limit(limits::TOPIC));
        raw.location = at_limit(limits::LOCATION);
        raw.content = at_limit(limits::LONG_TEXT);
        raw.resolution = "a\r\n".repeat(limits::LONG_TEXT / 2);
        raw.tasks[0].description = at_limit(limits::TASK);
        let draft = check(&raw).expect("every text at its limit is saved");
        assert_eq!(draft.topic.chars().count(), limits::TOPIC);

        for (field, set) in [
            ("topic", (|r: &mut RawMeeting| r.topic.push('x')) as fn(&mut RawMeeting)),
            ("location", |r| r.location.push('x')),
            ("content", |r| r.content.push('x')),
            ("resolution", |r| r.resolution.push('x')),
            ("task-0-description", |r| r.tasks[0].description.push('x')),
        ] {
            let mut over = raw.clone();
            set(&mut over);
            let errors = errors_at(&over);
            assert_eq!(errors.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(), [field], "{errors:?}");
            assert!(errors[0].1.contains("ký tự (hiện có"), "{errors:?}");
        }
        let mut over = raw.clone();
        over.topic.push('x');
        assert_eq!(errors_at(&over)[0].1, "Chủ đề: tối đa 500 ký tự (hiện có 501); hãy rút gọn.");
    }
}
