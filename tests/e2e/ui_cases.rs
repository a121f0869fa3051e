//! The case view of a node's staff UI against a real hub and real nodes:
//! the cases the node holds, one timeline of everything it holds about a
//! case in order, the hub's disclosure record with agencies by name and
//! bases in plain Japanese, what is shown when the hub cannot be reached,
//! and each view in the access log.

use reqwest::StatusCode;
use reqwest::header::LOCATION;
use tsunagu::agency::Sent;
use tsunagu::agency::consents;
use tsunagu::agency::meetings::{Sharing, invitation_draft};
use tsunagu::agency::plans::{self, PlanSend};
use tsunagu::agency::staff::{Actor, Viewed};
use tsunagu::protocol::day::Day;
use tsunagu::protocol::meeting::{Invitation, MeetingKind, MeetingSchedule};
use tsunagu::protocol::plan::{PlanAction, SupportPlan};
use tsunagu::protocol::{
    CaseId, ConsentId, EnvelopeId, ErrorCode, InfoCategory, LegalBasis, MeetingId, PlanId, Purpose,
    Timestamp,
};

use crate::helpers::*;
use crate::ui::{Ui, page_csrf};

/// Where `needle` is in `page`, failing with the page if absent.
fn at(page: &str, needle: &str) -> usize {
    page.find(needle)
        .unwrap_or_else(|| panic!("{needle} not on the page: {page}"))
}

/// The center's UI and the clinic's, and a case the clinic referred to the
/// center under her consent (covering `recipients`, for referral, case
/// meetings and `more` purposes), the referral stored at the center.
struct Referred {
    center: Ui,
    clinic: Ui,
    case: CaseId,
    consent: ConsentId,
    referral: EnvelopeId,
}

async fn referred(recipients: &[&str], more: &[Purpose]) -> Referred {
    let mut center = Ui::start(|_| {}).await;
    let clinic = center.join(CLINIC).await;
    let case = clinic.center.node.open_case().await.unwrap();
    let mut scope = consent_scope(&case, recipients);
    scope.purposes.extend_from_slice(more);
    let consent = scope.consent_id;
    sent(&clinic.center, &consent_record_draft(scope)).await;
    let draft = consent_referral_draft(&case, consent, &[CENTER]);
    let referral = sent(&clinic.center, &draft).await;
    center.center.wait_stored(referral).await;
    Referred {
        center,
        clinic,
        case,
        consent,
        referral,
    }
}

#[tokio::test]
async fn the_case_view_shows_consent_referral_and_withdrawal_in_order_with_the_disclosure_record() {
    let Referred {
        mut center,
        clinic,
        case,
        consent,
        referral,
    } = referred(&[CENTER], &[]).await;
    // As the UI and the CLI withdraw: her words to whoever holds something
    // under the consent (the center, once its copy has arrived).
    let withdrawal = consents::withdrawal_draft(
        &clinic.center.node,
        case.clone(),
        consent,
        "本人から電話で撤回の申し出".into(),
        midwife(),
    )
    .await;
    sent(&clinic.center, &withdrawal).await;
    let relying = consent_referral_draft(&case, consent, &[CENTER]);
    refused_with(&clinic.center, &relying, ErrorCode::ConsentWithdrawn).await;
    let cookie = clinic.sign_in().await;

    let list = clinic.get("/cases", &cookie).await.text().await.unwrap();
    assert!(list.contains(&format!("/cases/{case}")), "{list}");

    let path = format!("/cases/{case}");
    let page = clinic.get(&path, &cookie).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    let timeline = &page[at(&page, "class=\"case-timeline\"")..];
    let recorded = at(timeline, "同意の記録");
    let referred = at(timeline, &format!("/envelopes/{referral}"));
    let withdrawn = at(timeline, "本人から電話で撤回の申し出");
    assert!(recorded < referred && referred < withdrawn, "{timeline}");
    // The refused referral, with the hub's reason.
    let flag = &timeline[at(timeline, "ハブが受け付けず、送信されていません: ")..];
    let flag = &flag[..at(flag, "</span>")];
    assert!(flag.contains("撤回"), "{flag}");
    assert!(page.contains("撤回済み"), "{page}");

    let record = &page[at(&page, "class=\"inbox disclosures\"")..];
    assert!(record.contains("さくらレディースクリニック"), "{record}");
    assert!(record.contains("みなと市こども家庭センター"), "{record}");
    assert!(
        record.contains("本人同意") && record.contains("受信済み"),
        "{record}"
    );
    assert!(
        !record.contains(CENTER) && !record.contains(CLINIC),
        "agencies by name: {record}"
    );

    let newest = clinic
        .get(&format!("{path}?order=newest"), &cookie)
        .await
        .text()
        .await
        .unwrap();
    let timeline = &newest[at(&newest, "class=\"case-timeline\"")..];
    assert!(at(timeline, "本人から電話で撤回の申し出") < at(timeline, "同意の記録"));

    let log = clinic
        .accounts
        .access_log(Actor::NodeConsole, None, None, Timestamp::now())
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|e| e.what == Viewed::Case && e.record_id == case.as_str()),
        "{log:?}"
    );

    for missing in ["/cases/no-such-case", "/cases/%3Cscript%3E"] {
        assert_eq!(
            clinic.get(missing, &cookie).await.status(),
            StatusCode::NOT_FOUND
        );
    }

    // Without the hub, the node still shows what it holds, and says so.
    center.stop_hub().await;
    let page = clinic.get(&path, &cookie).await.text().await.unwrap();
    assert!(
        page.contains("ハブに接続できないため、提供記録を表示できません"),
        "{page}"
    );
    assert!(page.contains(&format!("/envelopes/{referral}")), "{page}");
    clinic.stop().await;
    center.stop().await;
}

