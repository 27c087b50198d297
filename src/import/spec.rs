//! The bundle's files and columns (DOMAIN.md §8), and how each value is checked before it is staged.
use super::csv::Reader;
use super::problem::Problem;
use crate::db::copy::{CopyBuffer, CopyValue};
use crate::domain::limits::{self, TextProblem};
use crate::domain::vocab::{
    AttendanceMode, AttendanceStatus, CellType, ClassLevel, ClassSubject, Gender, MeetingKind, OfficialGroup, Position,
    Rating, UnitKind,
};
use chrono::{NaiveDate, NaiveTime};

/// The type of a column's values.
#[derive(Clone, Copy)]
pub enum Kind {
    /// A key: letters without accents, digits, `_ . -`; at most [`limits::CODE`] of them.
    Code,
    /// Free text of at most this many characters.
    Text(usize),
    Date,
    /// A month, `YYYY-MM`, staged as its first day.
    Month,
    Time,
    Int(i64, i64),
    Choice(&'static [&'static str]),
}

pub struct Col {
    pub name: &'static str,
    pub kind: Kind,
    /// Blank means something (DOMAIN.md §8), so it is allowed.
    pub blank_ok: bool,
    /// The header may leave the column out (added later, DOMAIN.md §11): bundles made before it import as
    /// they did, every value of it blank.
    pub optional: bool,
}

pub struct FileSpec {
    pub name: &'static str,
    /// The staging table (a temporary table with `line`, `broken` and these columns).
    pub table: &'static str,
    pub cols: &'static [Col],
}

const fn c(name: &'static str, kind: Kind) -> Col {
    Col { name, kind, blank_ok: false, optional: false }
}
const fn b(name: &'static str, kind: Kind) -> Col {
    Col { name, kind, blank_ok: true, optional: false }
}
const fn o(name: &'static str, kind: Kind) -> Col {
    Col { name, kind, blank_ok: true, optional: true }
}

/// `true` or `false` (blank: false).
pub const BOOLEAN: &[&str] = &["true", "false"];

const COUNT: Kind = Kind::Int(0, 1_000_000);

/// The keys of `settings.csv` (the `settings` table's, migration 0011).
pub const SETTING_KEYS: &[&str] = &["reporting_since", "report_deadline_day"];

