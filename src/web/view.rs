//! What every page shares: the signed-in user's name, the CSRF token for forms, breadcrumbs.
use crate::db::units::Unit;
use crate::web::CurrentUser;

pub struct Layout {
    pub user_name: String,
    pub role_label: &'static str,
    pub csrf: String,
    pub crumbs: Vec<Crumb>,
    pub is_admin: bool,
}

pub struct Crumb {
    pub label: String,
    pub href: String,
    pub code: String,
}

impl Layout {
    pub fn new(user: &CurrentUser) -> Layout {
        Layout {
            user_name: user.user.display_name.clone(),
            role_label: user.role().label_vi(),
            csrf: user.csrf.clone(),
            crumbs: Vec::new(),
            is_admin: user.role() == crate::domain::Role::Admin,
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
