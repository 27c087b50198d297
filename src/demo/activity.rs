//! The demo's history: monthly and thematic meetings with attendance, guests and tasks, officials and their
//! Regulation 18 assignments, trainings and annual classifications — written straight into COPY buffers.
use chrono::{Datelike, Days, NaiveDate, NaiveTime};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::structure::Structure;
use super::{date, pick};
use crate::db::copy::CopyBuffer;
use crate::demo::names;
use crate::domain::rubric::Rubric;
use crate::domain::vocab::{
    AttendanceMode, AttendanceStatus, ClassLevel, MeetingKind, OfficialGroup, Rating, TaskStatus,
};

pub struct Buffers {
    pub officials: CopyBuffer,
    pub assignments: CopyBuffer,
    pub meetings: CopyBuffer,
    pub attendance: CopyBuffer,
    pub guests: CopyBuffer,
    pub tasks: CopyBuffer,
    pub trainings: CopyBuffer,
    pub cell_classifications: CopyBuffer,
    pub member_classifications: CopyBuffer,
    pub cell_reports: CopyBuffer,
    pub settings: CopyBuffer,
}

struct Official {
    id: i64,
    group: OfficialGroup,
}

impl Official {
    fn is_district(&self) -> bool {
        matches!(self.group, OfficialGroup::DistrictStanding | OfficialGroup::DistrictCommittee)
    }
}

