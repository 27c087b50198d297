//! The vocabulary of chibo: every closed set of codes the database stores (unit kinds, meeting kinds, statuses,
//! roles, …) as one Rust enum each. The code is what PostgreSQL, import bundles and URLs hold; the label is a
//! catalog key (`label_key`), rendered in the request's language by `web/` — `domain/` never speaks words.
//! `db::vocab` makes each enum a PostgreSQL `text` value, so queries read and bind them as enums.

/// What every vocabulary enum offers, for code that works on any of them (form choices, labels, sqlx).
pub trait Code: Copy + Eq + 'static {
    /// Every value, in the order pages and reports list them.
    const ALL: &'static [Self];
    /// The code stored in the database and used in import bundles.
    fn as_str(self) -> &'static str;
    fn parse(s: &str) -> Option<Self>;
    /// The catalog key of its label (`i18n/vi.txt`, `i18n/en.txt`).
    fn label_key(self) -> &'static str;
}

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident $prefix:literal { $($(#[$vm:meta])* $variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every code, in the order of `ALL` (what an import bundle may hold).
            pub const CODES: &'static [&'static str] = &[$($code),+];

            /// The code stored in the database and used in import bundles.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($code => Some($name::$variant),)+ _ => None }
            }

            /// The catalog key of its label.
            pub const fn label_key(self) -> &'static str {
                match self { $($name::$variant => concat!($prefix, ".", $code)),+ }
            }
        }

        impl Code for $name {
            const ALL: &'static [Self] = $name::ALL;
            fn as_str(self) -> &'static str { $name::as_str(self) }
            fn parse(s: &str) -> Option<Self> { $name::parse(s) }
            fn label_key(self) -> &'static str { $name::label_key(self) }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownCode;
            fn from_str(s: &str) -> Result<Self, UnknownCode> {
                $name::parse(s).ok_or_else(|| UnknownCode { of: stringify!($name), code: s.to_string() })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&s).ok_or_else(|| serde::de::Error::unknown_variant(&s, $name::CODES))
            }
        }
    };
}

/// A code that is not one of its enum's (a row written around the constraints, a forged form value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?} is not a {of} code")]
pub struct UnknownCode {
    pub of: &'static str,
    pub code: String,
}

code_enum!(
    /// A level of the party structure (DOMAIN.md §2).
    UnitKind "unit_kind" {
        Province = "province",
        District = "district",
        /// A grassroots (commune-level) party committee.
        Committee = "committee",
        Cell = "cell",
    }
);

code_enum!(
    /// Where a cell's members live or work.
    CellType "cell_type" {
        Village = "village",
        Residential = "residential",
        Agency = "agency",
        Enterprise = "enterprise",
        School = "school",
        ArmedForces = "armed_forces",
        Other = "other",
    }
);

code_enum!(
    Gender "gender" {
        Male = "male",
        Female = "female",
    }
);

code_enum!(
    /// Regular (monthly), thematic or extraordinary.
    MeetingKind "meeting_kind" {
        Regular = "regular",
        Thematic = "thematic",
        Extraordinary = "extraordinary",
    }
);

code_enum!(
    /// One member's attendance at one meeting.
    AttendanceStatus "attendance" {
        Present = "present",
        Excused = "excused",
        Unexcused = "unexcused",
        Exempt = "exempt",
    }
);

code_enum!(
    /// How a present member attended (HD 42, DOMAIN.md §11).
    AttendanceMode "attendance_mode" {
        InPerson = "in_person",
        Online = "online",
    }
);

code_enum!(
    /// The rating the cell votes for its regular meeting.
    Rating "rating" {
        Good = "good",
        Fair = "fair",
        Average = "average",
        Weak = "weak",
    }
);

code_enum!(
    /// A resolution task: still to do, or done (with the day it was done).
    TaskStatus "task_status" {
        Open = "open",
        Done = "done",
    }
);

code_enum!(
    /// The annual classification of a cell or a member.
    ClassLevel "class_level" {
        Excellent = "excellent",
        Good = "good",
        Complete = "complete",
        Fail = "fail",
    }
);

code_enum!(
    /// Whose annual classification a row of the import's classifications file is.
    ClassSubject "class_subject" {
        Cell = "cell",
        Member = "member",
    }
);

code_enum!(
    /// A position in a cell's committee.
    Position "position" {
        Secretary = "secretary",
        DeputySecretary = "deputy_secretary",
        CommitteeMember = "committee_member",
    }
);

code_enum!(
    /// The groups of officials that Regulation 18 assigns to attend cell meetings.
    OfficialGroup "official_group" {
        ProvincialStanding = "provincial_standing",
        ProvincialCommittee = "provincial_committee",
        DistrictStanding = "district_standing",
        DistrictCommittee = "district_committee",
        AdvisoryStaff = "advisory_staff",
        GrassrootsCommittee = "grassroots_committee",
    }
);

