//! Spreadsheets as they are (issue 17 item 4): an uploaded file or sheet whose name or column headings are the
//! committee's own ("Đảng viên", "Họ và tên", "STT") read as a bundle file. [`plan`] decides, for each uploaded
//! file, which bundle file it is and which column each heading holds, from the bundle's own names and the
//! mappings remembered from earlier uploads ([`Saved`]); what it cannot decide is asked on a page
//! (`web::headings`), whose answers [`Plan::choose`] checks. A [`Mapping`] is what the import then reads the files
//! with: the files' bytes are never rewritten, so every line number stays the user's, and problems name the
//! user's own file and heading ([`Mapping::rename`]).
use std::collections::HashMap;

use super::csv::Reader;
use super::problem::{Problem, QUOTE_MAX, clip};
use super::spec::{FILES, FileSpec, Kind};

/// Values shown under a heading the page asks about.
const SAMPLES: usize = 3;
/// Records read to find them.
const SAMPLE_ROWS: usize = 50;
/// Rows of a title above a sheet's table, at most.
const TITLE_ROWS: usize = 10;

/// A name or heading as it is compared and remembered: lower case, without accents or tone marks (precomposed or
/// combining), punctuation as spaces, single-spaced ("Họ và tên (*)" → "ho va ten"); at most 200 characters.
pub fn fold(text: &str) -> String {
    let plain: String = text
        .chars()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let key = crate::domain::text::search_key(&plain);
    if key.len() <= QUOTE_MAX { key } else { clip(&key, QUOTE_MAX).replace('…', "") }
}

/// The key of a heading: its folded text, or "-" for a heading without a letter or digit (a blank one).
pub fn heading_key(heading: &str) -> String {
    let key = fold(heading);
    if key.is_empty() { "-".into() } else { key }
}

/// The key of an uploaded file's or sheet's name: folded, without its ".csv" ("Đảng viên.csv" → "dang vien").
pub fn name_key(name: &str) -> String {
    let stem = match name.len().checked_sub(4) {
        Some(cut) if name.is_char_boundary(cut) && name[cut..].eq_ignore_ascii_case(".csv") => &name[..cut],
        _ => name,
    };
    heading_key(stem)
}

/// What a heading holds: a column of a bundle file, or nothing the import takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Column(&'static str, &'static str),
    Ignore,
}

impl Choice {
    /// As a form sends it: `members.csv/full_name`, or `ignore`.
    pub fn value(self) -> String {
        match self {
            Choice::Column(file, col) => format!("{file}/{col}"),
            Choice::Ignore => "ignore".into(),
        }
    }

    pub fn parse(value: &str) -> Option<Choice> {
        if value == "ignore" {
            return Some(Choice::Ignore);
        }
        let (file, col) = value.split_once('/')?;
        let spec = super::spec::spec(file)?;
        let col = spec.cols.iter().find(|c| c.name == col)?;
        Some(Choice::Column(spec.name, col.name))
    }

    pub fn file(self) -> Option<&'static str> {
        match self {
            Choice::Column(file, _) => Some(file),
            Choice::Ignore => None,
        }
    }
}

/// The mappings remembered from earlier uploads (`db::headings`).
#[derive(Debug, Default, Clone)]
pub struct Saved {
    /// a file's or sheet's folded name → its bundle file; `None`: a sheet left out
    pub files: HashMap<String, Option<&'static str>>,
    /// (bundle file, folded heading) → its column; `None`: ignored
    pub headings: HashMap<(&'static str, String), Option<&'static str>>,
}

impl Saved {
    /// Adds a remembered row as stored; a file or column this version does not have is passed over.
    pub fn add_file(&mut self, name: String, file: Option<&str>) {
        match file.map(super::spec::spec) {
            None => self.files.insert(name, None),
            Some(Some(spec)) => self.files.insert(name, Some(spec.name)),
            Some(None) => None,
        };
    }