/// `rubrics`: the rubric versions, so that each meeting is written with the one in force on its day.
pub fn generate(rng: &mut StdRng, s: &Structure, today: NaiveDate, rubrics: &[Rubric]) -> Buffers {
    let mut b = Buffers {
        officials: CopyBuffer::new("officials", "id, code, full_name, \"group\", unit_id"),
        assignments: CopyBuffer::new("reg18_assignments", "official_id, cell_id, year, required"),
        meetings: CopyBuffer::new(
            "meetings",
            "id, ref, cell_id, held_on, kind, topic, content, resolution, location, started_at, ended_at, rating, \
             score, chair_id, minute_taker_id, present, excused, unexcused, exempt, notice_on, prepared_on, \
             materials_on, combined_thematic, rubric_version_id",
        ),
        attendance: CopyBuffer::new("attendance", "meeting_id, member_id, status, mode"),
        guests: CopyBuffer::new("meeting_guests", "meeting_id, official_id"),
        tasks: CopyBuffer::new("tasks", "meeting_id, assignee_id, description, due_on, status, done_on"),
        trainings: CopyBuffer::new("trainings", "member_id, trained_on, course"),
        cell_classifications: CopyBuffer::new("cell_classifications", "cell_id, year, level"),
        member_classifications: CopyBuffer::new("member_classifications", "member_id, year, level"),
        cell_reports: CopyBuffer::new("cell_reports", ""),
        settings: CopyBuffer::new("settings", ""),
    };
    let mut reports = super::reports::Reports::new(today);

    // Officials: province leaders, district leaders and staff, three grassroots committee members per committee.
    let mut officials: Vec<(usize, Official)> = Vec::new(); // (unit index, official)
    let mut add_official = |rng: &mut StdRng, b: &mut Buffers, unit: usize, group: OfficialGroup| {
        let id = officials.len() as i64 + 1;
        let name = super::person_name(rng);
        b.officials.row(&[&id, &format!("CB{id:05}"), &name, &group.as_str(), &(unit as i64 + 1)]);
        officials.push((unit, Official { id, group }));
    };
    for _ in 0..12 {
        add_official(rng, &mut b, 0, OfficialGroup::ProvincialStanding);
    }
    for _ in 0..30 {
        add_official(rng, &mut b, 0, OfficialGroup::ProvincialCommittee);
    }
    for &d in &s.districts {
        for (group, n) in [
            (OfficialGroup::DistrictStanding, 4),
            (OfficialGroup::DistrictCommittee, 8),
            (OfficialGroup::AdvisoryStaff, 3),
        ] {
            for _ in 0..n {
                add_official(rng, &mut b, d, group);
            }
        }
    }
    for &c in &s.committees {
        for _ in 0..3 {
            add_official(rng, &mut b, c, OfficialGroup::GrassrootsCommittee);
        }
    }

    let first_year = 2020;
    let last_year = today.year();
    let mut meeting_id = 0i64;
    for (ci, cell) in s.cells.iter().enumerate() {
        let unit = &s.units[cell.unit];
        let cell_id = unit.id;
        let closes = unit.valid_to;
        // the committee's officials attend; district officials until the districts closed
        let grassroots: Vec<&Official> = officials
            .iter()
            .filter(|(u, o)| *u == cell.committee && o.group == OfficialGroup::GrassrootsCommittee)
            .map(|(_, o)| o)
            .collect();
        let district =
            s.districts.iter().find(|&&d| s.units[d].code.len() == 5 && unit.code.starts_with(&s.units[d].code));
        let higher: Vec<&Official> = officials
            .iter()
            .filter(|(u, o)| (Some(u) == district && o.is_district()) || (*u == 0 && rng.random_bool(0.02)))
            .map(|(_, o)| o)
            .collect();
        // (official, probability of attending a given meeting) for each year
        let mut assigned: Vec<(i32, &Official, f64)> = Vec::new();
        for year in first_year..=last_year {
            if closes.is_some_and(|c| c.year() < year) {
                continue;
            }
            if let Some(g) = grassroots.get(ci % grassroots.len().max(1)) {
                b.assignments.row(&[&g.id, &cell_id, &(year as i16), &10i16]);
                assigned.push((year, g, 0.75));
            }
            if !higher.is_empty() && rng.random_bool(0.3) && (year < 2025 || !higher[0].is_district()) {
                let h = higher[rng.random_range(0..higher.len())];
                b.assignments.row(&[&h.id, &cell_id, &(year as i16), &2i16]);
                assigned.push((year, h, if h.group == OfficialGroup::DistrictStanding { 0.2 } else { 0.15 }));
            }
        }

        let mut month = date(2020, 1, 1);
        while month <= today {
            let (y, m) = (month.year(), month.month());
            let next = if m == 12 { date(y + 1, 1, 1) } else { date(y, m + 1, 1) };
            let is_current_month = next > today;
            let open = unit.valid_from <= month && closes.is_none_or(|c| c >= month);
            // the demo cell leaves this month for the secretary to log
            let skip =
                !open || (is_current_month && ci == s.demo_cell) || rng.random_bool(if cell.weak { 0.3 } else { 0.01 });
            let held_on = date(y, m, rng.random_range(3..=12));
            let regular = !skip && held_on <= today && closes.is_none_or(|c| held_on <= c);
            if regular {
                meeting_id += 1;
                let at = (meeting_id, held_on, MeetingKind::Regular);
                write_meeting(rng, &mut b, s, ci, at, &assigned, today, rubrics);
            }
            if open {
                reports.month(cell_id, month, regular, cell.weak, ci == s.demo_cell);
            }
            let thematic_month = m % 3 == 2;
            let thematic_day = date(y, m, rng.random_range(15..=25));
            if open
                && thematic_month
                && thematic_day <= today
                && closes.is_none_or(|c| thematic_day <= c)
                && rng.random_bool(if cell.weak { 0.5 } else { 0.9 })
            {
                meeting_id += 1;
                let at = (meeting_id, thematic_day, MeetingKind::Thematic);
                write_meeting(rng, &mut b, s, ci, at, &assigned, today, rubrics);
            }
            month = next;
        }

        // secretaries trained (about 96 %), annual classifications for finished years
        for &(sec, _, _) in &cell.secretaries {
            if rng.random_bool(0.96) {
                let trained = date(rng.random_range(2012..=2021), rng.random_range(1..=12), rng.random_range(1..=28));
                b.trainings.row(&[&s.members[sec].id, &trained, &pick(rng, names::COURSES)]);
            }
        }
        for year in first_year..today.year() {
            let dec31 = date(year, 12, 31);
            if closes.is_some_and(|c| c < dec31) {
                continue;
            }
            let level = classify(rng, if cell.weak { 0.45 } else { 0.9 });
            b.cell_classifications.row(&[&cell_id, &(year as i16), &level.as_str()]);
            for &mi in &cell.members {
                let m = &s.members[mi];
                if m.cell_on(dec31) == Some(cell.unit) {
                    b.member_classifications.row(&[&m.id, &(year as i16), &classify(rng, 0.88).as_str()]);
                }
            }
        }
    }
    b.cell_reports = reports.cell_reports;
    b.settings = reports.settings_rows;
    b
}

