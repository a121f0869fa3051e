//! rustls configurations for the hub (server; a client certificate from the
//! hub's CA is required) and for agency nodes (client; trusts only the hub's
//! CA). TLS 1.3 only, ALPN `http/1.1` (websockets upgrade over HTTP/1.1).
//! Every configuration uses the ring provider explicitly, never a
//! process-default one.

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

use crate::protocol::keys::CertFingerprint;

/// Why a TLS configuration could not be built. `what` names the file (or,
/// for in-memory PEM, the role of the input) that failed; the underlying
/// error is the `source()`, not repeated in the message, so print the chain
/// (`{:#}` with anyhow).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("could not read {path}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{what} is not valid PEM")]
    Pem {
        what: String,
        source: std::io::Error,
    },
    #[error("{what} contains no certificate")]
    NoCertificate { what: String },
    #[error("{what} contains no private key")]
    NoPrivateKey { what: String },
    #[error("{what} is not a usable CA certificate")]
    Ca { what: String, source: rustls::Error },
    #[error("cannot verify client certificates against {what}")]
    Verifier {
        what: String,
        source: rustls::server::VerifierBuilderError,
    },
    #[error("certificate {cert} with key {key} cannot be used together")]
    CertKey {
        cert: String,
        key: String,
        source: rustls::Error,
    },
    #[error("TLS 1.3 is not available")]
    Protocol(#[source] rustls::Error),
}

/// PEM input and what to call it in errors.
struct Pem<'a> {
    what: String,
    bytes: &'a [u8],
}

impl<'a> Pem<'a> {
    fn new(what: impl Into<String>, bytes: &'a [u8]) -> Self {
        Self {
            what: what.into(),
            bytes,
        }
    }

    fn certs(&self) -> Result<Vec<CertificateDer<'static>>, TlsError> {
        let certs = rustls_pemfile::certs(&mut &self.bytes[..])
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| TlsError::Pem {
                what: self.what.clone(),
                source,
            })?;
        if certs.is_empty() {
            return Err(TlsError::NoCertificate {
                what: self.what.clone(),
            });
        }
        Ok(certs)
    }

    fn key(&self) -> Result<PrivateKeyDer<'static>, TlsError> {
        rustls_pemfile::private_key(&mut &self.bytes[..])
            .map_err(|source| TlsError::Pem {
                what: self.what.clone(),
                source,
            })?
            .ok_or_else(|| TlsError::NoPrivateKey {
                what: self.what.clone(),
            })
    }

    fn roots(&self) -> Result<Arc<RootCertStore>, TlsError> {
        let mut roots = RootCertStore::empty();
        for cert in self.certs()? {
            roots.add(cert).map_err(|source| TlsError::Ca {
                what: self.what.clone(),
                source,
            })?;
        }
        Ok(Arc::new(roots))
    }
}

/// A private key file: refused if others can read it.
fn read_key(path: &Path) -> Result<Vec<u8>, TlsError> {
    super::files::owner_only(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })?;
    read(path)
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn alpn() -> Vec<Vec<u8>> {
    vec![b"http/1.1".to_vec()]
}

/// The hub's server configuration: TLS 1.3, a client certificate signed by
/// the CA in `ca_pem` required, ALPN `http/1.1`.
pub fn server_config(
    ca_pem: &[u8],
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<ServerConfig>, TlsError> {
    build_server(
        Pem::new("the CA certificate", ca_pem),
        Pem::new("the hub certificate", cert_pem),
        Pem::new("the hub key", key_pem),
    )
}

/// `server_config` from PEM files.
pub fn server_config_from_files(
    ca: &Path,
    cert: &Path,
    key: &Path,
) -> Result<Arc<ServerConfig>, TlsError> {
    let (ca_pem, cert_pem, key_pem) = (read(ca)?, read(cert)?, read_key(key)?);
    build_server(
        Pem::new(ca.display().to_string(), &ca_pem),
        Pem::new(cert.display().to_string(), &cert_pem),
        Pem::new(key.display().to_string(), &key_pem),
    )
}

fn build_server(ca: Pem<'_>, cert: Pem<'_>, key: Pem<'_>) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = provider();
    let verifier = WebPkiClientVerifier::builder_with_provider(ca.roots()?, provider.clone())
        .build()
        .map_err(|source| TlsError::Verifier {
            what: ca.what.clone(),
            source,
        })?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(TlsError::Protocol)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(cert.certs()?, key.key()?)
        .map_err(|source| TlsError::CertKey {
            cert: cert.what,
            key: key.what,
            source,
        })?;
    config.alpn_protocols = alpn();
    Ok(Arc::new(config))
}

/// The staff web UI's server configuration (`[ui] tls_cert`/`tls_key`):
/// TLS 1.2 and 1.3 for browsers, no client certificate, ALPN `http/1.1`.
pub fn ui_server_config_from_files(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let (cert_pem, key_pem) = (read(cert)?, read_key(key)?);
    let cert = Pem::new(cert.display().to_string(), &cert_pem);
    let key = Pem::new(key.display().to_string(), &key_pem);
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Protocol)?
        .with_no_client_auth()
        .with_single_cert(cert.certs()?, key.key()?)
        .map_err(|source| TlsError::CertKey {
            cert: cert.what,
            key: key.what,
            source,
        })?;
    config.alpn_protocols = alpn();
    Ok(Arc::new(config))
}

