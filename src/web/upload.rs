//! The import from the web: the bundle's CSV files, a zip of them, or one XLSX workbook with a sheet per file
//! name. It runs as a background job (`jobs`); the job's page shows each step as it comes, refreshing itself
//! (no script needed), then the outcome: every problem as `file:line: message`, or what was written.
use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::handler::Handler;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::cell::Cell;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::rc::Rc;
use std::time::Duration;

use super::jobs::{self, Job};
use super::routes::{Access, Routes};
use super::view::Layout;
use super::{AppError, AppResult, AppState, CurrentUser};
use crate::db::units;
use crate::domain::{Role, time};
use crate::import::csv::write_field;
use crate::import::problem::{QUOTE_MAX, clip};

const MB: u64 = 1024 * 1024;

/// The largest upload taken: a province's whole history (the province demo's bundle is 241 MB).
const MAX_UPLOAD: usize = 400 * 1024 * 1024;

/// What the zips of one upload (an uploaded zip, or an XLSX workbook, itself a zip) may expand to. Counted on the
/// bytes actually produced while each entry is streamed, never on the sizes the zip's headers declare; the first
/// cap passed refuses the upload, naming the entry, and nothing is written. Chosen to take the province demo's
/// bundle (241 MB of CSV in 13 files, the largest `attendance.csv` ≈ 200 MB, zipped to 25 MB) with room to
/// spare, and to refuse a zip bomb after expanding about 1 MB of it.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// entries in one zip (a bundle has 13 files; a workbook of 13 sheets about 30 entries)
    pub entries: usize,
    /// bytes one entry expands to
    pub entry: u64,
    /// bytes all the zips of one upload expand to, together, with the CSV a workbook's sheets make
    pub total: u64,
    /// expanded bytes per compressed byte, for an entry past `ratio_from` bytes (ordinary CSV compresses 5–15
    /// times, deflate at most about 1,030 times: only a bomb reaches 100)
    pub ratio: u64,
    /// tiny files compress oddly: the ratio is judged once an entry has expanded to this much
    pub ratio_from: u64,
}

pub const LIMITS: Limits =
    Limits { entries: 200, entry: 256 * MB, total: MAX_UPLOAD as u64, ratio: 100, ratio_from: MB };

/// A workbook has a sheet per bundle file (13 files): more sheets than this refuse it.
const MAX_SHEETS: usize = 64;
/// A workbook's sheet is a bundle file: at most 13 columns (meetings.csv). A value beyond this column refuses it.
const MAX_SHEET_COLS: u32 = 64;
/// Excel's last row (1,048,576): a value beyond it refuses the sheet.
const MAX_SHEET_ROWS: u32 = 1_048_576;

pub fn routes() -> Routes {
    Routes::default().get("/import", Access::Admin, page).post(
        "/import",
        Access::Admin,
        upload.layer(DefaultBodyLimit::max(MAX_UPLOAD)),
    )
}

#[derive(Deserialize, Default)]
struct PageQuery {
    job: Option<i64>,
}

#[derive(Template)]
#[template(path = "import/page.html")]
struct ImportPage {
    layout: Layout,
    job: Option<Job>,
    recent: Vec<Job>,
    error: Option<String>,
}

/// Imports write anywhere in the tree: only administrators whose scope is the whole tree.
async fn require_top_admin(state: &AppState, user: &CurrentUser) -> AppResult<()> {
    if user.role() != Role::Admin {
        return Err(AppError::Forbidden);
    }
    if units::ancestors(state.pool(), user.user.unit_id, time::today()).await?.len() != 1 {
        return Err(AppError::Forbidden);
    }
    Ok(())
}

async fn page(State(state): State<AppState>, user: CurrentUser, Query(q): Query<PageQuery>) -> AppResult<Response> {
    // a record form's job belongs to whoever sent it: its progress is shown here too
    let job = match q.job {
        Some(id) => Some(jobs::load(state.pool(), id, user.user.id).await?.ok_or(AppError::NotFound)?),
        None => None,
    };
    if job.as_ref().is_none_or(|j| j.form.is_none()) {
        require_top_admin(&state, &user).await?;
    }
    if let Some(j) = job.as_ref().filter(|j| !j.running() && j.form.is_some()) {
        // a record saved (or refused) after the wait: back to its page, which shows the outcome
        let back = j.back.clone().unwrap_or_else(|| "/".into());
        let sep = if back.contains('?') { '&' } else { '?' };
        return Ok(Redirect::to(&format!("{back}{sep}job={}", j.id)).into_response());
    }
    let recent = if job.is_none() { jobs::recent_uploads(state.pool(), user.user.id).await? } else { Vec::new() };
    let page = ImportPage { layout: Layout::new(&user), job, recent, error: None };
    Ok(Html(page.render()?).into_response())
}

