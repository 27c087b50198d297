//! What is wrong with a bundle, as a value: where (file, line, column), which message (a catalog key of
//! `i18n/*.txt`, `import.problem.*`) and the values it quotes. It is put into words only where it is shown
//! (`web::problems`: the import page, a record form, the command line).
use serde::{Deserialize, Serialize};

/// The most of a value from the user's file (a header, a value, a file name) that a message quotes: a 100 MB
/// header name must not become a 100 MB message kept in the job and shown on `/import` to everyone.
pub const QUOTE_MAX: usize = 200;
/// The most a whole message holds, whatever it quotes.
pub const MESSAGE_MAX: usize = 1000;

/// `text` cut to `max` characters, "…" marking the cut.
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((end, _)) => {
            // the cut marker takes the place of the last character kept
            let end = text[..end].char_indices().next_back().map_or(0, |(i, _)| i);
            format!("{}…", &text[..end])
        }
    }
}

/// The message keys, each `import.problem.<key>` in both catalogs.
pub const KEYS: &[&str] = &[
    "month_locked",
    "utf8",
    "not_bundle",
    "quote_open",
    "quote_stray",
    "no_header",
    "col_missing",
    "col_unknown",
    "col_twice",
    "fields",
    "blank",
    "control",
    "too_long",
    "date",
    "time",
    "number",
    "code",
    "choice",
    "before",
    "not_after",
    "cell_type",
    "self_parent",
    "counts",
    "dup",
    "unknown",
    "not_cell",
    "cell_parent",
    "cycle",
    "move_outside",
    "parent_closed",
    "not_on_roll",
    "roster",
    "not_exempt",
    "rows_and_counts",
    "combined_not_regular",
    "online_not_present",
    "meeting_closed",
    "overlap",
    "kind_under",
    "kind_over",
    "kind_changed",
    "month",
    "approved_unsubmitted",
    "submitted_early",
    "report_closed",
    "db",
];

const PREFIX: &str = "import.problem.";

/// One thing wrong with a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub file: String,
    /// The line of the file (the line a record starts on); 0: the file as a whole.
    pub line: u32,
    /// The column (as the file's header names it) whose value is wrong, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The catalog key of the message, `import.problem.*`; its text writes `{column}` and `{0}`, `{1}`… for
    /// the column and the arguments.
    pub key: String,
    pub args: Vec<String>,
}

impl Problem {
    /// A problem with `file`, a line or a row as a whole; `key` is one of [`KEYS`]. The file name and values
    /// are quoted at most [`QUOTE_MAX`] characters long.
    pub fn new(file: &str, line: u32, key: &str, args: &[&str]) -> Problem {
        Problem::at(file, line, None, key, args)
    }

    /// A problem with the value of `column`.
    pub fn at(file: &str, line: u32, column: Option<&str>, key: &str, args: &[&str]) -> Problem {
        debug_assert!(KEYS.contains(&key), "{key} is no problem key");
        Problem {
            file: clip(file, QUOTE_MAX),
            line,
            column: column.map(|c| clip(c, QUOTE_MAX)),
            key: format!("{PREFIX}{key}"),
            args: args.iter().map(|s| clip(s, QUOTE_MAX)).collect(),
        }
    }

    /// `file` is no file of a bundle: the message lists the bundle's files, which are ours and never cut.
    pub fn not_bundle(file: &str) -> Problem {
        let names: Vec<_> = crate::import::spec::FILES.iter().map(|f| f.name).collect();
        Problem { args: vec![names.join(", ")], ..Problem::new(file, 0, "not_bundle", &[]) }
    }

    /// [`Problem::at`] with the values as found (by the SQL checks).
    pub fn with_args(file: &str, line: u32, column: Option<&str>, key: &str, args: Vec<String>) -> Problem {
        let args: Vec<_> = args.iter().map(String::as_str).collect();
        Problem::at(file, line, column, key, &args)
    }

    /// The key without its catalog prefix (`date`, `unknown`, …).
    pub fn kind(&self) -> &str {
        self.key.strip_prefix(PREFIX).unwrap_or(&self.key)
    }

