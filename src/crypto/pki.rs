//! The PKI: a CA, the hub's server certificate and agency client certificates
//! (rcgen), and the complete key set each agency needs. In memory first
//! (`generate_ca`, `issue_server`, `issue_client`, `AgencyMaterial`), then
//! their key files (`write_agency`, `write_ca_and_hub`). Which sets to make,
//! where, and the directory entries for them are provisioning's business
//! (`crate::provision`), not this module's.
//!
//! The hub maps a client certificate to its agency by the SHA-256 of its DER
//! (`CertFingerprint`); the agency id in the certificate's subject is for humans.

use std::fmt;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SanType,
};
use rustls::pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

use super::files::{self, FileError};
use super::keys;
use crate::protocol::AgencyId;
use crate::protocol::ids::IdError;
use crate::protocol::keys::CertFingerprint;

/// The hub signing key's file name in a certificate directory.
pub const HUB_SIGNING_KEY: &str = "hub-signing-key.txt";

/// Validity of a CA certificate, in days.
pub const CA_DAYS: i64 = 3650;
/// Validity of hub and agency certificates issued for real deployments, in days.
pub const LEAF_DAYS: i64 = 825;
const ORGANIZATION: &str = "tsunagu";

/// Why a certificate or key set could not be made, loaded or written. An
/// underlying error is the `source()`, not repeated in the message.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error(transparent)]
    File(#[from] FileError),
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
    #[error("the CA key is {0}; only an ECDSA P-256 CA key (as `tsunagu certs ca` makes) can sign")]
    CaKeyAlgorithm(String),
    #[error("could not sign with the CA key")]
    Sign(#[source] rcgen::Error),
    #[error("the signature does not verify with the CA certificate's key")]
    BadSignature,
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

/// A new self-signed CA, valid for `days`.
pub fn generate_ca_for(common_name: &str, days: i64) -> Result<CaBundle, PkiError> {
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
            cert_pem: files::read(cert_path)?,
            key_pem: files::read_secret(key_path)?,
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
        let (key, der) = self.checked_key()?;
        Issuer::from_ca_cert_der(&der, key).map_err(|e| PkiError::CaCertificate(e.to_string()))
    }

    /// The CA key, refused unless it belongs to the CA certificate.
    fn checked_key(&self) -> Result<(KeyPair, CertificateDer<'static>), PkiError> {
        let key = KeyPair::from_pem(&self.key_pem).map_err(|e| PkiError::CaKey(e.to_string()))?;
        let der = first_certificate(&self.cert_pem).map_err(PkiError::CaCertificate)?;
        let cert = rustls::server::ParsedCertificate::try_from(&der)
            .map_err(|e| PkiError::CaCertificate(e.to_string()))?;
        if cert.subject_public_key_info().as_ref() != key.subject_public_key_info() {
            return Err(PkiError::CaKeyMismatch);
        }
        Ok((key, der))
    }

    /// Sign `message` with the CA key (ECDSA P-256 with SHA-256, the
    /// signature DER-encoded as in a certificate), for a statement the CA
    /// vouches for outside a certificate. The caller domain-separates
    /// `message` so it can never be read as a certificate's signed part
    /// (see `directory::signed`). Refuses a key that is not the
    /// certificate's, so what it signs always verifies with
    /// [`verify_ca_signature`].
    pub fn sign_statement(&self, message: &[u8]) -> Result<Vec<u8>, PkiError> {
        use rcgen::SigningKey as _;
        let (key, _) = self.checked_key()?;
        if key.algorithm() != &rcgen::PKCS_ECDSA_P256_SHA256 {
            return Err(PkiError::CaKeyAlgorithm(format!("{:?}", key.algorithm())));
        }
        key.sign(message).map_err(PkiError::Sign)
    }
}

/// Check a signature made by [`CaBundle::sign_statement`] with the public
/// key of the first certificate in `ca_cert_pem` (the CA certificate a node
/// already trusts for TLS). webpki does the verification, with ring.
pub fn verify_ca_signature(
    ca_cert_pem: &str,
    message: &[u8],
    signature: &[u8],
) -> Result<(), PkiError> {
    let der = first_certificate(ca_cert_pem).map_err(PkiError::CaCertificate)?;
    // webpki parses any certificate this way; only its key is used here.
    let cert = webpki::EndEntityCert::try_from(&der)
        .map_err(|e| PkiError::CaCertificate(e.to_string()))?;
    cert.verify_signature(webpki::ring::ECDSA_P256_SHA256, message, signature)
        .map_err(|_| PkiError::BadSignature)
}

impl CaBundle {
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

/// A hub server certificate as [`issue_server`], valid for `days`.
pub fn issue_server_for(ca: &CaBundle, names: &[&str], days: i64) -> Result<CertPair, PkiError> {
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

    /// Fresh keys and a client certificate valid for `days`.
    pub fn generate_for(ca: &CaBundle, id: &AgencyId, days: i64) -> Result<Self, PkiError> {
        let cert = issue_client_for(ca, id, days)?;
        Ok(Self {
            cert_fingerprint: cert.fingerprint()?,
            cert,
            age_identity: age::x25519::Identity::generate(),
            signing_key: keys::generate_signing_key(),
        })
    }
}

/// A PEM key with a `#` comment line above it (PEM parsers skip text outside
/// the BEGIN/END block).
fn commented_pem(comment: &str, pem: &str) -> String {
    format!("# {comment}\n{pem}")
}

/// Write an agency's files into `dir`: `cert.pem`, `key.pem`,
/// `age-identity.txt`, `signing-key.txt`, `records-key.txt` (key files 0600
/// on unix). `comment`
/// heads every key file.
pub fn write_agency(dir: &Path, material: &AgencyMaterial, comment: &str) -> Result<(), PkiError> {
    files::create_dir(dir)?;
    files::write_public(&dir.join("cert.pem"), &material.cert.cert_pem)?;
    files::write_secret(
        &dir.join("key.pem"),
        &commented_pem(comment, &material.cert.key_pem),
    )?;
    files::write_secret(
        &dir.join("age-identity.txt"),
        &keys::age_identity_file(&material.age_identity, comment),
    )?;
    files::write_secret(
        &dir.join("signing-key.txt"),
        &keys::signing_key_file(&material.signing_key, comment),
    )?;
    // The records key never leaves the node and is in no directory entry:
    // a fresh one for every node's local database.
    files::write_secret(
        &dir.join("records-key.txt"),
        &keys::records_key_file(&keys::RecordsKey::generate(), comment),
    )?;
    Ok(())
}

/// Write a CA and a hub certificate: `ca.pem`, `ca-key.pem`, `hub.pem`,
/// `hub-key.pem` (key files 0600 on unix). `comment` heads every key file.
pub fn write_ca_and_hub(
    out: &Path,
    ca: &CaBundle,
    hub: &CertPair,
    comment: &str,
) -> Result<(), PkiError> {
    files::write_public(&out.join("ca.pem"), &ca.cert_pem)?;
    files::write_secret(
        &out.join("ca-key.pem"),
        &commented_pem(comment, &ca.key_pem),
    )?;
    files::write_public(&out.join("hub.pem"), &hub.cert_pem)?;
    files::write_secret(
        &out.join("hub-key.pem"),
        &commented_pem(comment, &hub.key_pem),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_statement_verifies_with_its_ca_only_and_only_unchanged() {
        let one = generate_ca("one").unwrap();
        let two = generate_ca("two").unwrap();
        let signature = one.sign_statement(b"statement").unwrap();
        verify_ca_signature(&one.cert_pem, b"statement", &signature).unwrap();
        assert!(matches!(
            verify_ca_signature(&one.cert_pem, b"statemenT", &signature),
            Err(PkiError::BadSignature)
        ));
        assert!(matches!(
            verify_ca_signature(&two.cert_pem, b"statement", &signature),
            Err(PkiError::BadSignature)
        ));
        let mixed = CaBundle {
            cert_pem: one.cert_pem,
            key_pem: two.key_pem,
        };
        assert!(matches!(
            mixed.sign_statement(b"statement"),
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