/// An agency node's client configuration: TLS 1.3, trusts only the CA in
/// `ca_pem` (no web roots), presents the agency's certificate, ALPN `http/1.1`.
pub fn client_config(
    ca_pem: &[u8],
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<ClientConfig>, TlsError> {
    build_client(
        Pem::new("the CA certificate", ca_pem),
        Some((
            Pem::new("the agency certificate", cert_pem),
            Pem::new("the agency key", key_pem),
        )),
    )
}

/// `client_config` from PEM files.
pub fn client_config_from_files(
    ca: &Path,
    cert: &Path,
    key: &Path,
) -> Result<Arc<ClientConfig>, TlsError> {
    let (ca_pem, cert_pem, key_pem) = (read(ca)?, read(cert)?, read_key(key)?);
    build_client(
        Pem::new(ca.display().to_string(), &ca_pem),
        Some((
            Pem::new(cert.display().to_string(), &cert_pem),
            Pem::new(key.display().to_string(), &key_pem),
        )),
    )
}

/// A client configuration that presents no certificate (the hub refuses it;
/// for tests of exactly that).
pub fn client_config_without_cert(ca_pem: &[u8]) -> Result<Arc<ClientConfig>, TlsError> {
    build_client(Pem::new("the CA certificate", ca_pem), None)
}

fn build_client(
    ca: Pem<'_>,
    identity: Option<(Pem<'_>, Pem<'_>)>,
) -> Result<Arc<ClientConfig>, TlsError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(TlsError::Protocol)?
        .with_root_certificates(ca.roots()?);
    let mut config = match identity {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => builder
            .with_client_auth_cert(cert.certs()?, key.key()?)
            .map_err(|source| TlsError::CertKey {
                cert: cert.what,
                key: key.what,
                source,
            })?,
    };
    config.alpn_protocols = alpn();
    Ok(Arc::new(config))
}

