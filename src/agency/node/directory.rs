//! The directory a node trusts: only one the CA signed (checked against the
//! CA certificate the node already trusts for TLS, `tls.ca`), never older
//! than the newest it has accepted (kept in its records), so that a hub can
//! neither substitute an agency's keys nor replay an old directory that
//! still lists a revoked agency's keys. A refused directory changes
//! nothing: the node stays on the one it had, or does not start without
//! one.

use std::sync::{Arc, RwLock};

use super::{NodeError, client_error};
use crate::agency::client::HubClient;
use crate::agency::config::AgencyConfig;
use crate::directory::{SignatureError, SignedDirectory};
use crate::protocol::Timestamp;
use crate::store::records::{DirectoryKept, Records};

/// The accepted directory, and what it takes to accept a newer one.
pub(super) struct TrustedDirectory {
    ca_cert_pem: String,
    /// A pinned directory file (`directory = …` in agency.toml): the
    /// operator updates it, so the node does not fetch from the hub.
    pinned: bool,
    current: RwLock<Arc<SignedDirectory>>,
}

impl TrustedDirectory {
    /// The pinned file or the hub's directory, if it verifies and is not
    /// older than the one held; else the held one (with the refusal
    /// logged); else the refusal.
    pub(super) async fn open(
        config: &AgencyConfig,
        client: &HubClient,
        records: &Records,
    ) -> Result<Self, NodeError> {
        let ca_cert_pem =
            std::fs::read_to_string(&config.tls.ca).map_err(|source| SignatureError::Read {
                path: config.tls.ca.clone(),
                source,
            })?;
        let held = held(records, &ca_cert_pem).await?;
        let offered = match &config.directory {
            Some(path) => SignedDirectory::load(path, &config.tls.ca).map_err(NodeError::from),
            None => fetch(client, &ca_cert_pem).await,
        };
        let current = match (offered, held) {
            (Ok(offered), held) => match keep(records, offered, held.as_ref()).await {
                Ok(current) => current,
                Err(refusal) => stay(held, refusal)?,
            },
            (Err(refusal), held) => stay(held, refusal)?,
        };
        Ok(Self {
            ca_cert_pem,
            pinned: config.directory.is_some(),
            current: RwLock::new(Arc::new(current)),
        })
    }

    /// The newest accepted directory.
    pub(super) fn current(&self) -> Arc<SignedDirectory> {
        // A poisoned lock only means a panic elsewhere; the value is whole.
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The hub says it serves `version`: fetch and accept it if it is newer
    /// than ours (and the node is not pinned to a file). `Ok(None)` when
    /// there was nothing to do; a refusal leaves the current one in place.
    pub(super) async fn refresh(
        &self,
        client: &HubClient,
        records: &Records,
        version: u64,
    ) -> Result<Option<u64>, NodeError> {
        let current = self.current();
        if self.pinned || version <= current.version() {
            return Ok(None);
        }
        let offered = fetch(client, &self.ca_cert_pem).await?;
        let accepted = keep(records, offered, Some(&current)).await?;
        let version = accepted.version();
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(accepted);
        Ok(Some(version))
    }
}

/// The newest directory the records hold, verified again (a CA that
/// changed since means it is no longer trusted).
async fn held(records: &Records, ca_cert_pem: &str) -> Result<Option<SignedDirectory>, NodeError> {
    let Some(row) = records.current_directory().await? else {
        return Ok(None);
    };
    match SignedDirectory::verify(row.text, row.signature, ca_cert_pem) {
        Ok(held) => Ok(Some(held)),
        Err(e) => {
            tracing::error!(error = %e, "the directory kept in the records no longer verifies with the CA certificate; ignoring it");
            Ok(None)
        }
    }
}

async fn fetch(client: &HubClient, ca_cert_pem: &str) -> Result<SignedDirectory, NodeError> {
    let published = client.directory().await.map_err(client_error)?;
    Ok(SignedDirectory::verify(
        published.directory,
        published.signature,
        ca_cert_pem,
    )?)
}

/// Accept `offered` if it is newer than `held` (or the same), keeping it in
/// the records.
async fn keep(
    records: &Records,
    offered: SignedDirectory,
    held: Option<&SignedDirectory>,
) -> Result<SignedDirectory, NodeError> {
    if !offered.newer_than(held)? {
        return Ok(offered);
    }
    let kept = records
        .keep_directory(
            offered.version(),
            offered.text(),
            offered.signature(),
            Timestamp::now(),
        )
        .await?;
    match kept {
        DirectoryKept::Accepted => {
            // Debug: every staff command opens the node, and its output
            // is for staff; a running node's update is logged by the node.
            tracing::debug!(
                version = offered.version(),
                "accepted a CA-signed directory"
            );
            Ok(offered)
        }
        // Another process on the same records accepted a newer one first.
        DirectoryKept::NotNewer { held } => Err(SignatureError::NotNewer {
            offered: offered.version(),
            held: held.try_into().unwrap_or(u64::MAX),
        }
        .into()),
    }
}

/// Keep the held directory after a refusal, or fail without one.
fn stay(held: Option<SignedDirectory>, refusal: NodeError) -> Result<SignedDirectory, NodeError> {
    match held {
        Some(held) => {
            tracing::error!(error = %refusal, held = held.version(), "refused the offered directory; staying on the one held");
            Ok(held)
        }
        None => Err(refusal),
    }
}
