//! Who a user is to chibo: a role bound to a unit (the scope is that unit's subtree as it stands today).

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Admin,
    ProvinceViewer,
    DistrictViewer,
    CommitteeClerk,
    CellSecretary,
}

impl Role {
    pub const ALL: [Role; 5] =
        [Role::Admin, Role::ProvinceViewer, Role::DistrictViewer, Role::CommitteeClerk, Role::CellSecretary];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::ProvinceViewer => "province_viewer",
            Role::DistrictViewer => "district_viewer",
            Role::CommitteeClerk => "committee_clerk",
            Role::CellSecretary => "cell_secretary",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Role::Admin => "Quản trị hệ thống",
            Role::ProvinceViewer => "Ban Tổ chức Tỉnh ủy",
            Role::DistrictViewer => "Cấp huyện",
            Role::CommitteeClerk => "Văn phòng đảng ủy cơ sở",
            Role::CellSecretary => "Bí thư chi bộ",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Role::Admin => "System administrator",
            Role::ProvinceViewer => "Provincial Organization Committee",
            Role::DistrictViewer => "District level",
            Role::CommitteeClerk => "Grassroots committee office",
            Role::CellSecretary => "Cell secretary",
        }
    }

    /// The label in the language of the request being handled.
    pub fn label(self) -> &'static str {
        if crate::i18n::lang() == crate::i18n::Lang::En { self.label_en() } else { self.label_vi() }
    }

    /// May this role change meetings and tasks of cells in its scope?
    pub fn can_edit_meetings(self) -> bool {
        matches!(self, Role::Admin | Role::CommitteeClerk | Role::CellSecretary)
    }

    /// May this role keep the structure and the people current (units, members, officials) in its scope?
    pub fn can_manage_records(self) -> bool {
        matches!(self, Role::Admin | Role::CommitteeClerk)
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
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn viewers_above_committee_see_no_names_and_change_nothing() {
        for r in [Role::ProvinceViewer, Role::DistrictViewer] {
            assert!(!r.can_see_names());
            assert!(!r.can_edit_meetings());
        }
    }
}
