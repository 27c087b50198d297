//! Dates as the users see them: Vietnam's clock (UTC+7, no daylight saving) and `dd/mm/yyyy`.
use chrono::{Datelike, FixedOffset, NaiveDate, NaiveTime, Utc};

/// Asia/Ho_Chi_Minh has been UTC+7 without daylight saving since 1975, so a fixed offset is exact.
pub fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("valid offset")
}

/// Today's date in Vietnam.
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&vietnam()).date_naive()
}

/// A moment on Vietnam's clock (for showing stored timestamps).
pub fn local(at: impl std::borrow::Borrow<chrono::DateTime<Utc>>) -> chrono::DateTime<FixedOffset> {
    at.borrow().with_timezone(&vietnam())
}

/// `27/11/2026`
pub fn format_date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// `11/2026`
pub fn format_month(d: NaiveDate) -> String {
    d.format("%m/%Y").to_string()
}

/// `14:30`
pub fn format_time(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

/// The first day of `d`'s month.
pub fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).expect("day 1 exists")
}

/// The last day of `d`'s month.
pub fn month_end(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 { (d.year() + 1, 1) } else { (d.year(), d.month() + 1) };
    NaiveDate::from_ymd_opt(y, m, 1).expect("valid month").pred_opt().expect("has a predecessor")
}

/// Parses a date typed by a user: `dd/mm/yyyy` (how Vietnamese write it) or ISO `yyyy-mm-dd` (what
/// `<input type=date>` sends).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y")).ok()
}

/// Parses `HH:MM` (24-hour).
pub fn parse_time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M").ok()
}

/// A month written `YYYY-MM`, as its first day.
pub fn parse_month(s: &str) -> Option<NaiveDate> {
    let (y, m) = s.trim().split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn dates_are_written_day_first() {
        assert_eq!(format_date(d(2026, 11, 7)), "07/11/2026");
        assert_eq!(format_month(d(2026, 11, 7)), "11/2026");
    }

    #[test]
    fn both_date_spellings_parse() {
        assert_eq!(parse_date("2026-11-07"), Some(d(2026, 11, 7)));
        assert_eq!(parse_date(" 07/11/2026 "), Some(d(2026, 11, 7)));
        assert_eq!(parse_date("31/02/2026"), None);
        assert_eq!(parse_date("hôm qua"), None);
    }

    #[test]
    fn month_bounds() {
        assert_eq!(month_end(d(2024, 2, 10)), d(2024, 2, 29));
        assert_eq!(month_end(d(2026, 12, 31)), d(2026, 12, 31));
        assert_eq!(month_start(d(2026, 12, 31)), d(2026, 12, 1));
    }
}
