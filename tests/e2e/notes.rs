//! Case notes (経過記録・情報共有): a short note about a case under any legal
//! basis, checked by the hub like a referral, stored and shown on the case.

use tsunagu::agency::NodeEvent;
use tsunagu::agency::notes::{Direction, case_notes, note_draft};
use tsunagu::protocol::action::Action;
use tsunagu::protocol::payload::Body;
use tsunagu::protocol::{
    CaseId, EnvelopeId, ErrorCode, InfoCategory, LegalBasis, Notice, Purpose, Seq,
};

use crate::helpers::*;

both_backends!(
    a_note_under_council_sharing_reaches_members_with_no_referral_field,
    a_note_whose_categories_its_consent_does_not_cover_is_refused,
    a_council_note_from_a_non_member_or_about_an_unregistered_case_is_refused,
    a_note_to_an_agency_outside_its_basis_is_refused_naming_it_and_the_next_step,
    a_withdrawal_at_the_center_reaches_the_recorder_and_every_holder_naming_the_case,
    staff_share_a_note_from_the_command_line_and_read_it_on_the_case,
);

struct World {
    hub: TestHub,
    clinic: TestNode,
    center: TestNode,
    nursery: TestNode,
    yotaikyo: TestNode,
    _data: tempfile::TempDir,
}

impl World {
    async fn start(db: &Db) -> World {
        let hub = TestHub::start(db).await;
        let data = tempfile::tempdir().unwrap();
        World {
            clinic: TestNode::connect(&hub.url, CLINIC, data.path()).await,
            center: TestNode::connect(&hub.url, CENTER, data.path()).await,
            nursery: TestNode::connect(&hub.url, NURSERY, data.path()).await,
            yotaikyo: TestNode::connect(&hub.url, YOTAIKYO, data.path()).await,
            hub,
            _data: data,
        }
    }

    async fn stop(self) {
        for n in [self.clinic, self.center, self.nursery, self.yotaikyo] {
            n.stop().await;
        }
        self.hub.stop().await;
    }

    async fn register(&self, case: &CaseId) {
        sent(&self.yotaikyo, &registration_draft(case)).await;
    }

    async fn seq(&self, id: &str) -> Seq {
        self.hub.store.last_seq(&agency(id)).await.unwrap()
    }
}

/// A note from the center's 保健師 under council sharing.
fn council_note(case: &CaseId, to: &[&str]) -> tsunagu::agency::Draft {
    note_draft(
        case.clone(),
        to.iter().map(|a| agency(a)).collect(),
        LegalBasis::YotaikyoSharing,
        Purpose::InformationSharing,
        "本日家庭訪問。母子ともに体調安定、上の子の登園を続けてほしいとの希望あり。".into(),
        vec![InfoCategory::Family, InfoCategory::Childcare],
        midwife(),
        Some("要対協登録ケースの経過を構成機関で共有するため".into()),
    )
}

pub async fn a_note_under_council_sharing_reaches_members_with_no_referral_field(db: Db) {
    let mut w = World::start(&db).await;
    let case = w.center.node.open_case().await.unwrap();
    w.register(&case).await;
    let id = sent(&w.center, &council_note(&case, &[NURSERY])).await;
    w.nursery.wait_stored(id).await;

    // The stored payload holds the author, the note and the written
    // justification a statutory basis needs: no 連絡票 field at all.
    let row = w
        .nursery
        .node
        .records()
        .inbox_item(id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.kind, "case_note");
    assert_eq!(row.case_id.as_deref(), Some(case.as_str()));
    let payload: serde_json::Value = serde_json::from_str(&row.payload).unwrap();
    let mut top: Vec<&str> = payload
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    top.sort_unstable();
    assert_eq!(top, ["author", "body", "justification"]);
    let mut body: Vec<&str> = payload["body"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    body.sort_unstable();
    assert_eq!(body, ["categories", "kind", "text"]);
    assert_eq!(payload["body"]["kind"], "case_note");

    // Shown on the case, at both ends.
    let received = case_notes(w.nursery.node.records(), &case).await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].envelope_id, id);
    assert_eq!(received[0].direction, Direction::From(CENTER.into()));
    assert!(received[0].note.text.contains("家庭訪問"));
    assert_eq!(
        received[0].note.categories,
        [InfoCategory::Family, InfoCategory::Childcare]
    );
    let kept = case_notes(w.center.node.records(), &case).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].direction, Direction::To(vec![NURSERY.into()]));
    // A note opens no 受理 workflow, and is listed for oversight like any
    // statutory sharing.
    assert!(w.center.node.referral_status(id).await.is_err());
    let uses = w.center.node.statutory_uses().await.unwrap();
    assert!(uses.iter().any(|u| u.envelope_id == id), "{uses:?}");
    w.stop().await;
}

