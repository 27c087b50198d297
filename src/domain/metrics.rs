//! The metrics of DOMAIN.md §5 as values: periods of months, figures (numerator, denominator, value, target,
//! met) and how a figure is written for people in each language. The sums themselves come from `db::metrics`; the
//! metrics and official groups are `domain::vocab::Metric` and `OfficialGroup`.
use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::time;

/// An inclusive range of months, `YYYY-MM..YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// first day of the first month
    pub from: NaiveDate,
    /// first day of the last month
    pub to: NaiveDate,
}

impl Period {
    /// Parses `YYYY-MM` bounds; `None` if either is malformed or `from` is after `to`.
    pub fn parse(from: &str, to: &str) -> Option<Period> {
        let month = |s: &str| {
            let (y, m) = s.trim().split_once('-')?;
            if y.len() != 4 || m.len() != 2 {
                return None;
            }
            NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)
        };
        let (from, to) = (month(from)?, month(to)?);
        (from <= to).then_some(Period { from, to })
    }

    pub fn from_label(&self) -> String {
        self.from.format("%Y-%m").to_string()
    }

    pub fn to_label(&self) -> String {
        self.to.format("%Y-%m").to_string()
    }

    /// The last day of the period.
    pub fn end_day(&self) -> NaiveDate {
        time::month_end(self.to)
    }

    /// The first and last month of the quarters wholly inside the period, if any.
    pub fn whole_quarters(&self) -> Option<(NaiveDate, NaiveDate)> {
        let first = (0..3)
            .map(|k| add_months(self.from, k))
            .find(|d| (d.month() - 1).is_multiple_of(3))
            .expect("a quarter starts within three months");
        let last_end =
            (0..3).map(|k| add_months(self.to, -k)).find(|d| d.month().is_multiple_of(3)).expect("a quarter ends");
        let last_start = add_months(last_end, -2);
        (first <= last_start).then_some((first, last_start))
    }

    /// The years wholly inside the period, if any.
    pub fn whole_years(&self) -> Option<(i32, i32)> {
        let first = if self.from.month() == 1 { self.from.year() } else { self.from.year() + 1 };
        let last = if self.to.month() == 12 { self.to.year() } else { self.to.year() - 1 };
        (first <= last).then_some((first, last))
    }

    /// Every month of the period, in order.
    pub fn months(&self) -> Vec<NaiveDate> {
        let mut out = Vec::new();
        let mut m = self.from;
        while m <= self.to {
            out.push(m);
            m = add_months(m, 1);
        }
        out
    }
}

pub fn add_months(d: NaiveDate, k: i32) -> NaiveDate {
    let total = d.year() * 12 + d.month() as i32 - 1 + k;
    NaiveDate::from_ymd_opt(total.div_euclid(12), total.rem_euclid(12) as u32 + 1, 1).expect("valid month")
}

/// Which months of a period the reporting metrics (DOMAIN.md §10) count: the months open from `reporting_since`
/// whose deadline has passed on the day asked. A period with none says why, and shows no 0 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reporting {
    /// No `reporting_since` is set: no month is required yet.
    NotRequired,
    /// The period ends before `reporting_since` (its first day).
    BeforeSince { since: NaiveDate },
    /// No month of the period has passed its deadline yet.
    NothingDue,
    /// The months counted (first days, inclusive): the whole period, or the part of it that is due.
    Counted { from: NaiveDate, to: NaiveDate },
}

impl Reporting {
    /// The months of `period` the reporting metrics count under `settings`, on `today`.
    pub fn of(settings: &crate::domain::reports::Settings, period: Period, today: NaiveDate) -> Reporting {
        let Some(since) = settings.reporting_since else { return Reporting::NotRequired };
        if period.to < since {
            return Reporting::BeforeSince { since };
        }
        let (from, to) = (period.from.max(since), period.to.min(settings.last_due_month(today)));
        if from > to { Reporting::NothingDue } else { Reporting::Counted { from, to } }
    }

    /// The months counted, if any.
    pub fn months(&self) -> Option<(NaiveDate, NaiveDate)> {
        match *self {
            Reporting::Counted { from, to } => Some((from, to)),
            _ => None,
        }
    }
}

/// One metric for one unit and period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Figure {
    pub numerator: i64,
    pub denominator: i64,
    /// numerator / denominator, null when the denominator is 0
    pub value: Option<f64>,
    pub target: Option<f64>,
    pub met: Option<bool>,
}

impl Figure {
    pub fn new(numerator: i64, denominator: i64, target: Option<f64>) -> Figure {
        let value = (denominator != 0).then(|| numerator as f64 / denominator as f64);
        // compare exactly, in integers, so that 90 % of 1,000 meets a 90 % target
        let met = match (target, denominator) {
            (Some(t), d) if d > 0 => Some(numerator as f64 >= t * d as f64 - 1e-9 * d as f64),
            _ => None,
        };
        Figure { numerator, denominator, value, target, met }
    }

