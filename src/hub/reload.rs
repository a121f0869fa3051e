//! Putting a new directory in force without a restart (SIGHUP on
//! `tsunagu hub serve`, or [`Hub::reload_directory`]). The new file passes
//! the same checks as at start — the CA's signature, the hub's own signing
//! key — and must be newer than the one in force; then it replaces it for
//! every reader at once (the certificate→agency mapping, the policy,
//! `GET /v1/directory`, `welcome`), and every connection whose certificate
//! it no longer admits closes (`revocation`). A refused file changes
//! nothing: the hub keeps serving with the directory it had.

use std::path::Path;
use std::sync::Arc;

use super::Hub;
use crate::directory::{self, DirectoryError, SignatureError, SignedDirectory};
use crate::protocol::AgencyId;
use crate::store::model::AuditEvent;

/// What a reload changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reloaded {
    pub old_version: u64,
    pub new_version: u64,
    pub added: Vec<AgencyId>,
    /// Agencies whose entry changed (keys, certificate, kind, name,
    /// membership).
    pub updated: Vec<AgencyId>,
    /// Agencies no longer listed.
    pub revoked: Vec<AgencyId>,
}

/// Why a directory was not put in force.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// Unreadable, unsigned, altered, another CA's, or not newer.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// It does not name this hub's signing key.
    #[error(transparent)]
    HubKey(#[from] DirectoryError),
}

impl Hub {
    /// Read `path` and `path.sig`, check them against the CA certificate
    /// `ca_cert` and this hub's signing key, and put the directory in force
    /// if it is newer than the one held. `Ok(None)`: the very same
    /// directory, nothing to do. Every outcome but that one is an audit
    /// entry (`directory_reloaded`, `directory_reload_refused`).
    pub async fn reload_directory(
        &self,
        path: &Path,
        ca_cert: &Path,
    ) -> Result<Option<Reloaded>, ReloadError> {
        let outcome = self.swap_directory(path, ca_cert);
        let event = match &outcome {
            Ok(None) => {
                tracing::info!(version = self.published().version(), "directory unchanged");
                return outcome;
            }
            Ok(Some(r)) => {
                tracing::info!(
                    old_version = r.old_version,
                    new_version = r.new_version,
                    added = r.added.len(),
                    updated = r.updated.len(),
                    revoked = r.revoked.len(),
                    "directory reloaded"
                );
                AuditEvent::new(
                    "directory_reloaded",
                    None,
                    None,
                    serde_json::json!({
                        "old_version": r.old_version,
                        "new_version": r.new_version,
                        "added": r.added,
                        "updated": r.updated,
                        "revoked": r.revoked,
                    }),
                )
            }
            Err(e) => {
                tracing::error!(error = %e, version = self.published().version(), "directory reload refused; the directory in force stays");
                AuditEvent::new(
                    "directory_reload_refused",
                    None,
                    None,
                    serde_json::json!({ "reason": e.to_string() }),
                )
            }
        };
        if let Err(e) = self.store.audit(event).await {
            tracing::error!(error = %e, "could not audit a directory reload");
        }
        if let Ok(Some(r)) = &outcome {
            for agency in &r.revoked {
                self.cancel_queue_of(agency).await;
            }
        }
        outcome
    }

    /// A revoked agency left: what waits for it will never be fetched
    /// (no certificate maps to it any more, and its id is never reused).
    /// Each sender is told, so it can send again to whoever takes over; the
    /// sealed content cannot be re-addressed.
    async fn cancel_queue_of(&self, agency: &AgencyId) {
        let now = crate::protocol::Timestamp::from_datetime(self.clock.now());
        match self.store.cancel_deliveries_to_revoked(agency, &now).await {
            Ok(cancelled) => {
                tracing::info!(%agency, cancelled = cancelled.len(), "queued deliveries of a revoked agency cancelled; senders told");
                for (_, sender) in &cancelled {
                    self.wake.notify(sender);
                }
            }
            Err(e) => {
                tracing::error!(%agency, error = %e, "could not cancel the queued deliveries of a revoked agency; they stay queued, undelivered");
            }
        }
    }

    fn swap_directory(&self, path: &Path, ca_cert: &Path) -> Result<Option<Reloaded>, ReloadError> {
        let offered = SignedDirectory::load(path, ca_cert)?;
        offered.directory().check_hub_key(&self.signing)?;
        // Compared and replaced under the channel's lock, so two reloads at
        // once cannot put the older one in force.
        let mut outcome = Ok(None);
        self.current
            .send_if_modified(|held| match offered.newer_than(Some(held)) {
                Ok(true) => {
                    let diff = directory::diff(held.directory(), offered.directory());
                    outcome = Ok(Some(Reloaded {
                        old_version: diff.old_version,
                        new_version: diff.new_version,
                        added: diff.added,
                        updated: diff.changed.into_iter().map(|(id, _)| id).collect(),
                        revoked: diff.removed,
                    }));
                    *held = Arc::new(offered);
                    true
                }
                Ok(false) => false,
                Err(e) => {
                    outcome = Err(e.into());
                    false
                }
            });
        outcome
    }
}
