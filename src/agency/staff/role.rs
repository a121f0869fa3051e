//! The roles staff hold on a node, and the id of an account.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

/// A staff member's role (職種・役職). The Japanese label is what goes into
/// the signed author of what they send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum StaffRole {
    /// 保健師
    #[value(alias = "保健師")]
    PublicHealthNurse,
    /// 助産師
    #[value(alias = "助産師")]
    Midwife,
    /// ケースワーカー
    #[value(alias = "ケースワーカー")]
    Caseworker,
    /// 保育士
    #[value(alias = "保育士")]
    NurseryTeacher,
    /// 事務
    #[value(alias = "事務")]
    Clerk,
    /// 管理者: manages the node's staff accounts and reads the access log.
    #[value(alias = "管理者")]
    Administrator,
}

impl StaffRole {
    /// Every role, in the order staff see them.
    pub const ALL: [StaffRole; 6] = [
        StaffRole::PublicHealthNurse,
        StaffRole::Midwife,
        StaffRole::Caseworker,
        StaffRole::NurseryTeacher,
        StaffRole::Clerk,
        StaffRole::Administrator,
    ];

    /// The stored (wire) name.
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::PublicHealthNurse => "public_health_nurse",
            StaffRole::Midwife => "midwife",
            StaffRole::Caseworker => "caseworker",
            StaffRole::NurseryTeacher => "nursery_teacher",
            StaffRole::Clerk => "clerk",
            StaffRole::Administrator => "administrator",
        }
    }

    /// The label in `lang`.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            StaffRole::PublicHealthNurse => lang.pick("保健師", "public health nurse"),
            StaffRole::Midwife => lang.pick("助産師", "midwife"),
            StaffRole::Caseworker => lang.pick("ケースワーカー", "caseworker"),
            StaffRole::NurseryTeacher => lang.pick("保育士", "nursery teacher"),
            StaffRole::Clerk => lang.pick("事務", "clerk"),
            StaffRole::Administrator => lang.pick("管理者", "administrator"),
        }
    }

    /// Whether this role manages accounts and reads the access log.
    pub fn is_administrator(self) -> bool {
        self == StaffRole::Administrator
    }
}

/// A role name that is none of [`StaffRole::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown staff role {0:?}")]
pub struct UnknownRole(pub String);

/// The wire name, or the Japanese or English label.
impl std::str::FromStr for StaffRole {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, UnknownRole> {
        let s = s.trim();
        StaffRole::ALL
            .into_iter()
            .find(|r| {
                r.as_str() == s
                    || r.label(Lang::Ja) == s
                    || r.label(Lang::En).eq_ignore_ascii_case(s)
            })
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

impl fmt::Display for StaffRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A staff account's id: a random UUID, fit for a URL (`/staff/{id}`)
/// without revealing how many accounts there are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StaffId(pub uuid::Uuid);

impl StaffId {
    /// A fresh random id.
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4())
    }
}

impl Default for StaffId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for StaffId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for StaffId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_parses_from_its_wire_name_and_both_labels() {
        for role in StaffRole::ALL {
            assert_eq!(role.as_str().parse::<StaffRole>().unwrap(), role);
            assert_eq!(role.label(Lang::Ja).parse::<StaffRole>().unwrap(), role);
            assert_eq!(role.label(Lang::En).parse::<StaffRole>().unwrap(), role);
        }
        assert_eq!(
            "保健師".parse::<StaffRole>(),
            Ok(StaffRole::PublicHealthNurse)
        );
        assert!("doctor".parse::<StaffRole>().is_err());
    }
}
