//! The monthly reporting cycle's rules (DOMAIN.md §10) that need no database: deadlines and timeliness.
use chrono::{Datelike, NaiveDate};

use super::time;

/// The default `report_deadline_day`.
pub const DEFAULT_DEADLINE_DAY: u32 = 5;

/// The settings of the cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// The first month reports are required for (the first day of that month); `None`: none is required yet.
    pub reporting_since: Option<NaiveDate>,
    /// The day of the following month by whose end (Asia/Ho_Chi_Minh) a month's report is due (1–28).
    pub report_deadline_day: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { reporting_since: None, report_deadline_day: DEFAULT_DEADLINE_DAY }
    }
}

impl Settings {
    /// The last day a report for `month` (any day in it) is on time: `report_deadline_day` of the next month.
    pub fn deadline(&self, month: NaiveDate) -> NaiveDate {
        let next = crate::domain::metrics::add_months(time::month_start(month), 1);
        next.with_day(self.report_deadline_day).unwrap_or(next)
    }

    /// Whether a report first submitted on `first_submitted_on` was on time for `month`.
    pub fn on_time(&self, month: NaiveDate, first_submitted_on: Option<NaiveDate>) -> bool {
        first_submitted_on.is_some_and(|d| d <= self.deadline(month))
    }

    /// Whether `month` is one reports are required for (from `reporting_since`).
    pub fn required(&self, month: NaiveDate) -> bool {
        self.reporting_since.is_some_and(|since| time::month_start(month) >= since)
    }

    /// The last month whose deadline has passed on `today` (the reporting metrics count months up to it).
    pub fn last_due_month(&self, today: NaiveDate) -> NaiveDate {
        // the deadline of last month is `report_deadline_day` of this month; passed once that day is over
        let this = time::month_start(today);
        if today.day() > self.report_deadline_day {
            crate::domain::metrics::add_months(this, -1)
        } else {
            crate::domain::metrics::add_months(this, -2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_month_is_due_by_the_deadline_day_of_the_next() {
        let s = Settings { reporting_since: Some(d(2026, 1, 1)), report_deadline_day: 5 };
        assert_eq!(s.deadline(d(2026, 11, 17)), d(2026, 12, 5));
        assert_eq!(s.deadline(d(2026, 12, 1)), d(2027, 1, 5));
        assert!(s.on_time(d(2026, 11, 1), Some(d(2026, 12, 5))));
        assert!(!s.on_time(d(2026, 11, 1), Some(d(2026, 12, 6))));
        assert!(!s.on_time(d(2026, 11, 1), None));
        assert!(s.required(d(2026, 1, 31)) && !s.required(d(2025, 12, 31)));
        assert!(!Settings::default().required(d(2026, 1, 1)));
        // on 5 December November is still within its deadline; on the 6th it is due
        assert_eq!(s.last_due_month(d(2026, 12, 5)), d(2026, 10, 1));
        assert_eq!(s.last_due_month(d(2026, 12, 6)), d(2026, 11, 1));
    }
}