/// excellent / good with probability `good`, otherwise mostly complete, rarely fail.
fn classify(rng: &mut StdRng, good: f64) -> ClassLevel {
    let r: f64 = rng.random();
    if r < good * 0.2 {
        ClassLevel::Excellent
    } else if r < good {
        ClassLevel::Good
    } else if r < good + (1.0 - good) * 0.8 {
        ClassLevel::Complete
    } else {
        ClassLevel::Fail
    }
}

/// A meeting's HD 42 facts in the demo (DOMAIN.md §11), for regular meetings from November 2025 on.
struct Hd42 {
    in_force: bool,
    notice_on: Option<NaiveDate>,
    prepared_on: Option<NaiveDate>,
    materials_on: Option<NaiveDate>,
    combined: bool,
    /// a few meetings cut short: their length in minutes
    short: Option<i64>,
}

/// Drawn from the meeting's id alone, so that the rest of the demo's history is what it was before HD 42: most
/// meetings with a notice about five days ahead, the committee's preparation and materials a day or more before;
/// a few without a notice, with late materials, or shorter than 90 minutes; some combined with the thematic part
/// in a quarter's last month.
fn hd42_facts(id: i64, held_on: NaiveDate, kind: MeetingKind) -> Hd42 {
    let from = NaiveDate::from_ymd_opt(2025, 11, 1).expect("a date");
    if kind != MeetingKind::Regular || held_on < from {
        return Hd42 {
            in_force: false,
            notice_on: None,
            prepared_on: None,
            materials_on: None,
            combined: false,
            short: None,
        };
    }
    let mut rng = StdRng::seed_from_u64(0x4844_3432_2025 ^ id as u64);
    let before = |days: u64| held_on - Days::new(days);
    let notice_on = (!rng.random_bool(0.05)).then(|| before(rng.random_range(3..=7)));
    let prepared_on = Some(before(rng.random_range(5..=10)));
    let materials_on = Some(if rng.random_bool(0.08) { held_on } else { before(rng.random_range(1..=3)) });
    let combined = held_on.month().is_multiple_of(3) && rng.random_bool(0.2);
    let short = rng.random_bool(0.06).then(|| rng.random_range(60..=85));
    Hd42 { in_force: true, notice_on, prepared_on, materials_on, combined, short }
}

