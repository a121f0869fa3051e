//! Changing `directory.toml` as an operator would by hand: add, update or
//! revoke one agency and raise `version`, keeping every comment, blank line
//! and the order of everything else (`toml_edit`, never a re-serialisation
//! of the whole file). The result must parse as a directory, or nothing is
//! returned to write.
//!
//! Each changed entry gets a comment naming the change, when and by whom
//! (`# 2026-11-30T09:00:00Z admin agency revoke by alice`): the comment is
//! part of the text the CA signs, so the directory the hub loads carries
//! its own signed record of who changed what.

use serde::Serialize;
use toml_edit::{ArrayOfTables, DocumentMut, Item, value};

use super::{Directory, DirectoryDiff, DirectoryError, Revoked, RevokedReason, diff};
use crate::protocol::keys::{AgeRecipient, CertFingerprint, SigningPublicKey};
use crate::protocol::{Agency, AgencyId, AgencyKind, RetiredKey, Timestamp};

/// Why an edit was refused; the file is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("the directory is not valid TOML: {0}")]
    Toml(#[from] toml_edit::TomlError),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error("`agency` in the directory is not a list of [[agency]] tables")]
    Shape,
    #[error("no agency {0} in the directory")]
    UnknownId(AgencyId),
    #[error("agency {0} is already in the directory")]
    DuplicateId(AgencyId),
    #[error("agency {0} was revoked; a revoked id is never reused: choose another id")]
    RevokedId(AgencyId),
    #[error("certificate {fingerprint} is already listed for agency {holder}")]
    DuplicateCertificate {
        fingerprint: CertFingerprint,
        holder: AgencyId,
    },
    #[error("certificate {0} was revoked and cannot be listed again: issue a new one")]
    RevokedCertificate(CertFingerprint),
    #[error("nothing to change: the entry already says that")]
    NothingToChange,
}

/// An agency's public keys, as read from the files `certs issue` (or
/// `certs rotate`) wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct AgencyKeys {
    pub cert_fingerprint: CertFingerprint,
    pub age_recipient: AgeRecipient,
    pub signing_key: SigningPublicKey,
}

/// What happens to a replaced signing key.
#[derive(Clone, Copy, Debug)]
pub enum OldSigningKey {
    /// Still trusted for envelopes received until then (sealed and queued
    /// before the change).
    TrustedUntil(Timestamp),
    /// Compromised: trusted no longer, nor any key retired before it.
    Distrusted,
}

/// The changes `update` makes; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct Update {
    pub name: Option<String>,
    pub kind: Option<AgencyKind>,
    pub yotaikyo_member: Option<bool>,
    pub keys: Option<(AgencyKeys, OldSigningKey)>,
}

/// A directory being edited.
pub struct DirectoryEdit {
    doc: DocumentMut,
    before: Directory,
    at: Timestamp,
    by: String,
}

/// The edited text, the directory it parses to, and what changed.
pub struct Edited {
    pub text: String,
    pub directory: Directory,
    pub diff: DirectoryDiff,
}

impl DirectoryEdit {
    /// Start from the text of a directory (which must parse as one), with
    /// `at` as the time of the change and `by` the operator making it.
    pub fn parse(text: &str, at: Timestamp, by: &str) -> Result<Self, EditError> {
        let before = Directory::parse(text)?;
        Ok(Self {
            doc: text.parse()?,
            before,
            at,
            by: by.replace(['\n', '\r'], " "),
        })
    }

    /// The comment line naming `what`, when and by whom.
    fn note(&self, what: &str) -> String {
        format!("# {} admin agency {what} by {}\n", self.at, self.by)
    }

    /// The directory before any edit.
    pub fn before(&self) -> &Directory {
        &self.before
    }

    /// List a new agency.
    pub fn add(&mut self, agency: &Agency) -> Result<(), EditError> {
        if self.before.get(&agency.id).is_some() {
            return Err(EditError::DuplicateId(agency.id.clone()));
        }
        if self.before.is_revoked_id(&agency.id) {
            return Err(EditError::RevokedId(agency.id.clone()));
        }
        self.check_certificate(&agency.cert_fingerprint)?;
        let mut table = first_table(serialized("agency", &[agency])?)?;
        noted(&mut table, &self.note("add"));
        table.set_position(Some(self.end()));
        self.tables("agency")?.push(table);
        Ok(())
    }

