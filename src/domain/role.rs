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

    /// May this role keep user accounts (DOMAIN.md §13)? Committee clerks those of their own cells,
    /// administrators all in their scope.
    pub fn can_manage_accounts(self) -> bool {
        matches!(self, Role::Admin | Role::CommitteeClerk)
    }

    /// May this role create, reset or disable an account with role `other` (bound to a unit in its scope)? A
    /// committee clerk only cell secretaries' accounts; an administrator any role.
    pub fn may_grant(self, other: Role) -> bool {
        match self {
            Role::Admin => true,
            Role::CommitteeClerk => other == Role::CellSecretary,
            _ => false,
        }
    }

    /// The kind of unit an account of this role is bound to (an administrator may sit at any unit).
    pub fn fits(self, kind: super::vocab::UnitKind) -> bool {
        use super::vocab::UnitKind as K;
        match self {
            Role::Admin => true,
            Role::ProvinceViewer => kind == K::Province,
            Role::DistrictViewer => kind == K::District,
            Role::CommitteeClerk => kind == K::Committee,
            Role::CellSecretary => kind == K::Cell,
        }
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

    #[test]
    fn clerks_grant_only_secretaries_and_viewers_nothing() {
        assert!(Role::CommitteeClerk.may_grant(Role::CellSecretary));
        for r in [Role::Admin, Role::ProvinceViewer, Role::DistrictViewer, Role::CommitteeClerk] {
            assert!(!Role::CommitteeClerk.may_grant(r));
            assert!(Role::Admin.may_grant(r));
        }
        assert!(!Role::DistrictViewer.may_grant(Role::CellSecretary));
        assert!(!Role::CellSecretary.can_manage_accounts());
    }
}
