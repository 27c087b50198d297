//! The bundle files inside an uploaded file: CSV as it is, the CSV entries of a zip, or the sheets of an XLSX
//! workbook (itself a zip) as the CSV files of their names. Every zip goes through the caps of [`Limits`] while it
//! is streamed, and a workbook's sheets are read cell by cell ([`workbook`]), so that neither a zip bomb nor a
//! sparse sheet can take the server's memory.
use std::cell::Cell;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::rc::Rc;

use crate::import::problem::{QUOTE_MAX, clip};

#[cfg(test)]
mod tests;
mod workbook;

const MB: u64 = 1024 * 1024;

/// The largest upload taken: a province's whole history (the province demo's bundle is 241 MB).
/// The mark that begins the first cell of the notes row under a sheet's header in the template (`/import`'s
/// download): that row is read as blank, so the sheet's row numbers stay the lines errors name.
pub const NOTES_MARK: &str = "ⓘ";

pub const MAX_UPLOAD: usize = 400 * 1024 * 1024;

/// What the zips of one upload (an uploaded zip, or an XLSX workbook, itself a zip) may expand to. Counted on the
/// bytes actually produced while each entry is streamed, never on the sizes the zip's headers declare; the first
/// cap passed refuses the upload, naming the entry, and nothing is written. Chosen to take the province demo's
/// bundle (241 MB of CSV in the files, the largest `attendance.csv` ≈ 200 MB, zipped to 25 MB) with room to
/// spare, and to refuse a zip bomb after expanding about 1 MB of it.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// entries in one zip (a bundle has 15 files; a workbook of 15 sheets about 30 entries)
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
        workbook::workbook(bytes, files, budget)
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