/// The fingerprint of the peer's end-entity certificate, e.g. from
/// `ServerConnection::peer_certificates()`.
pub fn peer_fingerprint(certs: Option<&[CertificateDer<'_>]>) -> Option<CertFingerprint> {
    certs?.first().map(|c| CertFingerprint::of_der(c))
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::{TlsAcceptor, TlsConnector};

    use super::*;
    use crate::crypto::pki::{self, CaBundle, CertPair};

    struct Pki {
        ca: CaBundle,
        hub: CertPair,
        agency: CertPair,
    }

    fn pki() -> Pki {
        let ca = pki::generate_ca("test CA").unwrap();
        Pki {
            hub: pki::issue_server(&ca, &["localhost", "127.0.0.1"]).unwrap(),
            agency: pki::issue_client(&ca, "minato-center").unwrap(),
            ca,
        }
    }

    fn server(p: &Pki) -> Arc<ServerConfig> {
        server_config(
            p.ca.cert_pem.as_bytes(),
            p.hub.cert_pem.as_bytes(),
            p.hub.key_pem.as_bytes(),
        )
        .unwrap()
    }

    fn client(ca: &CaBundle, agency: &CertPair) -> Arc<ClientConfig> {
        client_config(
            ca.cert_pem.as_bytes(),
            agency.cert_pem.as_bytes(),
            agency.key_pem.as_bytes(),
        )
        .unwrap()
    }

    /// Run a handshake over an in-memory pipe, then one byte each way. Returns
    /// what the server saw: the client's fingerprint, or the error.
    async fn handshake(
        server: Arc<ServerConfig>,
        client: Arc<ClientConfig>,
    ) -> Result<Option<CertFingerprint>, std::io::Error> {
        let (client_io, server_io) = tokio::io::duplex(64 * 1024);
        let accept = async move {
            let mut tls = TlsAcceptor::from(server).accept(server_io).await?;
            let (_, conn) = tls.get_ref();
            assert_eq!(conn.alpn_protocol(), Some(&b"http/1.1"[..]));
            assert_eq!(
                conn.protocol_version(),
                Some(rustls::ProtocolVersion::TLSv1_3)
            );
            let seen = peer_fingerprint(conn.peer_certificates());
            tls.write_all(b"!").await?;
            tls.flush().await?;
            Ok::<_, std::io::Error>(seen)
        };
        let connect = async move {
            let name = "localhost".try_into().unwrap();
            let mut tls = TlsConnector::from(client).connect(name, client_io).await?;
            // In TLS 1.3 the client finishes before the server has checked its
            // certificate; reading is where a refusal reaches the client.
            let mut byte = [0u8; 1];
            tls.read_exact(&mut byte).await?;
            Ok::<_, std::io::Error>(())
        };
        let (server_saw, client_result) = tokio::join!(accept, connect);
        if server_saw.is_ok() {
            client_result?;
        } else {
            assert!(client_result.is_err(), "the client must see the refusal");
        }
        server_saw
    }

    /// The rustls error behind the server's refusal.
    fn rustls_error(result: Result<Option<CertFingerprint>, std::io::Error>) -> rustls::Error {
        let err = result.expect_err("the hub must refuse the handshake");
        err.get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
            .cloned()
            .unwrap_or_else(|| panic!("not a TLS error: {err}"))
    }

    #[tokio::test]
    async fn mutual_tls_handshake_succeeds_and_the_hub_sees_the_agency_fingerprint() {
        let p = pki();
        let seen = handshake(server(&p), client(&p.ca, &p.agency))
            .await
            .unwrap();
        assert_eq!(seen, Some(p.agency.fingerprint().unwrap()));
    }

    #[tokio::test]
    async fn a_client_certificate_from_another_ca_is_refused() {
        let p = pki();
        let other_ca = pki::generate_ca("another CA").unwrap();
        let stranger = pki::issue_client(&other_ca, "minato-center").unwrap();
        // The stranger trusts the real hub CA, but presents a foreign certificate.
        let refused = handshake(server(&p), client(&p.ca, &stranger)).await;
        assert_eq!(
            rustls_error(refused),
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
        );
    }

    #[tokio::test]
    async fn a_client_without_a_certificate_is_refused() {
        let p = pki();
        let client = client_config_without_cert(p.ca.cert_pem.as_bytes()).unwrap();
        let refused = handshake(server(&p), client).await;
        assert_eq!(
            rustls_error(refused),
            rustls::Error::NoCertificatesPresented
        );
    }

    #[tokio::test]
    async fn the_agency_refuses_a_hub_certificate_from_another_ca() {
        let p = pki();
        let other_ca = pki::generate_ca("another CA").unwrap();
        let fake_hub = pki::issue_server(&other_ca, &["localhost"]).unwrap();
        let fake = Pki {
            ca: p.ca.clone(),
            hub: fake_hub,
            agency: p.agency.clone(),
        };
        let refused = handshake(server(&fake), client(&p.ca, &p.agency)).await;
        assert_eq!(
            rustls_error(refused),
            rustls::Error::AlertReceived(rustls::AlertDescription::UnknownCA)
        );
    }

    #[tokio::test]
    async fn the_committed_example_files_connect_and_the_hub_sees_the_agency_certificate() {
        // The committed set, not a fresh one: writing example sets (and their
        // directory) is provisioning's job, which this module must not need.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("certs-example");
        let at = |name: &str| dir.join(name);
        let server =
            server_config_from_files(&at("ca.pem"), &at("hub.pem"), &at("hub-key.pem")).unwrap();
        let agency = at("agencies/sakura-clinic");
        let client = client_config_from_files(
            &at("ca.pem"),
            &agency.join("cert.pem"),
            &agency.join("key.pem"),
        )
        .unwrap();
        let seen = handshake(server, client).await.unwrap().unwrap();
        let cert = std::fs::read_to_string(agency.join("cert.pem")).unwrap();
        assert_eq!(seen, pki::fingerprint_pem(&cert).unwrap());
    }

    #[test]
    fn file_errors_name_the_file_that_failed() {
        let dir = tempfile::tempdir().unwrap();
        let p = pki();
        let ca = dir.path().join("ca.pem");
        let cert = dir.path().join("hub.pem");
        let key = dir.path().join("hub-key.pem");
        std::fs::write(&ca, &p.ca.cert_pem).unwrap();
        std::fs::write(&cert, &p.hub.cert_pem).unwrap();
        crate::crypto::files::write_secret(&key, "no key here").unwrap();
        let err = server_config_from_files(&ca, &cert, &key).unwrap_err();
        assert!(err.to_string().contains("hub-key.pem"), "{err}");
        let missing = dir.path().join("missing.pem");
        let err = client_config_from_files(&missing, &cert, &key).unwrap_err();
        assert!(err.to_string().contains("missing.pem"), "{err}");
        // A key others can read is refused before it is parsed.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::write(&key, &p.agency.key_pem).unwrap();
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
            let err = server_config_from_files(&ca, &cert, &key).unwrap_err();
            assert!(matches!(err, TlsError::Read { .. }), "{err}");
        }
        crate::crypto::files::write_secret(&key, &p.agency.key_pem).unwrap();
        let err = server_config_from_files(&ca, &cert, &key).unwrap_err();
        assert!(matches!(err, TlsError::CertKey { .. }), "{err}");
    }
}