    /// value − target, when both exist
    pub fn gap(&self) -> Option<f64> {
        Some(self.value? - self.target?)
    }
}

/// The language a figure is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Vi,
    En,
}

/// A ratio as a percentage with two decimals: vi `85,94 %`, en `85.94%`; `—` for no value.
pub fn format_percent(value: Option<f64>, lang: Lang) -> String {
    let Some(v) = value else { return "—".into() };
    // round half away from zero on the hundredths of a percent
    let hundredths = (v * 10_000.0).abs().round() as i64 * if v < 0.0 { -1 } else { 1 };
    let text =
        format!("{}{}.{:02}", if hundredths < 0 { "-" } else { "" }, hundredths.abs() / 100, hundredths.abs() % 100);
    match lang {
        Lang::Vi => format!("{} %", text.replace('.', ",")),
        Lang::En => format!("{text}%"),
    }
}

/// A count with thousands separated: vi `33.690`, en `33,690`.
pub fn format_count(n: i64, lang: Lang) -> String {
    let digits = n.abs().to_string();
    let sep = if lang == Lang::Vi { '.' } else { ',' };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, 1).unwrap()
    }

    #[test]
    fn periods_parse_strictly() {
        assert_eq!(Period::parse("2020-01", "2022-12"), Some(Period { from: d(2020, 1), to: d(2022, 12) }));
        assert_eq!(Period::parse("2022-12", "2020-01"), None);
        assert_eq!(Period::parse("2020-1", "2020-12"), None);
        assert_eq!(Period::parse("2020-13", "2020-12"), None);
        assert_eq!(Period::parse("tháng 1", "2020-12"), None);
    }

    #[test]
    fn whole_quarters_and_years() {
        let p = Period::parse("2020-02", "2021-01").unwrap();
        assert_eq!(p.whole_quarters(), Some((d(2020, 4), d(2020, 10))));
        assert_eq!(p.whole_years(), None);
        let p = Period::parse("2020-01", "2022-12").unwrap();
        assert_eq!(p.whole_quarters(), Some((d(2020, 1), d(2022, 10))));
        assert_eq!(p.whole_years(), Some((2020, 2022)));
        assert_eq!(Period::parse("2023-05", "2023-06").unwrap().whole_quarters(), None);
        assert_eq!(Period::parse("2023-04", "2023-06").unwrap().whole_quarters(), Some((d(2023, 4), d(2023, 4))));
    }

    #[test]
    fn reporting_counts_the_months_due_from_reporting_since() {
        use crate::domain::reports::Settings;
        let s = Settings { reporting_since: Some(d(2026, 3)), report_deadline_day: 5 };
        let year = Period::parse("2026-01", "2026-12").unwrap();
        let on = |day| NaiveDate::from_ymd_opt(2026, 12, day).unwrap();
        // on 5 December November is not yet due; on the 6th it is
        assert_eq!(Reporting::of(&s, year, on(5)), Reporting::Counted { from: d(2026, 3), to: d(2026, 10) });
        assert_eq!(Reporting::of(&s, year, on(6)), Reporting::Counted { from: d(2026, 3), to: d(2026, 11) });
        let early = Period::parse("2025-01", "2026-02").unwrap();
        assert_eq!(Reporting::of(&s, early, on(6)), Reporting::BeforeSince { since: d(2026, 3) });
        let december = Period::parse("2026-12", "2026-12").unwrap();
        assert_eq!(Reporting::of(&s, december, on(6)), Reporting::NothingDue);
        assert_eq!(Reporting::of(&Settings::default(), year, on(6)), Reporting::NotRequired);
        assert_eq!(Reporting::NothingDue.months(), None);
    }

    #[test]
    fn figures_divide_and_compare_with_the_target() {
        let f = Figure::new(33_690, 39_204, None);
        assert_eq!(format_percent(f.value, Lang::Vi), "85,94 %");
        assert_eq!(format_percent(f.value, Lang::En), "85.94%");
        assert_eq!(Figure::new(0, 0, Some(0.9)).value, None);
        assert_eq!(Figure::new(0, 0, Some(0.9)).met, None);
        assert_eq!(Figure::new(900, 1000, Some(0.9)).met, Some(true));
        assert_eq!(Figure::new(899, 1000, Some(0.9)).met, Some(false));
        assert_eq!(format_percent(Figure::new(46, 44, None).value, Lang::Vi), "104,55 %");
        assert_eq!(format_count(33_690, Lang::Vi), "33.690");
        assert_eq!(format_count(1_234_567, Lang::En), "1,234,567");
    }
}
