//! The record forms and history tables: each a bundle file's columns (`import::spec`) with the labels and
//! choices the pages show, and a refused row's problems put back at the fields they are about.
use crate::web::view::Label;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashMap;

use crate::db::records::UnitChoice;
use crate::domain::limits;
use crate::domain::time;
use crate::domain::vocab::{CellType, ClassLevel, ClassSubject, Gender, OfficialGroup, Position, UnitKind};
use crate::import::problem::Problem;
use crate::import::spec::{self, FileSpec, Kind};
use crate::web::jobs::Job;

fn label(col: &str) -> &'static str {
    match col {
        "code" => crate::tr("programmes.code"),
        "kind" => crate::tr("records.level"),
        "name" => crate::tr("programmes.name"),
        "parent_code" => crate::tr("records.col.parent_code"),
        "valid_from" => crate::tr("records.col.valid_from"),
        "valid_to" => crate::tr("records.col.valid_to"),
        "cell_type" => crate::tr("records.col.cell_type"),
        "effective_on" => crate::tr("records.col.effective_on"),
        "full_name" => crate::tr("search.col_name"),
        "gender" => crate::tr("records.col.gender"),
        "birth_date" => crate::tr("records.col.birth_date"),
        "ethnicity" => crate::tr("records.col.ethnicity"),
        "joined_on" => crate::tr("records.col.joined_on"),
        "official_on" => crate::tr("records.col.official_on"),
        "cell_code" => crate::tr("records.col.cell_code"),
        "left_on" => crate::tr("records.col.left_on"),
        "member_code" => crate::tr("records.col.member_code"),
        "position" => crate::tr("records.positions"),
        "trained_on" => crate::tr("records.col.trained_on"),
        "course" => crate::tr("records.col.course"),
        "group" => crate::tr("dash.reg18_group"),
        "unit_code" => crate::tr("programmes.unit_code"),
        "official_code" => crate::tr("records.col.official_code"),
        "year" => crate::tr("records.col.year"),
        "required" => crate::tr("records.col.required"),
        "subject" => crate::tr("records.col.subject"),
        "level" => crate::tr("records.col.level"),
        _ => "",
    }
}

/// What a column's value names: a unit (by its code) or a member (by theirs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ref {
    Unit,
    Member,
}

fn refers(col: &str) -> Option<Ref> {
    match col {
        "cell_code" | "parent_code" | "unit_code" => Some(Ref::Unit),
        "member_code" => Some(Ref::Member),
        _ => None,
    }
}

/// The label of a column whose value is shown as the name of what it names.
fn name_label(col: &str) -> &'static str {
    match col {
        "cell_code" => crate::tr("followup.cell"),
        "parent_code" => crate::tr("records.parent"),
        "unit_code" => crate::tr("records.col.unit"),
        "member_code" => crate::tr("records.col.member"),
        _ => label(col),
    }
}

/// The names of the units and members a page's tables and history name, by code.
#[derive(Debug, Default)]
pub struct Names {
    pub units: HashMap<String, String>,
    pub members: HashMap<String, String>,
}

impl Names {
    /// The name `code` stands for in a column that names a `kind`, or the code itself if none is known.
    fn of(&self, kind: Ref, code: &str) -> String {
        let found = match kind {
            Ref::Unit => self.units.get(code),
            Ref::Member => self.members.get(code),
        };
        found.cloned().unwrap_or_else(|| code.to_string())
    }
}

/// The codes that `values` (column, value) name: (units, members).
pub fn codes_in<'a>(
    values: impl Iterator<Item = (&'a str, &'a str)>,
    units: &mut Vec<String>,
    members: &mut Vec<String>,
) {
    for (col, v) in values {
        match refers(col) {
            Some(Ref::Unit) => units.push(v.to_string()),
            Some(Ref::Member) => members.push(v.to_string()),
            None => {}
        }
    }
}

/// A value of column `col` in the user's words: a name for a code, a date as dd/mm/yyyy, a choice's label.
fn shown(col: &str, v: &str, names: &Names) -> String {
    if let Some(kind) = refers(col) {
        return names.of(kind, v);
    }
    if let Some(l) = choice_label(col, v) {
        return l.to_string();
    }
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").map_or(v.to_string(), time::format_date)
}

/// A record as it stood before or after a change, as (label, value) in the user's words; blank values left out.
pub fn described(record: Option<&Value>, names: &Names) -> Vec<(String, String)> {
    let Some(Value::Object(m)) = record else { return Vec::new() };
    m.iter()
        .map(|(k, v)| (k, text_of(Some(v))))
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| {
            let l = name_label(k);
            (if l.is_empty() { k.clone() } else { l.to_string() }, shown(k, &v, names))
        })
        .collect()
}

