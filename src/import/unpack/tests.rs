//! The caps and the workbook reader against zips and workbooks made here: bombs, sparse sheets, lying counts,
//! and the ordinary bundles they must still take.
use super::workbook::{cell_text, column_name};
use super::*;
use crate::import::csv::write_field;
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
    for (i, h) in ["code", "kind", "name", "parent_code", "valid_from", "valid_to", "cell_type"].iter().enumerate() {
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
    let rows = r#"<row r="1"><c r="A1"><v>1</v></c></row><row r="4000000000"><c r="A4000000000"><v>1</v></c></row>"#;
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
        "tệp XLSX có hơn 64 trang; một gói chỉ có 15 tệp"
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
    assert_eq!(unpacked("many.zip", many, LIMITS).unwrap_err(), "tệp zip chứa hơn 200 tệp; một gói chỉ có 15 tệp");

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