async fn upload(State(state): State<AppState>, user: CurrentUser, req: axum::extract::Request) -> AppResult<Response> {
    use axum::extract::FromRequest;
    require_top_admin(&state, &user).await?;
    let multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        // not an upload: refused, as a forged form if it does not carry this session's token
        let axum::Form(form) = axum::Form::<std::collections::HashMap<String, String>>::from_request(req, &state)
            .await
            .map_err(|_| AppError::Csrf)?;
        user.check_csrf(form.get("csrf").map(String::as_str))?;
        return Err(AppError::BadRequest(crate::tr("upload.err.choose_files").into()));
    }
    let bad = |e: axum::extract::multipart::MultipartError| AppError::BadRequest(e.body_text());
    let mut multipart = Multipart::from_request(req, &state).await.map_err(|e| AppError::BadRequest(e.body_text()))?;
    // the session's token first (the form sends it first): for a forged form nothing more is read, no zip expanded
    let token = match multipart.next_field().await.map_err(bad)? {
        Some(field) if field.name() == Some("csrf") => read_token(field).await,
        _ => None,
    };
    user.check_csrf(token.as_deref())?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut names = Vec::new();
    let mut dry_run = false;
    let mut problem = None;
    let mut budget = Budget::new(LIMITS);
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        if problem.is_some() {
            // refused already: the rest is read, so that the browser gets the answer, but neither kept nor opened
            while field.chunk().await.map_err(bad)?.is_some() {}
            continue;
        }
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        match (name.as_str(), file_name) {
            ("dry_run", _) => dry_run = true,
            ("files", Some(f)) if !f.is_empty() => {
                let bytes = field.bytes().await.map_err(bad)?;
                let shown = clip(&f, QUOTE_MAX);
                names.push(shown.clone());
                if let Err(e) = unpack(&f, bytes.into(), &mut files, &mut budget) {
                    problem = Some(format!("{shown}: {e}"));
                    files = Vec::new();
                }
            }
            _ => {}
        }
    }
    if problem.is_none() && files.is_empty() {
        problem = Some(crate::tr("upload.err.no_files").into());
    }
    if let Some(error) = problem {
        let recent = jobs::recent_uploads(state.pool(), user.user.id).await?;
        let page = ImportPage { layout: Layout::new(&user), job: None, recent, error: Some(error) };
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }
    let req = jobs::Request {
        source: clip(&names.join(", "), 4 * QUOTE_MAX),
        files,
        dry_run,
        form: None,
        back: None,
        // recorded under the uploader's unit, so that it shows in their audit trail
        audit_as: Some(crate::import::AuditAs {
            action: "import",
            entity: "bundle",
            entity_id: String::new(),
            unit_id: Some(user.user.unit_id),
            before: None,
            after: None,
        }),
    };
    let job = jobs::run(&state, &user, req, Duration::from_secs(2)).await?;
    Ok(Redirect::to(&format!("/import?job={}", job.id)).into_response())
}

/// The form's token: a few dozen characters, so that reading stops at 256 bytes.
async fn read_token(mut field: axum::extract::multipart::Field<'_>) -> Option<String> {
    let mut token = Vec::new();
    while let Some(chunk) = field.chunk().await.ok()? {
        token.extend_from_slice(&chunk);
        if token.len() > 256 {
            return None;
        }
    }
    String::from_utf8(token).ok()
}

/// The [`Limits`] of one upload and what its zips have expanded to so far.
pub struct Budget {
    limits: Limits,
    expanded: u64,
}

impl Budget {
    pub fn new(limits: Limits) -> Budget {
        Budget { limits, expanded: 0 }
    }
}

