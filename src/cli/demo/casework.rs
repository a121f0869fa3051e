//! The demo's longer story, after the referral: the 調整機関 registers the
//! case, the center convenes a 個別ケース検討会議 (the nursery, outside her
//! consent, is refused as an invitee), the hub reminds the table the day
//! before, minutes go to those who attended, the clinic reports the birth,
//! she extends her consent to the nursery, and a review meeting follows
//! that the nursery attends — seeing only its own part.

use std::sync::Arc;

use anyhow::bail;
use tokio::sync::broadcast;

use super::{Stage, accepted, wait, wait_stored};
use crate::agency::meetings::{self, Sharing, answer_draft, invitation_draft, minutes_drafts};
use crate::agency::notes::note_draft;
use crate::agency::plans::{self, PlanChanges, PlanSend};
use crate::agency::{Draft, Node, NodeError, NodeEvent};
use crate::directory::Directory;
use crate::fleet::RunningHub;
use crate::hub::clock::ManualClock;
use crate::i18n::Lang;
use crate::protocol::case::{CaseClassification, Registration};
use crate::protocol::consent::{
    ConsentDecision, ConsentGiver, ConsentMethod, ConsentRecipient, ConsentScope,
};
use crate::protocol::day::{Day, show_local};
use crate::protocol::meeting::{
    Answer, Attendance, Attendee, Expectation, Invitation, Level, MeetingKind, MeetingSchedule,
    Minutes, Role,
};
use crate::protocol::payload::{Author, Body, ConsentDetails, Note, Payload};
use crate::protocol::plan::{PlanAction, SupportPlan};
use crate::protocol::{
    Action, AgencyId, CaseId, ConsentId, InfoCategory, LegalBasis, MeetingId, Notice, PlanId,
    Purpose, Timestamp, Urgency,
};

/// Who plays, and the hub's clock the story moves forward.
pub(super) struct Cast<'a> {
    pub hub: &'a RunningHub,
    pub clock: Arc<ManualClock>,
    pub nodes: &'a [Arc<Node>],
    pub events: &'a mut [broadcast::Receiver<NodeEvent>],
    pub ids: &'a [AgencyId],
    pub directory: &'a Directory,
    pub lang: Lang,
}

pub(super) const CENTER: usize = 0;
pub(super) const CLINIC: usize = 1;
pub(super) const WELFARE: usize = 2;
pub(super) const NURSERY: usize = 3;
pub(super) const YOTAIKYO: usize = 4;

impl Cast<'_> {
    fn name(&self, who: usize) -> String {
        self.directory
            .get(&self.ids[who])
            .map(|a| a.name.clone())
            .unwrap_or_default()
    }

    fn id(&self, who: usize) -> AgencyId {
        self.ids[who].clone()
    }

    fn now(&self) -> Timestamp {
        Timestamp::from_datetime(self.clock.now_for_test())
    }

    /// Send and wait until each recipient has stored it.
    async fn deliver(&mut self, from: usize, draft: &Draft) -> anyhow::Result<()> {
        let id = accepted(self.nodes[from].send(draft).await?)?;
        for to in &draft.recipients {
            let who = self.index(to);
            wait_stored(&mut self.events[who], id).await?;
        }
        Ok(())
    }

    fn index(&self, id: &AgencyId) -> usize {
        self.ids.iter().position(|a| a == id).unwrap_or(CENTER)
    }

    /// The hub's clock moves on; its reminders fire.
    async fn days_pass(
        &mut self,
        stage: &mut Stage,
        by: time::Duration,
        ja: &str,
        en: &str,
    ) -> anyhow::Result<usize> {
        self.clock.advance(by);
        let report = self.hub.hub.tick().await?;
        stage.say(
            &format!("（ハブの時計を進めます: {ja}）"),
            &format!("(the hub's clock moves on: {en})"),
        );
        Ok(report.reminders)
    }

    /// What `who` knows of a meeting.
    async fn meeting(&self, who: usize, id: MeetingId) -> anyhow::Result<meetings::MeetingView> {
        match meetings::meeting(self.nodes[who].records(), &self.ids[who], id).await? {
            Some(m) => Ok(m),
            None => bail!("{} holds no invitation to the meeting", self.ids[who]),
        }
    }
}

