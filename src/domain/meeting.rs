//! Meetings: kinds, attendance statuses, the cell's self-assessment and the 100-point helper (DOMAIN.md §6).

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $code:literal / $vi:literal / $en:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every code, in the order of `ALL` (what an import bundle may hold).
            pub const CODES: &'static [&'static str] = &[$($code),+];

            /// The code stored in the database and used in import bundles.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($code => Some($name::$variant),)+ _ => None }
            }

            pub fn label_vi(self) -> &'static str {
                match self { $($name::$variant => $vi),+ }
            }

            pub fn label_en(self) -> &'static str {
                match self { $($name::$variant => $en),+ }
            }

            /// The label in the language of the request being handled.
            pub fn label(self) -> &'static str {
                if crate::i18n::lang() == crate::i18n::Lang::En { self.label_en() } else { self.label_vi() }
            }
        }
    };
}

code_enum!(
    /// Regular (monthly), thematic or extraordinary.
    MeetingKind {
        Regular = "regular" / "Sinh hoạt định kỳ" / "Regular",
        Thematic = "thematic" / "Sinh hoạt chuyên đề" / "Thematic",
        Extraordinary = "extraordinary" / "Sinh hoạt bất thường" / "Extraordinary",
    }
);

code_enum!(
    /// One member's attendance at one meeting.
    AttendanceStatus {
        Present = "present" / "Có mặt" / "Present",
        Excused = "excused" / "Vắng có lý do" / "Excused",
        Unexcused = "unexcused" / "Vắng không lý do" / "Unexcused",
        Exempt = "exempt" / "Miễn sinh hoạt" / "Exempt",
    }
);

code_enum!(
    /// The rating the cell votes for its regular meeting.
    Rating {
        Good = "good" / "Tốt" / "Good",
        Fair = "fair" / "Khá" / "Fair",
        Average = "average" / "Trung bình" / "Average",
        Weak = "weak" / "Kém" / "Weak",
    }
);

impl Rating {
    /// The rating a 100-point score suggests: good ≥ 90, fair 70–89, average 50–69, weak < 50.
    /// Only a suggestion: the rating the cell votes is what counts.
    pub fn suggested_by(score: u8) -> Rating {
        match score {
            90.. => Rating::Good,
            70..=89 => Rating::Fair,
            50..=69 => Rating::Average,
            _ => Rating::Weak,
        }
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

code_enum!(
    /// The groups of officials that Regulation 18 assigns to attend cell meetings.
    OfficialGroup {
        ProvincialStanding = "provincial_standing" / "Ủy viên Ban Thường vụ Tỉnh ủy" / "Provincial standing committee",
        ProvincialCommittee = "provincial_committee" / "Tỉnh ủy viên" / "Provincial committee",
        DistrictStanding = "district_standing" / "Ủy viên Ban Thường vụ Huyện ủy" / "District standing committee",
        DistrictCommittee = "district_committee" / "Huyện ủy viên" / "District committee",
        AdvisoryStaff = "advisory_staff" / "Cán bộ cơ quan tham mưu" / "Advisory staff",
        GrassrootsCommittee = "grassroots_committee" / "Đảng ủy viên cơ sở" / "Grassroots committee",
    }
);

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
