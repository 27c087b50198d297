//! The demo's units and members: Tuyên Quang's districts, communes and cells, and the people on their rolls.
use chrono::{Datelike, Days, NaiveDate};
use rand::Rng;
use rand::rngs::StdRng;

use super::names::{self, DISTRICTS};
use super::{Scale, date, pick, pick_weighted};
use crate::domain::vocab::{CellType, Gender, UnitKind};

pub struct UnitRow {
    pub id: i64,
    pub code: String,
    pub kind: UnitKind,
    pub name: String,
    pub parent_id: Option<i64>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub cell_type: Option<CellType>,
}

pub struct Cell {
    pub unit: usize,
    /// The committee (or district) the cell's grassroots officials come from.
    pub committee: usize,
    pub weak: bool,
    /// Indices into `members` of everyone who was ever on this cell's roll.
    pub members: Vec<usize>,
    /// (member index, from, to) for each secretary term
    pub secretaries: Vec<(usize, NaiveDate, Option<NaiveDate>)>,
    pub deputy: Option<usize>,
}

pub struct MemberRow {
    pub id: i64,
    pub code: String,
    pub full_name: String,
    pub gender: Gender,
    pub birth_date: NaiveDate,
    pub ethnicity: &'static str,
    pub joined_on: NaiveDate,
    pub official_on: Option<NaiveDate>,
    /// unit index of the first cell
    pub cell: usize,
    pub left_on: Option<NaiveDate>,
    /// (unit index of the new cell, effective_on), in date order
    pub transfers: Vec<(usize, NaiveDate)>,
    pub exempt_from: Option<NaiveDate>,
}

impl MemberRow {
    /// The unit index of the cell whose roll holds this member on `d`, if any.
    pub fn cell_on(&self, d: NaiveDate) -> Option<usize> {
        if d < self.joined_on || self.left_on.is_some_and(|l| d >= l) {
            return None;
        }
        Some(self.transfers.iter().rev().find(|(_, on)| *on <= d).map_or(self.cell, |(c, _)| *c))
    }

    pub fn exempt_on(&self, d: NaiveDate) -> bool {
        self.exempt_from.is_some_and(|f| f <= d)
    }

    /// Never moved or left and not exempt: fit to hold a position for the whole period.
    pub fn is_steady(&self, since: NaiveDate) -> bool {
        self.transfers.is_empty() && self.left_on.is_none() && self.exempt_from.is_none() && self.joined_on < since
    }
}

pub struct Structure {
    pub units: Vec<UnitRow>,
    /// (unit index, new parent unit index, effective_on)
    pub moves: Vec<(usize, usize, NaiveDate)>,
    pub cells: Vec<Cell>,
    pub members: Vec<MemberRow>,
    /// unit indices of the district-level units and of the committees
    pub districts: Vec<usize>,
    pub committees: Vec<usize>,
    /// The demo secretary's cell (an index into `cells`).
    pub demo_cell: usize,
}

/// The day the districts closed and communes came directly under the province.
pub fn restructure_day() -> NaiveDate {
    date(2025, 7, 1)
}

impl Structure {
    fn add_unit(
        &mut self,
        code: String,
        kind: UnitKind,
        name: String,
        parent: Option<usize>,
        valid_to: Option<NaiveDate>,
        cell_type: Option<CellType>,
    ) -> usize {
        let idx = self.units.len();
        self.units.push(UnitRow {
            id: idx as i64 + 1,
            code,
            kind,
            name,
            parent_id: parent.map(|p| p as i64 + 1),
            valid_from: date(2000, 1, 1),
            valid_to,
            cell_type,
        });
        idx
    }
}

/// "Xã Côn Lôn" → "Đảng bộ xã Côn Lôn".
fn committee_name(commune: &str) -> String {
    let mut words = commune.splitn(2, ' ');
    let first = words.next().unwrap_or_default();
    let rest = words.next().unwrap_or_default();
    let (prefix, rest) = match (first, rest) {
        ("Thị", r) => ("thị", r),
        (f, r) => (f, r),
    };
    format!("Đảng bộ {} {}", prefix.to_lowercase(), rest)
}