fn nurse() -> Author {
    Author {
        name: "高橋 由紀".into(),
        role: "保健師".into(),
        contact: "こども家庭センター 内線 301".into(),
    }
}

fn midwife() -> Author {
    Author {
        name: "佐藤 美咲".into(),
        role: "助産師".into(),
        contact: "03-0000-0000 内線 12".into(),
    }
}

pub(super) async fn play(
    stage: &mut Stage,
    cast: &mut Cast<'_>,
    case: &CaseId,
    consent: ConsentId,
) -> anyhow::Result<()> {
    let lang = cast.lang;
    register(stage, cast, case).await?;
    let first = case_meeting(stage, cast, case, consent).await?;
    let view = cast.meeting(CENTER, first).await?;
    let day_before =
        view.starts_at.datetime() - time::Duration::hours(23) - cast.clock.now_for_test();
    let reminded = cast
        .days_pass(
            stage,
            day_before,
            "会議の前日",
            "the day before the meeting",
        )
        .await?;
    for who in [CENTER, CLINIC, WELFARE] {
        wait(&mut cast.events[who], |e| {
            matches!(e, NodeEvent::Notice { notice: Notice::MeetingReminder { meeting_id, .. }, .. } if *meeting_id == first)
        })
        .await?;
    }
    stage.detail(
        &format!("ハブが前日のお知らせを送りました（{reminded} 件）: センター・クリニック・子ども家庭総合支援拠点が受け取り、受領確認しました"),
        &format!("the hub sent the day-before reminder ({reminded}): the center, the clinic and child welfare stored and acknowledged it"),
    );
    cast.days_pass(
        stage,
        time::Duration::days(1),
        "会議の翌日",
        "the day after the meeting",
    )
    .await?;
    share_minutes(stage, cast, first, consent).await?;
    let v1 = first_plan(stage, cast, case, consent, first).await?;
    birth(stage, cast, case).await?;
    let widened = widen_consent(stage, cast, case).await?;
    let review = review_meeting(stage, cast, case, consent, widened).await?;
    second_plan(stage, cast, v1, review, consent, widened).await?;
    let _ = lang;
    Ok(())
}

