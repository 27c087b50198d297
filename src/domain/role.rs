//! Who a user is to chibo: a role bound to a unit (the scope is that unit's subtree as it stands today).

pub use super::vocab::Role;

impl Role {
    /// May this role change meetings and tasks of cells in its scope?
    pub fn can_edit_meetings(self) -> bool {
        matches!(self, Role::Admin | Role::CommitteeClerk | Role::CellSecretary)
    }

    /// May this role keep the structure and the people current (units, members, officials) in its scope?
    pub fn can_manage_records(self) -> bool {
        matches!(self, Role::Admin | Role::CommitteeClerk)
    }

    /// May this role publish the report of a unit in its scope (DOMAIN.md §10)? Every role above the cell: a
    /// committee, a district or the province publishes; a cell secretary reports through the monthly cycle.
    pub fn can_publish_reports(self) -> bool {
        !matches!(self, Role::CellSecretary)
    }

    /// May this role see members' names? Only committee level and below, and administrators.
    pub fn can_see_names(self) -> bool {
        matches!(self, Role::Admin | Role::CommitteeClerk | Role::CellSecretary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewers_above_committee_see_no_names_and_change_nothing() {
        for r in [Role::ProvinceViewer, Role::DistrictViewer] {
            assert!(!r.can_see_names());
            assert!(!r.can_edit_meetings());
        }
    }
}