pub fn build(rng: &mut StdRng, scale: Scale, today: NaiveDate) -> Structure {
    let mut s = Structure {
        units: Vec::new(),
        moves: Vec::new(),
        cells: Vec::new(),
        members: Vec::new(),
        districts: Vec::new(),
        committees: Vec::new(),
        demo_cell: 0,
    };
    let province = s.add_unit("TQ".into(), UnitKind::Province, "Đảng bộ tỉnh Tuyên Quang".into(), None, None, None);
    s.units[province].valid_from = date(1991, 10, 1);
    let restructure = restructure_day();
    let district_end = restructure.pred_opt();

    // The committee of the province's agencies: a unit two levels deep, beside the districts.
    let agencies = s.add_unit(
        "TQ-CQ".into(),
        UnitKind::Committee,
        "Đảng bộ Khối các cơ quan tỉnh".into(),
        Some(province),
        None,
        None,
    );
    s.committees.push(agencies);

    let (district_list, communes_per_district, cells_per_committee) = match scale {
        Scale::Small => (&DISTRICTS[1..2], 2, 5..=6),
        Scale::Province => (DISTRICTS, usize::MAX, 22..=27),
    };
    for d in district_list {
        let district_name = match d.name.strip_prefix("Huyện ") {
            Some(n) => format!("Đảng bộ huyện {n}"),
            None => format!(
                "Đảng bộ {}",
                d.name.to_lowercase().replacen("thành phố tuyên quang", "thành phố Tuyên Quang", 1)
            ),
        };
        let district =
            s.add_unit(format!("TQ-{}", d.code), UnitKind::District, district_name, Some(province), district_end, None);
        s.districts.push(district);
        // a cell directly under the district: the depth of the tree varies
        let office = s.add_unit(
            format!("TQ-{}-VP", d.code),
            UnitKind::Cell,
            "Chi bộ Văn phòng cấp ủy".into(),
            Some(district),
            None,
            Some(CellType::Agency),
        );
        s.moves.push((office, agencies, restructure));
        push_cell(&mut s, office, district, false);

        for (n, commune) in d.communes.iter().take(communes_per_district).enumerate() {
            let committee = s.add_unit(
                format!("TQ-{}-{:02}", d.code, n + 1),
                UnitKind::Committee,
                committee_name(commune),
                Some(district),
                None,
                None,
            );
            s.moves.push((committee, province, restructure));
            s.committees.push(committee);
            let urban = commune.starts_with("Phường") || commune.starts_with("Thị trấn");
            let count = rng.random_range(cells_per_committee.clone());
            let mut villages: Vec<&str> = names::VILLAGE_NAMES.to_vec();
            for i in 0..count {
                let (cell_type, name) = match i {
                    0 if !urban => (CellType::Village, {
                        let v = villages.remove(rng.random_range(0..villages.len()));
                        format!("Chi bộ thôn {v}")
                    }),
                    1 => (CellType::School, format!("Chi bộ {}", pick(rng, names::SCHOOL_CELLS))),
                    2 => (CellType::ArmedForces, format!("Chi bộ {}", pick(rng, names::ARMED_FORCES_CELLS))),
                    3 => (CellType::Agency, format!("Chi bộ {}", pick(rng, names::AGENCY_CELLS))),
                    4 if rng.random_bool(0.3) => {
                        (CellType::Enterprise, format!("Chi bộ {}", pick(rng, names::ENTERPRISE_CELLS)))
                    }
                    _ if urban => (
                        CellType::Residential,
                        format!("Chi bộ tổ dân phố {}", names::RESIDENTIAL_NAMES[i % names::RESIDENTIAL_NAMES.len()]),
                    ),
                    _ => {
                        let v = villages.remove(rng.random_range(0..villages.len()));
                        let prefix = if rng.random_bool(0.7) { "thôn" } else { "bản" };
                        (CellType::Village, format!("Chi bộ {prefix} {v}"))
                    }
                };
                let cell = s.add_unit(
                    format!("TQ-{}-{:02}-{:02}", d.code, n + 1, i + 1),
                    UnitKind::Cell,
                    name,
                    Some(committee),
                    None,
                    Some(cell_type),
                );
                push_cell(&mut s, cell, committee, rng.random_bool(0.05));
            }
        }
    }
    // the demo secretary's cell: Khuổi Trang, the first cell of Xuân Lập, never weak
    s.demo_cell = s.cells.iter().position(|c| s.units[c.unit].code == "TQ-LB-01-01").expect("Xuân Lập's first cell");
    s.units[s.cells[s.demo_cell].unit].name = "Chi bộ thôn Khuổi Trang".into();
    s.cells[s.demo_cell].weak = false;
    let agency_cells = match scale {
        Scale::Small => 2,
        Scale::Province => 110,
    };
    for i in 0..agency_cells {
        let name = format!("Chi bộ {} {}", pick(rng, names::AGENCY_CELLS), i / names::AGENCY_CELLS.len() + 1);
        let cell = s.add_unit(
            format!("TQ-CQ-{:03}", i + 1),
            UnitKind::Cell,
            name,
            Some(agencies),
            None,
            Some(CellType::Agency),
        );
        push_cell(&mut s, cell, agencies, false);
    }

    for c in 0..s.cells.len() {
        let size = match s.units[s.cells[c].unit].cell_type {
            Some(CellType::Village | CellType::Residential) => rng.random_range(10..=32),
            _ => rng.random_range(8..=24),
        };
        for _ in 0..size {
            let m = new_member(rng, s.members.len(), s.cells[c].unit, today);
            s.cells[c].members.push(s.members.len());
            s.members.push(m);
        }
    }
    merge_some_cells(rng, &mut s);
    move_and_retire_members(rng, &mut s, today);
    appoint_officers(rng, &mut s);
    s
}