/// Every file of a bundle, in the order they are written (and their errors listed).
pub const FILES: &[FileSpec] = &[
    FileSpec {
        name: "units.csv",
        table: "s_units",
        cols: &[
            c("code", Kind::Code),
            c("kind", Kind::Choice(UnitKind::CODES)),
            c("name", Kind::Text(limits::NAME)),
            b("parent_code", Kind::Code),
            c("valid_from", Kind::Date),
            b("valid_to", Kind::Date),
            b("cell_type", Kind::Choice(CellType::CODES)),
        ],
    },
    FileSpec {
        name: "moves.csv",
        table: "s_moves",
        cols: &[c("code", Kind::Code), c("parent_code", Kind::Code), c("effective_on", Kind::Date)],
    },
    FileSpec {
        name: "members.csv",
        table: "s_members",
        cols: &[
            c("code", Kind::Code),
            c("full_name", Kind::Text(limits::NAME)),
            c("gender", Kind::Choice(Gender::CODES)),
            c("birth_date", Kind::Date),
            c("ethnicity", Kind::Text(limits::NAME)),
            c("joined_on", Kind::Date),
            b("official_on", Kind::Date),
            c("cell_code", Kind::Code),
            b("left_on", Kind::Date),
        ],
    },
    FileSpec {
        name: "transfers.csv",
        table: "s_transfers",
        cols: &[c("member_code", Kind::Code), c("cell_code", Kind::Code), c("effective_on", Kind::Date)],
    },
    FileSpec {
        name: "exemptions.csv",
        table: "s_exemptions",
        cols: &[c("member_code", Kind::Code), c("valid_from", Kind::Date), b("valid_to", Kind::Date)],
    },
    FileSpec {
        name: "positions.csv",
        table: "s_positions",
        cols: &[
            c("cell_code", Kind::Code),
            c("member_code", Kind::Code),
            c("position", Kind::Choice(Position::CODES)),
            c("valid_from", Kind::Date),
            b("valid_to", Kind::Date),
        ],
    },
    FileSpec {
        name: "trainings.csv",
        table: "s_trainings",
        cols: &[c("member_code", Kind::Code), c("trained_on", Kind::Date), b("course", Kind::Text(limits::NAME))],
    },
    FileSpec {
        name: "meetings.csv",
        table: "s_meetings",
        cols: &[
            c("ref", Kind::Code),
            c("cell_code", Kind::Code),
            c("held_on", Kind::Date),
            c("kind", Kind::Choice(MeetingKind::CODES)),
            c("topic", Kind::Text(limits::TOPIC)),
            b("started_at", Kind::Time),
            b("ended_at", Kind::Time),
            b("rating", Kind::Choice(Rating::CODES)),
            b("score", Kind::Int(0, 100)),
            b("present", COUNT),
            b("excused", COUNT),
            b("unexcused", COUNT),
            b("exempt", COUNT),
            o("notice_on", Kind::Date),
            o("prepared_on", Kind::Date),
            o("materials_on", Kind::Date),
            o("combined_thematic", Kind::Choice(BOOLEAN)),
        ],
    },
    FileSpec {
        name: "attendance.csv",
        table: "s_attendance",
        cols: &[
            c("meeting_ref", Kind::Code),
            c("member_code", Kind::Code),
            c("status", Kind::Choice(AttendanceStatus::CODES)),
            o("mode", Kind::Choice(AttendanceMode::CODES)),
        ],
    },
    FileSpec {
        name: "officials.csv",
        table: "s_officials",
        cols: &[
            c("code", Kind::Code),
            c("full_name", Kind::Text(limits::NAME)),
            c("group", Kind::Choice(OfficialGroup::CODES)),
            c("unit_code", Kind::Code),
        ],
    },
    FileSpec {
        name: "assignments.csv",
        table: "s_assignments",
        cols: &[
            c("official_code", Kind::Code),
            c("cell_code", Kind::Code),
            c("year", Kind::Int(1930, 2200)),
            c("required", Kind::Int(1, 1000)),
        ],
    },
    FileSpec {
        name: "guests.csv",
        table: "s_guests",
        cols: &[c("meeting_ref", Kind::Code), c("official_code", Kind::Code)],
    },
    FileSpec {
        name: "classifications.csv",
        table: "s_classifications",
        cols: &[
            c("year", Kind::Int(1930, 2200)),
            c("subject", Kind::Choice(ClassSubject::CODES)),
            c("code", Kind::Code),
            c("level", Kind::Choice(ClassLevel::CODES)),
        ],
    },
    FileSpec {
        name: "reports.csv",
        table: "s_reports",
        cols: &[
            c("cell_code", Kind::Code),
            c("month", Kind::Month),
            b("submitted_on", Kind::Date),
            b("approved_on", Kind::Date),
            b("reason", Kind::Text(limits::LONG_TEXT)),
        ],
    },
    FileSpec {
        name: "settings.csv",
        table: "s_settings",
        cols: &[c("key", Kind::Choice(SETTING_KEYS)), c("value", Kind::Text(limits::CODE))],
    },
];

pub fn spec(name: &str) -> Option<&'static FileSpec> {
    FILES.iter().find(|f| f.name == name)
}

