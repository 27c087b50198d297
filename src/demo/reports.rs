//! The demo's monthly reports (DOMAIN.md §10) from [`REPORTING_SINCE`]: most past months submitted on time and
//! approved, some submitted late, a few never, the latest ones still waiting for review, one returned with a
//! reason (the demo secretary's last month), the current month open. Drawn from their own random numbers, so
//! that the meetings are those of a demo without reports.
use chrono::{Datelike, Days, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::pick;
use crate::db::copy::CopyBuffer;
use crate::domain::metrics::add_months;
use crate::domain::reports::{DEFAULT_DEADLINE_DAY, Settings};
use crate::domain::time::{month_end, month_start};
use crate::domain::vocab::ReportState;

/// The first month reports are required for.
pub const REPORTING_SINCE: (i32, u32) = (2025, 1);

/// Why a month had no regular meeting.
const REASONS: &[&str] = &[
    "Mưa lũ, đường vào thôn bị chia cắt nhiều ngày",
    "Mùa thu hoạch, đảng viên đi làm nương rẫy xa",
    "Chi bộ dồn sinh hoạt sang đầu tháng sau do tổ chức bầu cử trưởng thôn",
    "Bí thư chi bộ nằm viện, phó bí thư đi công tác",
];

/// Why the reviewer returned the demo secretary's last month.
const RETURNED: &str =
    "Biên bản chưa ghi đủ ý kiến thảo luận và danh sách đảng viên vắng có lý do; đề nghị bổ sung rồi gửi lại.";

pub struct Reports {
    rng: StdRng,
    settings: Settings,
    this_month: NaiveDate,
    today: NaiveDate,
    pub cell_reports: CopyBuffer,
    pub settings_rows: CopyBuffer,
}

impl Reports {
    pub fn new(today: NaiveDate) -> Reports {
        let since = NaiveDate::from_ymd_opt(REPORTING_SINCE.0, REPORTING_SINCE.1, 1).expect("valid month");
        let settings = Settings { reporting_since: Some(since), report_deadline_day: DEFAULT_DEADLINE_DAY };
        let mut settings_rows = CopyBuffer::new("settings", "key, value");
        settings_rows.row(&[&"reporting_since", &since.format("%Y-%m").to_string()]);
        settings_rows.row(&[&"report_deadline_day", &DEFAULT_DEADLINE_DAY.to_string()]);
        Reports {
            rng: StdRng::seed_from_u64(1016),
            settings,
            this_month: month_start(today),
            today,
            cell_reports: CopyBuffer::new(
                "cell_reports",
                "cell_id, month, state, first_submitted_on, submitted_on, approved_on, reason, returned_reason",
            ),
            settings_rows,
        }
    }

    /// The report of `cell_id` for `month` (its first day), a month the cell is open in. `regular`: it held a
    /// regular meeting that month; `weak`: a cell that often misses one; `returned`: the cell whose last month a
    /// reviewer returned.
    pub fn month(&mut self, cell_id: i64, month: NaiveDate, regular: bool, weak: bool, returned: bool) {
        if !self.settings.required(month) || month >= self.this_month {
            return;
        }
        let last = add_months(self.this_month, -1);
        let rng = &mut self.rng;
        let deadline = self.settings.deadline(month);
        if returned && month == last {
            let submitted = month_end(month);
            let reason = (!regular).then(|| pick(rng, REASONS));
            self.row(cell_id, month, ReportState::Returned, Some(submitted), None, reason, Some(RETURNED));
            return;
        }
        // a few months are never submitted: mostly those without a regular meeting
        let never = if !regular {
            0.5
        } else if weak {
            0.12
        } else {
            0.015
        };
        if rng.random_bool(never) {
            if rng.random_bool(0.5) {
                // opened, not sent
                self.row(cell_id, month, ReportState::Draft, None, None, None, None);
            }
            return;
        }
        let submitted = if rng.random_bool(if weak { 0.35 } else { 0.08 }) {
            deadline + Days::new(rng.random_range(1..=15))
        } else {
            // from the month's last three days to the deadline
            let window = (deadline - month_end(month)).num_days() as u64 + 3;
            month_end(month) - Days::new(3) + Days::new(rng.random_range(1..=window))
        };
        if submitted > self.today {
            return;
        }
        let reason = (!regular).then(|| pick(rng, REASONS));
        let approved = submitted + Days::new(rng.random_range(1..=6));
        // the latest months are partly still waiting for review
        let waiting = month >= add_months(last, -1) && rng.random_bool(0.3);
        if waiting || approved > self.today {
            self.row(cell_id, month, ReportState::Submitted, Some(submitted), None, reason, None);
        } else {
            self.row(cell_id, month, ReportState::Approved, Some(submitted), Some(approved), reason, None);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn row(
        &mut self,
        cell_id: i64,
        month: NaiveDate,
        state: ReportState,
        submitted: Option<NaiveDate>,
        approved: Option<NaiveDate>,
        reason: Option<&str>,
        returned: Option<&str>,
    ) {
        debug_assert_eq!(month.day(), 1);
        self.cell_reports.row(&[
            &cell_id,
            &month,
            &state.as_str(),
            &submitted,
            &submitted,
            &approved,
            &reason,
            &returned,
        ]);
    }
}
