//! The PKI: a CA, the hub's server certificate and agency client certificates
//! (rcgen), and the complete key set each agency needs. In memory first
//! (`generate_ca`, `issue_server`, `issue_client`, `AgencyMaterial`), files
//! second (`write_agency`, `write_example`, `issue_agency`, `write_hub_pki`).
//!
//! The hub maps a client certificate to its agency by the SHA-256 of its DER
//! (`CertFingerprint`); the agency id in the certificate's subject is for humans.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SanType,
};
use rustls::pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

use super::keys::{self, CertFingerprint, SigningPublicKey};
use crate::directory::{Agency, Directory, DirectoryError};
use crate::protocol::ids::IdError;
use crate::protocol::{AgencyId, AgencyKind};

/// Validity of a CA certificate.
const CA_DAYS: i64 = 3650;
/// Validity of hub and agency certificates issued for real deployments.
const LEAF_DAYS: i64 = 825;
/// Validity of every certificate in the committed example set: the demo and
/// the tests must not start failing two years after the set was generated.
const EXAMPLE_DAYS: i64 = 3650;

/// Names the example hub certificate is valid for.
const EXAMPLE_HUB_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
const EXAMPLE_CA_NAME: &str = "tsunagu EXAMPLE CA みなと市 (NOT FOR PRODUCTION)";
const EXAMPLE_COMMENT: &str = "EXAMPLE ONLY - 例示用の鍵。リポジトリで公開済み。本番では絶対に使わないこと / \
     example key, published in the repository, never use in production";
const ORGANIZATION: &str = "tsunagu";

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

/// Why a certificate or key set could not be made, loaded or written. An
/// underlying error is the `source()`, not repeated in the message.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("could not {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} already exists and is not empty; refusing to overwrite keys")]
    NotEmpty { path: PathBuf },
    #[error("could not generate {what}")]
    Generate {
        what: &'static str,
        source: rcgen::Error,
    },
    #[error("the CA certificate is not usable: {0}")]
    CaCertificate(String),
    #[error("the CA key is not usable: {0}")]
    CaKey(String),
    #[error("the CA key does not belong to the CA certificate")]
    CaKeyMismatch,
    #[error("the CA certificate {cert} with key {key} cannot sign certificates")]
    LoadCa {
        cert: PathBuf,
        key: PathBuf,
        source: Box<PkiError>,
    },
    #[error("not a PEM certificate: {0}")]
    Certificate(String),
    #[error("a hub certificate needs at least one DNS name or IP address")]
    NoServerNames,
    #[error("{name:?} is not a valid DNS name or IP address for the hub certificate")]
    ServerName { name: String, source: rcgen::Error },
    #[error(transparent)]
    AgencyId(#[from] IdError),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
}

fn generating(what: &'static str) -> impl FnOnce(rcgen::Error) -> PkiError {
    move |source| PkiError::Generate { what, source }
}

/// A certificate authority: its certificate and private key, both PEM.
#[derive(Clone)]
pub struct CaBundle {
    pub cert_pem: String,
    pub key_pem: String,
}

impl fmt::Debug for CaBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaBundle")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"[redacted]")
            .finish()
    }
}

/// A certificate and its private key, both PEM.
#[derive(Clone)]
pub struct CertPair {
    pub cert_pem: String,
    pub key_pem: String,
}

impl CertPair {
    /// The fingerprint the directory lists for this certificate.
    pub fn fingerprint(&self) -> Result<CertFingerprint, PkiError> {
        fingerprint_pem(&self.cert_pem)
    }
}

impl fmt::Debug for CertPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertPair")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"[redacted]")
            .finish()
    }
}

fn validity(params: &mut CertificateParams, days: i64) {
    let now = OffsetDateTime::now_utc();
    // An hour of slack for clocks that run a little behind the issuer's.
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(days);
}