    /// Change one agency's entry.
    pub fn update(&mut self, id: &AgencyId, update: Update) -> Result<(), EditError> {
        let current = self
            .before
            .get(id)
            .cloned()
            .ok_or_else(|| EditError::UnknownId(id.clone()))?;
        let mut next = current.clone();
        if let Some(name) = update.name {
            next.name = name;
        }
        if let Some(kind) = update.kind {
            next.kind = kind;
        }
        if let Some(member) = update.yotaikyo_member {
            next.yotaikyo_member = member;
        }
        if let Some((keys, old)) = update.keys {
            if keys.cert_fingerprint != current.cert_fingerprint {
                self.check_certificate(&keys.cert_fingerprint)?;
            }
            self.new_keys(&mut next, keys, old);
        }
        if next == current {
            return Err(EditError::NothingToChange);
        }
        if next.cert_fingerprint != current.cert_fingerprint {
            self.record_revoked(&current, RevokedReason::Replaced)?;
        }
        let index = self.index_of(id)?;
        let note = self.note("update");
        let table = self
            .tables("agency")?
            .get_mut(index)
            .ok_or(EditError::Shape)?;
        noted(table, &note);
        let fresh = first_table(serialized("agency", &[&next])?)?;
        // Field by field, so the entry's own comments and order stay.
        for (key, item) in fresh.iter() {
            if table.get(key).map(Item::to_string) != Some(item.to_string()) {
                table.insert(key, item.clone());
            }
        }
        if next.retired_signing_keys.is_empty() {
            table.remove("retired_signing_keys");
        }
        Ok(())
    }

    /// Remove an agency, recording its certificate and id as revoked.
    pub fn revoke(&mut self, id: &AgencyId) -> Result<(), EditError> {
        let current = self
            .before
            .get(id)
            .cloned()
            .ok_or_else(|| EditError::UnknownId(id.clone()))?;
        let index = self.index_of(id)?;
        self.tables("agency")?.remove(index);
        self.record_revoked(&current, RevokedReason::Revoked)
    }

    /// Raise the version and check the result parses as a directory.
    pub fn finish(mut self) -> Result<Edited, EditError> {
        self.doc["version"] = value(i64::try_from(self.before.version() + 1).unwrap_or(i64::MAX));
        let text = self.doc.to_string();
        let directory = Directory::parse(&text)?;
        let diff = diff(&self.before, &directory);
        Ok(Edited {
            text,
            directory,
            diff,
        })
    }

    fn new_keys(&self, next: &mut Agency, keys: AgencyKeys, old: OldSigningKey) {
        let now = self.at;
        next.retired_signing_keys.retain(|r| r.until > now);
        if keys.signing_key != next.signing_key {
            match old {
                OldSigningKey::TrustedUntil(until) => next.retired_signing_keys.push(RetiredKey {
                    key: next.signing_key,
                    until,
                }),
                OldSigningKey::Distrusted => next.retired_signing_keys.clear(),
            }
        }
        next.cert_fingerprint = keys.cert_fingerprint;
        next.age_recipient = keys.age_recipient;
        next.signing_key = keys.signing_key;
    }

    fn check_certificate(&self, fingerprint: &CertFingerprint) -> Result<(), EditError> {
        if let Some(holder) = self.before.by_certificate(fingerprint) {
            return Err(EditError::DuplicateCertificate {
                fingerprint: fingerprint.clone(),
                holder: holder.id.clone(),
            });
        }
        if self.before.revocation_of(fingerprint).is_some() {
            return Err(EditError::RevokedCertificate(fingerprint.clone()));
        }
        Ok(())
    }

    fn record_revoked(&mut self, agency: &Agency, reason: RevokedReason) -> Result<(), EditError> {
        let revoked = Revoked {
            id: agency.id.clone(),
            cert_fingerprint: agency.cert_fingerprint.clone(),
            reason,
            at: self.at,
        };
        let what = match reason {
            RevokedReason::Revoked => "revoke",
            RevokedReason::Replaced => "update (certificate replaced)",
        };
        let mut table = first_table(serialized("revoked", &[revoked])?)?;
        noted(&mut table, &self.note(what));
        table.set_position(Some(self.end()));
        self.tables("revoked")?.push(table);
        Ok(())
    }

    /// A position after every table in the file: a new entry goes last.
    fn end(&self) -> isize {
        let positions = self.doc.iter().flat_map(|(_, item)| match item {
            Item::Table(t) => vec![t.position()],
            Item::ArrayOfTables(tables) => tables.iter().map(|t| t.position()).collect(),
            _ => Vec::new(),
        });
        positions.flatten().max().unwrap_or(0) + 1
    }