/// Every code an audit record names, in (column, value) pairs.
pub fn record_values(record: Option<&Value>) -> Vec<(&str, &str)> {
    match record {
        Some(Value::Object(m)) => m.iter().filter_map(|(k, v)| Some((k.as_str(), v.as_str()?))).collect(),
        _ => Vec::new(),
    }
}

/// The label of a value of choice column `col`, read as the vocabulary it holds; None for a value outside it.
fn choice_label(col: &str, value: &str) -> Option<&'static str> {
    fn of<C: Label>(value: &str) -> Option<&'static str> {
        C::parse(value).map(Label::label)
    }
    match col {
        "kind" => of::<UnitKind>(value),
        "cell_type" => of::<CellType>(value),
        "gender" => of::<Gender>(value),
        "position" => of::<Position>(value),
        "group" => of::<OfficialGroup>(value),
        "subject" => of::<ClassSubject>(value),
        "level" => of::<ClassLevel>(value),
        _ => None,
    }
}

/// One control of a record form.
pub struct Field {
    pub name: &'static str,
    pub id: String,
    pub label: &'static str,
    /// `text`, `date`, `number`, `select` or `hidden`
    pub input: &'static str,
    pub options: Vec<(&'static str, &'static str)>,
    /// for `unit`: the units offered, grouped by the unit they are under: (group, [(code, name)])
    pub groups: Vec<(String, Vec<(String, String)>)>,
    pub value: String,
    pub required: bool,
    /// the most characters a text may hold (the import's limit, checked again there)
    pub maxlength: Option<usize>,
    pub error: Option<String>,
}

/// A form that writes one row of `file`.
pub struct RecordForm {
    pub file: &'static str,
    pub anchor: String,
    pub title: &'static str,
    pub button: &'static str,
    pub fields: Vec<Field>,
    /// what went wrong that belongs to no one field
    pub problems: Vec<String>,
    pub saved: bool,
}

impl RecordForm {
    /// A form for `file` with `fixed` values sent unseen and `values` filled in.
    pub(super) fn new(
        file: &'static str,
        title: &'static str,
        button: &'static str,
        fixed: &[(&str, &str)],
    ) -> RecordForm {
        let spec = spec::spec(file).expect("a bundle file");
        let anchor = format!("f-{}", file.trim_end_matches(".csv"));
        let fields = spec
            .cols
            .iter()
            .map(|c| {
                let fixed_value = fixed.iter().find(|(k, _)| *k == c.name).map(|(_, v)| v.to_string());
                let (input, options) = match (fixed_value.is_some(), c.kind) {
                    (true, _) => ("hidden", Vec::new()),
                    (_, Kind::Date) => ("date", Vec::new()),
                    (_, Kind::Int(..)) => ("number", Vec::new()),
                    (_, Kind::Choice(codes)) => {
                        ("select", codes.iter().map(|k| (*k, choice_label(c.name, k).unwrap_or_default())).collect())
                    }
                    _ => ("text", Vec::new()),
                };
                Field {
                    name: c.name,
                    id: format!("{anchor}-{}", c.name),
                    label: label(c.name),
                    input,
                    options,
                    groups: Vec::new(),
                    value: fixed_value.unwrap_or_default(),
                    required: !c.blank_ok,
                    maxlength: match c.kind {
                        Kind::Code => Some(limits::CODE),
                        Kind::Text(max) => Some(max),
                        _ => None,
                    },
                    error: None,
                }
            })
            .collect();
        RecordForm { file, anchor, title, button, fields, problems: Vec::new(), saved: false }
    }

    /// Fills the visible fields from a row of the file (to change a record).
    pub(super) fn filled(mut self, row: Option<&impl Serialize>) -> RecordForm {
        let row = row.map(map_of).unwrap_or_default();
        for f in self.fields.iter_mut().filter(|f| f.input != "hidden") {
            f.value = text_of(row.get(f.name));
        }
        self
    }

    /// After a save: what was typed and what was wrong with it, or that it was saved.
    pub(super) fn after(mut self, job: Option<&Job>) -> RecordForm {
        let Some(job) = job else { return self };
        if job.typed("file").as_deref() != Some(self.file) {
            return self;
        }
        if job.done() {
            self.saved = true;
            return self;
        }
        for f in &mut self.fields {
            if let Some(v) = job.typed(f.name) {
                f.value = v;
            }
        }
        let spec = spec::spec(self.file).expect("a bundle file");
        for line in &job.problems {
            // the message alone, with the columns' names as the form calls them, at the field of its column
            let (message, column) = match Problem::from_stored(line) {
                Some(p) => (crate::web::problems::message(&p), p.column),
                None => (line.clone(), None),
            };
            let message = humanize(&message, spec);
            match column.and_then(|c| self.fields.iter_mut().find(|f| f.name == c && f.input != "hidden")) {
                Some(f) if f.error.is_none() => f.error = Some(message),
                _ => self.problems.push(message),
            }
        }
        self
    }

