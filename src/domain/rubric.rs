//! Rules that change over time (DOMAIN.md §11): rubric versions of the 100-point helper, each with a start date,
//! criteria, rating bands and the minimum length of a regular meeting; and the HD 42 warnings on a meeting. Pure:
//! the versions are read by `db::rubric`, the page script gets the same bands as data (one table drives both).
use chrono::{NaiveDate, NaiveTime};
use serde::Serialize;

use super::meeting::{MeetingKind, Rating};

/// The rating bands: good from `good` points, fair from `fair`, average from `average`, else weak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bands {
    pub good: u8,
    pub fair: u8,
    pub average: u8,
}

impl Default for Bands {
    /// HD 12's: good ≥ 90, fair ≥ 70, average ≥ 50.
    fn default() -> Bands {
        Bands { good: 90, fair: 70, average: 50 }
    }
}

impl Bands {
    /// The rating a score suggests. Only a suggestion: the rating the cell votes is what counts.
    pub fn suggest(&self, score: u8) -> Rating {
        if score >= self.good {
            Rating::Good
        } else if score >= self.fair {
            Rating::Fair
        } else if score >= self.average {
            Rating::Average
        } else {
            Rating::Weak
        }
    }

    /// Whether the bands are ordered: 100 ≥ good > fair > average > 0.
    pub fn ordered(&self) -> bool {
        100 >= self.good && self.good > self.fair && self.fair > self.average && self.average > 0
    }
}

/// One criterion of a version: its key (what stored scores are keyed by), labels and most points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Criterion {
    pub key: String,
    pub label_vi: String,
    pub label_en: String,
    pub max_points: u8,
}

/// A rubric version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rubric {
    pub id: i64,
    pub code: String,
    pub valid_from: NaiveDate,
    pub bands: Bands,
    /// the shortest a regular meeting should last, in minutes
    pub min_minutes: u16,
    /// the same when it also holds the quarter's thematic part
    pub min_minutes_combined: u16,
    /// whether a notice and materials ahead of the meeting are asked for (HD 42)
    pub notice_required: bool,
    pub criteria: Vec<Criterion>,
}

impl Rubric {
    /// The minimum length of a regular meeting, combined with the thematic part or not.
    pub fn minimum(&self, combined: bool) -> u16 {
        if combined { self.min_minutes_combined } else { self.min_minutes }
    }
}

/// The version in force on `day` among `versions` (any order): the latest started on or before it, else the first
/// (for history older than every version). `None` only when there is no version at all.
pub fn in_force(versions: &[Rubric], day: NaiveDate) -> Option<&Rubric> {
    versions
        .iter()
        .filter(|v| v.valid_from <= day)
        .max_by_key(|v| v.valid_from)
        .or_else(|| versions.iter().min_by_key(|v| v.valid_from))
}

/// Minutes from `start` to `end` on the same day.
pub fn minutes(start: NaiveTime, end: NaiveTime) -> i64 {
    (end - start).num_minutes()
}

/// Something a meeting falls short of under its version: said, never refused (DOMAIN.md §11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warning {
    /// A regular meeting shorter than its minimum: (minutes it lasted, the minimum).
    Short { minutes: i64, minimum: u16 },
    /// Materials posted less than a day before the meeting (or after it).
    LateMaterials { posted: NaiveDate },
    /// No notice recorded.
    NoNotice,
}

/// The HD 42 facts of a meeting that the warnings read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Facts {
    pub notice_on: Option<NaiveDate>,
    pub prepared_on: Option<NaiveDate>,
    pub materials_on: Option<NaiveDate>,
    pub combined_thematic: bool,
}

/// The warnings about a meeting under `rubric`: a regular meeting shorter than its minimum; and, where the
/// version asks for them, materials posted less than a day before and no notice.
pub fn warnings(
    rubric: &Rubric,
    kind: MeetingKind,
    held_on: NaiveDate,
    times: Option<(NaiveTime, NaiveTime)>,
    facts: &Facts,
) -> Vec<Warning> {
    let mut out = Vec::new();
    if kind == MeetingKind::Regular
        && let Some((start, end)) = times
    {
        let minimum = rubric.minimum(facts.combined_thematic);
        let lasted = minutes(start, end);
        if lasted < i64::from(minimum) {
            out.push(Warning::Short { minutes: lasted, minimum });
        }
    }
    if rubric.notice_required {
        if let Some(posted) = facts.materials_on
            && posted > held_on - chrono::Days::new(1)
        {
            out.push(Warning::LateMaterials { posted });
        }
        if facts.notice_on.is_none() {
            out.push(Warning::NoNotice);
        }
    }
    out
}

/// A new version as an administrator typed it, before it is saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVersion {
    pub code: String,
    pub valid_from: NaiveDate,
    pub bands: Bands,
    pub min_minutes: u16,
    pub min_minutes_combined: u16,
    pub notice_required: bool,
    pub criteria: Vec<Criterion>,
}

/// What is wrong with a new version, each at its field (checked again by PostgreSQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionProblem {
    /// The points do not add up to 100: the sum they do add up to.
    PointsSum(u32),
    /// The bands are not 100 ≥ good > fair > average > 0.
    BandsOrder,
    /// The start is not after the last version's: that start.
    StartsTooEarly(NaiveDate),
    /// No criterion at all.
    NoCriteria,
    /// Two criteria with the same key.
    DuplicateKey,
}