#[tokio::test]
async fn opening_a_case_leads_to_recording_her_consent_and_needs_the_csrf_token() {
    let ui = Ui::start(|_| {}).await;
    let cookie = ui.sign_in().await;
    let csrf = page_csrf(&ui, "/cases", &cookie).await;

    let forged = ui.post("/cases", &cookie, &[]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let opened = ui.post("/cases", &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(opened.status(), StatusCode::SEE_OTHER);
    let to = opened.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(to.starts_with("/consents/new?case="), "{to}");
    let form = ui.get(&to, &cookie).await.text().await.unwrap();
    let case = to.trim_start_matches("/consents/new?case=");
    assert!(form.contains(&format!("value=\"{case}\"")), "{form}");
    ui.stop().await;
}

#[tokio::test]
async fn a_meeting_about_the_case_is_in_its_timeline_as_the_meetings_fold_holds_it() {
    let Referred {
        center,
        clinic,
        case,
        consent,
        referral,
    } = referred(&[CENTER], &[]).await;
    let starts_at = Timestamp::from_datetime(
        time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap()
            + time::Duration::days(3),
    );
    let meeting = MeetingSchedule {
        meeting_id: MeetingId::new(),
        kind: MeetingKind::IndividualCase,
        more_cases: vec![],
        starts_at,
        duration_minutes: 60,
    };
    let invitation = Invitation {
        place: "みなと市役所 3階 会議室B".into(),
        online: None,
        agenda: "妊娠後期の支援体制".into(),
        expectations: vec![],
        note: String::new(),
        categories: vec![InfoCategory::Basic, InfoCategory::PregnancyMedical],
    };
    let sharing = Sharing {
        basis: LegalBasis::Consent {
            consent_id: consent,
        },
        justification: None,
        author: hokenshi(),
    };
    let draft = invitation_draft(&case, meeting, vec![agency(CLINIC)], invitation, &sharing);
    let invited = sent(&center.center, &draft).await;
    let cookie = center.sign_in().await;

    let page = center
        .get(&format!("/cases/{case}"), &cookie)
        .await
        .text()
        .await
        .unwrap();
    let timeline = &page[at(&page, "class=\"case-timeline\"")..];
    let line = format!(
        "{} {}（60分）",
        MeetingKind::IndividualCase.label(tsunagu::i18n::Lang::Ja),
        tsunagu::protocol::day::show_local(starts_at)
    );
    assert!(
        at(timeline, &format!("/envelopes/{referral}")) < at(timeline, &line),
        "{timeline}"
    );
    assert!(
        timeline.contains(&format!("/envelopes/{invited}")),
        "{timeline}"
    );
    assert!(
        timeline.contains("この機関 → さくらレディースクリニック"),
        "{timeline}"
    );
    clinic.stop().await;
    center.stop().await;
}

#[tokio::test]
async fn a_support_plan_version_is_in_the_timeline_as_the_plans_fold_holds_it() {
    let Referred {
        center,
        clinic,
        case,
        consent,
        referral,
    } = referred(&[CENTER, CLINIC], &[Purpose::SupportPlan]).await;
    let today = Day::of(Timestamp::now());
    let plan = SupportPlan {
        wishes: "安心して出産したい".into(),
        goals: vec!["妊婦健診を毎回受ける".into()],
        actions: vec![PlanAction {
            what: "妊婦健診".into(),
            agency: agency(CLINIC),
            frequency: "2週に1回".into(),
            from: Some(today),
            until: None,
        }],
        lead: agency(CENTER),
        lead_contact: "母子保健係 03-0000-0001".into(),
        key_person: "実母".into(),
        person_took_part: true,
        copy_given: false,
        made_on: today,
        review_on: today.plus_days(30),
        from_meeting: None,
        categories: vec![InfoCategory::PregnancyMedical],
    };
    let send = PlanSend {
        case: case.clone(),
        plan_id: PlanId::new(),
        version: 1,
        based_on: None,
        plan,
        whole: vec![agency(CLINIC)],
        parts: vec![],
        part_categories: vec![],
        basis: LegalBasis::Consent {
            consent_id: consent,
        },
        justification: None,
        author: hokenshi(),
    };
    let out = plans::send_plan(&center.center.node, &send).await;
    assert!(
        matches!(out.whole, Ok(Sent::Accepted { .. })),
        "{:?}",
        out.whole
    );
    let cookie = center.sign_in().await;

    let page = center
        .get(&format!("/cases/{case}"), &cookie)
        .await
        .text()
        .await
        .unwrap();
    let timeline = &page[at(&page, "class=\"case-timeline\"")..];
    let line = format!(
        "第1版（全体）・主担当: みなと市こども家庭センター・見直し日: {}",
        today.plus_days(30)
    );
    assert!(
        at(timeline, &format!("/envelopes/{referral}")) < at(timeline, &line),
        "{timeline}"
    );
    clinic.stop().await;
    center.stop().await;
}