    fn index_of(&self, id: &AgencyId) -> Result<usize, EditError> {
        let tables = self.doc.get("agency").and_then(Item::as_array_of_tables);
        tables
            .and_then(|t| {
                t.iter()
                    .position(|t| t.get("id").and_then(|v| v.as_str()) == Some(id.as_str()))
            })
            .ok_or_else(|| EditError::UnknownId(id.clone()))
    }

    /// The `[[key]]` list, created (after everything else) if absent.
    fn tables(&mut self, key: &str) -> Result<&mut ArrayOfTables, EditError> {
        self.doc
            .entry(key)
            .or_insert(Item::ArrayOfTables(ArrayOfTables::new()))
            .as_array_of_tables_mut()
            .ok_or(EditError::Shape)
    }
}

/// Add a comment line above `table`, after the comments it has.
fn noted(table: &mut toml_edit::Table, line: &str) {
    let before = table
        .decor()
        .prefix()
        .and_then(|p| p.as_str())
        .filter(|p| !p.is_empty())
        .unwrap_or("\n");
    let prefix = format!("{before}{line}");
    table.decor_mut().set_prefix(prefix);
}

/// `[[key]]` tables as the directory's own serialisation writes them.
fn serialized<T: Serialize>(key: &str, items: &[T]) -> Result<DocumentMut, EditError> {
    let mut map = std::collections::BTreeMap::new();
    map.insert(key, items);
    let text = toml::to_string(&map).map_err(|_| EditError::Shape)?;
    let mut doc: DocumentMut = text.parse()?;
    // The key to look up below.
    doc.as_table_mut().set_implicit(true);
    doc.insert("__key", value(key));
    Ok(doc)
}

