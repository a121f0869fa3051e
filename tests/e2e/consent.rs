//! Consent and legal basis, enforced on every exchange.

use std::sync::Arc;

use tsunagu::agency::NodeEvent;
use tsunagu::hub::clock::ManualClock;
use tsunagu::protocol::AgencyKind;
use tsunagu::protocol::action::Action;
use tsunagu::protocol::case::{CaseClassification, Registration};
use tsunagu::protocol::consent::{ConsentDecision, ConsentRecipient};
use tsunagu::protocol::notice::ConsentEnd;
use tsunagu::protocol::payload::Body;
use tsunagu::protocol::{ErrorCode, InfoCategory, LegalBasis, Notice, Purpose, Seq, Timestamp};

use crate::helpers::*;

both_backends!(
    a_referral_relying_on_a_recorded_consent_is_delivered,
    a_referral_without_a_legal_basis_is_refused,
    a_referral_naming_a_consent_that_was_never_recorded_is_refused,
    a_refused_or_untold_consent_covers_nothing,
    a_recipient_outside_the_consent_is_refused_and_named,
    a_consent_scoped_by_agency_kind_covers_that_kind_only,
    a_category_outside_the_consent_is_refused_and_named,
    a_purpose_outside_the_consent_is_refused,
    an_expired_consent_is_refused_and_its_expiry_cancels_what_is_queued,
    withdrawal_stops_new_sharing_cancels_queued_deliveries_and_tells_holders,
    a_statutory_basis_without_a_written_justification_is_not_sent,
    provision_to_the_municipality_needs_no_consent_but_only_reaches_the_municipality,
    yotaikyo_sharing_needs_a_registered_case_among_members,
    vital_interest_is_for_emergencies_and_is_listed_for_the_center,
    an_abuse_notification_needs_no_consent_and_hides_the_notifier_from_others,
    the_disclosure_record_answers_who_knows_about_her,
    content_beyond_the_declared_categories_is_reported_as_a_violation,
    a_consent_that_covers_nothing_or_ends_before_it_starts_is_refused,
);

struct World {
    hub: TestHub,
    clinic: TestNode,
    center: TestNode,
    welfare: TestNode,
    nursery: TestNode,
    _data: tempfile::TempDir,
}

impl World {
    async fn start(db: &Db) -> World {
        Self::start_with(db, Arc::new(ManualClock::new())).await
    }

    async fn start_with(db: &Db, clock: Arc<ManualClock>) -> World {
        let hub =
            TestHub::start_with_clock(db, Arc::new(tempfile::tempdir().unwrap()), None, clock)
                .await;
        let data = tempfile::tempdir().unwrap();
        World {
            clinic: TestNode::connect(&hub.url, CLINIC, data.path()).await,
            center: TestNode::connect(&hub.url, CENTER, data.path()).await,
            welfare: TestNode::connect(&hub.url, WELFARE, data.path()).await,
            nursery: TestNode::connect(&hub.url, NURSERY, data.path()).await,
            hub,
            _data: data,
        }
    }

    async fn stop(self) {
        for n in [self.clinic, self.center, self.welfare, self.nursery] {
            n.stop().await;
        }
        self.hub.stop().await;
    }
}

async fn a_referral_relying_on_a_recorded_consent_is_delivered(db: Db) {
    let mut w = World::start(&db).await;
    let case = w.clinic.node.open_case().await.unwrap();
    let scope = consent_scope(&case, &[CENTER, WELFARE]);
    sent(&w.clinic, &consent_record_draft(scope.clone())).await;
    let id = sent(
        &w.clinic,
        &consent_referral_draft(&case, scope.consent_id, &[CENTER, WELFARE]),
    )
    .await;
    w.center.wait_stored(id).await;
    w.welfare.wait_stored(id).await;
    w.stop().await;
}