impl FileSpec {
    /// The SQL type of a staged column.
    fn sql_type(kind: Kind) -> &'static str {
        match kind {
            Kind::Code | Kind::Text(_) | Kind::Choice(_) => "text",
            Kind::Date | Kind::Month => "date",
            Kind::Time => "time",
            Kind::Int(..) => "integer",
        }
    }

    /// The columns no two rows may share (the `dup` check of `import::checks` on the staged rows).
    pub fn key(&self) -> &'static [&'static str] {
        match self.name {
            "moves.csv" => &["code", "effective_on"],
            "transfers.csv" => &["member_code", "effective_on"],
            "exemptions.csv" => &["member_code", "valid_from"],
            "positions.csv" => &["cell_code", "member_code", "position", "valid_from"],
            "trainings.csv" => &["member_code", "trained_on", "course"],
            "meetings.csv" => &["ref"],
            "attendance.csv" => &["meeting_ref", "member_code"],
            "assignments.csv" => &["official_code", "cell_code", "year"],
            "guests.csv" => &["meeting_ref", "official_code"],
            "classifications.csv" => &["year", "subject", "code"],
            "reports.csv" => &["cell_code", "month"],
            "settings.csv" => &["key"],
            _ => &["code"],
        }
    }

    /// Extra columns computed while reading (members get the accent-free search key).
    pub fn extra_cols(&self) -> &'static [&'static str] {
        if self.table == "s_members" { &["search_name"] } else { &[] }
    }

    pub fn create_table_sql(&self) -> String {
        let mut cols = vec!["line integer not null".to_string(), "broken boolean not null".to_string()];
        cols.extend(self.cols.iter().map(|c| format!("\"{}\" {}", c.name, Self::sql_type(c.kind))));
        cols.extend(self.extra_cols().iter().map(|c| format!("\"{c}\" text")));
        format!("create temporary table {} ({}) on commit drop", self.table, cols.join(", "))
    }

    pub fn copy_columns(&self) -> String {
        let mut cols = vec!["line".to_string(), "broken".to_string()];
        cols.extend(self.cols.iter().map(|c| format!("\"{}\"", c.name)));
        cols.extend(self.extra_cols().iter().map(|c| format!("\"{c}\"")));
        cols.join(", ")
    }
}

/// A value checked against its column, ready for COPY text (`None`: blank, or broken).
fn check(col: &Col, raw: &str, file: &str, line: u32, problems: &mut Vec<Problem>) -> Option<String> {
    let v = raw.trim();
    let mut bad = |key: &str, args: &[&str]| problems.push(Problem::at(file, line, Some(col.name), key, args));
    if v.is_empty() {
        if !col.blank_ok {
            bad("blank", &[]);
        }
        return None;
    }
    // any value: no control character (PostgreSQL refuses NUL; tab and line breaks are text), within its length;
    // the message does not repeat the value
    let max = match col.kind {
        Kind::Code => limits::CODE,
        Kind::Text(max) => max,
        // a date, a time, a number or a choice that long is refused below, for what it is
        _ => usize::MAX,
    };
    match limits::check_text(v, max) {
        Ok(()) => {}
        Err(TextProblem::Control(c)) => {
            bad("control", &[&limits::code_point(c)]);
            return None;
        }
        Err(TextProblem::TooLong { max, length }) => {
            bad("too_long", &[&max.to_string(), &length.to_string()]);
            return None;
        }
    }
    let wrong = match col.kind {
        Kind::Code => {
            let ok = v.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
                && v.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
            (!ok).then(|| ("code", Vec::new()))
        }
        Kind::Text(_) => None,
        Kind::Date => {
            (v.len() != 10 || NaiveDate::parse_from_str(v, "%Y-%m-%d").is_err()).then(|| ("date", Vec::new()))
        }
        Kind::Month => (v.len() != 7 || crate::domain::time::parse_month(v).is_none()).then(|| ("month", Vec::new())),
        Kind::Time => (v.len() != 5 || NaiveTime::parse_from_str(v, "%H:%M").is_err()).then(|| ("time", Vec::new())),
        Kind::Int(lo, hi) => match v.parse::<i64>() {
            Ok(n) if (lo..=hi).contains(&n) => None,
            _ => Some(("number", vec![lo.to_string(), hi.to_string()])),
        },
        Kind::Choice(allowed) => (!allowed.contains(&v)).then(|| ("choice", vec![allowed.join(", ")])),
    };
    if let Some((key, extra)) = wrong {
        let mut args = vec![v];
        args.extend(extra.iter().map(String::as_str));
        bad(key, &args);
        return None;
    }
    if let Kind::Month = col.kind {
        // staged as the month's first day
        return Some(format!("{v}-01"));
    }
    Some(v.to_string())
}

/// Reads one file of the bundle into a COPY buffer for its staging table. Every problem found (header, syntax,
/// values) is added to `problems`; rows with a bad value are staged as `broken` so that references to their
/// keys do not show up as unknown as well.
pub fn read_file(spec: &FileSpec, text: &str, problems: &mut Vec<Problem>) -> CopyBuffer {
    read_file_as(spec, text, None, problems)
}