pub async fn a_note_whose_categories_its_consent_does_not_cover_is_refused(db: Db) {
    let w = World::start(&db).await;
    let case = w.clinic.node.open_case().await.unwrap();
    let mut scope = consent_scope(&case, &[CENTER]);
    scope.purposes.push(Purpose::InformationSharing);
    sent(&w.clinic, &consent_record_draft(scope.clone())).await;
    let before = w.seq(CENTER).await;
    let mut draft = note_draft(
        case.clone(),
        vec![agency(CENTER)],
        LegalBasis::Consent {
            consent_id: scope.consent_id,
        },
        Purpose::InformationSharing,
        "夫の失職で生活が苦しいとの相談あり。".into(),
        vec![InfoCategory::Family, InfoCategory::Economic],
        midwife(),
        None,
    );
    let body = refused_with(&w.clinic, &draft, ErrorCode::CategoryNotCovered).await;
    assert!(body.message.contains("経済状況"), "{body:?}");
    assert_eq!(w.seq(CENTER).await, before, "nothing delivered");
    assert!(
        case_notes(w.clinic.node.records(), &case)
            .await
            .unwrap()
            .is_empty()
    );

    // Within the consent it is delivered; a consent given for referrals
    // only does not cover keeping others informed.
    draft.payload.body = Body::CaseNote(tsunagu::protocol::payload::Note {
        text: "健診は予定どおり受診。".into(),
        categories: vec![InfoCategory::PregnancyMedical],
    });
    sent(&w.clinic, &draft).await;
    let narrow = consent_scope(&case, &[CENTER]);
    sent(&w.clinic, &consent_record_draft(narrow.clone())).await;
    draft.basis = Some(LegalBasis::Consent {
        consent_id: narrow.consent_id,
    });
    refused_with(&w.clinic, &draft, ErrorCode::PurposeNotCovered).await;
    w.stop().await;
}

pub async fn a_council_note_from_a_non_member_or_about_an_unregistered_case_is_refused(db: Db) {
    let w = World::start(&db).await;
    let case = w.center.node.open_case().await.unwrap();
    refused_with(
        &w.center,
        &council_note(&case, &[NURSERY]),
        ErrorCode::CaseNotRegistered,
    )
    .await;
    w.register(&case).await;
    // The clinic is not a council member.
    refused_with(
        &w.clinic,
        &council_note(&case, &[CENTER]),
        ErrorCode::SenderNotCovered,
    )
    .await;
    assert_eq!(w.seq(NURSERY).await, Seq(0), "nothing delivered");
    assert_eq!(w.seq(CENTER).await, Seq(0), "nothing delivered");
    w.stop().await;
}