async fn a_referral_without_a_legal_basis_is_refused(db: Db) {
    let w = World::start(&db).await;
    let case = w.clinic.node.open_case().await.unwrap();
    let mut draft = referral_draft(&case, &[CENTER]);
    draft.basis = None;
    refused_with(&w.clinic, &draft, ErrorCode::LegalBasisMissing).await;
    let mut draft = referral_draft(&case, &[CENTER]);
    draft.case_id = None;
    refused_with(&w.clinic, &draft, ErrorCode::UnknownCase).await;
    assert_eq!(w.hub.store.last_seq(&agency(CENTER)).await.unwrap(), Seq(0));
    w.stop().await;
}

async fn a_referral_naming_a_consent_that_was_never_recorded_is_refused(db: Db) {
    let w = World::start(&db).await;
    let case = w.clinic.node.open_case().await.unwrap();
    let scope = consent_scope(&case, &[CENTER]);
    let body = refused_with(
        &w.clinic,
        &consent_referral_draft(&case, scope.consent_id, &[CENTER]),
        ErrorCode::ConsentNotFound,
    )
    .await;
    assert!(
        body.message.contains("本人同意"),
        "the basis tried is named: {}",
        body.message
    );
    assert_eq!(w.hub.store.last_seq(&agency(CENTER)).await.unwrap(), Seq(0));
    w.stop().await;
}

async fn a_refused_or_untold_consent_covers_nothing(db: Db) {
    let w = World::start(&db).await;
    let case = w.clinic.node.open_case().await.unwrap();
    for decision in [ConsentDecision::Refused, ConsentDecision::NotTold] {
        let mut scope = consent_scope(&case, &[CENTER]);
        scope.decision = decision;
        sent(&w.clinic, &consent_record_draft(scope.clone())).await;
        refused_with(
            &w.clinic,
            &consent_referral_draft(&case, scope.consent_id, &[CENTER]),
            ErrorCode::ConsentNotGranted,
        )
        .await;
    }
    w.stop().await;
}

async fn a_recipient_outside_the_consent_is_refused_and_named(db: Db) {
    let w = World::start(&db).await;
    let case = w.clinic.node.open_case().await.unwrap();
    let scope = consent_scope(&case, &[CENTER]);
    sent(&w.clinic, &consent_record_draft(scope.clone())).await;
    let body = refused_with(
        &w.clinic,
        &consent_referral_draft(&case, scope.consent_id, &[CENTER, NURSERY]),
        ErrorCode::RecipientNotCovered,
    )
    .await;
    assert!(
        body.message.contains(NURSERY) && body.message_en.contains("consent"),
        "{body:?}"
    );
    // The center holds only the consent record; the nursery nothing.
    assert_eq!(
        w.hub.store.last_seq(&agency(CENTER)).await.unwrap(),
        Seq(1),
        "nothing more delivered"
    );
    assert_eq!(
        w.hub.store.last_seq(&agency(NURSERY)).await.unwrap(),
        Seq(0)
    );
    w.stop().await;
}

async fn a_consent_scoped_by_agency_kind_covers_that_kind_only(db: Db) {
    let mut w = World::start(&db).await;
    let case = w.clinic.node.open_case().await.unwrap();
    let mut scope = consent_scope(&case, &[]);
    scope.recipients = vec![ConsentRecipient::Kind(AgencyKind::ChildWelfare)];
    sent(&w.clinic, &consent_record_draft(scope.clone())).await;
    let id = sent(
        &w.clinic,
        &consent_referral_draft(&case, scope.consent_id, &[WELFARE]),
    )
    .await;
    w.welfare.wait_stored(id).await;
    let body = refused_with(
        &w.clinic,
        &consent_referral_draft(&case, scope.consent_id, &[CENTER]),
        ErrorCode::RecipientNotCovered,
    )
    .await;
    assert!(body.message.contains(CENTER));
    w.stop().await;
}