fn first_table(mut doc: DocumentMut) -> Result<toml_edit::Table, EditError> {
    let key = doc
        .remove("__key")
        .and_then(|k| k.as_str().map(str::to_owned))
        .ok_or(EditError::Shape)?;
    doc.remove(&key)
        .and_then(|item| item.into_array_of_tables().ok())
        .and_then(|tables| tables.into_iter().next())
        .ok_or(EditError::Shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../certs-example/directory.toml");

    fn at() -> Timestamp {
        "2026-11-30T09:00:00Z".parse().unwrap()
    }

    fn keys(fingerprint: &str) -> AgencyKeys {
        AgencyKeys {
            cert_fingerprint: CertFingerprint::try_from(format!("sha256:{fingerprint:0>64}"))
                .unwrap(),
            age_recipient: age::x25519::Identity::generate().to_public().into(),
            signing_key: SigningPublicKey(
                crate::crypto::keys::generate_signing_key().verifying_key(),
            ),
        }
    }

    fn newcomer(id: &str, fingerprint: &str) -> Agency {
        let keys = keys(fingerprint);
        Agency {
            id: id.parse().unwrap(),
            kind: AgencyKind::Nursery,
            name: "あおば保育園".into(),
            cert_fingerprint: keys.cert_fingerprint,
            age_recipient: keys.age_recipient,
            signing_key: keys.signing_key,
            yotaikyo_member: true,
            retired_signing_keys: Vec::new(),
        }
    }

    /// The operator's comments stay; only the version and the one entry
    /// change.
    #[test]
    fn an_added_agency_keeps_the_files_comments_and_raises_the_version() {
        let text = format!("# kept: who signs what\n{EXAMPLE}");
        let mut edit = DirectoryEdit::parse(&text, at(), "alice").unwrap();
        edit.add(&newcomer("aoba-nursery", "ab")).unwrap();
        let edited = edit.finish().unwrap();
        assert!(edited.text.starts_with("# kept: who signs what\n"));
        // Appended after every other entry, not moved to the top.
        assert!(
            edited.text.trim_end().ends_with("yotaikyo_member = true"),
            "{}",
            edited.text
        );
        let before = text.trim_end();
        assert!(
            edited
                .text
                .contains(&before[before.find("[hub]").unwrap()..])
        );
        assert!(edited.text.contains("あおば保育園"));
        assert!(
            edited.text.contains("admin agency add by alice\n"),
            "{}",
            edited.text
        );
        assert_eq!(
            edited.diff.added,
            ["aoba-nursery".parse::<AgencyId>().unwrap()]
        );
        assert_eq!(
            edited.directory.version(),
            Directory::parse(EXAMPLE).unwrap().version() + 1
        );
        assert!(
            edited
                .directory
                .get(&"aoba-nursery".parse().unwrap())
                .unwrap()
                .yotaikyo_member
        );
    }

    #[test]
    fn duplicates_and_unknown_ids_are_refused() {
        let before = Directory::parse(EXAMPLE).unwrap();
        let first = &before.agencies()[0];
        let mut edit = DirectoryEdit::parse(EXAMPLE, at(), "alice").unwrap();
        let twice = newcomer(first.id.as_str(), "cd");
        assert!(matches!(edit.add(&twice), Err(EditError::DuplicateId(_))));
        let mut same_cert = newcomer("aoba-nursery", "cd");
        same_cert.cert_fingerprint = first.cert_fingerprint.clone();
        assert!(matches!(
            edit.add(&same_cert),
            Err(EditError::DuplicateCertificate { .. })
        ));
        let nobody: AgencyId = "nobody".parse().unwrap();
        assert!(matches!(edit.revoke(&nobody), Err(EditError::UnknownId(_))));
        assert!(matches!(
            edit.update(&nobody, Update::default()),
            Err(EditError::UnknownId(_))
        ));
        assert!(matches!(
            edit.update(&first.id, Update::default()),
            Err(EditError::NothingToChange)
        ));
        assert!(matches!(
            DirectoryEdit::parse("version = [", at(), "alice"),
            Err(EditError::Directory(DirectoryError::Parse { .. }))
        ));
    }

    /// A revoked id is never reused, nor its certificate listed again.
    #[test]
    fn a_revoked_agency_is_recorded_and_its_id_and_certificate_are_never_reused() {
        let before = Directory::parse(EXAMPLE).unwrap();
        let gone = before.agencies()[1].clone();
        let mut edit = DirectoryEdit::parse(EXAMPLE, at(), "alice").unwrap();
        edit.revoke(&gone.id).unwrap();
        let edited = edit.finish().unwrap();
        assert_eq!(edited.diff.removed, std::slice::from_ref(&gone.id));
        let record = edited
            .directory
            .revocation_of(&gone.cert_fingerprint)
            .unwrap();
        assert_eq!((record.reason, record.at), (RevokedReason::Revoked, at()));
        let mut again = DirectoryEdit::parse(&edited.text, at(), "alice").unwrap();
        let same_id = newcomer(gone.id.as_str(), "ef");
        assert!(matches!(again.add(&same_id), Err(EditError::RevokedId(_))));
        let mut same_cert = newcomer("aoba-nursery", "ef");
        same_cert.cert_fingerprint = gone.cert_fingerprint;
        assert!(matches!(
            again.add(&same_cert),
            Err(EditError::RevokedCertificate(_))
        ));
    }

    /// New keys after a rotation: the old signing key is retired for its
    /// grace period (or distrusted after a compromise), the old certificate
    /// recorded as replaced.
    #[test]
    fn new_keys_retire_the_old_signing_key_and_revoke_the_old_certificate() {
        let before = Directory::parse(EXAMPLE).unwrap();
        let clinic = before.agencies()[0].clone();
        let until: Timestamp = "2026-12-30T09:00:00Z".parse().unwrap();
        let mut edit = DirectoryEdit::parse(EXAMPLE, at(), "alice").unwrap();
        let update = Update {
            keys: Some((keys("12"), OldSigningKey::TrustedUntil(until))),
            yotaikyo_member: Some(!clinic.yotaikyo_member),
            ..Update::default()
        };
        edit.update(&clinic.id, update).unwrap();
        let edited = edit.finish().unwrap();
        let now = edited.directory.get(&clinic.id).unwrap();
        assert_eq!(
            now.retired_signing_keys,
            [RetiredKey {
                key: clinic.signing_key,
                until
            }]
        );
        assert_eq!(now.yotaikyo_member, !clinic.yotaikyo_member);
        let replaced = edited
            .directory
            .revocation_of(&clinic.cert_fingerprint)
            .unwrap();
        assert_eq!(replaced.reason, RevokedReason::Replaced);
        let mut stolen = DirectoryEdit::parse(&edited.text, at(), "alice").unwrap();
        let update = Update {
            keys: Some((keys("34"), OldSigningKey::Distrusted)),
            ..Update::default()
        };
        stolen.update(&clinic.id, update).unwrap();
        let edited = stolen.finish().unwrap();
        let now = edited.directory.get(&clinic.id).unwrap();
        assert!(now.retired_signing_keys.is_empty());
        assert!(!edited.text.contains("retired_signing_keys"));
    }
}