code_enum!(
    /// Who a user is to chibo: a role bound to a unit (the scope is that unit's subtree as it stands today).
    Role "role" {
        Admin = "admin",
        ProvinceViewer = "province_viewer",
        DistrictViewer = "district_viewer",
        CommitteeClerk = "committee_clerk",
        CellSecretary = "cell_secretary",
    }
);

code_enum!(
    /// Where an import job stands.
    JobState "job_state" {
        Running = "running",
        Done = "done",
        /// The bundle was read and refused: its problems are listed, nothing was written.
        Problems = "problems",
        Failed = "failed",
        /// The instance running it stopped part way (its lease in the outbox ran out): nothing was written.
        Interrupted = "interrupted",
    }
);

code_enum!(
    /// Where an item of the outbox (`jobs`) stands: waiting for its time, held by an instance, finished, or given up
    /// after its kind's number of attempts.
    OutboxState "outbox_state" {
        Pending = "pending",
        Running = "running",
        Done = "done",
        Failed = "failed",
    }
);

code_enum!(
    /// Where a cell-month's report stands (DOMAIN.md §10); no row is a draft.
    ReportState "report_state" {
        Draft = "draft",
        Submitted = "submitted",
        /// Approved: the month's meetings are locked.
        Approved = "approved",
        /// Sent back by the reviewer (or unlocked) with a reason, to be fixed and submitted again.
        Returned = "returned",
    }
);

code_enum!(
    /// The metrics of DOMAIN.md §5 and §10, in the order reports list them.
    Metric "metric" {
        AttendanceRate = "attendance_rate",
        GoodMeetingShare = "good_meeting_share",
        MeetingRegularity = "meeting_regularity",
        ThematicCoverage = "thematic_coverage",
        CellsGoodOrBetter = "cells_good_or_better",
        MembersGoodOrBetter = "members_good_or_better",
        SecretariesTrained = "secretaries_trained",
        Reg18Participation = "reg18_participation",
        /// Cell-months due (§10) whose report is submitted or approved.
        ReportingCompleteness = "reporting_completeness",
        /// Cell-months due whose report was first submitted by its deadline.
        ReportingTimeliness = "reporting_timeliness",
        /// Cell-months due whose report is approved.
        ReportsApproved = "reports_approved",
        /// Regular meetings with both times lasting at least their rubric version's minimum (§11).
        DurationCompliance = "duration_compliance",
        /// Present members of regular meetings with per-member rows who attended online (§11).
        OnlineShare = "online_share",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<C: Code + std::fmt::Debug>() {
        for c in C::ALL {
            assert_eq!(C::parse(c.as_str()), Some(*c));
            assert!(c.label_key().ends_with(c.as_str()), "{c:?}");
        }
        assert_eq!(C::parse(""), None);
    }

    #[test]
    fn every_code_round_trips() {
        round_trip::<UnitKind>();
        round_trip::<CellType>();
        round_trip::<Gender>();
        round_trip::<MeetingKind>();
        round_trip::<AttendanceStatus>();
        round_trip::<AttendanceMode>();
        round_trip::<Rating>();
        round_trip::<TaskStatus>();
        round_trip::<ClassLevel>();
        round_trip::<ClassSubject>();
        round_trip::<Position>();
        round_trip::<OfficialGroup>();
        round_trip::<Role>();
        round_trip::<JobState>();
        round_trip::<OutboxState>();
        round_trip::<Metric>();
        round_trip::<ReportState>();
        assert_eq!("root".parse::<Role>().unwrap_err().of, "Role");
        assert_eq!(serde_json::to_string(&Metric::AttendanceRate).unwrap(), "\"attendance_rate\"");
        assert!(serde_json::from_str::<Metric>("\"reg18:advisory_staff\"").is_err());
    }

    /// Every label key has a text in both catalogs.
    #[test]
    fn every_label_is_in_both_catalogs() {
        fn check<C: Code + std::fmt::Debug>(vi: &[(&str, &str)], en: &[(&str, &str)]) {
            for c in C::ALL {
                let known = |cat: &[(&str, &str)]| cat.iter().any(|(k, _)| *k == c.label_key());
                assert!(known(vi) && known(en), "no label for {c:?} ({})", c.label_key());
            }
        }
        let (vi, en) = (crate::i18n::parse(crate::i18n::VI), crate::i18n::parse(crate::i18n::EN));
        check::<UnitKind>(&vi, &en);
        check::<CellType>(&vi, &en);
        check::<Gender>(&vi, &en);
        check::<MeetingKind>(&vi, &en);
        check::<AttendanceStatus>(&vi, &en);
        check::<AttendanceMode>(&vi, &en);
        check::<Rating>(&vi, &en);
        check::<TaskStatus>(&vi, &en);
        check::<ClassLevel>(&vi, &en);
        check::<ClassSubject>(&vi, &en);
        check::<Position>(&vi, &en);
        check::<OfficialGroup>(&vi, &en);
        check::<Role>(&vi, &en);
        check::<JobState>(&vi, &en);
        check::<OutboxState>(&vi, &en);
        check::<Metric>(&vi, &en);
        check::<ReportState>(&vi, &en);
    }
}
