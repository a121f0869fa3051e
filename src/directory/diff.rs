//! What changed between two directories: what an operator must check before
//! signing (`tsunagu admin directory diff OLD NEW`). Every field that
//! decides who may connect or which keys are trusted is compared.

use super::Directory;
use crate::protocol::{Agency, AgencyId};

/// One field of one agency that differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldChange {
    /// The field's name in `directory.toml`.
    pub field: &'static str,
    pub old: String,
    pub new: String,
}

/// The differences between two directories.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirectoryDiff {
    pub old_version: u64,
    pub new_version: u64,
    /// The hub's signing key, when it changed: (old, new).
    pub hub_key: Option<(String, String)>,
    pub added: Vec<AgencyId>,
    pub removed: Vec<AgencyId>,
    pub changed: Vec<(AgencyId, Vec<FieldChange>)>,
}

impl DirectoryDiff {
    /// Nothing but (possibly) the version differs.
    pub fn is_empty(&self) -> bool {
        self.hub_key.is_none()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
    }
}

/// Compare `old` with `new`.
pub fn diff(old: &Directory, new: &Directory) -> DirectoryDiff {
    let key = |d: &Directory| d.hub_signing_key().map(ToString::to_string);
    let hub_key = (key(old) != key(new))
        .then(|| (key(old).unwrap_or_default(), key(new).unwrap_or_default()));
    let ids = |d: &Directory| {
        d.agencies()
            .iter()
            .map(|a| a.id.clone())
            .collect::<Vec<_>>()
    };
    DirectoryDiff {
        old_version: old.version(),
        new_version: new.version(),
        hub_key,
        added: ids(new)
            .into_iter()
            .filter(|id| old.get(id).is_none())
            .collect(),
        removed: ids(old)
            .into_iter()
            .filter(|id| new.get(id).is_none())
            .collect(),
        changed: old
            .agencies()
            .iter()
            .filter_map(|a| {
                let changes = fields(a, new.get(&a.id)?);
                (!changes.is_empty()).then(|| (a.id.clone(), changes))
            })
            .collect(),
    }
}

fn fields(old: &Agency, new: &Agency) -> Vec<FieldChange> {
    let retired = |a: &Agency| {
        a.retired_signing_keys
            .iter()
            .map(|r| format!("{} until {}", r.key, r.until))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let pairs: [(&'static str, String, String); 7] = [
        ("kind", format!("{:?}", old.kind), format!("{:?}", new.kind)),
        ("name", old.name.clone(), new.name.clone()),
        (
            "cert_fingerprint",
            old.cert_fingerprint.to_string(),
            new.cert_fingerprint.to_string(),
        ),
        (
            "age_recipient",
            old.age_recipient.to_string(),
            new.age_recipient.to_string(),
        ),
        (
            "signing_key",
            old.signing_key.to_string(),
            new.signing_key.to_string(),
        ),
        ("retired_signing_keys", retired(old), retired(new)),
        (
            "yotaikyo_member",
            old.yotaikyo_member.to_string(),
            new.yotaikyo_member.to_string(),
        ),
    ];
    pairs
        .into_iter()
        .filter(|(_, old, new)| old != new)
        .map(|(field, old, new)| FieldChange { field, old, new })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../certs-example/directory.toml");

    /// Every change an operator must see before signing: an agency added or
    /// removed, a swapped key, a changed membership.
    #[test]
    fn a_diff_names_added_removed_and_changed_agencies_and_keys() {
        let old = Directory::parse(EXAMPLE).unwrap();
        let mut agencies = old.agencies().to_vec();
        let removed = agencies.pop().unwrap();
        let swapped = age::x25519::Identity::generate().to_public();
        agencies[0].age_recipient = swapped.clone().into();
        agencies[1].yotaikyo_member = !agencies[1].yotaikyo_member;
        let mut added = agencies[2].clone();
        added.id = "new-agency".parse().unwrap();
        added.cert_fingerprint = removed.cert_fingerprint.clone();
        agencies.push(added);
        let new = Directory::new(agencies)
            .unwrap()
            .with_version(old.version() + 1);
        let diff = diff(&old, &new);
        assert_eq!(diff.added, ["new-agency".parse::<AgencyId>().unwrap()]);
        assert_eq!(diff.removed, [removed.id]);
        assert!(diff.hub_key.is_some(), "the new one names no hub key");
        let fields: Vec<(&str, &str)> = diff
            .changed
            .iter()
            .flat_map(|(id, changes)| changes.iter().map(move |c| (id.as_str(), c.field)))
            .collect();
        let (first, second) = (old.agencies()[0].id.as_str(), old.agencies()[1].id.as_str());
        assert_eq!(
            fields,
            [(first, "age_recipient"), (second, "yotaikyo_member")]
        );
        assert_eq!(diff.changed[0].1[0].new, swapped.to_string());
        assert!(super::diff(&old, &old).is_empty());
    }
}