impl NewVersion {
    /// The problems of this version, following the versions whose latest start is `last_from`.
    pub fn problems(&self, last_from: Option<NaiveDate>) -> Vec<VersionProblem> {
        let mut out = Vec::new();
        if let Some(last) = last_from
            && self.valid_from <= last
        {
            out.push(VersionProblem::StartsTooEarly(last));
        }
        if !self.bands.ordered() {
            out.push(VersionProblem::BandsOrder);
        }
        if self.criteria.is_empty() {
            out.push(VersionProblem::NoCriteria);
        } else {
            let sum: u32 = self.criteria.iter().map(|c| u32::from(c.max_points)).sum();
            if sum != 100 {
                out.push(VersionProblem::PointsSum(sum));
            }
        }
        let mut keys: Vec<&str> = self.criteria.iter().map(|c| c.key.as_str()).collect();
        keys.sort_unstable();
        if keys.windows(2).any(|w| w[0] == w[1]) {
            out.push(VersionProblem::DuplicateKey);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn version(code: &str, from: NaiveDate) -> Rubric {
        Rubric {
            id: 0,
            code: code.into(),
            valid_from: from,
            bands: Bands::default(),
            min_minutes: 90,
            min_minutes_combined: 120,
            notice_required: code.starts_with("hd42"),
            criteria: Vec::new(),
        }
    }

    #[test]
    fn default_bands_follow_hd12() {
        let b = Bands::default();
        for (score, rating) in [
            (100, Rating::Good),
            (90, Rating::Good),
            (89, Rating::Fair),
            (70, Rating::Fair),
            (69, Rating::Average),
            (50, Rating::Average),
            (49, Rating::Weak),
            (0, Rating::Weak),
        ] {
            assert_eq!(b.suggest(score), rating, "{score}");
        }
        assert!(b.ordered());
        assert!(!Bands { good: 70, fair: 70, average: 50 }.ordered());
        assert!(!Bands { good: 101, fair: 70, average: 50 }.ordered());
    }

    #[test]
    fn the_version_in_force_is_the_latest_started() {
        let versions = [version("hd42-2025", day(2025, 10, 28)), version("p16-2020", day(2020, 1, 1))];
        assert_eq!(in_force(&versions, day(2025, 10, 27)).unwrap().code, "p16-2020");
        assert_eq!(in_force(&versions, day(2025, 10, 28)).unwrap().code, "hd42-2025");
        assert_eq!(in_force(&versions, day(2018, 5, 1)).unwrap().code, "p16-2020", "older history: the first");
        assert_eq!(in_force(&[], day(2025, 1, 1)), None);
    }

    #[test]
    fn warnings_say_short_late_and_no_notice() {
        let hd42 = version("hd42-2025", day(2025, 10, 28));
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        let held = day(2025, 11, 20);
        let facts =
            Facts { notice_on: Some(day(2025, 11, 15)), materials_on: Some(day(2025, 11, 19)), ..Facts::default() };
        assert_eq!(warnings(&hd42, MeetingKind::Regular, held, Some((t(19, 0), t(20, 30))), &facts), []);
        assert_eq!(
            warnings(&hd42, MeetingKind::Regular, held, Some((t(19, 0), t(20, 15))), &facts),
            [Warning::Short { minutes: 75, minimum: 90 }]
        );
        let combined = Facts { combined_thematic: true, ..facts };
        assert_eq!(
            warnings(&hd42, MeetingKind::Regular, held, Some((t(19, 0), t(20, 50))), &combined),
            [Warning::Short { minutes: 110, minimum: 120 }]
        );
        assert_eq!(warnings(&hd42, MeetingKind::Thematic, held, Some((t(19, 0), t(19, 30))), &facts), []);
        let late = Facts { notice_on: None, materials_on: Some(held), ..Facts::default() };
        assert_eq!(
            warnings(&hd42, MeetingKind::Regular, held, None, &late),
            [Warning::LateMaterials { posted: held }, Warning::NoNotice]
        );
        // the 2020 rules asked for no notice
        let p16 = version("p16-2020", day(2020, 1, 1));
        assert_eq!(warnings(&p16, MeetingKind::Regular, held, None, &late), []);
    }

    #[test]
    fn a_new_version_is_checked_at_its_fields() {
        let c =
            |key: &str, max| Criterion { key: key.into(), label_vi: key.into(), label_en: key.into(), max_points: max };
        let mut v = NewVersion {
            code: "x-2027".into(),
            valid_from: day(2027, 1, 1),
            bands: Bands::default(),
            min_minutes: 90,
            min_minutes_combined: 120,
            notice_required: true,
            criteria: vec![c("a", 60), c("b", 40)],
        };
        assert_eq!(v.problems(Some(day(2025, 10, 28))), []);
        v.criteria[1].max_points = 39;
        assert_eq!(v.problems(Some(day(2025, 10, 28))), [VersionProblem::PointsSum(99)]);
        v.criteria[1] = c("a", 40);
        v.bands.fair = 95;
        assert_eq!(
            v.problems(Some(day(2027, 1, 1))),
            [VersionProblem::StartsTooEarly(day(2027, 1, 1)), VersionProblem::BandsOrder, VersionProblem::DuplicateKey]
        );
    }
}
