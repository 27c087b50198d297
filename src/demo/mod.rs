//! Demo data that looks like Tuyên Quang province, from 2020-01 to the current month, including the
//! restructure of 1 July 2025 (districts closed; communes directly under the province).
mod activity;
pub mod names;
mod reports;
mod structure;

use anyhow::bail;
use chrono::NaiveDate;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::PgPool;

use crate::db::audit::{self, Actor, Change};
use crate::db::copy::CopyBuffer;
use crate::db::{search_key, users};
use crate::domain::Role;
use crate::domain::vocab::{CellType, Position};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// One district, two communes, about 15 cells: loads in seconds.
    Small,
    /// The whole province: about 3,500 cells and 70,000 members.
    Province,
}

/// One demo login per role: (user name, display name, role, unit code).
pub const DEMO_LOGINS: &[(&str, &str, Role, &str)] = &[
    ("admin", "Quản trị hệ thống", Role::Admin, "TQ"),
    ("bantochuc", "Ban Tổ chức Tỉnh ủy", Role::ProvinceViewer, "TQ"),
    ("lambinh", "Huyện ủy Lâm Bình", Role::DistrictViewer, "TQ-LB"),
    ("xuanlap", "Văn phòng Đảng ủy xã Xuân Lập", Role::CommitteeClerk, "TQ-LB-01"),
    ("khuoitrang", "Bí thư chi bộ thôn Khuổi Trang", Role::CellSecretary, "TQ-LB-01-01"),
];
/// The demo password of every demo login.
pub const DEMO_PASSWORD: &str = "chibo-2026";

pub fn print_logins() {
    println!("Demo logins (password for all: {DEMO_PASSWORD}):");
    for (username, name, role, unit) in DEMO_LOGINS {
        println!("  {username:<12} {:<26} {name} ({unit})", role.as_str());
    }
}

pub(crate) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid demo date")
}

pub(crate) fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

pub(crate) fn pick_weighted<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut r = rng.random_range(0..total);
    for (item, w) in items {
        if r < *w {
            return *item;
        }
        r -= w;
    }
    items[items.len() - 1].0
}

pub(crate) fn person_name(rng: &mut StdRng) -> String {
    let family = pick_weighted(rng, names::FAMILY_NAMES);
    if rng.random_bool(0.5) {
        format!("{family} {} {}", pick(rng, names::MALE_MIDDLE), pick(rng, names::MALE_GIVEN))
    } else {
        format!("{family} {} {}", pick(rng, names::FEMALE_MIDDLE), pick(rng, names::FEMALE_GIVEN))
    }
}