/// Plan v1 from the first meeting's decisions, whole to the clinic and
/// child welfare.
async fn first_plan(
    stage: &mut Stage,
    cast: &mut Cast<'_>,
    case: &CaseId,
    consent: ConsentId,
    meeting: MeetingId,
) -> anyhow::Result<PlanSend> {
    let today = Day::of(cast.now());
    let action = |what: &str, who: usize, frequency: &str| PlanAction {
        what: what.into(),
        agency: cast.id(who),
        frequency: frequency.into(),
        from: Some(today),
        until: None,
    };
    let plan = SupportPlan {
        wishes: "赤ちゃんを自分の手で育てたい。困ったときに相談できる人がほしい。".into(),
        goals: vec![
            "妊婦健診を欠かさず受け、安心して出産を迎える".into(),
            "出産後に相談できる先を本人が知っている".into(),
        ],
        actions: vec![
            action("家庭訪問", CENTER, "週1回"),
            action("妊婦健診と受診状況のセンターへの連絡", CLINIC, "健診ごと"),
            action("出産後の養育状況の確認", WELFARE, "出産後1か月以内"),
        ],
        lead: cast.id(CENTER),
        lead_contact: "こども家庭センター 保健師 高橋 内線 301".into(),
        key_person: "本人の実母（隣市在住）".into(),
        person_took_part: true,
        copy_given: true,
        made_on: today,
        review_on: today.plus_months(1),
        from_meeting: Some(meeting),
        categories: vec![
            InfoCategory::Basic,
            InfoCategory::PregnancyMedical,
            InfoCategory::Family,
        ],
    };
    let send = PlanSend {
        case: case.clone(),
        plan_id: PlanId::new(),
        version: 1,
        based_on: None,
        plan,
        whole: vec![cast.id(CLINIC), cast.id(WELFARE)],
        parts: vec![],
        part_categories: vec![],
        basis: LegalBasis::Consent {
            consent_id: consent,
        },
        justification: None,
        author: nurse(),
    };
    cast.deliver(CENTER, &send.whole_draft()).await?;
    stage.say(
        &format!(
            "センターが支援プラン 版1 を作成（本人と一緒に作成し交付、見直し日 {}）。クリニックと子ども家庭総合支援拠点に全体が届きました:",
            send.plan.review_on
        ),
        &format!(
            "The center writes support plan version 1 (made with her, copy given, review on {}); the whole plan reaches the clinic and child welfare:",
            send.plan.review_on
        ),
    );
    for a in &send.plan.actions {
        stage.detail(
            &format!(
                "  {}: {}（{}）",
                cast.name(cast.index(&a.agency)),
                a.what,
                a.frequency
            ),
            &format!(
                "  {}: {} ({})",
                cast.name(cast.index(&a.agency)),
                a.what,
                a.frequency
            ),
        );
    }
    Ok(send)
}

/// Plan v2 from the review meeting's decisions: the whole to the clinic
/// and child welfare under her first consent, and to the nursery only its
/// part, under the consent that covers it.
async fn second_plan(
    stage: &mut Stage,
    cast: &mut Cast<'_>,
    v1: PlanSend,
    review: MeetingId,
    consent: ConsentId,
    widened: ConsentId,
) -> anyhow::Result<()> {
    let lang = cast.lang;
    let Some(meetings::HeldMinutes::Full(minutes)) = cast.meeting(CENTER, review).await?.minutes
    else {
        bail!("the center holds the review meeting's minutes");
    };
    let today = Day::of(cast.now());
    // The meeting decided the lead, the key person and the next review;
    // the actions are v1's, with the visits now fortnightly, the clinic's
    // part after the birth, and the nursery's new part.
    let mut actions = v1.plan.actions.clone();
    actions[0].frequency = "2週に1回".into();
    actions[1].what = "1か月健診の結果をセンターへ連絡".into();
    actions[1].frequency = "1回".into();
    actions.push(PlanAction {
        what: "上の子の登園状況の見守り（欠席が続くときはセンターへ連絡）".into(),
        agency: cast.id(NURSERY),
        frequency: "登園日ごと".into(),
        from: Some(today),
        until: None,
    });
    let changes = PlanChanges {
        wishes: Some("上の子の保育園も続けながら、赤ちゃんと落ち着いて暮らしたい。".into()),
        actions: Some(actions),
        ..PlanChanges::from_minutes(&minutes, review, &v1.plan)
    };
    let plan = changes.apply(&v1.plan, today);
    let v2 = PlanSend {
        version: 2,
        based_on: Some(1),
        plan,
        ..v1.clone()
    };
    cast.deliver(CENTER, &v2.whole_draft()).await?;
    let nursery_part = PlanSend {
        whole: vec![],
        parts: vec![cast.id(NURSERY)],
        part_categories: vec![InfoCategory::Basic, InfoCategory::Childcare],
        basis: LegalBasis::Consent {
            consent_id: widened,
        },
        ..v2.clone()
    };
    for (_, draft) in nursery_part.part_drafts() {
        cast.deliver(CENTER, &draft).await?;
    }
    let _ = consent;
    stage.say(
        "見直し会議の決定から支援プラン 版2 を一度に作成しました。版1 からの差分:",
        "Support plan version 2 is made from the review meeting's decisions in one step. What changed from version 1:",
    );
    for line in
        super::super::plan::diff_lines(&plans::diff(&v1.plan, &v2.plan), lang, cast.directory)
    {
        stage.detail(&format!("  {line}"), &format!("  {line}"));
    }
    let held = plans::held_versions(cast.nodes[NURSERY].records()).await?;
    let Some(part) = held.iter().find(|v| v.version == 2) else {
        bail!("the nursery should hold its part of version 2");
    };
    let plans::Held::Part(part) = &part.content else {
        bail!("the nursery should hold only its part");
    };
    stage.detail(
        "保育園が受け取ったのは自園の担当部分だけです（本人の意向・目標・ほかの機関の支援は含みません）:",
        "the nursery received only its own part (not her wishes, the goals or the other agencies' actions):",
    );
    for a in &part.actions {
        stage.detail(
            &format!(
                "  保育園の担当: {}（{}）／ 見直し日 {}",
                a.what, a.frequency, part.review_on
            ),
            &format!(
                "  the nursery's action: {} ({}) / review on {}",
                a.what, a.frequency, part.review_on
            ),
        );
    }
    Ok(())
}