    pub fn add_heading(&mut self, file: &str, heading: String, col: Option<&str>) {
        let Some(spec) = super::spec::spec(file) else { return };
        match col.map(|c| spec.cols.iter().find(|k| k.name == c)) {
            None => self.headings.insert((spec.name, heading), None),
            Some(Some(col)) => self.headings.insert((spec.name, heading), Some(col.name)),
            Some(None) => None,
        };
    }

    /// What `heading` holds in `file`: its own column name, or what was remembered.
    fn known(&self, file: &'static FileSpec, heading: &str, key: &str) -> Option<Choice> {
        if let Some(col) = file.cols.iter().find(|c| c.name == heading) {
            return Some(Choice::Column(file.name, col.name));
        }
        let saved = self.headings.get(&(file.name, key.to_string()))?;
        Some(saved.map_or(Choice::Ignore, |col| Choice::Column(file.name, col)))
    }
}

/// One heading of an uploaded file.
#[derive(Debug, Clone)]
pub struct Heading {
    /// as the file writes it (trimmed), at most 200 characters
    pub text: String,
    pub key: String,
    /// decided without asking
    pub known: Option<Choice>,
    /// what the page preselects
    pub suggested: Option<Choice>,
    /// a few values from under it
    pub samples: Vec<String>,
}

/// One uploaded file (a CSV, or a workbook's sheet).
#[derive(Debug, Clone)]
pub struct Sheet {
    /// as uploaded ("Đảng viên.csv")
    pub name: String,
    /// the bundle file it is, if known without asking
    pub file: Option<&'static str>,
    /// remembered as a sheet to leave out
    pub left_out: bool,
    pub headings: Vec<Heading>,
    /// the line of its header: past a title ("DANH SÁCH ĐẢNG VIÊN") above the table
    pub header_line: u32,
    /// rows above the header
    pub titled: bool,
}

impl Sheet {
    /// A heading the page asks about.
    pub fn asks(&self) -> bool {
        // a sheet of no known file has no heading known
        !self.left_out && self.headings.iter().any(|h| h.known.is_none())
    }
}

/// Every uploaded file and what is known of it.
#[derive(Debug, Clone)]
pub struct Plan {
    pub sheets: Vec<Sheet>,
}

/// How the import reads the uploaded files: per file (in upload order), `None` to read it as the bundle file of
/// its name with the bundle's headings (as always), or its [`Source`].
#[derive(Debug, Default, Clone)]
pub struct Mapping {
    pub sources: Vec<Option<Source>>,
}

/// An uploaded file read under the user's own names.
#[derive(Debug, Clone)]
pub struct Source {
    /// as uploaded, for the problems
    pub name: String,
    /// the bundle file it is; `None`: left out of the import
    pub file: Option<&'static str>,
    /// per heading (position in the header), its column; `None`: ignored
    pub columns: Vec<Option<&'static str>>,
    /// per heading, as the file writes it
    pub headings: Vec<String>,
    /// the line of the header; the lines above are the sheet's title
    pub header_line: u32,
}

/// What each uploaded file is, from its name, its heading row and `saved`.
pub fn plan(files: &[(String, Vec<u8>)], saved: &Saved) -> Plan {
    let sheets = files.iter().map(|(name, bytes)| sheet(name, bytes, saved)).collect();
    Plan { sheets }
}

fn sheet(name: &str, bytes: &[u8], saved: &Saved) -> Sheet {
    let mut file = super::spec::spec(name).map(|s| s.name);
    let mut left_out = false;
    if file.is_none() {
        match saved.files.get(&name_key(name)) {
            Some(Some(f)) => file = Some(f),
            Some(None) => left_out = true,
            None => {}
        }
    }
    let mut out = Sheet { name: name.to_string(), file, left_out, headings: Vec::new(), header_line: 1, titled: false };
    // a file the import cannot read (not UTF-8, no header, broken quotes) is left to it to say so
    let Ok(text) = std::str::from_utf8(bytes) else { return out };
    let mut records = Reader::new(text);
    // the header: the first row of two values or more, below a title of one value a row (a sheet's "CỘNG HÒA…",
    // "DANH SÁCH ĐẢNG VIÊN" above its table), else the first row
    let mut header = None;
    for record in records.by_ref().take(TITLE_ROWS + 1) {
        let Ok(record) = record else { break };
        if record.fields.iter().filter(|f| !f.trim().is_empty()).count() >= 2 {
            header = Some(record);
            break;
        }
    }
    let header = match header {
        Some(h) => h,
        None => {
            records = Reader::new(text);
            let Some(Ok(first)) = records.next() else { return out };
            first
        }
    };
    out.header_line = header.line;
    out.titled = Reader::new(text).next().is_some_and(|r| r.map_or(true, |r| r.line < header.line));
    let mut headings: Vec<Heading> = header
        .fields
        .iter()
        .map(|h| {
            let text = clip(h.trim(), QUOTE_MAX);
            let key = heading_key(&text);
            Heading { text, key, known: None, suggested: None, samples: Vec::new() }
        })
        .collect();
    if file.is_none() && !left_out {
        // a sheet of another name whose every heading one bundle file knows is that file
        let fits: Vec<_> = FILES
            .iter()
            .filter(|f| headings.iter().all(|h| saved.known(f, &h.text, &h.key).is_some()))
            .filter(|f| headings.iter().any(|h| matches!(saved.known(f, &h.text, &h.key), Some(Choice::Column(..)))))
            .collect();
        if let [only] = fits.as_slice() {
            out.file = Some(only.name);
        }
    }
    if let Some(spec) = out.file.and_then(super::spec::spec) {
        for h in &mut headings {
            h.known = saved.known(spec, &h.text, &h.key);
        }
    }
    if !out.left_out && headings.iter().any(|h| h.known.is_none()) {
        // what the page shows: a few values of each heading asked about, and a guess
        for record in records.take(SAMPLE_ROWS).flatten() {
            for (h, value) in headings.iter_mut().zip(&record.fields) {
                let value = value.trim();
                if h.known.is_none()
                    && !value.is_empty()
                    && h.samples.len() < SAMPLES
                    && !h.samples.iter().any(|s| s == value)
                {
                    h.samples.push(clip(value, 60));
                }
            }
        }
        let guess = out.file.and_then(super::spec::spec).or_else(|| likely_file(&headings, saved));
        for h in headings.iter_mut().filter(|h| h.known.is_none()) {
            h.suggested = suggest(&h.key, guess);
        }
    }
    out.headings = headings;
    out
}

/// The words people write for a column: its Vietnamese label ("họ và tên"), its English label and its name.
fn names_of(col: &str) -> [String; 3] {
    let key = format!("col.{col}");
    [fold(crate::i18n::tr_vi(&key)), fold(crate::i18n::tr_in(crate::domain::metrics::Lang::En, &key)), fold(col)]
}

/// Headings that are a row's number or a remark in Vietnamese sheets: ignored unless chosen otherwise.
const IGNORED: &[&str] = &["stt", "tt", "so tt", "so thu tu", "ghi chu"];

/// The bundle file most of the headings name (by label, name or a remembered mapping).
fn likely_file(headings: &[Heading], saved: &Saved) -> Option<&'static FileSpec> {
    let score = |f: &&'static FileSpec| {
        headings
            .iter()
            .filter(|h| {
                saved.known(f, &h.text, &h.key).is_some_and(|c| c != Choice::Ignore)
                    || f.cols.iter().any(|c| names_of(c.name).contains(&h.key))
            })
            .count()
    };
    let best = FILES.iter().max_by_key(|f| (score(f), std::cmp::Reverse(f.cols.len())))?;
    (score(&best) > 0).then_some(best)
}

