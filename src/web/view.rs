//! What every page shares: the signed-in user's name, the CSRF token for forms, breadcrumbs.
use crate::db::units::Unit;
use crate::web::CurrentUser;
use crate::web::cache::Viewer;

/// The label of a vocabulary code (`domain::vocab`), in the request's language or in Vietnamese.
pub trait Label: crate::domain::Code {
    fn label(self) -> &'static str {
        crate::tr(self.label_key())
    }

    fn label_vi(self) -> &'static str {
        crate::i18n::tr_vi(self.label_key())
    }
}

impl<C: crate::domain::Code> Label for C {}

pub struct Layout {
    pub user_name: String,
    pub role_label: &'static str,
    pub csrf: String,
    pub crumbs: Vec<Crumb>,
    pub is_admin: bool,
    /// may keep units, members and officials current (record pages)
    pub can_manage: bool,
}

pub struct Crumb {
    pub label: String,
    pub href: String,
    pub code: String,
}

impl Layout {
    pub fn new(user: &CurrentUser) -> Layout {
        Layout::shown_to(user, &Viewer { name: &user.user.display_name, csrf: &user.csrf })
    }

    /// The layout with the account bar's name and token taken from `viewer` (stand-ins for a page to be stored).
    pub fn shown_to(user: &CurrentUser, viewer: &Viewer) -> Layout {
        Layout {
            user_name: viewer.name.to_string(),
            role_label: user.role().label(),
            csrf: viewer.csrf.to_string(),
            crumbs: Vec::new(),
            is_admin: user.role() == crate::domain::Role::Admin,
            can_manage: user.role().can_manage_records(),
        }
    }

    /// Breadcrumbs that lead to each unit's dashboard instead of its page.
    pub fn dashboards(mut self) -> Layout {
        for c in &mut self.crumbs {
            c.href = format!("/dashboard/{}", c.code);
        }
        self
    }

    /// Breadcrumbs from the top of the user's scope down to `chain`'s last unit.
    pub fn with_units(mut self, chain: &[Unit], scope_unit_id: i64) -> Layout {
        let start = chain.iter().position(|u| u.id == scope_unit_id).unwrap_or(0);
        self.crumbs = chain[start..]
            .iter()
            .map(|u| Crumb {
                label: u.name.clone(),
                code: u.code.clone(),
                href: if u.is_cell() { format!("/cells/{}", u.code) } else { format!("/units/{}", u.code) },
            })
            .collect();
        self
    }
}

/// One line of the audit trail in the reader's language: "Sửa nhiệm vụ #25", "Changed task #25". An action or a
/// kind of record the catalogs do not know is shown as stored.
pub fn change_label(action: &str, entity: &str, entity_id: &str) -> String {
    const ACTIONS: [&str; 4] = ["create", "update", "delete", "import"];
    const ENTITIES: [&str; 15] = [
        "meeting",
        "task",
        "user",
        "api_token",
        "password_reset",
        "programme",
        "programme_target",
        "bundle",
        "demo",
        "unit",
        "member",
        "official",
        "published_report",
        "report",
        "heading_mapping",
    ];
    let action = if ACTIONS.contains(&action) { crate::tr(&format!("audit.action.{action}")) } else { action };
    let entity = if ENTITIES.contains(&entity) { crate::tr(&format!("audit.entity.{entity}")) } else { entity };
    if entity_id.is_empty() { format!("{action} {entity}") } else { format!("{action} {entity} #{entity_id}") }
}