async fn register(stage: &mut Stage, cast: &mut Cast<'_>, case: &CaseId) -> anyhow::Result<()> {
    let draft = Draft {
        recipients: vec![],
        case_id: Some(case.clone()),
        urgency: Urgency::Normal,
        basis: None,
        purpose: None,
        action: Some(Action::RegisterCase {
            registration: Registration {
                classification: CaseClassification::SpecifiedExpectantMother,
                lead: cast.id(CENTER),
                members: vec![cast.id(CENTER), cast.id(WELFARE), cast.id(NURSERY)],
            },
        }),
        payload: Payload {
            author: Author {
                name: "山本 直子".into(),
                role: "調整担当".into(),
                contact: "要対協 調整機関 内線 520".into(),
            },
            body: Body::CaseUpdate(Note {
                text: "実務者会議で特定妊婦として登録。主担当はセンター。".into(),
                categories: vec![],
            }),
            justification: None,
        },
    };
    accepted(cast.nodes[YOTAIKYO].send(&draft).await?)?;
    stage.say(
        "要対協の調整機関がケースを「特定妊婦」として登録しました（主担当機関: センター、構成機関: センター・子ども家庭総合支援拠点・保育園）",
        "The council's coordinating body registers the case as a specified expectant mother (lead: the center; members: the center, child welfare, the nursery)",
    );
    Ok(())
}

fn invitation(agenda: &str, expectations: Vec<Expectation>) -> Invitation {
    Invitation {
        place: "みなと市役所 3階 会議室B".into(),
        online: None,
        agenda: agenda.into(),
        expectations,
        note: String::new(),
        categories: vec![InfoCategory::Basic, InfoCategory::PregnancyMedical],
    }
}