/// The column of `file` a heading most likely is: one whose label or name folds to the heading; else the one
/// with the longest label all of whose words the heading has ("mã đảng viên" → mã, "ngày tháng năm sinh" →
/// ngày sinh); else the only one whose label has every word of a heading of two words or more ("chi bộ" → mã
/// chi bộ, "ngày chính thức" → ngày chuyển chính thức).
fn suggest(key: &str, file: Option<&'static FileSpec>) -> Option<Choice> {
    if IGNORED.contains(&key) {
        return Some(Choice::Ignore);
    }
    let file = file?;
    let column = |col: &'static str| Some(Choice::Column(file.name, col));
    if let Some(col) = file.cols.iter().find(|c| names_of(c.name).iter().any(|n| n == key)) {
        return column(col.name);
    }
    let words: Vec<&str> = key.split(' ').collect();
    let labels: Vec<(&'static str, String)> = file.cols.iter().map(|c| (c.name, names_of(c.name)[0].clone())).collect();
    let within = labels
        .iter()
        .filter(|(_, label)| label.split(' ').all(|w| words.contains(&w)))
        .max_by_key(|(_, label)| label.split(' ').count());
    if let Some((col, _)) = within {
        return column(col);
    }
    let holding: Vec<_> =
        labels.iter().filter(|(_, label)| words.iter().all(|w| label.split(' ').any(|l| l == *w))).collect();
    match holding.as_slice() {
        [(col, _)] if words.len() > 1 => column(col),
        _ => None,
    }
}

/// A value of a sheet read under a mapping, written as people write it, in the bundle's form: a choice by its label
/// in Vietnamese or English ("Nữ" → female, "Có mặt" → present), a date as day/month/year ("02/04/1979",
/// "2-4-1979", "2.4.1979" → 1979-04-02), a month as month/year ("4/2026" → 2026-04), a time as "19h30" or "7:30".
/// `None`: the value is checked as written (and quoted so in a problem).
pub fn as_bundle(kind: Kind, raw: &str) -> Option<String> {
    let v = raw.trim();
    if v.is_empty() {
        return None;
    }
    let numbers = |sep: &[char]| -> Option<Vec<u32>> {
        let parts: Vec<&str> = v.split(sep).collect();
        let ok = parts.iter().all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()));
        ok.then(|| parts.iter().map(|p| p.parse().unwrap_or(0)).collect())
    };
    match kind {
        Kind::Choice(codes) if !codes.contains(&v) => {
            let key = fold(v);
            let (_, labels) = choice_labels().iter().find(|(set, _)| set.as_slice() == codes)?;
            labels.iter().find(|(label, _)| *label == key).map(|(_, code)| code.to_string())
        }
        // already the bundle's forms
        Kind::Date if v.len() == 10 && v.as_bytes()[4] == b'-' => None,
        Kind::Time if v.len() == 5 && v.as_bytes()[2] == b':' => None,
        Kind::Date => match numbers(&['/', '-', '.'])?.as_slice() {
            // a year first (the bundle's own form) is not day/month/year
            &[d, m, y] if d <= 31 && m <= 12 && y >= 1000 => {
                chrono::NaiveDate::from_ymd_opt(y as i32, m, d).map(|_| format!("{y:04}-{m:02}-{d:02}"))
            }
            _ => None,
        },
        Kind::Month => match numbers(&['/', '-', '.'])?.as_slice() {
            &[m, y] if (1..=12).contains(&m) && y >= 1000 => Some(format!("{y:04}-{m:02}")),
            _ => None,
        },
        Kind::Time => {
            let lower = v.to_lowercase();
            let parts: Vec<&str> = lower.split([':', 'h']).collect();
            let n = |p: &str| {
                (!p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| p.parse::<u32>().ok())
                    .flatten()
            };
            let (h, m) = match parts.as_slice() {
                [h, ""] if lower.ends_with('h') => (n(h)?, 0),
                [h, m] => (n(h)?, n(m)?),
                _ => return None,
            };
            (h < 24 && m < 60).then(|| format!("{h:02}:{m:02}"))
        }
        _ => None,
    }
}