    /// Offers the units in the user's scope by name where a visible field asks for a code: the cells for a cell,
    /// the units above cells for a parent. A value typed that is not offered stays, as its code.
    pub(super) fn choosing_units(mut self, units: &[UnitChoice]) -> RecordForm {
        for f in self.fields.iter_mut().filter(|f| f.input != "hidden") {
            let cells = match f.name {
                "cell_code" => true,
                "parent_code" => false,
                _ => continue,
            };
            let mut groups: Vec<(String, Vec<(String, String)>)> = Vec::new();
            let mut offered: Vec<&UnitChoice> = units.iter().filter(|u| (u.kind == UnitKind::Cell) == cells).collect();
            offered.sort_by_cached_key(|u| crate::domain::text::name_order_key(u.parent_name.as_deref().unwrap_or("")));
            for u in offered {
                let group = u.parent_name.clone().unwrap_or_default();
                match groups.last_mut() {
                    Some((g, list)) if *g == group => list.push((u.code.clone(), u.name.clone())),
                    _ => groups.push((group, vec![(u.code.clone(), u.name.clone())])),
                }
            }
            if !f.value.is_empty() && !groups.iter().any(|(_, l)| l.iter().any(|(c, _)| *c == f.value)) {
                groups.push((String::new(), vec![(f.value.clone(), f.value.clone())]));
            }
            f.input = "unit";
            f.label = name_label(f.name);
            f.groups = groups;
        }
        self
    }

    pub fn has_errors(&self) -> bool {
        !self.problems.is_empty() || self.fields.iter().any(|f| f.error.is_some())
    }
}

/// A message with the file's column names replaced by the labels the form shows.
fn humanize(message: &str, spec: &FileSpec) -> String {
    let mut cols: Vec<&str> = spec.cols.iter().map(|c| c.name).collect();
    cols.sort_by_key(|c| std::cmp::Reverse(c.len()));
    let mut out = message.to_string();
    for c in cols {
        let mut result = String::new();
        let mut rest = out.as_str();
        while let Some(i) = rest.find(c) {
            let before_ok = rest[..i].chars().next_back().is_none_or(|ch| !ch.is_alphanumeric() && ch != '_');
            let after_ok = rest[i + c.len()..].chars().next().is_none_or(|ch| !ch.is_alphanumeric() && ch != '_');
            result.push_str(&rest[..i]);
            if before_ok && after_ok {
                result.push_str(&format!("«{}»", label(c)));
            } else {
                result.push_str(c);
            }
            rest = &rest[i + c.len()..];
        }
        result.push_str(rest);
        out = result;
    }
    out
}

pub(super) fn text_of(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// A history table: a file's rows shown with the form's labels and values in the user's words.
pub struct Table {
    pub heads: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    /// each column's name in the file
    cols: Vec<&'static str>,
}

impl Table {
    /// The codes the table's rows name: (units, members).
    pub fn codes(&self, units: &mut Vec<String>, members: &mut Vec<String>) {
        for r in &self.rows {
            codes_in(self.cols.iter().copied().zip(r.iter().map(String::as_str)), units, members);
        }
    }

    /// The table with each code it shows replaced by the name of what it names.
    pub fn named(mut self, names: &Names) -> Table {
        for (i, col) in self.cols.iter().enumerate() {
            if let Some(kind) = refers(col) {
                self.heads[i] = name_label(col);
                for r in &mut self.rows {
                    r[i] = names.of(kind, &r[i]);
                }
            }
        }
        self
    }
}

/// A record as its file's row: each column's value by name.
fn map_of(record: &impl Serialize) -> Map<String, Value> {
    match serde_json::to_value(record) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

pub(super) fn table(file: &str, found: &[impl Serialize], skip: &[&str]) -> Table {
    let spec = spec::spec(file).expect("a bundle file");
    let cols: Vec<_> = spec.cols.iter().filter(|c| !skip.contains(&c.name)).collect();
    Table {
        heads: cols.iter().map(|c| label(c.name)).collect(),
        cols: cols.iter().map(|c| c.name).collect(),
        rows: found
            .iter()
            .map(map_of)
            .map(|r| {
                cols.iter()
                    .map(|c| {
                        let v = text_of(r.get(c.name));
                        match c.kind {
                            Kind::Date => {
                                chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d").map_or(v.clone(), time::format_date)
                            }
                            Kind::Choice(_) => choice_label(c.name, &v).map_or(v, str::to_string),
                            _ => v,
                        }
                    })
                    .collect()
            })
            .collect(),
    }
}
