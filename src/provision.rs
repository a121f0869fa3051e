//! Provisioning: which key sets a deployment or the example gets, where they
//! are written, and the directory entries that list them. The keys and
//! certificates themselves come from `crypto::pki`; this module decides what
//! to make and builds the `directory.toml` around them, so the cryptography
//! never depends on the directory.
//!
//! - `tsunagu certs example` → [`write_example`]: the committed みなと市 set.
//! - `tsunagu certs ca` → [`write_hub_pki`]: a real CA and hub certificate.
//! - `tsunagu certs issue` → [`issue_agency`]: one agency's keys and its entry.

use std::path::{Path, PathBuf};

use crate::crypto::files::{self, FileError};
use crate::crypto::keys;
use crate::crypto::pki::{self, AgencyMaterial, CaBundle, HUB_SIGNING_KEY, PkiError};
use crate::directory::{Directory, DirectoryError, HubEntry};
use crate::protocol::ids::IdError;
use crate::protocol::keys::SigningPublicKey;
use crate::protocol::{Agency, AgencyId, AgencyKind};

/// Validity of every certificate in the committed example set: the demo and
/// the tests must not start failing two years after the set was generated.
const EXAMPLE_DAYS: i64 = 3650;

/// Names the example hub certificate is valid for.
const EXAMPLE_HUB_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
const EXAMPLE_CA_NAME: &str = "tsunagu EXAMPLE CA みなと市 (NOT FOR PRODUCTION)";
const EXAMPLE_COMMENT: &str = "EXAMPLE ONLY - 例示用の鍵。リポジトリで公開済み。本番では絶対に使わないこと / \
     example key, published in the repository, never use in production";

/// The README of the example set, written as `README.md`.
const EXAMPLE_README: &str = include_str!("provision/example_readme.md");

/// The agencies of the example set, in the fictional municipality みなと市.
pub const EXAMPLE_AGENCIES: [(&str, AgencyKind, &str); 5] = [
    (
        "minato-center",
        AgencyKind::Center,
        "みなと市こども家庭センター",
    ),
    (
        "sakura-clinic",
        AgencyKind::ObstetricClinic,
        "さくらレディースクリニック",
    ),
    (
        "minato-child-welfare",
        AgencyKind::ChildWelfare,
        "みなと市子ども家庭総合支援拠点",
    ),
    ("hikari-nursery", AgencyKind::Nursery, "ひかり保育園"),
    (
        "minato-yotaikyo",
        AgencyKind::Yotaikyo,
        "みなと市要保護児童対策地域協議会 調整機関",
    ),
];

/// Why a key set could not be provisioned. An underlying error is the
/// `source()`, not repeated in the message.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("{path} already exists and is not empty; refusing to overwrite keys")]
    NotEmpty { path: PathBuf },
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(transparent)]
    AgencyId(#[from] IdError),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
}

/// The public entry the hub's directory lists for an agency with these keys.
pub fn directory_entry(
    material: &AgencyMaterial,
    id: &AgencyId,
    kind: AgencyKind,
    name: &str,
) -> Agency {
    Agency {
        id: id.clone(),
        kind,
        name: name.to_owned(),
        cert_fingerprint: material.cert_fingerprint.clone(),
        age_recipient: material.age_identity.to_public().into(),
        signing_key: SigningPublicKey(material.signing_key.verifying_key()),
        // Membership of the 要対協 is the municipality's decision: the
        // operator sets it in directory.toml.
        yotaikyo_member: false,
    }
}

/// A new hub signing key, written as `hub-signing-key.txt` in `out` (0600);
/// returns the directory's `[hub]` entry for it.
pub fn write_hub_signing_key(out: &Path, comment: &str) -> Result<HubEntry, ProvisionError> {
    let key = keys::generate_signing_key();
    files::write_secret(
        &out.join(HUB_SIGNING_KEY),
        &keys::signing_key_file(&key, comment),
    )?;
    Ok(HubEntry {
        signing_key: SigningPublicKey(key.verifying_key()),
    })
}

/// Create `dir` if needed; refuse a non-empty one unless `force`.
fn prepare_dir(dir: &Path, force: bool) -> Result<(), ProvisionError> {
    if let Ok(mut entries) = std::fs::read_dir(dir)
        && entries.next().is_some()
        && !force
    {
        return Err(ProvisionError::NotEmpty {
            path: dir.to_owned(),
        });
    }
    Ok(files::create_dir(dir)?)
}