/// Loads the demo, up to `today`, into an empty, migrated database in one transaction; returns a summary of what
/// it wrote.
pub async fn load(pool: &PgPool, scale: Scale, today: NaiveDate) -> anyhow::Result<String> {
    let existing = sqlx::query_scalar!(r#"select count(*) as "count!" from units"#).fetch_one(pool).await?;
    if existing > 0 {
        bail!("the database already holds {existing} units: the demo loads only into an empty database");
    }
    let mut rng = StdRng::seed_from_u64(16);
    let s = structure::build(&mut rng, scale, today);
    let rubrics = crate::db::rubric::versions(pool).await?;
    let activity = activity::generate(&mut rng, &s, today, &rubrics);

    let mut units = CopyBuffer::new("units", "id, code, kind, name, parent_id, valid_from, valid_to, cell_type");
    for u in &s.units {
        let (kind, cell_type) = (u.kind.as_str(), u.cell_type.map(CellType::as_str));
        units.row(&[&u.id, &u.code, &kind, &u.name, &u.parent_id, &u.valid_from, &u.valid_to, &cell_type]);
    }
    let mut moves = CopyBuffer::new("unit_moves", "unit_id, parent_id, effective_on");
    for (unit, parent, on) in &s.moves {
        moves.row(&[&s.units[*unit].id, &s.units[*parent].id, on]);
    }
    let mut members = CopyBuffer::new(
        "members",
        "id, code, full_name, search_name, gender, birth_date, ethnicity, joined_on, official_on, cell_id, left_on",
    );
    let mut transfers = CopyBuffer::new("member_transfers", "member_id, cell_id, effective_on");
    let mut exemptions = CopyBuffer::new("exemptions", "member_id, valid_from, valid_to");
    for m in &s.members {
        let cell_id = s.units[m.cell].id;
        members.row(&[
            &m.id,
            &m.code,
            &m.full_name,
            &search_key(&m.full_name),
            &m.gender.as_str(),
            &m.birth_date,
            &m.ethnicity,
            &m.joined_on,
            &m.official_on,
            &cell_id,
            &m.left_on,
        ]);
        for (cell, on) in &m.transfers {
            transfers.row(&[&m.id, &s.units[*cell].id, on]);
        }
        if let Some(from) = m.exempt_from {
            exemptions.row(&[&m.id, &from, &None::<NaiveDate>]);
        }
    }
    let mut positions = CopyBuffer::new("positions", "cell_id, member_id, position, valid_from, valid_to");
    for c in &s.cells {
        let cell_id = s.units[c.unit].id;
        for (m, from, to) in &c.secretaries {
            positions.row(&[&cell_id, &s.members[*m].id, &Position::Secretary.as_str(), from, to]);
        }
        if let Some(d) = c.deputy {
            positions.row(&[
                &cell_id,
                &s.members[d].id,
                &Position::DeputySecretary.as_str(),
                &date(2020, 8, 1),
                &s.units[c.unit].valid_to,
            ]);
        }
    }

    let mut tx = pool.begin().await?;
    // the metric stores are built once at the end, not statement by statement
    sqlx::query_scalar!("select set_config('chibo.bulk', 'on', true)").fetch_one(&mut *tx).await?;
    let mut summary = Vec::new();
    let activity::Buffers {
        officials,
        assignments,
        meetings,
        attendance,
        guests,
        tasks,
        trainings,
        cell_classifications,
        member_classifications,
        cell_reports,
        settings,
    } = activity;
    for buffer in [
        units,
        moves,
        members,
        transfers,
        exemptions,
        positions,
        trainings,
        officials,
        assignments,
        meetings,
        attendance,
        guests,
        tasks,
        cell_classifications,
        member_classifications,
        // after the meetings: an approved month locks its meetings
        cell_reports,
        settings,
    ] {
        let table = buffer.table;
        let rows = buffer.send(&mut tx).await?;
        summary.push(format!("{table}: {rows}"));
    }
    // ids were given explicitly: move each identity past them
    sqlx::query!(
        "select setval(pg_get_serial_sequence('units', 'id'),
                       coalesce((select max(id) from units), 0) + 1, false) as units,
                setval(pg_get_serial_sequence('members', 'id'),
                       coalesce((select max(id) from members), 0) + 1, false) as members,
                setval(pg_get_serial_sequence('exemptions', 'id'),
                       coalesce((select max(id) from exemptions), 0) + 1, false) as exemptions,
                setval(pg_get_serial_sequence('positions', 'id'),
                       coalesce((select max(id) from positions), 0) + 1, false) as positions,
                setval(pg_get_serial_sequence('trainings', 'id'),
                       coalesce((select max(id) from trainings), 0) + 1, false) as trainings,
                setval(pg_get_serial_sequence('meetings', 'id'),
                       coalesce((select max(id) from meetings), 0) + 1, false) as meetings,
                setval(pg_get_serial_sequence('tasks', 'id'),
                       coalesce((select max(id) from tasks), 0) + 1, false) as tasks,
                setval(pg_get_serial_sequence('officials', 'id'),
                       coalesce((select max(id) from officials), 0) + 1, false) as officials"
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!("select rebuild_metric_stores()").execute(&mut *tx).await?;
    audit::record(
        &mut tx,
        &Actor::cli(),
        Change {
            action: "import",
            entity: "demo",
            entity_id: format!("{scale:?}"),
            unit_id: Some(s.units[0].id),
            before: None,
            after: Some(serde_json::json!({ "rows": summary })),
        },
    )
    .await?;
    tx.commit().await?;
    sqlx::query!("analyze").execute(pool).await?;

    for (username, name, role, unit) in DEMO_LOGINS {
        let unit_id = sqlx::query_scalar!("select id from units where code = $1", unit).fetch_one(pool).await?;
        let password_hash = crate::auth::password::hash(DEMO_PASSWORD.to_string()).await?;
        let new = users::NewUser { username, display_name: name, password_hash, role: *role, unit_id };
        users::create(pool, &Actor::cli(), new).await?;
    }
    Ok(summary.join("\n"))
}