pub async fn a_note_to_an_agency_outside_its_basis_is_refused_naming_it_and_the_next_step(db: Db) {
    let w = World::start(&db).await;
    let case = w.clinic.node.open_case().await.unwrap();
    let mut scope = consent_scope(&case, &[CENTER]);
    scope.purposes.push(Purpose::InformationSharing);
    sent(&w.clinic, &consent_record_draft(scope.clone())).await;
    let mut draft = note_draft(
        case.clone(),
        vec![agency(CENTER), agency(NURSERY)],
        LegalBasis::Consent {
            consent_id: scope.consent_id,
        },
        Purpose::InformationSharing,
        "退院しました。".into(),
        vec![InfoCategory::PregnancyMedical],
        midwife(),
        None,
    );
    let body = refused_with(&w.clinic, &draft, ErrorCode::RecipientNotCovered).await;
    // Named as staff know it, with the next step, Japanese and English.
    assert!(body.message.contains("ひかり保育園"), "{body:?}");
    assert!(body.message.contains("同意を記録し直す"), "{body:?}");
    assert!(body.message.contains("理由を書いて"), "{body:?}");
    assert!(body.message_en.contains("ひかり保育園"), "{body:?}");
    assert!(body.message_en.contains("statutory basis"), "{body:?}");
    // A statutory basis that does not reach a nursery says where it reaches.
    draft.basis = Some(LegalBasis::AbuseNotification);
    draft.payload.justification = Some("虐待が疑われるため".into());
    let body = refused_with(&w.clinic, &draft, ErrorCode::RecipientNotCovered).await;
    assert!(body.message.contains("ひかり保育園"), "{body:?}");
    assert!(body.message.contains("児童相談所"), "{body:?}");
    assert_eq!(w.seq(NURSERY).await, Seq(0), "nothing delivered");
    w.stop().await;
}

pub async fn a_withdrawal_at_the_center_reaches_the_recorder_and_every_holder_naming_the_case(
    db: Db,
) {
    let data = tempfile::tempdir().unwrap();
    let mut w = World::start(&db).await;
    let mut welfare = TestNode::connect(&w.hub.url, WELFARE, data.path()).await;
    let case = w.clinic.node.open_case().await.unwrap();
    // The clinic records her consent and refers her to the center and child
    // welfare under it.
    let scope = consent_scope(&case, &[CENTER, WELFARE]);
    sent(&w.clinic, &consent_record_draft(scope.clone())).await;
    let referral = sent(
        &w.clinic,
        &consent_referral_draft(&case, scope.consent_id, &[CENTER, WELFARE]),
    )
    .await;
    w.center.wait_stored(referral).await;
    welfare.wait_stored(referral).await;
    // The node acknowledges after storing; the hub counts a holder once it
    // has the acknowledgement.
    for holder in [CENTER, WELFARE] {
        acknowledged(&w.hub, &case, referral, holder).await;
    }

    // She withdraws at the center; its note goes to everyone concerned.
    let to = tsunagu::agency::withdrawal::concerned(&w.center.node, &case, scope.consent_id).await;
    assert_eq!(to, [agency(WELFARE), agency(CLINIC)]);
    let mut withdraw = action_draft(
        Some(&case),
        &[],
        Action::WithdrawConsent {
            consent_id: scope.consent_id,
        },
        Body::ConsentWithdrawal(note(
            "本人より電話で撤回の申し出。今後は直接連絡してほしいとのこと",
        )),
    );
    // Her words go to the agencies the consent concerns, never further.
    withdraw.recipients = vec![agency(NURSERY)];
    let body = refused_with(&w.center, &withdraw, ErrorCode::RecipientNotCovered).await;
    assert!(body.message.contains("ひかり保育園"), "{body:?}");
    assert_eq!(w.seq(NURSERY).await, Seq(0), "nothing delivered");
    withdraw.recipients = to;
    let withdrawal = sent(&w.center, &withdraw).await;

    // The clinic recorded the consent and sent under it: it hears at once,
    // naming the case and the referral it affects.
    let (held, shared, named) = consent_ended(&mut w.clinic, &case).await;
    assert_eq!(
        (held, shared, named),
        (vec![], vec![referral], Some(withdrawal))
    );
    // Child welfare holds the referral.
    let (held, shared, named) = consent_ended(&mut welfare, &case).await;
    assert_eq!(
        (held, shared, named),
        (vec![referral], vec![], Some(withdrawal))
    );
    assert_eq!(
        welfare
            .node
            .records()
            .consent_ended(referral)
            .await
            .unwrap()
            .as_deref(),
        Some("withdrawn")
    );
    // Her words reach both, encrypted end to end.
    for node in [&mut w.clinic, &mut welfare] {
        node.wait_stored(withdrawal).await;
        let row = node
            .node
            .records()
            .inbox_item(withdrawal)
            .await
            .unwrap()
            .unwrap();
        assert!(row.payload.contains("直接連絡してほしい"));
    }
    welfare.stop().await;
    w.stop().await;
}