/// [`read_file`], or a sheet of the user's own read as `source` says (`import::headings`): the rows above its
/// header line (a title) skipped, each heading as the bundle column it holds (by position; `None`: ignored; a
/// heading past them read as written), values as people write them, and a row whose last cells are blank as wide
/// as the header.
pub fn read_file_as(
    spec: &FileSpec,
    text: &str,
    source: Option<&super::headings::Source>,
    problems: &mut Vec<Problem>,
) -> CopyBuffer {
    read_file_streamed(spec, text, source, problems, &mut |_| {}).buffer
}

/// What [`read_file_streamed`] leaves: the rows not handed on yet, and whether two rows may share their key.
pub struct Streamed {
    pub buffer: CopyBuffer,
    /// Two rows' keys ([`FileSpec::key`]) had the same 64-bit hash: the `dup` check must look (false: no two
    /// rows share a key, and the check, a sort of every row, can be left out).
    pub may_repeat: bool,
}

/// How much COPY text [`read_file_streamed`] gathers before it hands it on.
pub const CHUNK: usize = 4 << 20;

/// [`read_file_as`], handing the COPY text to `flush` whenever [`CHUNK`] bytes of it have gathered (the buffer it
/// returns holds the rest), so that the rows read so far are staged while the file is still being read.
pub fn read_file_streamed(
    spec: &FileSpec,
    text: &str,
    source: Option<&super::headings::Source>,
    problems: &mut Vec<Problem>,
    flush: &mut dyn FnMut(String),
) -> Streamed {
    let columns = source.map(|s| s.columns.as_slice());
    let header_line = source.map_or(0, |s| s.header_line);
    let file = spec.name;
    let mut buffer = CopyBuffer::new(spec.table, "");
    let mut records = Reader::new(text);
    // the header, after a sheet's title
    let first = loop {
        match records.next() {
            Some(Ok(r)) if r.line < header_line => {}
            Some(Err(e)) if e.line < header_line => {}
            other => break other,
        }
    };
    let header = match first {
        None => {
            problems.push(Problem::new(file, 0, "no_header", &[]));
            return Streamed { buffer, may_repeat: false };
        }
        Some(Err(e)) => {
            problems.push(Problem::new(file, e.line, e.key, &[]));
            return Streamed { buffer, may_repeat: false };
        }
        Some(Ok(r)) => r,
    };
    let mut positions = vec![usize::MAX; spec.cols.len()];
    let mut header_ok = true;
    for (i, name) in header.fields.iter().enumerate() {
        let name = match columns.and_then(|c| c.get(i)) {
            Some(Some(col)) => col,
            Some(None) => continue,
            None => name.trim(),
        };
        match spec.cols.iter().position(|c| c.name == name) {
            None => {
                problems.push(Problem::new(file, header.line, "col_unknown", &[name]));
                header_ok = false;
            }
            Some(k) if positions[k] != usize::MAX => {
                problems.push(Problem::new(file, header.line, "col_twice", &[name]));
                header_ok = false;
            }
            Some(k) => positions[k] = i,
        }
    }
    for (k, col) in spec.cols.iter().enumerate() {
        if positions[k] == usize::MAX && !col.optional {
            problems.push(Problem::new(file, header.line, "col_missing", &[col.name]));
            header_ok = false;
        }
    }
    if !header_ok {
        return Streamed { buffer, may_repeat: false };
    }
    let width = header.fields.len();
    let key: Vec<usize> = spec.key().iter().filter_map(|k| spec.cols.iter().position(|c| c.name == *k)).collect();
    // each row's key hashed, sorted at the end: two alike say the key may repeat (a hash set grown to millions of
    // entries took a sixth of a large import's reading)
    let hasher = std::collections::hash_map::RandomState::new();
    let mut hashes: Vec<u64> = Vec::new();
    let mut values: Vec<Option<String>> = Vec::with_capacity(spec.cols.len() + 1);
    for record in records {
        let mut record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(Problem::new(file, e.line, e.key, &[]));
                continue;
            }
        };
        if source.is_some() && record.fields.len() != width {
            // a sheet's row: its blank last cells are not written, nor are blank cells past the header a value
            if record.fields.len() < width {
                record.fields.resize(width, String::new());
            } else if record.fields[width..].iter().all(|f| f.trim().is_empty()) {
                record.fields.truncate(width);
            }
        }
        if record.fields.len() != width {
            problems.push(Problem::new(
                file,
                record.line,
                "fields",
                &[&record.fields.len().to_string(), &width.to_string()],
            ));
            continue;
        }
        let before = problems.len();
        values.clear();
        for (k, col) in spec.cols.iter().enumerate() {
            match record.fields.get(positions[k]) {
                Some(raw) => {
                    // a sheet of the user's own (mapped headings): its values as people write them ("Nữ", "02/04/1979")
                    let value = columns.and_then(|_| super::headings::as_bundle(col.kind, raw));
                    values.push(check(col, value.as_deref().unwrap_or(raw), file, record.line, problems));
                }
                // an optional column the header left out
                None => values.push(None),
            }
        }
        if !spec.extra_cols().is_empty() {
            // members: the accent-free search key of the full name
            let name = spec.cols.iter().position(|c| c.name == "full_name").expect("members.csv has full_name");
            values.push(values[name].as_deref().map(crate::domain::text::search_key));
        }
        let broken = problems.len() > before;
        {
            use std::hash::{BuildHasher, Hash, Hasher};
            let mut h = hasher.build_hasher();
            for &k in &key {
                values[k].hash(&mut h);
            }
            hashes.push(h.finish());
        }
        let line = record.line as i64;
        let mut row: Vec<&dyn CopyValue> = vec![&line, &broken];
        row.extend(values.iter().map(|v| v as &dyn CopyValue));
        buffer.row(&row);
        if buffer.text.len() >= CHUNK {
            // the next chunk gets its room at once instead of growing to it again
            flush(std::mem::replace(&mut buffer.text, String::with_capacity(CHUNK + (CHUNK >> 3))));
        }
    }
    hashes.sort_unstable();
    let may_repeat = hashes.windows(2).any(|w| w[0] == w[1]);
    Streamed { buffer, may_repeat }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_has_a_distinct_name_table_and_columns() {
        let mut names: Vec<_> = FILES.iter().map(|f| f.name).collect();
        names.dedup();
        assert_eq!(names.len(), 15);
        for f in FILES {
            let mut cols: Vec<_> = f.cols.iter().map(|c| c.name).collect();
            cols.sort();
            cols.dedup();
            assert_eq!(cols.len(), f.cols.len(), "{}", f.name);
            assert_eq!(f.table, format!("s_{}", f.name.trim_end_matches(".csv")));
        }
    }

    /// Security finding 12: a 100 MB header name became a 100 MB message, kept in the job and shown on `/import`.
    #[test]
    fn a_huge_header_name_or_value_is_quoted_cut_short() {
        use crate::domain::metrics::Lang;
        use crate::web::problems::text_in;
        let huge = "x".repeat(1024 * 1024);
        let mut problems = Vec::new();
        read_file(spec("moves.csv").unwrap(), &format!("code,parent_code,effective_on,{huge}\n"), &mut problems);
        let texts: Vec<_> = problems.iter().map(|p| text_in(p, Lang::En)).collect();
        assert_eq!(texts.len(), 1, "{texts:.300?}");
        assert_eq!(texts[0], format!("moves.csv:1: unknown column {}…", "x".repeat(199)));
        let mut problems = Vec::new();
        read_file(spec("moves.csv").unwrap(), &format!("code,parent_code,effective_on\nA,B,{huge}\n"), &mut problems);
        let texts: Vec<_> = problems.iter().map(|p| text_in(p, Lang::Vi)).collect();
        assert_eq!(texts.len(), 1, "{texts:.300?}");
        assert!(
            texts[0].starts_with("moves.csv:2: ngày hiệu lực (effective_on): ngày không hợp lệ «xxx"),
            "{:.300}",
            texts[0]
        );
        assert!(texts[0].chars().count() < 300, "{} characters", texts[0].chars().count());
        assert_eq!(problems[0].column.as_deref(), Some("effective_on"));
    }

    #[test]
    fn the_choices_are_the_vocabularys_codes() {
        let mut problems = Vec::new();
        read_file(spec("classifications.csv").unwrap(), "year,subject,code,level\n2025,cell,A,superb\n", &mut problems);
        assert_eq!(
            problems,
            [Problem::at(
                "classifications.csv",
                2,
                Some("level"),
                "choice",
                &["superb", "excellent, good, complete, fail"]
            )]
        );
    }
}