fn subject(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, ORGANIZATION);
    dn.push(DnType::CommonName, common_name);
    dn
}

/// A new self-signed CA, valid for ten years.
pub fn generate_ca(common_name: &str) -> Result<CaBundle, PkiError> {
    generate_ca_for(common_name, CA_DAYS)
}

fn generate_ca_for(common_name: &str, days: i64) -> Result<CaBundle, PkiError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = subject(common_name);
    // Path length 0: this CA signs end-entity certificates only.
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut params, days);
    let key = KeyPair::generate().map_err(generating("the CA key"))?;
    let cert = params
        .self_signed(&key)
        .map_err(generating("the CA certificate"))?;
    Ok(CaBundle {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

impl CaBundle {
    /// Load an existing CA (e.g. one made by `tsunagu certs ca`) to sign more
    /// certificates. Checks that the key belongs to the certificate.
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<Self, PkiError> {
        let ca = Self {
            cert_pem: read(cert_path)?,
            key_pem: read(key_path)?,
        };
        ca.issuer().map_err(|e| PkiError::LoadCa {
            cert: cert_path.to_owned(),
            key: key_path.to_owned(),
            source: Box::new(e),
        })?;
        Ok(ca)
    }

    /// The rcgen issuer for this CA: its key, and the subject name, key
    /// usages and key identifier rcgen parses from the certificate, so that
    /// what it signs names it byte for byte. rcgen does not check that the
    /// key belongs to the certificate; this does.
    fn issuer(&self) -> Result<Issuer<'static, KeyPair>, PkiError> {
        let key = KeyPair::from_pem(&self.key_pem).map_err(|e| PkiError::CaKey(e.to_string()))?;
        let der = first_certificate(&self.cert_pem).map_err(PkiError::CaCertificate)?;
        let cert = rustls::server::ParsedCertificate::try_from(&der)
            .map_err(|e| PkiError::CaCertificate(e.to_string()))?;
        if cert.subject_public_key_info().as_ref() != key.subject_public_key_info() {
            return Err(PkiError::CaKeyMismatch);
        }
        Issuer::from_ca_cert_der(&der, key).map_err(|e| PkiError::CaCertificate(e.to_string()))
    }

    fn sign(&self, params: CertificateParams, what: &'static str) -> Result<CertPair, PkiError> {
        let issuer = self.issuer()?;
        let key = KeyPair::generate().map_err(generating(what))?;
        let cert = params.signed_by(&key, &issuer).map_err(generating(what))?;
        Ok(CertPair {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

fn leaf_params(common_name: &str, usage: ExtendedKeyUsagePurpose, days: i64) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = subject(common_name);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![usage];
    params.use_authority_key_identifier_extension = true;
    validity(&mut params, days);
    params
}

/// A hub server certificate for these DNS names and IP addresses (names that
/// parse as IP addresses become IP SANs), valid for 825 days.
pub fn issue_server(ca: &CaBundle, names: &[&str]) -> Result<CertPair, PkiError> {
    issue_server_for(ca, names, LEAF_DAYS)
}

fn issue_server_for(ca: &CaBundle, names: &[&str], days: i64) -> Result<CertPair, PkiError> {
    let first = names.first().ok_or(PkiError::NoServerNames)?;
    let mut params = leaf_params(first, ExtendedKeyUsagePurpose::ServerAuth, days);
    for name in names {
        let san = CertificateParams::new(vec![name.to_string()]).map_err(|source| {
            PkiError::ServerName {
                name: name.to_string(),
                source,
            }
        })?;
        params.subject_alt_names.extend(san.subject_alt_names);
    }
    ca.sign(params, "the hub certificate")
}

/// An agency's client certificate, valid for 825 days. Its subject and SAN
/// name the agency id.
pub fn issue_client(ca: &CaBundle, agency_id: &str) -> Result<CertPair, PkiError> {
    issue_client_for(ca, &agency_id.parse()?, LEAF_DAYS)
}

fn issue_client_for(ca: &CaBundle, id: &AgencyId, days: i64) -> Result<CertPair, PkiError> {
    let mut params = leaf_params(id.as_str(), ExtendedKeyUsagePurpose::ClientAuth, days);
    // An agency id is a slug (a-z, 0-9, '-'), always a valid IA5 string.
    let uri = format!("urn:tsunagu:agency:{id}")
        .try_into()
        .map_err(generating("the agency certificate"))?;
    params.subject_alt_names = vec![SanType::URI(uri)];
    ca.sign(params, "the agency certificate")
}

fn first_certificate(pem: &str) -> Result<CertificateDer<'static>, String> {
    rustls_pemfile::certs(&mut pem.as_bytes())
        .next()
        .ok_or_else(|| "no CERTIFICATE block".to_owned())?
        .map_err(|e| e.to_string())
}

/// The fingerprint of the first certificate in a PEM text.
pub fn fingerprint_pem(cert_pem: &str) -> Result<CertFingerprint, PkiError> {
    let der = first_certificate(cert_pem).map_err(PkiError::Certificate)?;
    Ok(CertFingerprint::of_der(&der))
}

/// Everything one agency needs: its TLS client certificate, its age identity
/// (to decrypt what is sent to it) and its Ed25519 key (to sign what it sends).
pub struct AgencyMaterial {
    pub cert: CertPair,
    pub cert_fingerprint: CertFingerprint,
    pub age_identity: age::x25519::Identity,
    pub signing_key: SigningKey,
}

impl fmt::Debug for AgencyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgencyMaterial")
            .field("cert", &self.cert)
            .field("cert_fingerprint", &self.cert_fingerprint)
            .field("age_recipient", &self.age_identity.to_public())
            .field("signing_key", &"[redacted]")
            .finish()
    }
}

impl AgencyMaterial {
    /// Fresh keys and a client certificate (825 days) for agency `id`.
    pub fn generate(ca: &CaBundle, id: &AgencyId) -> Result<Self, PkiError> {
        Self::generate_for(ca, id, LEAF_DAYS)
    }

    fn generate_for(ca: &CaBundle, id: &AgencyId, days: i64) -> Result<Self, PkiError> {
        let cert = issue_client_for(ca, id, days)?;
        Ok(Self {
            cert_fingerprint: cert.fingerprint()?,
            cert,
            age_identity: age::x25519::Identity::generate(),
            signing_key: keys::generate_signing_key(),
        })
    }

    /// The public entry the hub's directory lists for this agency.
    pub fn directory_entry(&self, id: &AgencyId, kind: AgencyKind, name: &str) -> Agency {
        Agency {
            id: id.clone(),
            kind,
            name: name.to_owned(),
            cert_fingerprint: self.cert_fingerprint.clone(),
            age_recipient: self.age_identity.to_public().into(),
            signing_key: SigningPublicKey(self.signing_key.verifying_key()),
            // Membership of the 要対協 is the municipality's decision: the
            // operator sets it in directory.toml.
            yotaikyo_member: false,
        }
    }
}

fn read(path: &Path) -> Result<String, PkiError> {
    std::fs::read_to_string(path).map_err(|source| PkiError::Io {
        action: "read",
        path: path.to_owned(),
        source,
    })
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> PkiError {
    move |source| PkiError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

fn write_public(path: &Path, text: &str) -> Result<(), PkiError> {
    std::fs::write(path, text).map_err(io_error("write", path))
}

/// Write a secret file readable by its owner only (0600 on unix). An existing
/// file is removed first so that it never holds new secrets under old modes.
fn write_secret(path: &Path, text: &str) -> Result<(), PkiError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(io_error("replace", path)(e));
        }
        _ => {}
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io_error("create", path))?;
    file.write_all(text.as_bytes())
        .map_err(io_error("write", path))
}