async fn a_category_outside_the_consent_is_refused_and_named(db: Db) {
    let w = World::start(&db).await;
    let case = w.clinic.node.open_case().await.unwrap();
    let mut scope = consent_scope(&case, &[CENTER]);
    scope
        .categories
        .retain(|c| *c != InfoCategory::MentalHealth);
    sent(&w.clinic, &consent_record_draft(scope.clone())).await;
    let body = refused_with(
        &w.clinic,
        &consent_referral_draft(&case, scope.consent_id, &[CENTER]),
        ErrorCode::CategoryNotCovered,
    )
    .await;
    assert!(body.message.contains("精神保健"), "{}", body.message);
    w.stop().await;
}

async fn a_purpose_outside_the_consent_is_refused(db: Db) {
    let w = World::start(&db).await;
    let case = w.clinic.node.open_case().await.unwrap();
    let mut scope = consent_scope(&case, &[CENTER]);
    scope.purposes = vec![Purpose::CaseMeeting];
    sent(&w.clinic, &consent_record_draft(scope.clone())).await;
    refused_with(
        &w.clinic,
        &consent_referral_draft(&case, scope.consent_id, &[CENTER]),
        ErrorCode::PurposeNotCovered,
    )
    .await;
    w.stop().await;
}

async fn an_expired_consent_is_refused_and_its_expiry_cancels_what_is_queued(db: Db) {
    let clock = Arc::new(ManualClock::new());
    let mut w = World::start_with(&db, clock.clone()).await;
    let case = w.clinic.node.open_case().await.unwrap();
    let mut scope = consent_scope(&case, &[CENTER, WELFARE]);
    scope.valid_until = Some(Timestamp::from_datetime(
        clock.now_for_test() + time::Duration::days(30),
    ));
    sent(&w.clinic, &consent_record_draft(scope.clone())).await;
    // The center holds one referral; welfare is offline when the second is sent.
    let first = sent(
        &w.clinic,
        &consent_referral_draft(&case, scope.consent_id, &[CENTER]),
    )
    .await;
    w.center.wait_stored(first).await;
    let welfare = std::mem::replace(
        &mut w.welfare,
        TestNode::open(&w.hub.url, NURSERY, w._data.path()).await,
    );
    welfare.stop().await;
    let queued = sent(
        &w.clinic,
        &consent_referral_draft(&case, scope.consent_id, &[WELFARE]),
    )
    .await;

    clock.advance(time::Duration::days(31));
    let report = w.hub.hub.tick().await.unwrap();
    assert_eq!(report.expired_consents, 1);
    refused_with(
        &w.clinic,
        &consent_referral_draft(&case, scope.consent_id, &[CENTER]),
        ErrorCode::ConsentExpired,
    )
    .await;

    let cancelled = w
        .clinic
        .wait_for(|e| {
            matches!(
                e,
                NodeEvent::Notice {
                    notice: Notice::DeliveryCancelled { .. },
                    ..
                }
            )
        })
        .await;
    let NodeEvent::Notice {
        notice:
            Notice::DeliveryCancelled {
                envelope_id,
                recipient,
                ..
            },
        ..
    } = cancelled
    else {
        unreachable!()
    };
    assert_eq!((envelope_id, recipient.as_str()), (queued, WELFARE));
    let ended = w
        .center
        .wait_for(|e| {
            matches!(
                e,
                NodeEvent::Notice {
                    notice: Notice::ConsentEnded { .. },
                    ..
                }
            )
        })
        .await;
    let NodeEvent::Notice {
        notice: Notice::ConsentEnded {
            reason, envelopes, ..
        },
        ..
    } = ended
    else {
        unreachable!()
    };
    assert_eq!((reason, envelopes), (ConsentEnd::Expired, vec![first]));
    assert_eq!(
        w.center
            .node
            .records()
            .consent_ended(first)
            .await
            .unwrap()
            .as_deref(),
        Some("expired")
    );
    // Welfare comes back: the cancelled delivery never arrives.
    let mut welfare = TestNode::connect(&w.hub.url, WELFARE, w._data.path()).await;
    let probe = sent(&w.clinic, &referral_draft(&case, &[WELFARE])).await;
    welfare.wait_stored(probe).await;
    assert!(
        welfare
            .node
            .records()
            .inbox_item(queued)
            .await
            .unwrap()
            .is_none()
    );
    welfare.stop().await;
    w.stop().await;
}

