//! Import errors: `file:line: message`, in Vietnamese or English.
use crate::domain::metrics::Lang;

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

/// One thing wrong with a bundle. `line` 0 means the file as a whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub file: String,
    pub line: u32,
    pub key: String,
    pub args: Vec<String>,
}

impl Problem {
    /// The file name and values are quoted at most [`QUOTE_MAX`] characters long.
    pub fn new(file: &str, line: u32, key: &str, args: &[&str]) -> Problem {
        Problem {
            file: clip(file, QUOTE_MAX),
            line,
            key: key.into(),
            args: args.iter().map(|s| clip(s, QUOTE_MAX)).collect(),
        }
    }

    /// [`Problem::new`] with the values as found (by the SQL checks).
    pub fn with_args(file: &str, line: u32, key: &str, args: Vec<String>) -> Problem {
        let args: Vec<_> = args.iter().map(String::as_str).collect();
        Problem::new(file, line, key, &args)
    }

    /// `file:line: message` (or `file: message` for the file as a whole), at most [`MESSAGE_MAX`] characters.
    pub fn render(&self, lang: Lang) -> String {
        let (vi, en) = template(&self.key);
        let template = if lang == Lang::En { en } else { vi };
        // one pass, so that a value holding "{1}" is shown as typed
        let mut text = String::new();
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            text.push_str(&rest[..start]);
            let arg = rest[start + 1..].find('}').and_then(|end| {
                let i: usize = rest[start + 1..start + 1 + end].parse().ok()?;
                Some((self.args.get(i).map_or("", String::as_str), start + end + 2))
            });
            match arg {
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
        let message = if self.line == 0 {
            format!("{}: {text}", self.file)
        } else {
            format!("{}:{}: {text}", self.file, self.line)
        };
        // a file name or a column name may hold what no text column stores (the job's page keeps the message)
        crate::domain::limits::printable(&clip(&message, MESSAGE_MAX))
    }
}

fn template(key: &str) -> (&'static str, &'static str) {
    match key {
        "io" => ("không đọc được tệp: {0}", "cannot read the file: {0}"),
        "utf8" => ("tệp không phải văn bản UTF-8", "the file is not UTF-8 text"),
        "not_bundle" => ("không phải tệp của gói nhập (tên tệp hợp lệ: {0})", "not a bundle file (valid names: {0})"),
        "quote_open" => ("giá trị trong dấu ngoặc kép không được đóng", "a quoted value is never closed"),
        "quote_stray" => ("dấu ngoặc kép đặt sai chỗ", "a quote in the wrong place"),
        "no_header" => ("tệp không có dòng tiêu đề", "the file has no header row"),
        "col_missing" => ("thiếu cột {0}", "missing column {0}"),
        "col_unknown" => ("cột không có trong mẫu: {0}", "unknown column {0}"),
        "col_twice" => ("cột {0} xuất hiện hai lần", "column {0} appears twice"),
        "fields" => {
            ("dòng có {0} giá trị nhưng tiêu đề có {1} cột", "the row has {0} values but the header {1} columns")
        }
        "blank" => ("{0}: không được để trống", "{0}: must not be blank"),
        "control" => (
            "{0}: có ký tự điều khiển không lưu được ({1})",
            "{0}: holds a control character that cannot be stored ({1})",
        ),
        "too_long" => {
            ("{0}: quá dài, tối đa {1} ký tự (hiện có {2})", "{0}: too long, at most {1} characters ({2} given)")
        }
        "date" => ("{0}: ngày không hợp lệ «{1}» (cần YYYY-MM-DD)", "{0}: bad date '{1}' (expected YYYY-MM-DD)"),
        "time" => ("{0}: giờ không hợp lệ «{1}» (cần HH:MM)", "{0}: bad time '{1}' (expected HH:MM)"),
        "number" => {
            ("{0}: «{1}» không phải số nguyên từ {2} đến {3}", "{0}: '{1}' is not a whole number from {2} to {3}")
        }
        "code" => (
            "{0}: mã không hợp lệ «{1}» (chỉ gồm chữ không dấu, số, _ . -)",
            "{0}: bad code '{1}' (letters without accents, digits, _ . -)",
        ),
        "choice" => ("{0}: giá trị không hợp lệ «{1}» (một trong: {2})", "{0}: '{1}' is not one of: {2}"),
        "before" => ("{0} không được trước {1}", "{0} must not be before {1}"),
        "not_after" => ("{0} phải sau {1}", "{0} must be after {1}"),
        "cell_type" => (
            "cell_type bắt buộc với chi bộ và để trống với đơn vị khác",
            "cell_type is required for a cell and blank for other units",
        ),
        "self_parent" => ("đơn vị không thể là cấp trên của chính nó", "a unit cannot be its own parent"),
        "counts" => (
            "bốn số present, excused, unexcused, exempt phải có đủ cả bốn hoặc để trống cả bốn",
            "the four counts present, excused, unexcused, exempt must all be given or all be blank",
        ),
        "dup" => ("{0} «{1}» trùng với dòng {2}", "duplicate {0} '{1}' (also on line {2})"),
        "unknown" => (
            "{0}: không có «{1}» trong gói hay trong cơ sở dữ liệu",
            "{0}: unknown '{1}' (not in the bundle nor in the database)",
        ),
        "not_cell" => ("{0}: «{1}» không phải chi bộ", "{0}: '{1}' is not a cell"),
        "cell_parent" => {
            ("{0}: «{1}» là chi bộ, không có đơn vị cấp dưới", "{0}: '{1}' is a cell and cannot have units under it")
        }
        "cycle" => (
            "vòng lặp cấp trên: «{0}» nằm dưới chính nó từ ngày {1}",
            "a cycle of parents: '{0}' is under itself from {1}",
        ),
        "move_outside" => {
            ("ngày {0} nằm ngoài thời gian hoạt động của «{1}» ({2})", "{0} is outside the time '{1}' is open ({2})")
        }
        "parent_closed" => ("«{0}» không hoạt động vào ngày {1}", "'{0}' is not open on {1}"),
        "not_on_roll" => (
            "đảng viên «{0}» không thuộc danh sách chi bộ «{1}» ngày {2}",
            "member '{0}' is not on the roll of cell '{1}' on {2}",
        ),
        "roster" => (
            "cuộc họp thường kỳ «{0}» thiếu dòng cho đảng viên «{1}», có trong danh sách chi bộ ngày {2}",
            "regular meeting '{0}' has no row for member '{1}', who is on the cell's roll on {2}",
        ),
        "not_exempt" => ("đảng viên «{0}» không được miễn sinh hoạt ngày {1}", "member '{0}' is not exempt on {1}"),
        "rows_and_counts" => (
            "cuộc họp «{0}» có bốn số nên không được có danh sách từng người",
            "meeting '{0}' has the four counts, so it cannot also have per-member rows",
        ),
        "meeting_closed" => ("chi bộ «{0}» không hoạt động ngày {1}", "cell '{0}' is not open on {1}"),
        "overlap" => {
            ("trùng thời gian với một khoảng khác của «{0}» (từ {1})", "overlaps another period of '{0}' (from {1})")
        }
        "kind_under" => (
            "{0}: cấp «{1}» không thể trực thuộc «{2}» (cấp «{3}»); đơn vị phải ở cấp thấp hơn cấp trên của nó: \
             province > district > committee > cell",
            "{0}: a {1} cannot be under '{2}', a {3}; a unit is at a lower level than its parent: \
             province > district > committee > cell",
        ),
        "kind_over" => (
            "{0}: «{2}» (cấp «{3}») trực thuộc đơn vị này nên đơn vị không thể là cấp «{1}»; đơn vị phải ở cấp thấp \
             hơn cấp trên của nó: province > district > committee > cell",
            "{0}: '{2}', a {3}, is under this unit, so it cannot be a {1}; a unit is at a lower level than its \
             parent: province > district > committee > cell",
        ),
        "kind_changed" => ("không đổi được loại của «{0}» ({1} → {2})", "cannot change the kind of '{0}' ({1} → {2})"),
        "db" => ("cơ sở dữ liệu từ chối: {0}", "the database refused: {0}"),
        _ => ("lỗi {0}", "error {0}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_shown_as_typed_in_either_language() {
        let p = Problem::new("members.csv", 7, "date", &["birth_date", "{1}x"]);
        assert_eq!(p.render(Lang::En), "members.csv:7: birth_date: bad date '{1}x' (expected YYYY-MM-DD)");
        assert_eq!(p.render(Lang::Vi), "members.csv:7: birth_date: ngày không hợp lệ «{1}x» (cần YYYY-MM-DD)");
        assert_eq!(
            Problem::new("people.csv", 0, "utf8", &[]).render(Lang::En),
            "people.csv: the file is not UTF-8 text"
        );
        // a name holding a control character is shown without it
        assert_eq!(
            Problem::new("units.csv", 1, "col_unknown", &["co\0de\u{1b}"]).render(Lang::En),
            "units.csv:1: unknown column co\u{fffd}de\u{fffd}"
        );
    }

    #[test]
    fn quoted_values_and_whole_messages_are_cut_short() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "ab…");
        assert_eq!(clip("Nguyễn Thị", 4), "Ngu…");
        let long = "ễ".repeat(1_000_000);
        let p = Problem::new(&long, 3, "date", &["birth_date", &long]);
        let text = p.render(Lang::En);
        let quoted = format!("{}…", "ễ".repeat(QUOTE_MAX - 1));
        assert_eq!(text, format!("{quoted}:3: birth_date: bad date '{quoted}' (expected YYYY-MM-DD)"));
        // every value at its longest still makes a message of bounded length
        let p = Problem::with_args("x.csv", 1, "choice", vec![long.clone(), long.clone(), long.clone()]);
        assert!(p.render(Lang::Vi).chars().count() <= MESSAGE_MAX);
        // the bundle's own lists are never cut
        let names: Vec<_> = crate::import::spec::FILES.iter().map(|f| f.name).collect();
        let p = Problem::new("notes.csv", 0, "not_bundle", &[&names.join(", ")]);
        assert!(p.render(Lang::En).ends_with("classifications.csv)"), "{}", p.render(Lang::En));
    }
}