/// Generate and write the complete example set into `out`: CA, hub
/// certificate for localhost, the five みなと市 agencies, `directory.toml` and
/// a README. Refuses a non-empty `out` unless `force`.
pub fn write_example(out: &Path, force: bool) -> Result<(), ProvisionError> {
    prepare_dir(out, force)?;
    let ca = pki::generate_ca_for(EXAMPLE_CA_NAME, EXAMPLE_DAYS)?;
    let hub = pki::issue_server_for(&ca, &EXAMPLE_HUB_NAMES, EXAMPLE_DAYS)?;
    pki::write_ca_and_hub(out, &ca, &hub, EXAMPLE_COMMENT)?;
    let hub_entry = write_hub_signing_key(out, EXAMPLE_COMMENT)?;
    let mut entries = Vec::new();
    for (id, kind, name) in EXAMPLE_AGENCIES {
        let id: AgencyId = id.parse()?;
        let material = AgencyMaterial::generate_for(&ca, &id, EXAMPLE_DAYS)?;
        pki::write_agency(
            &out.join("agencies").join(id.as_str()),
            &material,
            EXAMPLE_COMMENT,
        )?;
        let mut entry = directory_entry(&material, &id, kind, name);
        // In the example city every agency but the clinic sits on the 要対協.
        entry.yotaikyo_member = kind != AgencyKind::ObstetricClinic;
        entries.push(entry);
    }
    let directory = Directory::new(entries)?.with_version(1).with_hub(hub_entry);
    let toml = format!("# {EXAMPLE_COMMENT}\n\n{}", directory.to_toml());
    files::write_public(&out.join("directory.toml"), &toml)?;
    Ok(files::write_public(&out.join("README.md"), EXAMPLE_README)?)
}

/// For a real deployment: fresh keys and a client certificate for one agency,
/// written into `out` (which must be empty or absent). Returns the entry to
/// add to the hub's `directory.toml`.
pub fn issue_agency(
    ca: &CaBundle,
    id: &AgencyId,
    kind: AgencyKind,
    name: &str,
    out: &Path,
) -> Result<Agency, ProvisionError> {
    prepare_dir(out, false)?;
    let material = AgencyMaterial::generate(ca, id)?;
    let comment = format!(
        "tsunagu {id} の秘密鍵。機関の外に出さないこと / secret key of agency {id}; never share it"
    );
    pki::write_agency(out, &material, &comment)?;
    Ok(directory_entry(&material, id, kind, name))
}