/// A choice of the vocabulary: its codes, and each code's labels (Vietnamese and English, folded) with the code.
type ChoiceLabels = (Vec<&'static str>, Vec<(String, &'static str)>);

/// Every choice of the vocabulary with its labels, made once.
fn choice_labels() -> &'static [ChoiceLabels] {
    use crate::domain::vocab::*;
    fn labels<T: Code>() -> ChoiceLabels {
        let codes: Vec<&'static str> = T::ALL.iter().map(|v| v.as_str()).collect();
        let mut labels = Vec::new();
        for v in T::ALL {
            for lang in [crate::domain::metrics::Lang::Vi, crate::domain::metrics::Lang::En] {
                labels.push((fold(crate::i18n::tr_in(lang, v.label_key())), v.as_str()));
            }
        }
        (codes, labels)
    }
    static LABELS: std::sync::OnceLock<Vec<ChoiceLabels>> = std::sync::OnceLock::new();
    LABELS.get_or_init(|| {
        vec![
            labels::<UnitKind>(),
            labels::<CellType>(),
            labels::<Gender>(),
            labels::<MeetingKind>(),
            labels::<AttendanceStatus>(),
            labels::<Rating>(),
            labels::<ClassLevel>(),
            labels::<ClassSubject>(),
            labels::<Position>(),
            labels::<OfficialGroup>(),
        ]
    })
}