/// The bundle files inside one uploaded file.
pub fn unpack(
    name: &str,
    bytes: Vec<u8>,
    files: &mut Vec<(String, Vec<u8>)>,
    budget: &mut Budget,
) -> Result<(), String> {
    let lower = name.to_lowercase();
    let base = |n: &str| n.rsplit(['/', '\\']).next().unwrap_or(n).to_string();
    if lower.ends_with(".zip") {
        let (mut zip, read) = open_zip(&bytes, budget.limits)?;
        for i in 0..zip.len() {
            let start = read.get();
            let mut entry = zip.by_index(i).map_err(|_| crate::tr("upload.err.zip").to_string())?;
            let entry_name = base(&entry.name().map_err(|_| crate::tr("upload.err.zip_name").to_string())?);
            if entry.is_dir() || !entry_name.to_lowercase().ends_with(".csv") || entry_name.starts_with('.') {
                continue;
            }
            let mut content = Vec::new();
            expand(&mut entry, &entry_name, &read, start, budget, &mut |bytes| content.extend_from_slice(bytes))?;
            files.push((entry_name, content));
        }
        Ok(())
    } else if lower.ends_with(".xlsx") {
        // every part of the workbook through the caps before calamine opens it: its shared strings or a sheet
        // can be a bomb too
        let unreadable = || crate::tr("upload.err.xlsx").to_string();
        let (mut zip, read) = open_zip(&bytes, budget.limits)?;
        for i in 0..zip.len() {
            let start = read.get();
            let mut entry = zip.by_index(i).map_err(|_| unreadable())?;
            let entry_name = entry.name().map_err(|_| unreadable())?.to_string();
            let mut declared = DeclaredCount::default();
            let before = budget.expanded;
            // the part calamine reads the shared strings from, as it finds it (ASCII case ignored)
            if entry_name.to_ascii_lowercase().ends_with("sharedstrings.xml") {
                expand(&mut entry, &entry_name, &read, start, budget, &mut |bytes| declared.feed(bytes))?;
            } else {
                expand(&mut entry, &entry_name, &read, start, budget, &mut |_| {})?;
            }
            // calamine makes room for the strings the part says it holds before reading one: a count the part
            // cannot hold (each string takes at least `<si/>`, 5 bytes) is a lie, and could abort the server
            if declared.largest > (budget.expanded - before) / 5 {
                return Err(unreadable());
            }
        }
        drop(zip);
        workbook(bytes, files, budget)
    } else {
        files.push((base(name), bytes));
        Ok(())
    }
}

/// The upload as a reader that counts the bytes taken from it: the compressed bytes an entry has used.
struct Counting<'a> {
    inner: Cursor<&'a [u8]>,
    read: Rc<Cell<u64>>,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

impl Seek for Counting<'_> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// Opens a zip, refusing it if it holds more entries than the cap, before they are listed: the zip crate keeps
/// every header of the central directory in memory. Each header begins with its signature, so counting the
/// signatures in the bytes bounds them, whatever the count the zip declares.
fn open_zip(bytes: &[u8], limits: Limits) -> Result<(zip::ZipArchive<Counting<'_>>, Rc<Cell<u64>>), String> {
    let headers = bytes.windows(4).filter(|w| *w == b"PK\x01\x02").count();
    if headers > limits.entries {
        return Err(crate::tr1("upload.err.zip_entries", limits.entries));
    }
    let read = Rc::new(Cell::new(0));
    let reader = Counting { inner: Cursor::new(bytes), read: read.clone() };
    let zip = zip::ZipArchive::new(reader).map_err(|_| crate::tr("upload.err.zip").to_string())?;
    Ok((zip, read))
}

/// Streams one entry into `sink`, counting what it expands to against the caps. `start` is the count of bytes
/// read from the upload when the entry was opened.
fn expand(
    entry: &mut impl Read,
    name: &str,
    read: &Cell<u64>,
    start: u64,
    budget: &mut Budget,
    sink: &mut dyn FnMut(&[u8]),
) -> Result<(), String> {
    let limits = budget.limits;
    let name = clip(name, QUOTE_MAX);
    let mut buf = vec![0; 64 * 1024];
    let mut expanded = 0u64;
    loop {
        let n = entry.read(&mut buf).map_err(|_| crate::tr1("upload.err.unzip", &name))?;
        if n == 0 {
            return Ok(());
        }
        expanded += n as u64;
        budget.expanded += n as u64;
        if expanded > limits.entry {
            return Err(crate::tr2("upload.err.zip_entry", &name, limits.entry / MB));
        }
        if budget.expanded > limits.total {
            return Err(crate::tr2("upload.err.zip_total", limits.total / MB, &name));
        }
        let compressed = read.get().saturating_sub(start).max(1);
        if expanded > limits.ratio_from && expanded > compressed.saturating_mul(limits.ratio) {
            return Err(crate::tr2("upload.err.zip_ratio", &name, limits.ratio));
        }
        sink(&buf[..n]);
    }
}

/// The largest `uniqueCount="…"` in a stream of XML, read as calamine reads it (the attribute's raw digits).
#[derive(Default)]
struct DeclaredCount {
    /// bytes of the attribute's name matched so far
    matched: usize,
    state: Declared,
    value: u64,
    largest: u64,
}

#[derive(Default, Clone, Copy, PartialEq)]
enum Declared {
    #[default]
    Name,
    Equals,
    Quote,
    Digits,
}

impl DeclaredCount {
    const NAME: &[u8] = b"uniqueCount";

    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.state = match self.state {
                Declared::Name if b == Self::NAME[self.matched] => {
                    self.matched += 1;
                    if self.matched < Self::NAME.len() {
                        Declared::Name
                    } else {
                        self.matched = 0;
                        Declared::Equals
                    }
                }
                Declared::Name => {
                    self.matched = usize::from(b == Self::NAME[0]);
                    Declared::Name
                }
                Declared::Equals if b == b'=' => Declared::Quote,
                Declared::Quote if b == b'"' || b == b'\'' => {
                    self.value = 0;
                    Declared::Digits
                }
                Declared::Equals | Declared::Quote if b.is_ascii_whitespace() => self.state,
                Declared::Digits if b.is_ascii_digit() => {
                    self.value = self.value.saturating_mul(10).saturating_add(u64::from(b - b'0'));
                    self.largest = self.largest.max(self.value);
                    Declared::Digits
                }
                _ => {
                    self.matched = usize::from(b == Self::NAME[0]);
                    Declared::Name
                }
            }
        }
    }
}