async fn withdrawal_stops_new_sharing_cancels_queued_deliveries_and_tells_holders(db: Db) {
    let mut w = World::start(&db).await;
    let case = w.clinic.node.open_case().await.unwrap();
    let scope = consent_scope(&case, &[CENTER, WELFARE]);
    sent(&w.clinic, &consent_record_draft(scope.clone())).await;
    let held = sent(
        &w.clinic,
        &consent_referral_draft(&case, scope.consent_id, &[CENTER]),
    )
    .await;
    w.center.wait_stored(held).await;
    let welfare = std::mem::replace(
        &mut w.welfare,
        TestNode::open(&w.hub.url, NURSERY, w._data.path()).await,
    );
    welfare.stop().await;
    let queued = sent(
        &w.clinic,
        &consent_referral_draft(&case, scope.consent_id, &[WELFARE]),
    )
    .await;

    // She tells the center she withdraws.
    let withdraw = action_draft(
        Some(&case),
        &[],
        Action::WithdrawConsent {
            consent_id: scope.consent_id,
        },
        Body::ConsentWithdrawal(note("本人より電話で撤回の申し出")),
    );
    sent(&w.center, &withdraw).await;

    let body = refused_with(
        &w.clinic,
        &consent_referral_draft(&case, scope.consent_id, &[CENTER]),
        ErrorCode::ConsentWithdrawn,
    )
    .await;
    assert!(body.message.contains("撤回"));
    w.clinic.wait_for(|e| matches!(e, NodeEvent::Notice { notice: Notice::DeliveryCancelled { envelope_id, .. }, .. } if *envelope_id == queued)).await;
    w.center
        .wait_for(|e| {
            matches!(
                e,
                NodeEvent::Notice {
                    notice: Notice::ConsentEnded {
                        reason: ConsentEnd::Withdrawn,
                        ..
                    },
                    ..
                }
            )
        })
        .await;
    assert_eq!(
        w.center
            .node
            .records()
            .consent_ended(held)
            .await
            .unwrap()
            .as_deref(),
        Some("withdrawn")
    );
    // A second withdrawal of the same consent is refused; nothing changes.
    refused_with(&w.center, &withdraw, ErrorCode::ConsentWithdrawn).await;
    let disclosures = w.center.node.disclosures(&case).await.unwrap();
    let to_welfare = disclosures
        .iter()
        .find(|d| d.envelope_id == queued)
        .unwrap();
    assert!(to_welfare.cancelled && to_welfare.delivered_at.is_none());
    w.stop().await;
}

async fn a_statutory_basis_without_a_written_justification_is_not_sent(db: Db) {
    let w = World::start(&db).await;
    let case = w.clinic.node.open_case().await.unwrap();
    let mut draft = referral_draft(&case, &[CENTER]);
    draft.payload.justification = Some("  ".into());
    let err = w.clinic.node.send(&draft).await.unwrap_err();
    assert!(
        matches!(err, tsunagu::agency::NodeError::JustificationMissing),
        "{err:?}"
    );
    assert!(
        w.clinic
            .node
            .records()
            .outbox()
            .await
            .unwrap()
            .iter()
            .all(|r| r.kind != "referral")
    );
    assert_eq!(w.hub.store.last_seq(&agency(CENTER)).await.unwrap(), Seq(0));
    w.stop().await;
}

async fn provision_to_the_municipality_needs_no_consent_but_only_reaches_the_municipality(db: Db) {
    let mut w = World::start(&db).await;
    let case = w.clinic.node.open_case().await.unwrap();
    let id = sent(&w.clinic, &referral_draft(&case, &[CENTER, WELFARE])).await;
    w.center.wait_stored(id).await;
    let body = refused_with(
        &w.clinic,
        &referral_draft(&case, &[NURSERY]),
        ErrorCode::RecipientNotCovered,
    )
    .await;
    assert!(body.message.contains("第21条の10の5"), "{}", body.message);
    w.stop().await;
}

