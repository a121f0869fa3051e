//! Cases, referral status, disclosure records and oversight lists. Every
//! answer is metadata only; the notifier of an abuse notification is never
//! shown to anyone but the parties of that envelope (児童虐待防止法 第7条).

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};

use super::peer::Caller;
use super::{Hub, HubError};
use crate::protocol::AgencyKind;
use crate::protocol::api::{
    CaseOpened, Disclosure, RecipientState, ReferralStatus, StatutoryUse, Violation,
    ViolationReport,
};
use crate::protocol::{AgencyId, CaseId, EnvelopeId, ErrorCode, LegalBasis};
use crate::store::model::{self, AuditEvent};

/// `POST /v1/cases`: a new case id, issued by the hub.
pub(crate) async fn open_case(
    State(hub): State<Hub>,
    Caller(agency): Caller,
) -> Result<Json<CaseOpened>, HubError> {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).map_err(|_| internal("random"))?;
    let case_id: CaseId = format!("case-{}", hex::encode(bytes))
        .parse()
        .map_err(|_| internal("case id"))?;
    hub.store
        .open_case(&case_id, &agency)
        .await
        .map_err(|e| HubError::internal(&e))?;
    tracing::info!(%agency, case = %case_id, "case opened");
    Ok(Json(CaseOpened { case_id }))
}

/// `GET /v1/referrals/{id}`: each recipient's state, for the sender and recipients.
pub(crate) async fn referral_status(
    State(hub): State<Hub>,
    Caller(agency): Caller,
    id: Result<Path<EnvelopeId>, PathRejection>,
) -> Result<Json<ReferralStatus>, HubError> {
    let Path(id) = id.map_err(|e| malformed(&e.body_text()))?;
    let record = hub
        .store
        .referral(id)
        .await
        .map_err(|e| HubError::internal(&e))?;
    let record = record
        .filter(|r| r.sender == agency || r.states.iter().any(|(a, _)| a == &agency))
        .ok_or_else(|| {
            HubError::new(
                ErrorCode::UnknownReferral,
                "その紹介は見つかりません。",
                "no such referral involving this agency",
            )
        })?;
    Ok(Json(ReferralStatus {
        referral: record.referral,
        sender: record.sender,
        states: record
            .states
            .into_iter()
            .map(|(agency, state)| RecipientState { agency, state })
            .collect(),
    }))
}

/// `GET /v1/cases/{id}/disclosures`: who received which categories about the
/// case, when, on which basis — for agencies involved in the case.
pub(crate) async fn disclosures(
    State(hub): State<Hub>,
    Caller(agency): Caller,
    case_id: Result<Path<CaseId>, PathRejection>,
) -> Result<Json<Vec<Disclosure>>, HubError> {
    let Path(case_id) = case_id.map_err(|e| malformed(&e.body_text()))?;
    let involved = hub
        .store
        .involved(&case_id, &agency)
        .await
        .map_err(|e| HubError::internal(&e))?;
    if !involved {
        return Err(HubError::new(
            ErrorCode::NotPermitted,
            "このケースに関係する機関だけが提供記録を確認できます。",
            "only agencies involved in the case may see its disclosure record",
        ));
    }
    let rows = hub
        .store
        .disclosures(&case_id)
        .await
        .map_err(|e| HubError::internal(&e))?;
    let rows: Vec<Disclosure> = rows
        .into_iter()
        .map(|mut row| {
            let party = row.sender.as_ref() == Some(&agency) || row.recipient == agency;
            if !party {
                withhold_notifier(&row.basis, &mut row.sender);
            }
            Disclosure::from(row)
        })
        .collect();
    audit_view(
        &hub,
        &agency,
        "disclosures_viewed",
        Some(case_id.to_string()),
    )
    .await;
    Ok(Json(rows))
}

/// `GET /v1/oversight/statutory`: every use of a statutory basis, for the
/// center and the 要対協 調整機関.
pub(crate) async fn statutory_uses(
    State(hub): State<Hub>,
    Caller(agency): Caller,
) -> Result<Json<Vec<StatutoryUse>>, HubError> {
    overseer(&hub, &agency)?;
    let rows = hub
        .store
        .statutory_uses()
        .await
        .map_err(|e| HubError::internal(&e))?;
    let rows: Vec<StatutoryUse> = rows
        .into_iter()
        .map(|mut row| {
            if row.sender.as_ref() != Some(&agency) && !row.recipients.contains(&agency) {
                withhold_notifier(&Some(row.basis.clone()), &mut row.sender);
            }
            StatutoryUse::from(row)
        })
        .collect();
    audit_view(&hub, &agency, "statutory_uses_viewed", None).await;
    Ok(Json(rows))
}

