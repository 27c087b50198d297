//! An XLSX workbook's sheets as the CSV files of the bundle, read one cell at a time.
use std::io::{Cursor, Read, Seek};

use super::{Budget, Limits, MB};
use crate::import::csv::write_field;
use crate::import::problem::{QUOTE_MAX, clip};

/// A workbook has a sheet per bundle file (15 files): more sheets than this refuse it.
const MAX_SHEETS: usize = 64;
/// A workbook's sheet is a bundle file: at most 13 columns (meetings.csv). A value beyond this column refuses it.
const MAX_SHEET_COLS: u32 = 64;
/// Excel's last row (1,048,576): a value beyond it refuses the sheet.
const MAX_SHEET_ROWS: u32 = 1_048_576;

/// Each sheet of a workbook as the CSV file of its name: dates as YYYY-MM-DD, times as HH:MM, whole numbers
/// without a decimal point; the sheet's row numbers are the lines errors name. The cells are read one at a
/// time, never as a grid: a sheet holding `A1` and `XFD1048576` only is refused, not a grid of 17 billion cells.
/// The CSV written counts against the upload's total like the zips' bytes: one short shared string in a
/// million cells, or many sheets on one part, would otherwise make gigabytes of a small file.
pub(super) fn workbook(bytes: Vec<u8>, files: &mut Vec<(String, Vec<u8>)>, budget: &mut Budget) -> Result<(), String> {
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
pub(super) fn column_name(col: u32) -> String {
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
pub(super) fn cell_text(cell: &calamine::Data) -> String {
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
    /// the header's row, once written
    header: Option<u32>,
}

impl SheetWriter {
    fn new(first_col: u32, width: usize) -> SheetWriter {
        SheetWriter { csv: String::new(), first_col, width, next_row: 0, row: None, fields: Vec::new(), header: None }
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
        // the template's notes under the header: left out, its line blank like a blank row's
        let notes = self.fields.first().is_some_and(|f| f.starts_with(super::NOTES_MARK));
        if notes && self.header.is_some_and(|h| h + 1 == row) {
            self.fields.clear();
            return;
        }
        self.header.get_or_insert(row);
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