/// A PEM key with a `#` comment line above it (PEM parsers skip text outside
/// the BEGIN/END block).
fn commented_pem(comment: &str, pem: &str) -> String {
    format!("# {comment}\n{pem}")
}

/// Create `dir` if needed; refuse a non-empty one unless `force`.
fn prepare_dir(dir: &Path, force: bool) -> Result<(), PkiError> {
    if let Ok(mut entries) = std::fs::read_dir(dir)
        && entries.next().is_some()
        && !force
    {
        return Err(PkiError::NotEmpty {
            path: dir.to_owned(),
        });
    }
    std::fs::create_dir_all(dir).map_err(io_error("create directory", dir))
}

/// Write an agency's files into `dir`: `cert.pem`, `key.pem`,
/// `age-identity.txt`, `signing-key.txt` (key files 0600 on unix). `comment`
/// heads every key file.
pub fn write_agency(dir: &Path, material: &AgencyMaterial, comment: &str) -> Result<(), PkiError> {
    std::fs::create_dir_all(dir).map_err(io_error("create directory", dir))?;
    write_public(&dir.join("cert.pem"), &material.cert.cert_pem)?;
    write_secret(
        &dir.join("key.pem"),
        &commented_pem(comment, &material.cert.key_pem),
    )?;
    write_secret(
        &dir.join("age-identity.txt"),
        &keys::age_identity_file(&material.age_identity, comment),
    )?;
    write_secret(
        &dir.join("signing-key.txt"),
        &keys::signing_key_file(&material.signing_key, comment),
    )
}