/// Each sheet of a workbook as the CSV file of its name: dates as YYYY-MM-DD, times as HH:MM, whole numbers
/// without a decimal point; the sheet's row numbers are the lines errors name. The cells are read one at a
/// time, never as a grid: a sheet holding `A1` and `XFD1048576` only is refused, not a grid of 17 billion cells.
/// The CSV written counts against the upload's total like the zips' bytes: one short shared string in a
/// million cells, or many sheets on one part, would otherwise make gigabytes of a small file.
fn workbook(bytes: Vec<u8>, files: &mut Vec<(String, Vec<u8>)>, budget: &mut Budget) -> Result<(), String> {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|_| crate::tr("upload.err.xlsx").to_string())?;
    let sheets = book.sheet_names();
    if sheets.len() > MAX_SHEETS {
        return Err(crate::tr1("upload.err.sheets", MAX_SHEETS));
    }
    for sheet in sheets {
        let shown = clip(&sheet, QUOTE_MAX);
        let room = budget.limits.total.saturating_sub(budget.expanded);
        let csv = sheet_csv(&mut book, &sheet, room).map_err(|e| e.message(&shown, budget.limits))?;
        budget.expanded += csv.len() as u64;
        if budget.expanded > budget.limits.total {
            return Err(SheetError::Total.message(&shown, budget.limits));
        }
        let name = if sheet.to_lowercase().ends_with(".csv") { sheet.clone() } else { format!("{sheet}.csv") };
        files.push((name, csv.into_bytes()));
    }
    Ok(())
}

/// Why a sheet was not read.
#[derive(Debug, PartialEq)]
enum SheetError {
    Unreadable,
    Column,
    Row,
    /// past what the upload may expand to in all
    Total,
}

impl SheetError {
    fn message(&self, sheet: &str, limits: Limits) -> String {
        match self {
            SheetError::Unreadable => crate::tr1("upload.err.sheet", sheet),
            SheetError::Column => crate::tr2("upload.err.sheet_cols", sheet, column_name(MAX_SHEET_COLS - 1)),
            SheetError::Row => crate::tr2("upload.err.sheet_rows", sheet, crate::i18n::count(MAX_SHEET_ROWS.into())),
            SheetError::Total => crate::tr2("upload.err.zip_total", limits.total / MB, sheet),
        }
    }
}