async fn yotaikyo_sharing_needs_a_registered_case_among_members(db: Db) {
    let mut w = World::start(&db).await;
    let data = tempfile::tempdir().unwrap();
    let yotaikyo = TestNode::connect(&w.hub.url, "minato-yotaikyo", data.path()).await;
    let case = w.center.node.open_case().await.unwrap();
    let mut share = referral_draft(&case, &[NURSERY]);
    share.basis = Some(LegalBasis::YotaikyoSharing);
    refused_with(&w.center, &share, ErrorCode::CaseNotRegistered).await;

    // Only the 調整機関 registers.
    let registration = Registration {
        classification: CaseClassification::SpecifiedExpectantMother,
        lead: agency(CENTER),
        members: vec![agency(CENTER), agency(WELFARE), agency(NURSERY)],
    };
    let register = action_draft(
        Some(&case),
        &[WELFARE],
        Action::RegisterCase {
            registration: registration.clone(),
        },
        Body::CaseUpdate(note("実務者会議で登録")),
    );
    refused_with(&w.center, &register, ErrorCode::NotPermitted).await;
    sent(&yotaikyo, &register).await;

    let id = sent(&w.center, &share).await;
    w.nursery.wait_stored(id).await;
    // The clinic is not a council member.
    let mut from_clinic = referral_draft(&case, &[CENTER]);
    from_clinic.basis = Some(LegalBasis::YotaikyoSharing);
    refused_with(&w.clinic, &from_clinic, ErrorCode::SenderNotCovered).await;
    // Closing the case ends the basis.
    sent(
        &yotaikyo,
        &action_draft(
            Some(&case),
            &[],
            Action::CloseCase,
            Body::CaseUpdate(note("終結")),
        ),
    )
    .await;
    refused_with(&w.center, &share, ErrorCode::CaseNotRegistered).await;
    yotaikyo.stop().await;
    w.stop().await;
}

async fn vital_interest_is_for_emergencies_and_is_listed_for_the_center(db: Db) {
    let mut w = World::start(&db).await;
    let case = w.clinic.node.open_case().await.unwrap();
    let mut draft = referral_draft(&case, &[NURSERY]);
    draft.basis = Some(LegalBasis::VitalInterest);
    refused_with(&w.clinic, &draft, ErrorCode::NotUrgent).await;
    draft.urgency = tsunagu::protocol::Urgency::Emergency;
    let id = sent(&w.clinic, &draft).await;
    w.nursery.wait_stored(id).await;
    let uses = w.center.node.statutory_uses().await.unwrap();
    assert!(
        uses.iter()
            .any(|u| u.envelope_id == id && u.basis == "vital_interest")
    );
    // Oversight lists are for the center and the 調整機関 only.
    assert!(
        matches!(w.nursery.node.statutory_uses().await, Err(tsunagu::agency::NodeError::Refused(b)) if b.code == ErrorCode::NotPermitted)
    );
    w.stop().await;
}

async fn an_abuse_notification_needs_no_consent_and_hides_the_notifier_from_others(db: Db) {
    let mut w = World::start(&db).await;
    let case = w.nursery.node.open_case().await.unwrap();
    let mut draft = referral_draft(&case, &[WELFARE]);
    draft.basis = Some(LegalBasis::AbuseNotification);
    draft.payload.author.role = "保育士".into();
    let id = sent(&w.nursery, &draft).await;
    w.welfare.wait_stored(id).await;
    // Welfare later shares with the center on the provision basis.
    let onward = sent(&w.welfare, &{
        let mut d = referral_draft(&case, &[CENTER]);
        d.basis = Some(LegalBasis::AbuseNotification);
        d
    })
    .await;
    w.center.wait_stored(onward).await;
    let seen_by_center = w.center.node.disclosures(&case).await.unwrap();
    let notification = seen_by_center.iter().find(|d| d.envelope_id == id).unwrap();
    assert_eq!(
        notification.sender, None,
        "the notifier is protected (第7条)"
    );
    let seen_by_welfare = w.welfare.node.disclosures(&case).await.unwrap();
    assert_eq!(
        seen_by_welfare
            .iter()
            .find(|d| d.envelope_id == id)
            .unwrap()
            .sender
            .as_ref()
            .map(|a| a.as_str()),
        Some(NURSERY)
    );
    w.stop().await;
}