async fn case_meeting(
    stage: &mut Stage,
    cast: &mut Cast<'_>,
    case: &CaseId,
    consent: ConsentId,
) -> anyhow::Result<MeetingId> {
    let lang = cast.lang;
    // Three days on, at 14:00 in Japan.
    let day = Day::of(cast.now()).plus_days(3);
    let starts_at = Timestamp::from_datetime(day.start().datetime() + time::Duration::hours(14));
    let meeting = MeetingSchedule {
        meeting_id: MeetingId::new(),
        kind: MeetingKind::IndividualCase,
        more_cases: vec![],
        starts_at,
        duration_minutes: 60,
    };
    let sharing = Sharing {
        basis: LegalBasis::Consent {
            consent_id: consent,
        },
        justification: None,
        author: nurse(),
    };
    let expectations = vec![
        Expectation {
            agency: cast.id(CLINIC),
            text: "妊婦健診の受診状況と今後の予定を報告".into(),
        },
        Expectation {
            agency: cast.id(WELFARE),
            text: "家庭状況の確認結果を報告".into(),
        },
    ];
    let agenda = "妊娠後期から出産後までの支援体制と役割分担";
    let with_nursery = invitation_draft(
        case,
        meeting.clone(),
        vec![cast.id(CLINIC), cast.id(WELFARE), cast.id(NURSERY)],
        invitation(agenda, expectations.clone()),
        &sharing,
    );
    stage.say(
        &format!(
            "センターが個別ケース検討会議を開催します（{}、みなと市役所 会議室B）。保育園も招こうとすると:",
            show_local(starts_at)
        ),
        &format!(
            "The center convenes an individual case meeting ({} JST, city hall room B). Inviting the nursery too:",
            show_local(starts_at)
        ),
    );
    match cast.nodes[CENTER].send(&with_nursery).await {
        Err(NodeError::Refused(body)) => stage.detail(
            &format!(
                "✘ {}",
                super::super::labels::refusal(cast.directory, &body, lang)
            ),
            &format!(
                "✘ {}",
                super::super::labels::refusal(cast.directory, &body, lang)
            ),
        ),
        other => bail!("the hub should have refused the nursery as an invitee: {other:?}"),
    }
    let draft = invitation_draft(
        case,
        meeting.clone(),
        vec![cast.id(CLINIC), cast.id(WELFARE)],
        invitation(agenda, expectations),
        &sharing,
    );
    cast.deliver(CENTER, &draft).await?;
    stage.detail(
        "✔ 同意の範囲内のクリニックと子ども家庭総合支援拠点に案内が届きました（議題・場所・依頼事項は暗号化）",
        "✔ the invitation reached the clinic and child welfare, both inside her consent (agenda, place and requests encrypted)",
    );
    let answers = [
        (CLINIC, Attendance::Attend, "佐藤 美咲", "助産師", midwife()),
        (
            WELFARE,
            Attendance::Proxy,
            "鈴木 健（代理）",
            "社会福祉士",
            nurse(),
        ),
    ];
    for (who, attendance, name, role, author) in answers {
        let view = cast.meeting(who, meeting.meeting_id).await?;
        let answer = Answer {
            attendee_name: name.into(),
            attendee_role: role.into(),
            note: String::new(),
        };
        cast.deliver(who, &answer_draft(&view, attendance, answer, &author))
            .await?;
    }
    let view = cast.meeting(CENTER, meeting.meeting_id).await?;
    stage.detail(
        "センターに出欠がその場で届きます:",
        "the answers reach the center as they are given:",
    );
    for i in &view.invitees {
        let who = cast.index(&i.agency);
        let answer = i.attendance.map_or("—", |a| a.label(lang));
        let person = i
            .answer
            .as_ref()
            .map_or(String::new(), |a| a.attendee_name.clone());
        stage.detail(
            &format!("  {}: {answer}（{person}）", cast.name(who)),
            &format!("  {}: {answer} ({person})", cast.name(who)),
        );
    }
    Ok(meeting.meeting_id)
}

