//! Provisioning: which key sets a deployment or the example gets, where they
//! are written, and the directory entries that list them. The keys and
//! certificates themselves come from `crypto::pki`; this module decides what
//! to make and builds the `directory.toml` around them, so the cryptography
//! never depends on the directory.
//!
//! - `tsunagu certs example` → [`write_example`]: the committed みなと市 set.
//! - `tsunagu certs ca` → [`write_hub_pki`]: a real CA and hub certificate.
//! - `tsunagu certs issue` → [`issue_agency`]: one agency's keys and its entry.
//! - `tsunagu certs rotate` → [`rotate_agency`]: an agency's new age and
//!   signing keys, the old age identity kept below the new one.
//!
//! Where the CA key is at hand (the example, a new CA) the directory is
//! written with its signature; elsewhere the operator signs it
//! (`tsunagu admin directory sign`).

use std::path::{Path, PathBuf};

use crate::crypto::files::{self, FileError};
use crate::crypto::keys;
use crate::crypto::pki::{self, AgencyMaterial, CaBundle, HUB_SIGNING_KEY, PkiError};
use crate::directory::{self, Directory, DirectoryError, HubEntry, SignatureError};
use crate::protocol::ids::IdError;
use crate::protocol::keys::SigningPublicKey;
use crate::protocol::{Agency, AgencyId, AgencyKind, RetiredKey, Timestamp};

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
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error(transparent)]
    Key(#[from] crate::crypto::CryptoError),
    #[error("could not replace {path}: {source}")]
    Replace {
        path: PathBuf,
        source: std::io::Error,
    },
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
        retired_signing_keys: Vec::new(),
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
    write_signed_directory(&out.join("directory.toml"), &toml, &ca)?;
    Ok(files::write_public(&out.join("README.md"), EXAMPLE_README)?)
}

/// Write a directory's text and the CA's signature beside it
/// (`directory.toml.sig`).
pub fn write_signed_directory(
    path: &Path,
    text: &str,
    ca: &CaBundle,
) -> Result<(), ProvisionError> {
    let signature = directory::sign(text, ca)?;
    files::write_public(path, text)?;
    Ok(files::write_public(
        &directory::signature_path(path),
        &signature,
    )?)
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
    write_signed_directory(&out.join("directory.toml"), &directory.to_toml(), &ca)
}

/// An agency's new public keys after [`rotate_agency`]: what its directory
/// entry must say once the operator has signed it.
#[derive(Clone, Debug)]
pub struct Rotation {
    pub age_recipient: crate::protocol::keys::AgeRecipient,
    pub signing_key: SigningPublicKey,
    /// The old signing key, trusted until the grace period ends; `None`
    /// after a compromise (a stolen key must stop verifying at once).
    pub retired: Option<RetiredKey>,
}

/// Rotate the keys of the agency whose files are in `dir` (as
/// `certs issue` wrote them): a new age identity goes at the top of
/// `age-identity.txt`, the old ones stay below it (so the node still opens
/// what was sent to them); a new `signing-key.txt` replaces the old one.
/// `grace` is how long envelopes signed with the old key are still
/// accepted; `None` for a compromised key. Each file is replaced whole
/// (written beside it, then renamed), so a crash leaves the old or the new
/// file, never half of one.
pub fn rotate_agency(
    dir: &Path,
    grace: Option<time::Duration>,
) -> Result<Rotation, ProvisionError> {
    let (age_path, signing_path) = (dir.join("age-identity.txt"), dir.join("signing-key.txt"));
    let old_identities = keys::load_age_identities(&age_path)?;
    let old_signing = keys::load_signing_key(&signing_path)?;
    let now = Timestamp::now();
    let identity = age::x25519::Identity::generate();
    let signing = keys::generate_signing_key();
    let mut identities = keys::age_identity_file(&identity, &format!("rotated in {now}"));
    for old in &old_identities {
        identities.push_str(&keys::age_identity_file(
            old,
            "retired: opens what was sent before the rotation",
        ));
    }
    replace_secret(&age_path, &identities)?;
    replace_secret(
        &signing_path,
        &keys::signing_key_file(&signing, &format!("rotated in {now}")),
    )?;
    Ok(Rotation {
        age_recipient: identity.to_public().into(),
        signing_key: SigningPublicKey(signing.verifying_key()),
        retired: grace.map(|grace| RetiredKey {
            key: SigningPublicKey(old_signing.verifying_key()),
            until: Timestamp::from_datetime(now.datetime() + grace),
        }),
    })
}

fn replace_secret(path: &Path, text: &str) -> Result<(), ProvisionError> {
    let mut next = path.as_os_str().to_owned();
    next.push(".next");
    let next = PathBuf::from(next);
    files::write_secret(&next, text)?;
    std::fs::rename(&next, path).map_err(|source| ProvisionError::Replace {
        path: path.to_owned(),
        source,
    })
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
        let signed =
            directory::SignedDirectory::load(&dir.join("directory.toml"), &dir.join("ca.pem"))
                .unwrap();
        let directory = signed.directory();
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

    /// A rotated agency keeps its old age identity (below the new one) and
    /// gets a new signing key; the old one is retired for the grace period,
    /// or not at all after a compromise.
    #[test]
    fn a_rotation_keeps_the_old_age_identity_and_retires_the_old_signing_key() {
        let dir = tempfile::tempdir().unwrap();
        write_example(dir.path(), false).unwrap();
        let agency = dir.path().join("agencies/minato-center");
        let old_age = keys::load_age_identity(&agency.join("age-identity.txt")).unwrap();
        let old_signing = keys::load_signing_key(&agency.join("signing-key.txt")).unwrap();
        let rotation = rotate_agency(&agency, Some(time::Duration::days(30))).unwrap();
        let all = keys::load_age_identities(&agency.join("age-identity.txt")).unwrap();
        let publics: Vec<AgeRecipient> = all.iter().map(|i| i.to_public().into()).collect();
        assert_eq!(
            publics,
            [rotation.age_recipient.clone(), old_age.to_public().into()]
        );
        let signing = keys::load_signing_key(&agency.join("signing-key.txt")).unwrap();
        assert_eq!(signing.verifying_key(), rotation.signing_key.0);
        let retired = rotation.retired.unwrap();
        assert_eq!(retired.key.0, old_signing.verifying_key());
        assert!(retired.until > Timestamp::now());
        let compromised = rotate_agency(&agency, None).unwrap();
        assert!(compromised.retired.is_none());
        let all = keys::load_age_identities(&agency.join("age-identity.txt")).unwrap();
        assert_eq!(all.len(), 3);
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
        // Signed by the new CA: the hub starts on it as written.
        directory::SignedDirectory::load(
            &dir.path().join("directory.toml"),
            &dir.path().join("ca.pem"),
        )
        .unwrap()
        .directory()
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