fn push_cell(s: &mut Structure, unit: usize, committee: usize, weak: bool) {
    s.cells.push(Cell { unit, committee, weak, members: Vec::new(), secretaries: Vec::new(), deputy: None });
}

fn new_member(rng: &mut StdRng, n: usize, cell: usize, today: NaiveDate) -> MemberRow {
    let female = rng.random_bool(0.4);
    let family = pick_weighted(rng, names::FAMILY_NAMES);
    let (middle, given) = if female {
        (pick(rng, names::FEMALE_MIDDLE), pick(rng, names::FEMALE_GIVEN))
    } else {
        (pick(rng, names::MALE_MIDDLE), pick(rng, names::MALE_GIVEN))
    };
    let birth_date = date(rng.random_range(1942..=2001), rng.random_range(1..=12), rng.random_range(1..=28));
    // most joined long before 2020; about one in ten joins during the period, so probation shows up
    let joined_on = if rng.random_bool(0.1) {
        date(2020, 1, 1) + Days::new(rng.random_range(0..(today - date(2020, 1, 1)).num_days().max(1) as u64))
    } else {
        let earliest = birth_date.year() + 19;
        date(rng.random_range(earliest..=2019.max(earliest)), rng.random_range(1..=12), rng.random_range(1..=28))
    };
    let year_on = joined_on + Days::new(365);
    MemberRow {
        id: n as i64 + 1,
        code: format!("DV{:06}", n + 1),
        full_name: format!("{family} {middle} {given}"),
        gender: if female { Gender::Female } else { Gender::Male },
        birth_date,
        ethnicity: pick_weighted(rng, names::ETHNICITIES),
        joined_on,
        official_on: (year_on <= today).then_some(year_on),
        cell,
        left_on: None,
        transfers: Vec::new(),
        exempt_from: None,
    }
}