fn first_minutes(cast: &Cast<'_>, held_at: Timestamp) -> Minutes {
    Minutes {
        held_at: Some(held_at),
        place: "みなと市役所 3階 会議室B".into(),
        attendees: vec![
            Attendee {
                agency: cast.id(CENTER),
                role: "保健師".into(),
                name: "高橋 由紀".into(),
            },
            Attendee {
                agency: cast.id(CLINIC),
                role: "助産師".into(),
                name: "佐藤 美咲".into(),
            },
            Attendee {
                agency: cast.id(WELFARE),
                role: "社会福祉士".into(),
                name: "鈴木 健".into(),
            },
        ],
        case_summary: "19歳、初産。妊娠12週で初診。身近な支援者がいない。".into(),
        information_shared: "健診は受診継続。EPDS 11点。パートナーは協力的だが就労が不安定。"
            .into(),
        risk: Some(Level::Medium),
        urgency: Some(Level::Medium),
        assessment: "出産前後に孤立するおそれ。本人に相談の意思がある。".into(),
        decisions: vec![
            "センターが主担当機関となり、出産まで週1回家庭訪問する".into(),
            "支援プランを作成し、本人と一緒に確認する".into(),
        ],
        lead: Some(cast.id(CENTER)),
        lead_contact: "こども家庭センター 保健師 高橋 内線 301".into(),
        key_person: "本人の実母（隣市在住）".into(),
        roles: vec![
            Role {
                agency: cast.id(CLINIC),
                task: "妊婦健診の受診状況をセンターへ連絡する".into(),
            },
            Role {
                agency: cast.id(WELFARE),
                task: "出産後の養育状況を確認する".into(),
            },
        ],
        next_support: "出産まで週1回の家庭訪問".into(),
        next_review: Some(Day::of(held_at).plus_months(1)),
        categories: vec![
            InfoCategory::Basic,
            InfoCategory::PregnancyMedical,
            InfoCategory::MentalHealth,
            InfoCategory::Family,
        ],
    }
}

async fn share_minutes(
    stage: &mut Stage,
    cast: &mut Cast<'_>,
    meeting: MeetingId,
    consent: ConsentId,
) -> anyhow::Result<()> {
    let view = cast.meeting(CENTER, meeting).await?;
    let minutes = first_minutes(cast, view.starts_at);
    let sharing = Sharing {
        basis: LegalBasis::Consent {
            consent_id: consent,
        },
        justification: None,
        author: nurse(),
    };
    for draft in minutes_drafts(&view, &minutes, view.attending(), &[], &[], &sharing) {
        cast.deliver(CENTER, &draft).await?;
    }
    stage.say(
        "会議録（国の様式の項目: 出席者・アセスメント・決定事項・主担当機関・役割分担・次回見直し日）を、出席した2機関にだけ送りました:",
        "The minutes (the national form's items: attendees, assessment, decisions, lead, roles, next review) go to the two agencies that attended, and no one else:",
    );
    for d in &minutes.decisions {
        stage.detail(&format!("決定: {d}"), &format!("decision: {d}"));
    }
    Ok(())
}

async fn birth(stage: &mut Stage, cast: &mut Cast<'_>, case: &CaseId) -> anyhow::Result<()> {
    let lang = cast.lang;
    cast.days_pass(
        stage,
        time::Duration::days(60),
        "2か月後、出産",
        "two months later, the birth",
    )
    .await?;
    // Version 1's review date passed meanwhile: the hub told the lead.
    let overdue = wait(&mut cast.events[CENTER], |e| {
        matches!(
            e,
            NodeEvent::Notice {
                notice: Notice::PlanReviewOverdue { .. },
                ..
            }
        )
    })
    .await?;
    if let NodeEvent::Notice { notice, .. } = overdue {
        stage.detail(
            &format!("ハブからセンターへ: {}", notice.describe(lang)),
            &format!("from the hub to the center: {}", notice.describe(lang)),
        );
    }
    let draft = note_draft(
        case.clone(),
        vec![cast.id(CENTER), cast.id(WELFARE)],
        LegalBasis::ProvisionToMunicipality,
        Purpose::InformationSharing,
        "本日 2,980g の女児を出産。母子とも経過良好。退院予定は5日後。".into(),
        vec![InfoCategory::Basic, InfoCategory::PregnancyMedical],
        midwife(),
        Some("特定妊婦の出産について、産後の支援を途切れさせないため市町村へ連絡する".into()),
    );
    cast.deliver(CLINIC, &draft).await?;
    stage.say(
        "クリニックが出生連絡を送りました（経過記録、根拠: 市町村への情報提供）。センターと子ども家庭総合支援拠点に届きました",
        "The clinic reports the birth (a case note under provision to the municipality); it reaches the center and child welfare",
    );
    Ok(())
}