    /// The message alone, `template` (the key's text in some language) filled in, at most [`MESSAGE_MAX`]
    /// characters of printable text.
    pub fn message(&self, template: &str) -> String {
        // one pass, so that a value holding "{1}" is shown as typed
        let mut text = String::new();
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            text.push_str(&rest[..start]);
            let value = rest[start + 1..].find('}').and_then(|end| {
                let name = &rest[start + 1..start + 1 + end];
                let value = match name {
                    "column" => self.column.as_deref().unwrap_or(""),
                    _ => self.args.get(name.parse::<usize>().ok()?).map_or("", String::as_str),
                };
                Some((value, start + end + 2))
            });
            match value {
                Some((value, next)) => {
                    text.push_str(value);
                    rest = &rest[next..];
                }
                None => {
                    text.push('{');
                    rest = &rest[start + 1..];
                }
            }
        }
        text.push_str(rest);
        shown(&text)
    }

    /// `file:line: message` (or `file: message` for the file as a whole), at most [`MESSAGE_MAX`] characters.
    pub fn located(&self, template: &str) -> String {
        let message = self.message(template);
        if self.line == 0 {
            shown(&format!("{}: {message}", self.file))
        } else {
            shown(&format!("{}:{}: {message}", self.file, self.line))
        }
    }

    /// The problem as an import job keeps it (a line of `import_jobs.problems`).
    pub fn stored(&self) -> String {
        serde_json::to_string(self).expect("a problem is plain data")
    }

    /// A problem kept by [`Problem::stored`]; `None` for a line kept as text.
    pub fn from_stored(line: &str) -> Option<Problem> {
        serde_json::from_str(line).ok()
    }
}

/// Cut short, and without what no text column stores (a file or column name may hold anything; the job's page
/// keeps the message).
fn shown(text: &str) -> String {
    crate::domain::limits::printable(&clip(text, MESSAGE_MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &str = "{column}: bad date '{0}' (expected YYYY-MM-DD)";

    #[test]
    fn values_are_shown_as_typed() {
        let p = Problem::at("members.csv", 7, Some("birth_date"), "date", &["{1}x"]);
        assert_eq!(p.located(DATE), "members.csv:7: birth_date: bad date '{1}x' (expected YYYY-MM-DD)");
        assert_eq!(p.message("{column} {0} {2} {x} {"), "birth_date {1}x  {x} {");
        assert_eq!(p.kind(), "date");
        assert_eq!(Problem::new("people.csv", 0, "utf8", &[]).located("not UTF-8"), "people.csv: not UTF-8");
        // a name holding a control character is shown without it
        assert_eq!(
            Problem::new("units.csv", 1, "col_unknown", &["co\0de\u{1b}"]).located("unknown column {0}"),
            "units.csv:1: unknown column co\u{fffd}de\u{fffd}"
        );
    }

    #[test]
    fn quoted_values_and_whole_messages_are_cut_short() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "ab…");
        assert_eq!(clip("Nguyễn Thị", 4), "Ngu…");
        let long = "ễ".repeat(1_000_000);
        let p = Problem::at(&long, 3, Some("birth_date"), "date", &[&long]);
        let quoted = format!("{}…", "ễ".repeat(QUOTE_MAX - 1));
        assert_eq!(p.located(DATE), format!("{quoted}:3: birth_date: bad date '{quoted}' (expected YYYY-MM-DD)"));
        // every value at its longest still makes a message of bounded length
        let p = Problem::with_args("x.csv", 1, Some(&long), "choice", vec![long.clone(), long.clone()]);
        assert!(p.located("{column}{0}{1}{0}{1}{0}{1}").chars().count() <= MESSAGE_MAX);
        // the bundle's own lists are never cut
        let p = Problem::not_bundle("notes.csv");
        assert!(p.located("{0}").starts_with("notes.csv: units.csv, "), "{}", p.located("{0}"));
        assert!(p.located("{0}").ends_with("reports.csv, settings.csv"), "{}", p.located("{0}"));
    }

    #[test]
    fn a_problem_is_kept_and_read_back_whole() {
        let p = Problem::at("units.csv", 2, Some("kind"), "kind_under", &["province", "XL", "committee"]);
        assert_eq!(Problem::from_stored(&p.stored()), Some(p));
        let p = Problem::new("people.csv", 0, "not_bundle", &["units.csv"]);
        assert_eq!(Problem::from_stored(&p.stored()), Some(p));
        assert_eq!(Problem::from_stored("A system error stopped the import"), None);
    }

    #[test]
    fn every_key_has_a_message_in_both_catalogs() {
        for catalog in [crate::i18n::VI, crate::i18n::EN] {
            let keys: std::collections::HashSet<_> = crate::i18n::parse(catalog).into_iter().map(|(k, _)| k).collect();
            for key in KEYS {
                assert!(keys.contains(format!("{PREFIX}{key}").as_str()), "{PREFIX}{key}");
            }
        }
    }
}