/// Write a CA and a hub certificate: `ca.pem`, `ca-key.pem`, `hub.pem`, `hub-key.pem`.
fn write_ca_and_hub(
    out: &Path,
    ca: &CaBundle,
    hub: &CertPair,
    comment: &str,
) -> Result<(), PkiError> {
    write_public(&out.join("ca.pem"), &ca.cert_pem)?;
    write_secret(
        &out.join("ca-key.pem"),
        &commented_pem(comment, &ca.key_pem),
    )?;
    write_public(&out.join("hub.pem"), &hub.cert_pem)?;
    write_secret(
        &out.join("hub-key.pem"),
        &commented_pem(comment, &hub.key_pem),
    )
}

/// Generate and write the complete example set into `out`: CA, hub
/// certificate for localhost, the five みなと市 agencies, `directory.toml` and
/// a README. Refuses a non-empty `out` unless `force`.
pub fn write_example(out: &Path, force: bool) -> Result<(), PkiError> {
    prepare_dir(out, force)?;
    let ca = generate_ca_for(EXAMPLE_CA_NAME, EXAMPLE_DAYS)?;
    let hub = issue_server_for(&ca, &EXAMPLE_HUB_NAMES, EXAMPLE_DAYS)?;
    write_ca_and_hub(out, &ca, &hub, EXAMPLE_COMMENT)?;
    let mut entries = Vec::new();
    for (id, kind, name) in EXAMPLE_AGENCIES {
        let id: AgencyId = id.parse()?;
        let material = AgencyMaterial::generate_for(&ca, &id, EXAMPLE_DAYS)?;
        write_agency(
            &out.join("agencies").join(id.as_str()),
            &material,
            EXAMPLE_COMMENT,
        )?;
        let mut entry = material.directory_entry(&id, kind, name);
        // In the example city every agency but the clinic sits on the 要対協.
        entry.yotaikyo_member = kind != AgencyKind::ObstetricClinic;
        entries.push(entry);
    }
    let directory = Directory::new(entries)?;
    let toml = format!("# {EXAMPLE_COMMENT}\n\n{}", directory.to_toml());
    write_public(&out.join("directory.toml"), &toml)?;
    write_public(&out.join("README.md"), EXAMPLE_README)
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
) -> Result<Agency, PkiError> {
    prepare_dir(out, false)?;
    let material = AgencyMaterial::generate(ca, id)?;
    let comment = format!(
        "tsunagu {id} の秘密鍵。機関の外に出さないこと / secret key of agency {id}; never share it"
    );
    write_agency(out, &material, &comment)?;
    Ok(material.directory_entry(id, kind, name))
}