/// At a home visit she agrees that the nursery, where her partner's older
/// child goes, may take part: the center records it.
async fn widen_consent(
    stage: &mut Stage,
    cast: &mut Cast<'_>,
    case: &CaseId,
) -> anyhow::Result<ConsentId> {
    let scope = ConsentScope {
        consent_id: ConsentId::new(),
        case_id: case.clone(),
        given_by: ConsentGiver::Person,
        method: ConsentMethod::Oral,
        decision: ConsentDecision::Granted,
        recipients: vec![
            ConsentRecipient::Agency(cast.id(CLINIC)),
            ConsentRecipient::Agency(cast.id(WELFARE)),
            ConsentRecipient::Agency(cast.id(NURSERY)),
        ],
        categories: vec![InfoCategory::Basic, InfoCategory::Childcare],
        purposes: vec![Purpose::CaseMeeting, Purpose::SupportPlan],
        valid_from: cast.now(),
        valid_until: None,
    };
    let id = scope.consent_id;
    let draft = Draft {
        recipients: vec![],
        case_id: Some(case.clone()),
        urgency: Urgency::Normal,
        basis: None,
        purpose: None,
        action: Some(Action::RecordConsent { scope }),
        payload: Payload {
            author: nurse(),
            body: Body::ConsentRecord(ConsentDetails {
                given_by_name: "山田 花子".into(),
                note:
                    "家庭訪問時に、上の子が通う保育園と支援の役割を共有することを説明し、同意を得た"
                        .into(),
                scan: None,
            }),
            justification: None,
        },
    };
    accepted(cast.nodes[CENTER].send(&draft).await?)?;
    stage.say(
        "家庭訪問で本人が保育園との共有に同意し、センターが記録しました（提供先に保育園、情報区分: 基本情報・保育、目的: ケース会議・支援プラン）",
        "At a home visit she agrees to sharing with the nursery; the center records it (adds the nursery; categories: basic, childcare; purposes: case meeting, support plan)",
    );
    Ok(id)
}