/// Why a choice on the page is refused (each a catalog key `headings.err.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// nothing chosen
    Missing,
    /// a column two headings of one sheet were given
    Twice,
    /// a column of another file than the sheet's others
    OtherFile,
    /// the file another sheet is already
    FileTaken,
}

impl Refusal {
    pub fn key(self) -> &'static str {
        match self {
            Refusal::Missing => "headings.err.missing",
            Refusal::Twice => "headings.err.twice",
            Refusal::OtherFile => "headings.err.other_file",
            Refusal::FileTaken => "headings.err.file_taken",
        }
    }
}

/// The page's answers, checked: the mapping to import with and what to remember, or the refusals at their fields.
pub struct Chosen {
    pub mapping: Mapping,
    /// (folded name, bundle file or left out) of each sheet not named as a bundle file
    pub files: Vec<(String, Option<&'static str>)>,
    /// (bundle file, folded heading, column or ignored) of each heading asked about
    pub headings: Vec<(&'static str, String, Option<&'static str>)>,
}

impl Plan {
    /// Every file and heading is known: the upload imports at once.
    pub fn complete(&self) -> bool {
        !self.sheets.iter().any(Sheet::asks)
    }

    /// The mapping of a complete plan.
    pub fn mapping(&self) -> Mapping {
        // nothing is asked of a complete plan, so nothing is refused
        self.choose(&HashMap::new()).map(|chosen| chosen.mapping).unwrap_or_default()
    }

