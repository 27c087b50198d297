//! The renderings of a report (`db::metrics::Report`): the JSON of DOMAIN.md §9 (the API and `chibo report`), the
//! machine CSV of `chibo report --format csv` (metric codes, ratios, true/false), and the tables for people that the
//! dashboard exports (CSV and XLSX: Vietnamese headings and labels, percentages as a Vietnamese reader writes them).
//! `db::metrics` gives the figures only; every word and every format is here.
use crate::db::metrics::Report;
use crate::db::units::Unit;
use crate::domain::metrics::{Figure, Lang, format_percent};
use crate::domain::vocab::{Code, Metric};
use crate::web::view::Label;

fn metrics_json<K: Code>(list: &[(K, Figure)]) -> serde_json::Value {
    let figure = |f: &Figure| serde_json::to_value(f).expect("a figure serializes");
    serde_json::Value::Object(list.iter().map(|(k, f)| (k.as_str().to_string(), figure(f))).collect())
}

/// The report contract of DOMAIN.md §9, with `reporting`: the months the reporting metrics (§10) count
/// (`{"from", "to"}`), or null when none is due in the period (their figures are then 0 / 0, value null).
pub fn json(r: &Report) -> serde_json::Value {
    let reporting = r.reporting.months().map(|(from, to)| {
        serde_json::json!({"from": from.format("%Y-%m").to_string(), "to": to.format("%Y-%m").to_string()})
    });
    serde_json::json!({
        "unit": r.unit.code,
        "from": r.period.from_label(),
        "to": r.period.to_label(),
        "metrics": metrics_json(&r.metrics),
        "reg18_by_group": metrics_json(&r.reg18_by_group),
        "reporting": reporting,
        "children": r.children.iter().map(|c| serde_json::json!({
            "unit": c.unit.code,
            "name": c.unit.name,
            "metrics": metrics_json(&c.metrics),
        })).collect::<Vec<_>>(),
    })
}

/// The same as a table: one row per unit and metric (the unit first, then its children), plus the unit's
/// Regulation 18 groups as `reg18_participation.<group>`.
pub fn csv(r: &Report) -> String {
    let mut out = String::from("unit,name,metric,numerator,denominator,value,target,met\n");
    let mut row = |unit: &Unit, key: &str, f: &Figure| {
        let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            csv_field(&unit.code),
            csv_field(&unit.name),
            key,
            f.numerator,
            f.denominator,
            opt(f.value),
            opt(f.target),
            f.met.map(|m| m.to_string()).unwrap_or_default()
        ));
    };
    for (m, f) in &r.metrics {
        row(&r.unit, m.as_str(), f);
    }
    for (g, f) in &r.reg18_by_group {
        row(&r.unit, &group_key(g.as_str()), f);
    }
    for c in &r.children {
        for (m, f) in &c.metrics {
            row(&c.unit, m.as_str(), f);
        }
    }
    out
}

/// The key of one official group's line in the tables: `reg18_participation.<group>`.
fn group_key(group: &str) -> String {
    format!("{}.{group}", Metric::Reg18Participation.as_str())
}

/// A text field of a CSV file made for people (opened in a spreadsheet), quoted when it holds a comma, quote or line
/// break. A text that a spreadsheet would take for a formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage
/// return) gets a leading `'`, which spreadsheets show as text and do not run: a unit renamed
/// `=HYPERLINK("http://…")` stays a name. The import bundle (`chibo export`) does not do this: it is data for chibo,
/// written back byte for byte on import, and a name starting with `-` is a name there.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

/// The headings of the tables for people (CSV and XLSX).
const TABLE_HEADINGS: [&str; 9] =
    ["Mã đơn vị", "Đơn vị", "Chỉ tiêu", "Mã chỉ tiêu", "Tử số", "Mẫu số", "Tỷ lệ", "Chỉ tiêu Đề án", "Đánh giá"];

/// "Đạt" / "Chưa đạt"
fn met_vi(met: bool) -> &'static str {
    if met { "Đạt" } else { "Chưa đạt" }
}