#[allow(clippy::too_many_arguments)]
fn write_meeting(
    rng: &mut StdRng,
    b: &mut Buffers,
    s: &Structure,
    ci: usize,
    (id, held_on, kind): (i64, NaiveDate, MeetingKind),
    assigned: &[(i32, &Official, f64)],
    today: NaiveDate,
    rubrics: &[Rubric],
) {
    let cell = &s.cells[ci];
    let unit = &s.units[cell.unit];
    let roll: Vec<usize> =
        cell.members.iter().copied().filter(|&m| s.members[m].cell_on(held_on) == Some(cell.unit)).collect();
    let (p_present, p_excused) = if cell.weak { (0.80, 0.12) } else { (0.915, 0.06) };
    let statuses: Vec<(usize, AttendanceStatus)> = roll
        .iter()
        .map(|&m| {
            let status = if s.members[m].exempt_on(held_on) {
                AttendanceStatus::Exempt
            } else {
                let r: f64 = rng.random();
                if r < p_present {
                    AttendanceStatus::Present
                } else if r < p_present + p_excused {
                    AttendanceStatus::Excused
                } else {
                    AttendanceStatus::Unexcused
                }
            };
            (m, status)
        })
        .collect();
    let count = |st: AttendanceStatus| statuses.iter().filter(|(_, s)| *s == st).count() as i32;
    let (topic, content) = if kind == MeetingKind::Regular {
        (
            pick(rng, names::REGULAR_TOPICS),
            "Đánh giá kết quả thực hiện nghị quyết tháng trước; thảo luận nhiệm vụ tháng tới.",
        )
    } else {
        (pick(rng, names::THEMATIC_TOPICS), "Sinh hoạt chuyên đề theo kế hoạch của cấp ủy.")
    };
    let rating = (kind == MeetingKind::Regular).then(|| {
        let r: f64 = rng.random();
        let good = if cell.weak { 0.35 } else { 0.93 };
        if r < good {
            Rating::Good
        } else if r < good + (1.0 - good) * 0.6 {
            Rating::Fair
        } else if r < good + (1.0 - good) * 0.9 {
            Rating::Average
        } else {
            Rating::Weak
        }
    });
    let score: Option<i16> = rating.filter(|_| held_on.year() >= 2023).map(|r| match r {
        Rating::Good => rng.random_range(90..=98),
        Rating::Fair => rng.random_range(70..=89),
        Rating::Average => rng.random_range(50..=69),
        Rating::Weak => rng.random_range(35..=49),
    });
    let start_hour = if unit.cell_type == Some(crate::domain::vocab::CellType::Village) { 19 } else { 14 };
    let started = NaiveTime::from_hms_opt(start_hour, 30, 0).expect("valid time");
    let mut ended = started + chrono::Duration::minutes(rng.random_range(90..=150));
    let hd42 = hd42_facts(id, held_on, kind);
    if let Some(minutes) = hd42.short {
        ended = started + chrono::Duration::minutes(minutes);
    }
    let secretary = cell
        .secretaries
        .iter()
        .find(|(_, from, to)| *from <= held_on && to.is_none_or(|t| held_on <= t))
        .map(|(m, _, _)| s.members[*m].id)
        .filter(|id| roll.iter().any(|&m| s.members[m].id == *id));
    let minute_taker = cell.deputy.map(|m| s.members[m].id).filter(|id| roll.iter().any(|&m| s.members[m].id == *id));
    // 2020 comes from the paper books: four counts, no per-member rows
    let paper = held_on.year() == 2020;
    let counts: [Option<i32>; 4] = if paper {
        [
            Some(count(AttendanceStatus::Present)),
            Some(count(AttendanceStatus::Excused)),
            Some(count(AttendanceStatus::Unexcused)),
            Some(count(AttendanceStatus::Exempt)),
        ]
    } else {
        [None; 4]
    };
    let location = if unit.cell_type == Some(crate::domain::vocab::CellType::Village) {
        "Nhà văn hóa thôn"
    } else {
        "Hội trường cơ quan"
    };
    b.meetings.row(&[
        &id,
        &format!("DEMO-{id}"),
        &unit.id,
        &held_on,
        &kind.as_str(),
        &topic,
        &content,
        &"Chi bộ thống nhất ban hành nghị quyết và phân công nhiệm vụ cho từng đảng viên.",
        &location,
        &started,
        &ended,
        &rating.map(Rating::as_str),
        &score,
        &secretary,
        &minute_taker,
        &counts[0],
        &counts[1],
        &counts[2],
        &counts[3],
        &hd42.notice_on,
        &hd42.prepared_on,
        &hd42.materials_on,
        &hd42.combined,
        &crate::domain::rubric::in_force(rubrics, held_on).map(|r| r.id),
    ]);
    if !paper {
        // members online from HD 42 on: their own draw, so that the rest of the history stays as it was
        let mut online = StdRng::seed_from_u64(0x4844_3432 ^ id as u64);
        for (m, status) in &statuses {
            let mode = if hd42.in_force && *status == AttendanceStatus::Present && online.random_bool(0.08) {
                AttendanceMode::Online
            } else {
                AttendanceMode::InPerson
            };
            b.attendance.row(&[&id, &s.members[*m].id, &status.as_str(), &mode.as_str()]);
        }
    }
    for (year, official, p) in assigned {
        if *year == held_on.year() && rng.random_bool(*p) {
            b.guests.row(&[&id, &official.id]);
        }
    }
    // resolution tasks for the last twelve months
    if kind == MeetingKind::Regular && (today - held_on).num_days() < 365 {
        let present: Vec<usize> =
            statuses.iter().filter(|(_, s)| *s == AttendanceStatus::Present).map(|(m, _)| *m).collect();
        for _ in 0..rng.random_range(1..=3).min(present.len()) {
            let who = present[rng.random_range(0..present.len())];
            let due = held_on + Days::new(30);
            let done = due < today && rng.random_bool(0.85);
            let done_on = done.then(|| due - Days::new(rng.random_range(0..20)));
            let status = if done { TaskStatus::Done } else { TaskStatus::Open };
            b.tasks.row(&[&id, &s.members[who].id, &pick(rng, names::TASKS), &due, &status.as_str(), &done_on]);
        }
    }
}