async fn the_disclosure_record_answers_who_knows_about_her(db: Db) {
    let mut w = World::start(&db).await;
    let case = w.clinic.node.open_case().await.unwrap();
    let id = sent(&w.clinic, &referral_draft(&case, &[CENTER, WELFARE])).await;
    w.center.wait_stored(id).await;
    w.welfare.wait_stored(id).await;
    let record = w.center.node.disclosures(&case).await.unwrap();
    let recipients: Vec<&str> = record.iter().map(|d| d.recipient.as_str()).collect();
    assert_eq!(recipients.len(), 2);
    assert!(recipients.contains(&CENTER) && recipients.contains(&WELFARE));
    assert!(
        record
            .iter()
            .all(|d| d.basis.as_deref() == Some("provision_to_municipality"))
    );
    assert!(record[0].categories.contains(&InfoCategory::MentalHealth));
    // An agency not involved may not look.
    assert!(
        matches!(w.nursery.node.disclosures(&case).await, Err(tsunagu::agency::NodeError::Refused(b)) if b.code == ErrorCode::NotPermitted)
    );
    w.stop().await;
}

async fn content_beyond_the_declared_categories_is_reported_as_a_violation(db: Db) {
    let mut w = World::start(&db).await;
    let case = w.clinic.node.open_case().await.unwrap();
    let mut draft = referral_draft(&case, &[CENTER]);
    // A buggy sender that declares less than it sends, signed properly.
    let key = tsunagu::crypto::keys::load_signing_key(
        &certs()
            .join("agencies")
            .join(CLINIC)
            .join("signing-key.txt"),
    )
    .unwrap();
    let honest = tsunagu::agency::sealed::seal_draft(
        &agency(CLINIC),
        &key,
        w.clinic.node.directory(),
        &draft,
    )
    .unwrap();
    let mut meta = honest.meta().clone();
    meta.categories = vec![InfoCategory::Basic];
    let envelope = tsunagu::agency::sealed::sign_envelope(meta, honest.ciphertext().to_vec(), &key);
    w.clinic
        .node
        .client()
        .submit_envelope(&envelope)
        .await
        .unwrap();
    w.center.wait_for(|e| matches!(e, NodeEvent::ViolationReported { envelope_id } if *envelope_id == envelope.meta().id)).await;
    let violations = w.center.node.violations().await.unwrap();
    assert_eq!(violations[0].envelope_id, envelope.meta().id);
    assert_eq!(violations[0].reported_by.as_str(), CENTER);
    draft.payload.justification = None;
    let _ = draft;
    w.stop().await;
}

async fn a_consent_that_covers_nothing_or_ends_before_it_starts_is_refused(db: Db) {
    let w = World::start(&db).await;
    let case = w.clinic.node.open_case().await.unwrap();
    let mut empty = consent_scope(&case, &[]);
    empty.recipients.clear();
    refused_with(
        &w.clinic,
        &consent_record_draft(empty),
        ErrorCode::InvalidAction,
    )
    .await;
    let mut backwards = consent_scope(&case, &[CENTER]);
    backwards.valid_until = Some(Timestamp::from_datetime(
        backwards.valid_from.datetime() - time::Duration::days(1),
    ));
    let body = refused_with(
        &w.clinic,
        &consent_record_draft(backwards),
        ErrorCode::InvalidAction,
    )
    .await;
    assert!(body.message.contains("有効期限"), "{}", body.message);
    // A recorded refusal needs no scope: it covers nothing by design.
    let mut refusal = consent_scope(&case, &[]);
    refusal.decision = ConsentDecision::Refused;
    sent(&w.clinic, &consent_record_draft(refusal)).await;
    w.stop().await;
}