    /// The mapping, with `answers` for the headings asked about (keyed by (sheet, heading) position); refusals
    /// are given at the same keys.
    pub fn choose(
        &self,
        answers: &HashMap<(usize, usize), Choice>,
    ) -> Result<Chosen, HashMap<(usize, usize), Refusal>> {
        let mut refused = HashMap::new();
        let mut chosen = Chosen { mapping: Mapping::default(), files: Vec::new(), headings: Vec::new() };
        let mut taken: HashMap<&'static str, usize> = HashMap::new();
        for (s, sheet) in self.sheets.iter().enumerate() {
            if sheet.left_out {
                chosen.mapping.sources.push(Some(Source {
                    name: sheet.name.clone(),
                    file: None,
                    columns: Vec::new(),
                    headings: Vec::new(),
                    header_line: sheet.header_line,
                }));
                continue;
            }
            if sheet.headings.is_empty() {
                chosen.mapping.sources.push(None);
                continue;
            }
            let mut file = sheet.file;
            let mut columns = vec![None; sheet.headings.len()];
            let mut used: Vec<&'static str> = Vec::new();
            // the headings known first: the page does not show them, so a clash is the one asked about's (two
            // known headings of one column are the import's to report, as a column twice)
            for (h, heading) in sheet.headings.iter().enumerate() {
                if let Some(Choice::Column(_, col)) = heading.known {
                    columns[h] = Some(col);
                    used.push(col);
                }
            }
            let mut asked = Vec::new();
            for (h, _) in sheet.headings.iter().enumerate().filter(|(_, x)| x.known.is_none()) {
                let Some(&choice) = answers.get(&(s, h)) else {
                    refused.insert((s, h), Refusal::Missing);
                    continue;
                };
                asked.push((h, choice));
                if let Choice::Column(f, col) = choice {
                    columns[h] = Some(col);
                    if file.is_some_and(|known| known != f) {
                        refused.insert((s, h), Refusal::OtherFile);
                    } else if used.contains(&col) {
                        refused.insert((s, h), Refusal::Twice);
                    } else {
                        file = Some(f);
                        used.push(col);
                    }
                }
            }
            if let Some(f) = file {
                // two sheets of one bundle file: the later one is refused at its first heading asked about
                if taken.contains_key(f)
                    && let Some(&(h, _)) = asked.first()
                {
                    refused.entry((s, h)).or_insert(Refusal::FileTaken);
                }
                taken.insert(f, s);
            }
            let named = super::spec::spec(&sheet.name).is_some();
            if !named && (sheet.asks() || sheet.file.is_some()) {
                chosen.files.push((name_key(&sheet.name), file));
            }
            if let Some(f) = file {
                for (h, c) in &asked {
                    let col = match c {
                        Choice::Column(_, col) => Some(*col),
                        Choice::Ignore => None,
                    };
                    chosen.headings.push((f, sheet.headings[*h].key.clone(), col));
                }
            }
            let identity = named
                && !sheet.titled
                && sheet
                    .headings
                    .iter()
                    .all(|h| h.known.is_some_and(|c| matches!(c, Choice::Column(_, col) if col == h.text)));
            chosen.mapping.sources.push(if identity {
                None
            } else {
                Some(Source {
                    name: sheet.name.clone(),
                    file,
                    columns,
                    headings: sheet.headings.iter().map(|h| h.text.clone()).collect(),
                    header_line: sheet.header_line,
                })
            });
        }
        if refused.is_empty() { Ok(chosen) } else { Err(refused) }
    }
}

impl Mapping {
    /// What file `index` of the upload is read as: its bundle file and the column of each heading, `None` for a
    /// file left out; no mapping: as it is named.
    pub fn source(&self, index: usize) -> Option<&Source> {
        self.sources.get(index).and_then(Option::as_ref)
    }