/// `POST /v1/violations`: a recipient reports content beyond the declared categories.
pub(crate) async fn report_violation(
    State(hub): State<Hub>,
    Caller(agency): Caller,
    report: Result<Json<ViolationReport>, JsonRejection>,
) -> Result<Json<serde_json::Value>, HubError> {
    let Json(report) = report.map_err(|e| malformed(&e.body_text()))?;
    let body = hub
        .store
        .envelope_body(report.envelope_id)
        .await
        .map_err(|e| HubError::internal(&e))?;
    let envelope = body.and_then(|b| crate::protocol::Envelope::parse(b).ok());
    if !envelope.is_some_and(|e| e.meta().recipients.contains(&agency)) {
        return Err(HubError::new(
            ErrorCode::UnknownReferral,
            "受信していないエンベロープについては報告できません。",
            "you can only report envelopes you received",
        ));
    }
    let detail = serde_json::to_value(&report).unwrap_or_default();
    hub.store
        .record_violation(report.envelope_id, &agency, detail)
        .await
        .map_err(|e| HubError::internal(&e))?;
    tracing::warn!(%agency, envelope = %report.envelope_id, "category violation reported");
    Ok(Json(serde_json::json!({ "status": "recorded" })))
}

/// `GET /v1/oversight/violations`: reported violations, for the center and the 調整機関.
pub(crate) async fn violations(
    State(hub): State<Hub>,
    Caller(agency): Caller,
) -> Result<Json<Vec<Violation>>, HubError> {
    overseer(&hub, &agency)?;
    let rows = hub
        .store
        .violations()
        .await
        .map_err(|e| HubError::internal(&e))?;
    Ok(Json(
        rows.into_iter()
            .map(
                |(envelope_id, reported_by, detail, reported_at)| Violation {
                    envelope_id,
                    reported_by,
                    detail,
                    reported_at,
                },
            )
            .collect(),
    ))
}

/// 児童虐待防止法 第7条: whoever is not a party to an abuse notification
/// is not told who made it.
fn withhold_notifier(basis: &Option<LegalBasis>, sender: &mut Option<AgencyId>) {
    match basis {
        Some(LegalBasis::AbuseNotification) => *sender = None,
        Some(
            LegalBasis::Consent { .. }
            | LegalBasis::YotaikyoSharing
            | LegalBasis::ProvisionToMunicipality
            | LegalBasis::VitalInterest,
        )
        | None => {}
    }
}

// The store's records become the API's bodies here, at the edge: the
// store's types may change with its queries, the wire types only with the
// protocol.
impl From<model::Disclosure> for Disclosure {
    fn from(d: model::Disclosure) -> Self {
        Self {
            envelope_id: d.envelope_id,
            sender: d.sender,
            recipient: d.recipient,
            kind: d.kind,
            categories: d.categories,
            consent_id: d.basis.as_ref().and_then(LegalBasis::consent_id),
            basis: d.basis.map(|b| b.as_str().to_owned()),
            accepted_at: d.accepted_at,
            delivered_at: d.delivered_at,
            cancelled: d.cancelled,
        }
    }
}

impl From<model::StatutoryUse> for StatutoryUse {
    fn from(u: model::StatutoryUse) -> Self {
        Self {
            envelope_id: u.envelope_id,
            sender: u.sender,
            recipients: u.recipients,
            case_id: u.case_id,
            basis: u.basis.as_str().to_owned(),
            categories: u.categories,
            urgency: u.urgency,
            accepted_at: u.accepted_at,
        }
    }
}

fn overseer(hub: &Hub, agency: &AgencyId) -> Result<(), HubError> {
    let kind = hub.directory().get(agency).map(|a| a.kind);
    if matches!(kind, Some(AgencyKind::Center | AgencyKind::Yotaikyo)) {
        return Ok(());
    }
    Err(HubError::new(
        ErrorCode::NotPermitted,
        "この一覧はこども家庭センターと要対協の調整機関だけが確認できます。",
        "only the center and the council's coordinating body may see this list",
    ))
}

async fn audit_view(hub: &Hub, agency: &AgencyId, event: &str, subject: Option<String>) {
    if let Err(e) = hub
        .store
        .audit(AuditEvent::new(
            event,
            Some(agency),
            subject,
            serde_json::json!({}),
        ))
        .await
    {
        tracing::error!(error = %e, "could not audit a view");
    }
}

fn malformed(detail: &str) -> HubError {
    HubError::new(
        ErrorCode::Malformed,
        format!("要求を解釈できません: {detail}"),
        format!("malformed request: {detail}"),
    )
}

fn internal(what: &str) -> HubError {
    tracing::error!(what, "internal failure");
    HubError::new(
        ErrorCode::Internal,
        "ハブ内部のエラーです。",
        "internal hub error",
    )
}