/// For a real deployment: a new CA (ten years) and a hub server certificate
/// (825 days) for `hub_names`, written into `out` (which must be empty or
/// absent) as `ca.pem`, `ca-key.pem`, `hub.pem`, `hub-key.pem`, with the
/// hub's signing key `hub-signing-key.txt` and a `directory.toml` that names
/// it and lists no agency yet.
pub fn write_hub_pki(
    out: &Path,
    common_name: &str,
    hub_names: &[&str],
) -> Result<(), ProvisionError> {
    prepare_dir(out, false)?;
    let ca = pki::generate_ca(common_name)?;
    let hub = pki::issue_server(&ca, hub_names)?;
    let comment = "tsunagu の秘密鍵。ハブの管理者以外に渡さないこと / secret key; never share it";
    pki::write_ca_and_hub(out, &ca, &hub, comment)?;
    let hub_entry = write_hub_signing_key(out, comment)?;
    let directory = Directory::new(Vec::new())?
        .with_version(1)
        .with_hub(hub_entry);
    Ok(files::write_public(
        &out.join("directory.toml"),
        &directory.to_toml(),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys;
    use crate::crypto::pki::fingerprint_pem;
    use crate::protocol::keys::AgeRecipient;

    /// The directory of an example set parses, and every entry's keys and
    /// fingerprint match the agency's files.
    fn assert_example_set_consistent(dir: &Path) {
        let directory = Directory::load(&dir.join("directory.toml")).unwrap();
        assert_eq!(directory.agencies().len(), EXAMPLE_AGENCIES.len());
        let hub_key = keys::load_signing_key(&dir.join(HUB_SIGNING_KEY)).unwrap();
        directory.check_hub_key(&hub_key).unwrap();
        assert!(directory.version() >= 1);
        for (id, kind, name) in EXAMPLE_AGENCIES {
            let entry = directory.get(&id.parse().unwrap()).unwrap();
            assert_eq!((entry.kind, entry.name.as_str()), (kind, name));
            let files = dir.join("agencies").join(id);
            let identity = keys::load_age_identity(&files.join("age-identity.txt")).unwrap();
            assert_eq!(
                AgeRecipient::from(identity.to_public()),
                entry.age_recipient
            );
            let signing = keys::load_signing_key(&files.join("signing-key.txt")).unwrap();
            assert_eq!(signing.verifying_key(), entry.signing_key.0);
            keys::load_records_key(&files.join("records-key.txt")).unwrap();
            let cert = std::fs::read_to_string(files.join("cert.pem")).unwrap();
            assert_eq!(fingerprint_pem(&cert).unwrap(), entry.cert_fingerprint);
            assert_eq!(
                directory.by_certificate(&entry.cert_fingerprint),
                Some(entry)
            );
        }
    }

    #[test]
    fn the_written_example_set_loads_and_matches_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        write_example(dir.path(), false).unwrap();
        assert_example_set_consistent(dir.path());
    }

    #[test]
    fn the_committed_example_set_loads_and_matches_its_directory() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("certs-example");
        assert_example_set_consistent(&dir);
        CaBundle::load(&dir.join("ca.pem"), &dir.join("ca-key.pem")).unwrap();
    }

    #[test]
    fn every_example_key_file_says_example_only_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        write_example(dir.path(), false).unwrap();
        let agency = dir.path().join("agencies/minato-center");
        let key_files = [
            dir.path().join("ca-key.pem"),
            dir.path().join("hub-key.pem"),
            dir.path().join(HUB_SIGNING_KEY),
            agency.join("key.pem"),
            agency.join("age-identity.txt"),
            agency.join("signing-key.txt"),
            agency.join("records-key.txt"),
        ];
        for path in key_files {
            let text = std::fs::read_to_string(&path).unwrap();
            let first = text.lines().next().unwrap();
            assert!(first.starts_with("# EXAMPLE ONLY"), "{}", path.display());
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&path).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{}", path.display());
            }
        }
        let readme = std::fs::read_to_string(dir.path().join("README.md")).unwrap();
        assert!(readme.contains("EXAMPLE KEYS") && readme.contains("tsunagu certs issue"));
    }

    #[test]
    fn the_example_refuses_a_non_empty_directory_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keep.txt"), "x").unwrap();
        let refused = write_example(dir.path(), false).unwrap_err();
        assert!(
            matches!(refused, ProvisionError::NotEmpty { .. }),
            "{refused}"
        );
        write_example(dir.path(), true).unwrap();
        write_example(dir.path(), true).unwrap();
        assert!(Directory::load(&dir.path().join("directory.toml")).is_ok());
    }

    #[test]
    fn a_loaded_ca_issues_an_agency_whose_files_match_its_entry() {
        let dir = tempfile::tempdir().unwrap();
        write_hub_pki(
            dir.path(),
            "テスト市 CA",
            &["hub.example.lg.jp", "192.0.2.1"],
        )
        .unwrap();
        let ca =
            CaBundle::load(&dir.path().join("ca.pem"), &dir.path().join("ca-key.pem")).unwrap();
        let hub_key = keys::load_signing_key(&dir.path().join(HUB_SIGNING_KEY)).unwrap();
        Directory::load(&dir.path().join("directory.toml"))
            .unwrap()
            .check_hub_key(&hub_key)
            .unwrap();
        let id: AgencyId = "test-clinic".parse().unwrap();
        let out = dir.path().join("test-clinic");
        let entry =
            issue_agency(&ca, &id, AgencyKind::ObstetricClinic, "テスト医院", &out).unwrap();
        let cert = std::fs::read_to_string(out.join("cert.pem")).unwrap();
        assert_eq!(fingerprint_pem(&cert).unwrap(), entry.cert_fingerprint);
        let signing = keys::load_signing_key(&out.join("signing-key.txt")).unwrap();
        assert_eq!(signing.verifying_key(), entry.signing_key.0);
        keys::load_records_key(&out.join("records-key.txt")).unwrap();
        let again = issue_agency(&ca, &id, AgencyKind::ObstetricClinic, "テスト医院", &out);
        assert!(matches!(again, Err(ProvisionError::NotEmpty { .. })));
    }
}