/// For a real deployment: a new CA (ten years) and a hub server certificate
/// (825 days) for `hub_names`, written into `out` (which must be empty or
/// absent) as `ca.pem`, `ca-key.pem`, `hub.pem`, `hub-key.pem`.
pub fn write_hub_pki(out: &Path, common_name: &str, hub_names: &[&str]) -> Result<(), PkiError> {
    prepare_dir(out, false)?;
    let ca = generate_ca(common_name)?;
    let hub = issue_server(&ca, hub_names)?;
    let comment = "tsunagu の秘密鍵。ハブの管理者以外に渡さないこと / secret key; never share it";
    write_ca_and_hub(out, &ca, &hub, comment)
}

/// The README of the example set, written as `README.md`.
const EXAMPLE_README: &str = include_str!("example_readme.md");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::AgeRecipient;

    /// The directory of an example set parses, and every entry's keys and
    /// fingerprint match the agency's files.
    fn assert_example_set_consistent(dir: &Path) {
        let directory = Directory::load(&dir.join("directory.toml")).unwrap();
        assert_eq!(directory.agencies().len(), EXAMPLE_AGENCIES.len());
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
            agency.join("key.pem"),
            agency.join("age-identity.txt"),
            agency.join("signing-key.txt"),
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
        assert!(matches!(refused, PkiError::NotEmpty { .. }), "{refused}");
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
        let id: AgencyId = "test-clinic".parse().unwrap();
        let out = dir.path().join("test-clinic");
        let entry =
            issue_agency(&ca, &id, AgencyKind::ObstetricClinic, "テスト医院", &out).unwrap();
        let cert = std::fs::read_to_string(out.join("cert.pem")).unwrap();
        assert_eq!(fingerprint_pem(&cert).unwrap(), entry.cert_fingerprint);
        let signing = keys::load_signing_key(&out.join("signing-key.txt")).unwrap();
        assert_eq!(signing.verifying_key(), entry.signing_key.0);
        let again = issue_agency(&ca, &id, AgencyKind::ObstetricClinic, "テスト医院", &out);
        assert!(matches!(again, Err(PkiError::NotEmpty { .. })));
    }

    #[test]
    fn a_ca_key_from_another_ca_is_refused() {
        let one = generate_ca("one").unwrap();
        let two = generate_ca("two").unwrap();
        let mixed = CaBundle {
            cert_pem: one.cert_pem,
            key_pem: two.key_pem,
        };
        assert!(matches!(
            issue_client(&mixed, "minato-center"),
            Err(PkiError::CaKeyMismatch)
        ));
    }

    #[test]
    fn bad_names_and_ids_are_refused_with_specific_errors() {
        let ca = generate_ca("ca").unwrap();
        assert!(matches!(
            issue_server(&ca, &[]),
            Err(PkiError::NoServerNames)
        ));
        assert!(matches!(
            issue_server(&ca, &["ハブ.example"]),
            Err(PkiError::ServerName { .. })
        ));
        assert!(matches!(
            issue_client(&ca, "Not An Id"),
            Err(PkiError::AgencyId(_))
        ));
        assert!(matches!(
            fingerprint_pem("nothing"),
            Err(PkiError::Certificate(_))
        ));
    }

    #[test]
    fn debug_output_never_shows_private_keys() {
        let ca = generate_ca("ca").unwrap();
        let pair = issue_client(&ca, "minato-center").unwrap();
        for shown in [format!("{ca:?}"), format!("{pair:?}")] {
            assert!(!shown.contains("PRIVATE KEY") && shown.contains("[redacted]"));
        }
    }
}