    /// The problems as the user would say them: their own file name and heading in place of the bundle's.
    pub fn rename(&self, problems: &mut [Problem]) {
        for source in self.sources.iter().flatten() {
            let Some(file) = source.file else { continue };
            for p in problems.iter_mut().filter(|p| p.file == file) {
                if let Some(col) = p.column.as_deref()
                    && let Some(i) = source.columns.iter().position(|c| *c == Some(col))
                {
                    p.column = Some(clip(&source.headings[i], QUOTE_MAX));
                }
                p.file = clip(&source.name, QUOTE_MAX);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEMBERS: &str = "STT,Mã đảng viên,Họ và tên,Giới tính,Ngày tháng năm sinh,Dân tộc,Ngày vào Đảng,\
                           Ngày chính thức,Chi bộ,Ngày ra khỏi danh sách\n1,M1,Lò Văn A,male,1980-01-01,Thái,2010-01-01,,A,\n";

    fn files(name: &str, text: &str) -> Vec<(String, Vec<u8>)> {
        vec![(name.to_string(), text.as_bytes().to_vec())]
    }

    #[test]
    fn names_fold_without_accents_punctuation_or_case() {
        assert_eq!(fold("Họ và tên (*)"), "ho va ten");
        assert_eq!(fold("NGÀY VÀO ĐẢNG"), "ngay vao dang");
        // combining marks, as some Vietnamese keyboards type them
        assert_eq!(fold("Ho\u{323} va\u{300} te\u{302}n"), "ho va ten");
        assert_eq!(name_key("Đảng viên.CSV"), "dang vien");
        assert_eq!(name_key("dang_vien.csv"), "dang vien");
        assert_eq!(heading_key(" # "), "-");
    }

    #[test]
    fn vietnamese_headings_are_guessed_and_the_second_time_known() {
        let plan = plan(&files("dang_vien.csv", MEMBERS), &Saved::default());
        assert!(!plan.complete());
        let sheet = &plan.sheets[0];
        assert_eq!(sheet.file, None);
        let guessed: Vec<_> = sheet.headings.iter().map(|h| h.suggested.map(Choice::value)).collect();
        let want = [
            "ignore",
            "members.csv/code",
            "members.csv/full_name",
            "members.csv/gender",
            "members.csv/birth_date",
            "members.csv/ethnicity",
            "members.csv/joined_on",
            "members.csv/official_on",
            "members.csv/cell_code",
            "members.csv/left_on",
        ];
        let want: Vec<_> = want.iter().map(|w| (!w.is_empty()).then(|| w.to_string())).collect();
        assert_eq!(guessed, want);
        assert_eq!(sheet.headings[2].samples, ["Lò Văn A"]);

        // answered: the mapping, and what is remembered
        let answers: HashMap<_, _> =
            sheet.headings.iter().enumerate().filter_map(|(h, x)| Some(((0, h), x.suggested?))).collect();
        let chosen = plan.choose(&answers).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(chosen.files, [("dang vien".to_string(), Some("members.csv"))]);
        assert_eq!(chosen.headings.len(), 10);
        let source = chosen.mapping.source(0).unwrap();
        assert_eq!(source.columns[0], None);
        assert_eq!(source.columns[2], Some("full_name"));

        let mut saved = Saved::default();
        for (name, file) in chosen.files {
            saved.add_file(name, file);
        }
        for (file, heading, col) in chosen.headings {
            saved.add_heading(file, heading, col);
        }
        let again = super::plan(&files("dang_vien.csv", MEMBERS), &saved);
        assert!(again.complete());
        // under another sheet name too: the headings say which file it is
        let again = super::plan(&files("Chi bộ Nà Đâng.csv", MEMBERS), &saved);
        assert!(again.complete(), "{again:?}");
        assert_eq!(again.mapping().source(0).unwrap().file, Some("members.csv"));
    }

    #[test]
    fn a_title_above_the_table_is_passed_over() {
        let titled = format!("DANH SÁCH ĐẢNG VIÊN,,\n\n{MEMBERS}");
        let plan = plan(&files("dang_vien.csv", &titled), &Saved::default());
        let sheet = &plan.sheets[0];
        assert_eq!((sheet.header_line, sheet.titled), (3, true));
        assert_eq!(sheet.headings[2].text, "Họ và tên");
        // a file whose first row is its header, as always
        let plain = super::plan(&files("members.csv", "code,full_name\n"), &Saved::default());
        assert_eq!((plain.sheets[0].header_line, plain.sheets[0].titled), (1, false));
    }

    #[test]
    fn a_column_twice_or_of_another_file_is_refused_at_its_field() {
        let plan = plan(&files("x.csv", "Họ tên,Tên,Ngày họp\nA,B,2026-01-01\n"), &Saved::default());
        let mut answers = HashMap::new();
        answers.insert((0, 0), Choice::Column("members.csv", "full_name"));
        answers.insert((0, 1), Choice::Column("members.csv", "full_name"));
        answers.insert((0, 2), Choice::Column("meetings.csv", "held_on"));
        let refused = plan.choose(&answers).err().unwrap();
        assert_eq!(refused.get(&(0, 0)), None);
        assert_eq!(refused.get(&(0, 1)), Some(&Refusal::Twice));
        assert_eq!(refused.get(&(0, 2)), Some(&Refusal::OtherFile));
        answers.remove(&(0, 2));
        assert_eq!(plan.choose(&answers).err().unwrap().get(&(0, 2)), Some(&Refusal::Missing));
        // a heading asked about on a column a heading already known holds: the one asked about is refused
        let plan = super::plan(&files("members.csv", "Họ tên,full_name\nA,A\n"), &Saved::default());
        assert_eq!(plan.sheets[0].headings[1].known, Some(Choice::Column("members.csv", "full_name")));
        let answers = HashMap::from([((0, 0), Choice::Column("members.csv", "full_name"))]);
        assert_eq!(plan.choose(&answers).err().unwrap(), HashMap::from([((0, 0), Refusal::Twice)]));
    }

    #[test]
    fn values_as_people_write_them_read_in_the_bundles_form() {
        use crate::domain::vocab::{AttendanceStatus, Gender};
        let read = |kind, v| as_bundle(kind, v);
        assert_eq!(read(Kind::Choice(Gender::CODES), "Nữ").as_deref(), Some("female"));
        assert_eq!(read(Kind::Choice(Gender::CODES), " nam ").as_deref(), Some("male"));
        assert_eq!(read(Kind::Choice(Gender::CODES), "female"), None, "a code is checked as it is");
        assert_eq!(read(Kind::Choice(AttendanceStatus::CODES), "Có mặt").as_deref(), Some("present"));
        assert_eq!(read(Kind::Choice(Gender::CODES), "khác"), None);
        assert_eq!(read(Kind::Date, "02/04/1979").as_deref(), Some("1979-04-02"));
        assert_eq!(read(Kind::Date, "2-4-1979").as_deref(), Some("1979-04-02"));
        assert_eq!(read(Kind::Date, "2.4.1979").as_deref(), Some("1979-04-02"));
        assert_eq!(read(Kind::Date, "31/02/1990"), None, "no such day: quoted as written");
        assert_eq!(read(Kind::Date, "1979-04-02"), None, "already the bundle's form");
        assert_eq!(read(Kind::Month, "4/2026").as_deref(), Some("2026-04"));
        assert_eq!(read(Kind::Time, "19h30").as_deref(), Some("19:30"));
        assert_eq!(read(Kind::Time, "7h").as_deref(), Some("07:00"));
        assert_eq!(read(Kind::Time, "7:05").as_deref(), Some("07:05"));
        assert_eq!(read(Kind::Time, "25h"), None);
    }

    #[test]
    fn problems_name_the_users_file_and_heading() {
        let mapping = Mapping {
            sources: vec![Some(Source {
                name: "Đảng viên.csv".into(),
                file: Some("members.csv"),
                columns: vec![None, Some("birth_date")],
                headings: vec!["STT".into(), "Ngày sinh".into()],
                header_line: 1,
            })],
        };
        let mut problems = vec![
            Problem::at("members.csv", 3, Some("birth_date"), "date", &["x"]),
            Problem::at("units.csv", 3, Some("birth_date"), "date", &["x"]),
        ];
        mapping.rename(&mut problems);
        assert_eq!((problems[0].file.as_str(), problems[0].column.as_deref()), ("Đảng viên.csv", Some("Ngày sinh")));
        assert_eq!(problems[1].file, "units.csv");
    }
}