/// A column's letters as Excel shows them (0: A, 63: BL).
fn column_name(col: u32) -> String {
    let mut name = Vec::new();
    let mut n = col + 1;
    while n > 0 {
        name.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    name.reverse();
    String::from_utf8(name).expect("letters")
}

/// One sheet as CSV, in two passes over its cells. The first finds where the values are (rows and columns are
/// counted from the first holding one, as a range of the sheet would) and refuses a value beyond the caps; the
/// second writes the rows one by one, a blank line for a blank row, and stops once the values pass `room` bytes.
fn sheet_csv<RS: Read + Seek>(book: &mut calamine::Xlsx<RS>, sheet: &str, room: u64) -> Result<String, SheetError> {
    use calamine::{Data, DataRef, XlsxError};
    let mut cells = match book.worksheet_cells_reader(sheet) {
        Ok(cells) => cells,
        // a chart sheet, say: no values
        Err(XlsxError::NotAWorksheet(_)) => return Ok(String::new()),
        Err(_) => return Err(SheetError::Unreadable),
    };
    let (mut first_row, mut first_col, mut header_end) = (u32::MAX, u32::MAX, 0);
    let mut last = None;
    let mut in_order = true;
    while let Some(cell) = cells.next_cell().map_err(|_| SheetError::Unreadable)? {
        if matches!(cell.get_value(), DataRef::Empty) {
            continue;
        }
        let (row, col) = cell.get_position();
        if col >= MAX_SHEET_COLS {
            return Err(SheetError::Column);
        }
        if row >= MAX_SHEET_ROWS {
            return Err(SheetError::Row);
        }
        first_col = first_col.min(col);
        if row < first_row {
            (first_row, header_end) = (row, col);
        } else if row == first_row {
            header_end = header_end.max(col);
        }
        in_order &= last.is_none_or(|l| l < (row, col));
        last = Some((row, col));
    }
    drop(cells);
    if last.is_none() {
        return Ok(String::new());
    }
    let mut out = SheetWriter::new(first_col, (header_end + 1).saturating_sub(first_col) as usize);
    let mut cells = book.worksheet_cells_reader(sheet).map_err(|_| SheetError::Unreadable)?;
    let mut values = Vec::new();
    let mut written = 0u64;
    while let Some(cell) = cells.next_cell().map_err(|_| SheetError::Unreadable)? {
        if matches!(cell.get_value(), DataRef::Empty) {
            continue;
        }
        let (row, col) = cell.get_position();
        let text = cell_text(&Data::from(cell.get_value().clone()));
        written += text.len() as u64 + 1;
        if written > room {
            return Err(SheetError::Total);
        }
        if in_order {
            out.push(row, col, text);
        } else {
            values.push((row, col, text));
        }
    }
    // cells out of the sheet's order (rare, and within the caps): sorted, the last of one place kept
    values.sort_by_key(|&(row, col, _)| (row, col));
    for (row, col, text) in values {
        out.push(row, col, text);
    }
    Ok(out.finish())
}

/// A cell's value as the CSV text of the bundle.
fn cell_text(cell: &calamine::Data) -> String {
    use calamine::Data;
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => match d.as_datetime() {
            Some(dt) if d.as_f64() < 1.0 => dt.format("%H:%M").to_string(),
            Some(dt) => dt.format("%Y-%m-%d").to_string(),
            None => d.to_string(),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
    }
}

/// Writes a sheet's values, given in (row, column) order, as CSV: line n is the sheet's row n (counted from 1);
/// every row is as wide as the header's (the first row's) last value, or its own when wider.
struct SheetWriter {
    csv: String,
    first_col: u32,
    width: usize,
    /// the next row a line is written for
    next_row: u32,
    row: Option<u32>,
    fields: Vec<String>,
}

impl SheetWriter {
    fn new(first_col: u32, width: usize) -> SheetWriter {
        SheetWriter { csv: String::new(), first_col, width, next_row: 0, row: None, fields: Vec::new() }
    }

    fn push(&mut self, row: u32, col: u32, text: String) {
        if self.row != Some(row) {
            self.flush();
            self.row = Some(row);
        }
        let i = col.saturating_sub(self.first_col) as usize;
        if self.fields.len() <= i {
            self.fields.resize(i + 1, String::new());
        }
        self.fields[i] = text;
    }

    fn flush(&mut self) {
        let Some(row) = self.row.take() else { return };
        // blank rows before: blank lines, skipped by the reader and counted
        for _ in self.next_row..row {
            self.csv.push('\n');
        }
        for i in 0..self.width.max(self.fields.len()) {
            if i > 0 {
                self.csv.push(',');
            }
            write_field(&mut self.csv, self.fields.get(i).map_or("", String::as_str));
        }
        self.csv.push('\n');
        self.next_row = row + 1;
        self.fields.clear();
    }

    fn finish(mut self) -> String {
        self.flush();
        self.csv
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// The workbook reader as it was before the cells were streamed (a grid from `worksheet_range`): the new one
    /// must give the same bytes for every workbook it took.
    fn by_range(bytes: Vec<u8>) -> Vec<(String, String)> {
        use calamine::{Data, Reader, Xlsx};
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
        let mut files = Vec::new();
        for sheet in book.sheet_names() {
            let range = book.worksheet_range(&sheet).unwrap();
            let mut csv = String::new();
            let skipped = range.start().map_or(0, |(row, _)| row as usize);
            for _ in 0..skipped {
                csv.push('\n');
            }
            let used = |row: &[Data]| row.iter().rposition(|c| !matches!(c, Data::Empty)).map_or(0, |i| i + 1);
            let width = range.rows().next().map_or(0, used);
            for row in range.rows() {
                if used(row) == 0 {
                    csv.push('\n');
                    continue;
                }
                let cells = row.iter().chain(std::iter::repeat(&Data::Empty)).take(width.max(used(row)));
                for (i, cell) in cells.enumerate() {
                    if i > 0 {
                        csv.push(',');
                    }
                    write_field(&mut csv, &cell_text(cell));
                }
                csv.push('\n');
            }
            let name = if sheet.to_lowercase().ends_with(".csv") { sheet.clone() } else { format!("{sheet}.csv") };
            files.push((name, csv));
        }
        files
    }

    fn unpacked(name: &str, bytes: Vec<u8>, limits: Limits) -> Result<Vec<(String, String)>, String> {
        let mut files = Vec::new();
        unpack(name, bytes, &mut files, &mut Budget::new(limits))?;
        Ok(files.into_iter().map(|(n, b)| (n, String::from_utf8(b).unwrap())).collect())
    }

    /// A zip of these entries, deflated.
    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes) in entries {
            zip.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    /// A workbook written by hand: one sheet "units" of these `<row>`s, and any extra parts.
    fn handmade(rows: &str, extra: &[(&str, &[u8])]) -> Vec<u8> {
        handmade_sheets(&["units"], rows, extra)
    }

    /// A workbook written by hand whose sheets, of these names, all show the one part of these `<row>`s.
    fn handmade_sheets(names: &[&str], rows: &str, extra: &[(&str, &[u8])]) -> Vec<u8> {
        let sheet = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>"#
        );
        let mut sheets = String::new();
        let mut rels = String::new();
        for (i, name) in names.iter().enumerate() {
            sheets.push_str(&format!(r#"<sheet name="{name}" sheetId="{}" r:id="rId{i}"/>"#, i + 1));
            rels.push_str(&format!(
                r#"<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>"#
            ));
        }
        let book = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>{sheets}</sheets></workbook>"#
        );
        let rels = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>"#
        );
        let mut parts: Vec<(&str, &[u8])> = vec![
            (
                "[Content_Types].xml",
                br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
            ),
            (
                "_rels/.rels",
                br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
            ),
            ("xl/workbook.xml", book.as_bytes()),
            ("xl/_rels/workbook.xml.rels", rels.as_bytes()),
            ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
        ];
        parts.extend_from_slice(extra);
        zip_of(&parts)
    }

    /// Bytes that do not compress (xorshift).
    fn noise(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    /// Workbooks as clerks make them: the same CSV, byte for byte, as the grid reader gave.
    #[test]
    fn a_workbook_reads_as_before_cell_by_cell() {
        use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
        let mut book = Workbook::new();
        let date = Format::new().set_num_format("dd/mm/yyyy");
        let time = Format::new().set_num_format("hh:mm");
        let units = book.add_worksheet().set_name("units").unwrap();
        for (i, h) in ["code", "kind", "name", "parent_code", "valid_from", "valid_to", "cell_type"].iter().enumerate()
        {
            units.write_string(0, i as u16, *h).unwrap();
        }
        units.write_string(1, 0, "XL-07").unwrap();
        units.write_string(1, 2, "Chi bộ thôn \"Bản\", Khiếng").unwrap();
        units.write_date_with_format(1, 4, ExcelDateTime::from_ymd(2026, 1, 1).unwrap(), &date).unwrap();
        units.write_string(1, 6, " village").unwrap();
        // a blank row kept as a blank line, then a row wider than the header
        units.write_number(3, 0, 42.0).unwrap();
        units.write_number(3, 1, 2.5).unwrap();
        units.write_boolean(3, 2, true).unwrap();
        units.write_date_with_format(3, 3, ExcelDateTime::from_hms(19, 30, 0).unwrap(), &time).unwrap();
        units.write_string(3, 8, "two\nlines").unwrap();
        units.write_formula(3, 9, "=1/0").unwrap();
        // a sheet starting lower and further right: counted from its first value, as before
        let members = book.add_worksheet().set_name("members.csv").unwrap();
        members.write_string(2, 1, "code").unwrap();
        members.write_string(2, 2, "full_name").unwrap();
        members.write_string(4, 3, "M21").unwrap();
        members.write_number(6, 1, 1e16).unwrap();
        members.write_number(6, 2, -7.0).unwrap();
        book.add_worksheet().set_name("empty").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let streamed = unpacked("so-lieu.xlsx", bytes.clone(), LIMITS).unwrap();
        assert_eq!(streamed, by_range(bytes));
        assert_eq!(
            streamed[0].1.lines().nth(1),
            Some("XL-07,,\"Chi bộ thôn \"\"Bản\"\", Khiếng\",,2026-01-01,,\" village\"")
        );
        assert_eq!(streamed[0].1.lines().nth(2), Some(""));
        assert!(streamed[0].1.lines().nth(3).unwrap().starts_with("42,2.5,true,19:30,,,,,\"two"));
        assert_eq!(streamed[1].1, "\n\ncode,full_name\n\n,,M21\n\n10000000000000000,-7\n");
        assert_eq!(streamed[2], ("empty.csv".to_string(), String::new()));

        // cells out of order and twice in one place, as a hand-made file may have them: still the same
        let rows = r#"<row r="3"><c r="B3" t="inlineStr"><is><t>late</t></is></c><c r="D3" t="e"><v>#DIV/0!</v></c></row><row r="1"><c r="C1"><v>1</v></c><c r="A1" t="inlineStr"><is><t>code</t></is></c><c r="A1" t="inlineStr"><is><t>again</t></is></c></row>"#;
        let bytes = handmade(rows, &[]);
        let streamed = unpacked("x.xlsx", bytes.clone(), LIMITS).unwrap();
        assert_eq!(streamed, by_range(bytes));
        assert_eq!(streamed[0].1, "again,,1\n\n,late,,\n");
    }

    /// Security finding 1: a sheet holding A1 and XFD1048576 only made calamine allocate the whole grid (549 GB)
    /// and the server abort. Now it is refused, naming the sheet, having built nothing.
    #[test]
    fn a_sparse_sheet_beyond_the_caps_is_refused_without_a_grid() {
        use rust_xlsxwriter::Workbook;
        let mut book = Workbook::new();
        let sheet = book.add_worksheet().set_name("units").unwrap();
        sheet.write_string(0, 0, "code").unwrap();
        sheet.write_string(1_048_575, 16_383, "x").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        assert!(bytes.len() < 10_000, "{} bytes", bytes.len());
        assert_eq!(
            unpacked("sparse.xlsx", bytes, LIMITS).unwrap_err(),
            "trang units có giá trị ngoài cột BL; tệp của gói có ít cột hơn nhiều"
        );
        // the last column taken, and rows past Excel's last one
        let rows = r#"<row r="1"><c r="BL1"><v>1</v></c></row>"#;
        assert_eq!(unpacked("x.xlsx", handmade(rows, &[]), LIMITS).unwrap()[0].1, "1\n");
        let rows = r#"<row r="1"><c r="BM1"><v>1</v></c></row>"#;
        assert!(unpacked("x.xlsx", handmade(rows, &[]), LIMITS).unwrap_err().contains("ngoài cột BL"));
        let rows =
            r#"<row r="1"><c r="A1"><v>1</v></c></row><row r="4000000000"><c r="A4000000000"><v>1</v></c></row>"#;
        assert_eq!(
            unpacked("x.xlsx", handmade(rows, &[]), LIMITS).unwrap_err(),
            "trang units có giá trị ngoài dòng 1.048.576, dòng cuối cùng một trang có thể có"
        );
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(16_383), "XFD");
    }

    /// A shared-strings part declaring more strings than it could hold: calamine reserves room for them all
    /// before reading one, and 100 billion would abort the server.
    #[test]
    fn a_workbook_declaring_more_strings_than_it_holds_is_refused() {
        let strings = br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount = '100000000000'><si><t>code</t></si></sst>"#;
        let rows = r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#;
        let book = handmade(rows, &[("xl/sharedStrings.xml", strings)]);
        assert_eq!(unpacked("so-lieu.xlsx", book, LIMITS).unwrap_err(), "không đọc được tệp XLSX");
        // found by calamine whatever the case of its name
        let book = handmade(rows, &[("xl/SHAREDSTRINGS.XML", strings)]);
        assert_eq!(unpacked("so-lieu.xlsx", book, LIMITS).unwrap_err(), "không đọc được tệp XLSX");
        let strings = br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>code</t></si></sst>"#;
        let book = handmade(rows, &[("xl/sharedStrings.xml", strings)]);
        assert_eq!(unpacked("so-lieu.xlsx", book, LIMITS).unwrap(), [("units.csv".to_string(), "code\n".to_string())]);
    }

    /// A small workbook that would write gigabytes of CSV: one shared string in many cells, or many sheets on one
    /// part. What its sheets write counts against the upload's total, and a workbook has at most 64 sheets.
    #[test]
    fn a_workbook_writing_past_the_total_is_refused() {
        let small = Limits { total: 4 * MB, ..LIMITS };
        let long: String = noise(20_000, 3).iter().map(|b| char::from(b'a' + b % 26)).collect();
        let strings = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>{long}</t></si></sst>"#
        );
        let mut rows = String::new();
        for r in 1..=100 {
            rows.push_str(&format!(r#"<row r="{r}">"#));
            for c in 0..10 {
                rows.push_str(&format!(r#"<c r="{}{r}" t="s"><v>0</v></c>"#, column_name(c)));
            }
            rows.push_str("</row>");
        }
        let book = handmade(&rows, &[("xl/sharedStrings.xml", strings.as_bytes())]);
        assert!(book.len() < 30_000, "{} bytes", book.len());
        assert_eq!(
            unpacked("so-lieu.xlsx", book, small).unwrap_err(),
            "các tệp giải nén ra tổng cộng hơn 4 MB (vượt ở units); hãy gửi ít tệp hơn mỗi lần"
        );
        // many sheets on one part: each within the total, not all together
        let row = format!(r#"<row r="1"><c r="A1" t="inlineStr"><is><t>{long}</t></is></c></row>"#);
        let names: Vec<String> = (0..64).map(|i| format!("s{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let tight = Limits { total: MB, ..LIMITS };
        let refused = unpacked("x.xlsx", handmade_sheets(&names, &row, &[]), tight).unwrap_err();
        assert!(refused.starts_with("các tệp giải nén ra tổng cộng hơn 1 MB (vượt ở s5"), "{refused}");
        assert_eq!(unpacked("x.xlsx", handmade_sheets(&names[..40], &row, &[]), tight).unwrap().len(), 40);
        let mut names = names;
        names.push("s64");
        assert_eq!(
            unpacked("x.xlsx", handmade_sheets(&names, "", &[]), LIMITS).unwrap_err(),
            "tệp XLSX có hơn 64 trang; một gói chỉ có 13 tệp"
        );
    }

    /// Security finding 2: zip bombs. Each cap is counted on the bytes produced and names the entry.
    #[test]
    fn a_zip_past_a_cap_is_refused_naming_the_entry_and_the_cap() {
        // ratio: a megabyte and a little of zeros, and no more, is expanded
        let zeros = vec![0u8; 3 * MB as usize];
        let bomb = zip_of(&[("bundle/attendance.csv", &zeros)]);
        let mut files = Vec::new();
        let mut budget = Budget::new(LIMITS);
        assert_eq!(
            unpack("bomb.zip", bomb, &mut files, &mut budget).unwrap_err(),
            "attendance.csv bị nén hơn 100 lần, chỉ tệp zip độc hại mới như vậy; không nhận"
        );
        assert!(budget.expanded <= MB + 64 * 1024, "{} bytes expanded", budget.expanded);
        assert!(files.is_empty());

        // one entry too large, and several too large together
        let small = Limits { entry: 2 * MB, total: 3 * MB, ..LIMITS };
        let big = zip_of(&[("units.csv", &noise(2 * MB as usize + 1, 1))]);
        assert_eq!(
            unpacked("a.zip", big, small).unwrap_err(),
            "units.csv giải nén ra hơn 2 MB, lớn hơn tệp lớn nhất được nhận"
        );
        let two = zip_of(&[("units.csv", &noise(2 * MB as usize, 1)), ("members.csv", &noise(2 * MB as usize, 2))]);
        assert_eq!(
            unpacked("a.zip", two, small).unwrap_err(),
            "các tệp giải nén ra tổng cộng hơn 3 MB (vượt ở members.csv); hãy gửi ít tệp hơn mỗi lần"
        );
        // the total is the whole upload's: two zips each within it, not both
        let one = zip_of(&[("units.csv", &noise(2 * MB as usize, 1))]);
        let mut files = Vec::new();
        let mut budget = Budget::new(small);
        unpack("a.zip", one.clone(), &mut files, &mut budget).unwrap();
        assert!(unpack("b.zip", one, &mut files, &mut budget).unwrap_err().contains("tổng cộng hơn 3 MB"));

        // entries: counted on the bytes before the zip is listed
        let names: Vec<String> = (0..=LIMITS.entries).map(|i| format!("f{i}.txt")).collect();
        let many = zip_of(&names.iter().map(|n| (n.as_str(), &b"x"[..])).collect::<Vec<_>>());
        assert_eq!(unpacked("many.zip", many, LIMITS).unwrap_err(), "tệp zip chứa hơn 200 tệp; một gói chỉ có 13 tệp");

        // a workbook's own parts are expanded through the same caps before it is opened
        let strings = vec![b' '; 3 * MB as usize];
        let book = handmade(r#"<row r="1"><c r="A1"><v>1</v></c></row>"#, &[("xl/sharedStrings.xml", &strings)]);
        assert_eq!(
            unpacked("so-lieu.xlsx", book, LIMITS).unwrap_err(),
            "xl/sharedStrings.xml bị nén hơn 100 lần, chỉ tệp zip độc hại mới như vậy; không nhận"
        );
    }

    /// What the caps must still take: ordinary CSV, large and repetitive as attendance.csv is, and a bundle's
    /// zip with its folder and a stray file.
    #[test]
    fn an_ordinary_bundle_zip_passes_the_caps() {
        let mut attendance = String::from("meeting_ref,member_code,status\n");
        let statuses = ["present", "present", "present", "excused", "present", "unexcused"];
        let mut i = 0u64;
        while attendance.len() < 4 * MB as usize {
            let (cell, month, member) = (i / 600, i / 20 % 30, i % 20);
            let status = statuses[(i * 7 % 6) as usize];
            attendance.push_str(&format!("TQ-{cell:04}-{month:02}-R,DV{:06},{status}\n", cell * 20 + member));
            i += 1;
        }
        let bytes = zip_of(&[
            ("bundle/", b""),
            ("bundle/attendance.csv", attendance.as_bytes()),
            ("bundle/.DS_Store", b"junk"),
            ("bundle/units.csv", b"code,kind,name,parent_code,valid_from,valid_to,cell_type\n"),
        ]);
        let ratio = attendance.len() as f64 / bytes.len() as f64;
        assert!(ratio < LIMITS.ratio as f64 / 3.0, "compressed {ratio:.1} times");
        let files = unpacked("bundle.zip", bytes, LIMITS).unwrap();
        assert_eq!(files.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["attendance.csv", "units.csv"]);
        assert_eq!(files[0].1, attendance);
    }
}