/// The next `ConsentEnded` notice: it names the case and where she withdrew;
/// returns what it says this agency received and sent, and the withdrawal.
async fn consent_ended(
    node: &mut TestNode,
    case: &CaseId,
) -> (Vec<EnvelopeId>, Vec<EnvelopeId>, Option<EnvelopeId>) {
    let event = node
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
    let NodeEvent::Notice { notice, .. } = event else {
        unreachable!()
    };
    let Notice::ConsentEnded {
        case_id,
        envelopes,
        sent,
        ended_by,
        withdrawal,
        ..
    } = &notice
    else {
        unreachable!()
    };
    assert_eq!(case_id, case);
    assert_eq!(ended_by.as_ref(), Some(&agency(CENTER)));
    let described = notice.describe(tsunagu::i18n::Lang::Ja);
    assert!(described.contains(case.as_str()), "{described}");
    (envelopes.clone(), sent.clone(), *withdrawal)
}

/// Wait until the hub records `holder`'s acknowledgement of `envelope`
/// (polls the disclosure record: a condition, not a guess at a duration).
async fn acknowledged(hub: &TestHub, case: &CaseId, envelope: EnvelopeId, holder: &str) {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let record = hub.store.disclosures(case).await.unwrap();
            if record.iter().any(|d| {
                d.envelope_id == envelope
                    && d.recipient == agency(holder)
                    && d.delivered_at.is_some()
            }) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the hub never recorded the acknowledgement");
}

/// `tsunagu agency …` as a member of staff: (success, stdout + stderr).
async fn staff(args: &[&str]) -> (bool, String) {
    let (ok, out, err) = staff_as(&hokenshi(), args).await;
    (ok, out + &err)
}

pub async fn staff_share_a_note_from_the_command_line_and_read_it_on_the_case(db: Db) {
    let mut w = World::start(&db).await;
    // The same records the running test nodes use.
    let center = agency_toml(w._data.path(), &w.hub.url, CENTER);
    let nursery = agency_toml(w._data.path(), &w.hub.url, NURSERY);
    let case = w.center.node.open_case().await.unwrap();
    w.register(&case).await;
    let note = |to: &'static str| {
        let (center, case) = (center.clone(), case.clone());
        async move {
            staff(&[
                "note",
                "send",
                "--config",
                &center,
                "--case",
                case.as_str(),
                "--to",
                to,
                "--basis",
                "yotaikyo-sharing",
                "--justification",
                "要対協登録ケースの経過を構成機関で共有するため",
                "--category",
                "family,childcare",
                "--text",
                "本日家庭訪問。上の子の登園継続を希望。",
            ])
            .await
        }
    };
    // The clinic is not a council member: refused, named, with what to do.
    let (ok, out) = note(CLINIC).await;
    assert!(!ok, "{out}");
    assert!(out.contains("さくらレディースクリニック"), "{out}");
    assert!(out.contains("本人の同意を得て"), "{out}");
    let (ok, out) = note(NURSERY).await;
    assert!(ok && out.contains("送信しました"), "{out}");
    let sent_line = out.lines().find(|l| l.contains("送信しました")).unwrap();
    let id: EnvelopeId = sent_line
        .split_whitespace()
        .last()
        .unwrap()
        .parse()
        .unwrap();

    w.nursery.wait_stored(id).await;
    let (ok, out) = staff(&["show", "--config", &nursery, &id.to_string()]).await;
    assert!(ok, "{out}");
    assert!(out.contains("家族・養育環境・保育・通園"), "{out}");
    assert!(out.contains("上の子の登園継続"), "{out}");
    let (ok, out) = staff(&[
        "note",
        "list",
        "--config",
        &nursery,
        "--case",
        case.as_str(),
    ])
    .await;
    assert!(ok, "{out}");
    assert!(out.contains("みなと市こども家庭センター"), "{out}");
    assert!(
        out.contains("上の子の登園継続") && out.contains(&id.to_string()),
        "{out}"
    );
    let (ok, out) = staff(&["inbox", "--config", &nursery]).await;
    assert!(ok && out.contains("経過記録・情報共有"), "{out}");
    w.stop().await;
}