/// The rows of the tables for people (CSV and XLSX): the unit's figures and its Regulation 18 groups, then each
/// child's figures; with the Vietnamese label and the key of each.
fn table_lines(r: &Report) -> Vec<(&Unit, String, String, Figure)> {
    let mut lines: Vec<(&Unit, String, String, Figure)> =
        r.metrics.iter().map(|(m, f)| (&r.unit, m.label_vi().to_string(), m.as_str().to_string(), *f)).collect();
    for (g, f) in &r.reg18_by_group {
        let label = format!("{} — {}", Metric::Reg18Participation.label_vi(), g.label_vi());
        lines.push((&r.unit, label, group_key(g.as_str()), *f));
    }
    for c in &r.children {
        lines.extend(c.metrics.iter().map(|(m, f)| (&c.unit, m.label_vi().to_string(), m.as_str().to_string(), *f)));
    }
    lines
}

/// The dashboard's table as CSV for people, as the workbook has it: Vietnamese headings, percentages as a
/// Vietnamese reader writes them ("85,94 %"), "Đạt" / "Chưa đạt", text a spreadsheet would run made inert. The
/// machine form (metric keys, ratios, true/false) is `csv` and the API's JSON.
pub fn table_csv(r: &Report) -> String {
    // a byte order mark, so that Excel opens the UTF-8 names with their diacritics
    let mut body = format!("\u{feff}{}\n", TABLE_HEADINGS.join(","));
    for (unit, label, key, f) in table_lines(r) {
        let percent = |v: Option<f64>| v.map(|v| format_percent(Some(v), Lang::Vi)).unwrap_or_default();
        let fields = [
            csv_field(&unit.code),
            csv_field(&unit.name),
            csv_field(&label),
            csv_field(&key),
            f.numerator.to_string(),
            f.denominator.to_string(),
            csv_field(&percent(f.value)),
            csv_field(&percent(f.target)),
            f.met.map(met_vi).unwrap_or_default().to_string(),
        ];
        body.push_str(&fields.join(","));
        body.push('\n');
    }
    body
}

/// The same table as `table_csv`, as a workbook: counts as numbers, values and targets as numbers formatted as
/// percentages, so that a clerk can compute with them.
pub fn xlsx(r: &Report) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Kết quả")?;
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.00%");
    for (c, h) in TABLE_HEADINGS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (row, (unit, label, key, f)) in (1u32..).zip(table_lines(r)) {
        sheet.write_string(row, 0, &unit.code)?;
        sheet.write_string(row, 1, &unit.name)?;
        sheet.write_string(row, 2, &label)?;
        sheet.write_string(row, 3, &key)?;
        sheet.write_number(row, 4, f.numerator as f64)?;
        sheet.write_number(row, 5, f.denominator as f64)?;
        if let Some(v) = f.value {
            sheet.write_number_with_format(row, 6, v, &percent)?;
        }
        if let Some(t) = f.target {
            sheet.write_number_with_format(row, 7, t, &percent)?;
        }
        if let Some(m) = f.met {
            sheet.write_string(row, 8, met_vi(m))?;
        }
    }
    sheet.set_column_width(1, 36)?;
    sheet.set_column_width(2, 44)?;
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn a_text_a_spreadsheet_would_run_is_written_as_text() {
        assert_eq!(csv_field("=1+2"), "'=1+2");
        assert_eq!(csv_field("+84 912"), "'+84 912");
        assert_eq!(csv_field("-2"), "'-2");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("\tx"), "'\tx");
        assert_eq!(csv_field("\rx"), "\"'\rx\"");
        assert_eq!(csv_field(r#"=HYPERLINK("http://e.example","x")"#), r#""'=HYPERLINK(""http://e.example"",""x"")""#);
        assert_eq!(csv_field("Chi bộ thôn Khuổi Trang"), "Chi bộ thôn Khuổi Trang");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
    }
}
