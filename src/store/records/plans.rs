//! Support-plan records (whole plans and parts), sent or received, with the
//! envelope as signed: the plan id and version travel in its action.

use super::Records;
use crate::protocol::Timestamp;
use crate::store::StoreError;

/// A plan envelope this node holds.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PlanRow {
    pub envelope_id: String,
    /// The sender when received; `None` when this node sent it.
    pub sender: Option<String>,
    /// `support_plan` or `plan_part`.
    pub kind: String,
    pub case_id: Option<String>,
    pub created_at: Timestamp,
    /// The envelope as signed.
    pub envelope: Vec<u8>,
    /// Decrypted payload JSON.
    pub payload: String,
    /// `withdrawn` or `expired` once the consent it was shared under ended.
    pub consent_end_reason: Option<String>,
}

impl Records {
    /// Every plan and plan part received, and every one sent that the hub
    /// took or may still take (a refused version was never recorded),
    /// oldest first.
    pub async fn plan_rows(&self) -> Result<Vec<PlanRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT envelope_id, sender, kind, case_id, created_at, envelope, payload, \
             consent_end_reason FROM inbox WHERE kind IN ('support_plan', 'plan_part') \
             UNION ALL \
             SELECT envelope_id, NULL, kind, case_id, created_at, envelope, payload, NULL \
             FROM outbox WHERE kind IN ('support_plan', 'plan_part') \
             AND status IN ('accepted', 'pending') \
             ORDER BY created_at",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