/// The review meeting (支援プラン検討のケース会議), the nursery at the table:
/// it attends under her new consent, but that consent covers only basic
/// and childcare information, so the hub refuses it the full minutes and
/// it receives its excerpt.
async fn review_meeting(
    stage: &mut Stage,
    cast: &mut Cast<'_>,
    case: &CaseId,
    consent: ConsentId,
    widened: ConsentId,
) -> anyhow::Result<MeetingId> {
    let lang = cast.lang;
    let day = Day::of(cast.now()).plus_days(7);
    let starts_at = Timestamp::from_datetime(day.start().datetime() + time::Duration::hours(10));
    let meeting = MeetingSchedule {
        meeting_id: MeetingId::new(),
        kind: MeetingKind::PlanReview,
        more_cases: vec![],
        starts_at,
        duration_minutes: 60,
    };
    let mut agenda = invitation(
        "出産後の支援プランの見直し（保育園との役割分担）",
        vec![Expectation {
            agency: cast.id(NURSERY),
            text: "上の子の登園状況を報告".into(),
        }],
    );
    agenda.categories = vec![InfoCategory::Basic];
    let under_widened = Sharing {
        basis: LegalBasis::Consent {
            consent_id: widened,
        },
        justification: None,
        author: nurse(),
    };
    let invitees = vec![cast.id(CLINIC), cast.id(WELFARE), cast.id(NURSERY)];
    cast.deliver(
        CENTER,
        &invitation_draft(case, meeting.clone(), invitees, agenda, &under_widened),
    )
    .await?;
    for (who, name, role) in [
        (CLINIC, "佐藤 美咲", "助産師"),
        (WELFARE, "鈴木 健", "社会福祉士"),
        (NURSERY, "小林 恵", "保育士"),
    ] {
        let view = cast.meeting(who, meeting.meeting_id).await?;
        let answer = Answer {
            attendee_name: name.into(),
            attendee_role: role.into(),
            note: String::new(),
        };
        cast.deliver(
            who,
            &answer_draft(&view, Attendance::Attend, answer, &nurse()),
        )
        .await?;
    }
    stage.say(
        &format!(
            "センターが支援プラン検討のケース会議を開催（{}）。今回は保育園も招待でき、3機関とも出席と回答しました",
            show_local(starts_at)
        ),
        &format!(
            "The center convenes a support plan case meeting ({} JST). This time the nursery can be invited; all three answer that they attend",
            show_local(starts_at)
        ),
    );
    cast.days_pass(
        stage,
        time::Duration::days(8),
        "見直し会議の翌日",
        "the day after the review meeting",
    )
    .await?;
    let view = cast.meeting(CENTER, meeting.meeting_id).await?;
    let mut minutes = first_minutes(cast, view.starts_at);
    minutes.decisions = vec![
        "保育園が上の子の登園状況を見守り、気になる変化をセンターへ連絡する".into(),
        "家庭訪問は2週に1回とする".into(),
    ];
    minutes.roles.push(Role {
        agency: cast.id(NURSERY),
        task: "上の子の登園状況を見守り、欠席が続くときはセンターへ連絡".into(),
    });
    minutes.next_review = Some(Day::of(view.starts_at).plus_months(3));
    stage.say(
        "センターが見直し会議の会議録を送ります:",
        "The center shares the review meeting's minutes:",
    );
    let full_to_nursery = minutes_drafts(
        &view,
        &minutes,
        vec![cast.id(NURSERY)],
        &[],
        &[],
        &under_widened,
    );
    match cast.nodes[CENTER].send(&full_to_nursery[0]).await {
        Err(NodeError::Refused(body)) => stage.detail(
            &format!(
                "✘ 全文を保育園へ送ろうとすると、保育園の同意は基本情報・保育だけなので拒否されます: {}",
                super::super::labels::refusal(cast.directory, &body, lang)
            ),
            &format!(
                "✘ the full minutes to the nursery are refused: its consent covers basic and childcare information only: {}",
                super::super::labels::refusal(cast.directory, &body, lang)
            ),
        ),
        other => bail!("the hub should have refused the full minutes to the nursery: {other:?}"),
    }
    let under_first = Sharing {
        basis: LegalBasis::Consent {
            consent_id: consent,
        },
        justification: None,
        author: nurse(),
    };
    for draft in minutes_drafts(
        &view,
        &minutes,
        vec![cast.id(CLINIC), cast.id(WELFARE)],
        &[],
        &[],
        &under_first,
    ) {
        cast.deliver(CENTER, &draft).await?;
    }
    let excerpt = minutes_drafts(
        &view,
        &minutes,
        vec![],
        &[cast.id(NURSERY)],
        &[InfoCategory::Basic, InfoCategory::Childcare],
        &under_widened,
    );
    for draft in &excerpt {
        cast.deliver(CENTER, draft).await?;
    }
    let held = cast.meeting(NURSERY, meeting.meeting_id).await?;
    let Some(meetings::HeldMinutes::Excerpt(part)) = held.minutes else {
        bail!("the nursery should hold the excerpt");
    };
    stage.detail(
        "✔ 全文はクリニックと子ども家庭総合支援拠点へ。保育園には抜粋（自園の役割・主担当機関・次回見直し日）だけが届きました:",
        "✔ the full minutes went to the clinic and child welfare; the nursery received only its excerpt (its role, the lead, the next review):",
    );
    for r in &part.roles {
        stage.detail(
            &format!("  保育園の役割: {}", r.task),
            &format!("  the nursery's role: {}", r.task),
        );
    }
    if let Some(d) = part.next_review {
        stage.detail(
            &format!("  次回見直し日: {d}"),
            &format!("  next review: {d}"),
        );
    }
    Ok(meeting.meeting_id)
}