/// About one village cell in a hundred merges into a neighbour on 1 January 2023; its members move with it.
fn merge_some_cells(rng: &mut StdRng, s: &mut Structure) {
    let merge_day = date(2023, 1, 1);
    for c in 0..s.cells.len() {
        let unit = s.cells[c].unit;
        if c == s.demo_cell || s.units[unit].cell_type != Some(CellType::Village) || !rng.random_bool(0.01) {
            continue;
        }
        let Some(target) = (0..s.cells.len()).find(|&o| {
            o != c
                && s.cells[o].committee == s.cells[c].committee
                && s.units[s.cells[o].unit].valid_to.is_none()
                && s.units[s.cells[o].unit].cell_type == Some(CellType::Village)
        }) else {
            continue;
        };
        s.units[unit].valid_to = merge_day.pred_opt();
        let target_unit = s.cells[target].unit;
        let moving = s.cells[c].members.clone();
        for m in moving {
            if s.members[m].joined_on < merge_day {
                s.members[m].transfers.push((target_unit, merge_day));
            } else {
                // joined after the merge: straight into the cell that took the closed one in
                s.members[m].cell = target_unit;
            }
            s.cells[target].members.push(m);
        }
    }
}

/// Some members transfer within their commune, some leave, the oldest become exempt from activities.
fn move_and_retire_members(rng: &mut StdRng, s: &mut Structure, today: NaiveDate) {
    let start = date(2020, 1, 1);
    let span = (today - start).num_days().max(60) as u64;
    for m in 0..s.members.len() {
        let first_cell = s.members[m].cell;
        let c = s.cells.iter().position(|c| c.unit == first_cell).expect("member's cell");
        if s.members[m].transfers.is_empty() && rng.random_bool(0.015) {
            let day = start + Days::new(rng.random_range(30..span - 30));
            let candidates: Vec<usize> = (0..s.cells.len())
                .filter(|&o| {
                    o != c
                        && s.cells[o].committee == s.cells[c].committee
                        && s.units[s.cells[o].unit].valid_to.is_none()
                })
                .collect();
            if !candidates.is_empty() && day > s.members[m].joined_on {
                let o = candidates[rng.random_range(0..candidates.len())];
                s.members[m].transfers.push((s.cells[o].unit, day));
                s.cells[o].members.push(m);
            }
        }
        if rng.random_bool(0.035) {
            let day = start + Days::new(rng.random_range(60..span));
            if day > s.members[m].joined_on + Days::new(1) && s.members[m].transfers.iter().all(|(_, t)| *t < day) {
                s.members[m].left_on = Some(day);
            }
        }
        let seventy = s.members[m].birth_date.with_year(s.members[m].birth_date.year() + 70).unwrap_or(start);
        if seventy < today && rng.random_bool(0.5) {
            s.members[m].exempt_from = Some(seventy.max(date(2018, 1, 1)));
        }
    }
}

/// A secretary for each term (2017–2020, 2020–) and a deputy, chosen among steady official members.
fn appoint_officers(rng: &mut StdRng, s: &mut Structure) {
    let term2 = date(2020, 8, 1);
    for c in 0..s.cells.len() {
        let steady: Vec<usize> = s.cells[c]
            .members
            .iter()
            .copied()
            .filter(|&m| s.members[m].cell == s.cells[c].unit && s.members[m].is_steady(date(2015, 1, 1)))
            .collect();
        if steady.len() < 2 {
            continue;
        }
        let first = steady[rng.random_range(0..steady.len())];
        let second = if rng.random_bool(0.6) { first } else { steady[rng.random_range(0..steady.len())] };
        let closes = s.units[s.cells[c].unit].valid_to;
        if first == second {
            s.cells[c].secretaries.push((first, date(2017, 8, 1), closes));
        } else {
            s.cells[c].secretaries.push((first, date(2017, 8, 1), term2.pred_opt()));
            s.cells[c].secretaries.push((second, term2, closes));
        }
        s.cells[c].deputy = steady.iter().copied().find(|&m| m != second);
    }
}
