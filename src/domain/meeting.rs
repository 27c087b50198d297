//! Meetings: kinds, attendance statuses, the cell's self-assessment and the 100-point helper (DOMAIN.md §6).

pub use super::vocab::{AttendanceStatus, MeetingKind, OfficialGroup, Rating};

impl Rating {
    /// The rating a 100-point score suggests: good ≥ 90, fair 70–89, average 50–69, weak < 50.
    /// Only a suggestion: the rating the cell votes is what counts.
    /// The bands of each rubric version are `domain::rubric::Bands`; these are their defaults.
    pub fn suggested_by(score: u8) -> Rating {
        super::rubric::Bands::default().suggest(score)
    }
}

/// The four counts of one meeting, whether stored per member or copied from a paper book.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AttendanceCounts {
    pub present: i64,
    pub excused: i64,
    pub unexcused: i64,
    pub exempt: i64,
}

impl AttendanceCounts {
    pub fn add(&mut self, status: AttendanceStatus) {
        match status {
            AttendanceStatus::Present => self.present += 1,
            AttendanceStatus::Excused => self.excused += 1,
            AttendanceStatus::Unexcused => self.unexcused += 1,
            AttendanceStatus::Exempt => self.exempt += 1,
        }
    }

    /// Members expected to attend: exempt members never count (DOMAIN.md §5).
    pub fn expected(&self) -> i64 {
        self.present + self.excused + self.unexcused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_bands_follow_hd12() {
        assert_eq!(Rating::suggested_by(100), Rating::Good);
        assert_eq!(Rating::suggested_by(90), Rating::Good);
        assert_eq!(Rating::suggested_by(89), Rating::Fair);
        assert_eq!(Rating::suggested_by(70), Rating::Fair);
        assert_eq!(Rating::suggested_by(69), Rating::Average);
        assert_eq!(Rating::suggested_by(50), Rating::Average);
        assert_eq!(Rating::suggested_by(49), Rating::Weak);
        assert_eq!(Rating::suggested_by(0), Rating::Weak);
    }

    #[test]
    fn codes_round_trip() {
        for k in MeetingKind::ALL {
            assert_eq!(MeetingKind::parse(k.as_str()), Some(*k));
        }
        for s in AttendanceStatus::ALL {
            assert_eq!(AttendanceStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(Rating::parse("excellent"), None);
    }

    #[test]
    fn exempt_members_are_not_expected() {
        let mut c = AttendanceCounts::default();
        for s in [
            AttendanceStatus::Present,
            AttendanceStatus::Present,
            AttendanceStatus::Excused,
            AttendanceStatus::Unexcused,
            AttendanceStatus::Exempt,
        ] {
            c.add(s);
        }
        assert_eq!(c.expected(), 4);
        assert_eq!(c.present, 2);
    }
}

/// A meeting as the secretary submitted it, after every check of the form has passed.
#[derive(Debug, Clone, PartialEq)]
pub struct MeetingDraft {
    pub held_on: chrono::NaiveDate,
    pub kind: MeetingKind,
    pub started_at: chrono::NaiveTime,
    pub ended_at: chrono::NaiveTime,
    pub location: String,
    pub topic: String,
    pub content: String,
    pub resolution: String,
    pub chair_id: Option<i64>,
    pub minute_taker_id: Option<i64>,
    pub rating: Option<Rating>,
    /// The 100-point helper: each criterion's points, when all were given.
    pub score_detail: Option<Vec<(String, u8)>>,
    /// One status for every member on the roll that day.
    pub attendance: Vec<(i64, AttendanceStatus)>,
    /// The reason given for each excused member who has one (member, reason): none for any other status.
    pub reasons: Vec<(i64, String)>,
    /// The present members who attended online (HD 42); every other present member was there in person.
    pub online: Vec<i64>,
    /// Notice, preparation, materials and the thematic part (HD 42, DOMAIN.md §11).
    pub facts: super::rubric::Facts,
    pub guests: Vec<i64>,
    pub tasks: Vec<TaskDraft>,
}

impl MeetingDraft {
    pub fn score(&self) -> Option<u8> {
        self.score_detail.as_ref().map(|d| d.iter().map(|(_, p)| p).sum())
    }

    pub fn counts(&self) -> AttendanceCounts {
        let mut c = AttendanceCounts::default();
        for (_, s) in &self.attendance {
            c.add(*s);
        }
        c
    }
}

/// A resolution task: who must do what, by when. `id` is set when an existing task is edited.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskDraft {
    pub id: Option<i64>,
    pub assignee_id: i64,
    pub description: String,
    pub due_on: Option<chrono::NaiveDate>,
}
