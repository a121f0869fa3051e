//! The center's 支援台帳 end to end: referrals, a 出生連絡, a support plan
//! and a meeting sent through a real hub reach the center's ledger, which
//! staff keep from the command line (`tsunagu agency support-ledger`); the
//! rules move the next contact; the morning filters; bad input refused
//! with what to do, nothing stored.

use serde_json::Value;
use tsunagu::agency::meetings::{Sharing, invitation_draft};
use tsunagu::agency::plans::{self, PlanSend};
use tsunagu::protocol::day::Day;
use tsunagu::protocol::meeting::{Invitation, MeetingKind, MeetingSchedule};
use tsunagu::protocol::payload::Body;
use tsunagu::protocol::plan::{PlanAction, SupportPlan};
use tsunagu::protocol::referral::{Child, ReferralTiming};
use tsunagu::protocol::{CaseId, InfoCategory, LegalBasis, MeetingId, PlanId, Timestamp};

use crate::helpers::*;

both_backends!(
    referrals_a_birth_a_plan_and_a_meeting_reach_the_rows_a_person_links_them_to,
    contacts_move_the_next_contact_tier_changes_keep_why_and_the_morning_filters_choose,
    support_ledger_input_that_cannot_be_right_is_refused_and_nothing_is_stored,
);

/// Who runs the commands (the OS user the CLI records).
const NURSE: &str = "hokenshi-tanaka";

type World = CouncilWorld;

impl World {
    /// The clinic refers a new case to the center; returns once the center
    /// holds it.
    async fn referred(&mut self) -> CaseId {
        let case = self.clinic.node.open_case().await.unwrap();
        self.refer(&case, referral_draft(&case, &[CENTER])).await;
        case
    }

    async fn refer(&mut self, case: &CaseId, draft: tsunagu::agency::Draft) {
        assert_eq!(draft.case_id.as_ref(), Some(case));
        let id = sent(&self.clinic, &draft).await;
        self.center.wait_stored(id).await;
    }
}

fn today() -> Day {
    Day::of(Timestamp::now())
}

fn days(n: i64) -> String {
    today().plus_days(n).to_string()
}

/// The demo mother's birth date, as her referral gives it.
fn her_birth_date() -> String {
    let r = tsunagu::protocol::referral::demo_referral(time::OffsetDateTime::now_utc().date());
    Day::from(r.mother.birth_date).to_string()
}

/// `tsunagu agency support-ledger ARGS --config CONFIG` run by the nurse,
/// in Japanese: (success, stdout, stdout + stderr). Off the test's runtime
/// thread, which runs the hub.
async fn sl(config: &str, args: &[&str]) -> (bool, String, String) {
    let mut all: Vec<String> = vec!["agency".into(), "support-ledger".into()];
    all.extend(args.iter().map(|a| a.to_string()));
    all.extend(["--config".into(), config.into()]);
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tsunagu"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(&all)
            .env_remove("TSUNAGU_LANG")
            .env("USER", NURSE)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let both = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
        (out.status.success(), stdout, both)
    })
    .await
    .unwrap()
}

/// The command with `--json`, which must succeed; its JSON.
async fn json(config: &str, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let (ok, out, both) = sl(config, &all).await;
    assert!(ok, "{args:?} failed: {both}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out}"))
}

/// The command must fail; its output, which must say `expected`.
async fn refused(config: &str, args: &[&str], expected: &str) -> String {
    let (ok, _, both) = sl(config, args).await;
    assert!(!ok, "{args:?} should be refused: {both}");
    assert!(
        both.contains(expected),
        "{args:?}: expected {expected:?} in {both}"
    );
    both
}

/// The 台帳番号 of every row the morning list shows.
fn numbers(list: &Value) -> Vec<&str> {
    list["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_str().unwrap())
        .collect()
}

fn unlinked_cases(list: &Value) -> Vec<&str> {
    list["unlinked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["case_id"].as_str().unwrap())
        .collect()
}

/// A contact point or checkup of `show --json`, by its wire name.
fn point<'a>(row: &'a Value, list: &str, name: &str) -> &'a Value {
    row[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["what"]["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {row}"))
}

/// A 出生連絡: the clinic's referral after the birth, with the baby.
fn birth_notice(case: &CaseId, born: Day) -> tsunagu::agency::Draft {
    let mut draft = referral_draft(case, &[CENTER]);
    let Body::Referral(r) = &mut draft.payload.body else {
        unreachable!("the demo draft is a referral")
    };
    r.timing = ReferralTiming::Postpartum;
    r.pregnancy = None;
    r.child = Some(Child {
        birth_date: born.into(),
        birth_weight_g: 2480,
        gestational_weeks_at_birth: 37,
        nicu: false,
    });
    draft
}

/// The center's support plan for `case`, made 40 days ago and due for
/// review 10 days ago.
fn overdue_plan(case: &CaseId) -> PlanSend {
    let made_on = today().plus_days(-40);
    PlanSend {
        case: case.clone(),
        plan_id: PlanId::new(),
        version: 1,
        based_on: None,
        plan: SupportPlan {
            wishes: "赤ちゃんと二人で落ち着いて暮らしたい".into(),
            goals: vec!["乳児健診を受ける".into()],
            actions: vec![PlanAction {
                what: "家庭訪問".into(),
                agency: agency(CENTER),
                frequency: "月1回".into(),
                from: Some(made_on),
                until: None,
            }],
            lead: agency(CENTER),
            lead_contact: "母子保健係 田中".into(),
            key_person: "実母".into(),
            person_took_part: true,
            copy_given: false,
            made_on,
            review_on: made_on.plus_days(30),
            from_meeting: None,
            categories: vec![InfoCategory::Family],
        },
        whole: vec![agency(WELFARE)],
        parts: vec![],
        part_categories: vec![],
        basis: LegalBasis::YotaikyoSharing,
        justification: Some("要対協登録ケースの支援方針を共有するため".into()),
        author: hokenshi(),
    }
}

/// The center invites child welfare to an individual case meeting next week.
fn meeting_draft(case: &CaseId) -> tsunagu::agency::Draft {
    let starts_at =
        Timestamp::from_datetime(time::OffsetDateTime::now_utc() + time::Duration::days(7));
    invitation_draft(
        case,
        MeetingSchedule {
            meeting_id: MeetingId::new(),
            kind: MeetingKind::IndividualCase,
            more_cases: vec![],
            starts_at,
            duration_minutes: 60,
        },
        vec![agency(WELFARE)],
        Invitation {
            place: "みなと市役所 3階 会議室B".into(),
            online: None,
            agenda: "出産後の支援体制".into(),
            expectations: vec![],
            note: String::new(),
            categories: vec![InfoCategory::Basic],
        },
        &Sharing {
            basis: LegalBasis::YotaikyoSharing,
            justification: Some("要対協登録ケースの個別ケース検討会議のため".into()),
            author: hokenshi(),
        },
    )
}

pub async fn referrals_a_birth_a_plan_and_a_meeting_reach_the_rows_a_person_links_them_to(db: Db) {
    let mut w = World::start(&db).await;
    let center = w.config(CENTER);
    let born = her_birth_date();
    // The center already knows her from the pregnancy notification.
    let notified = days(-20);
    json(
        &center,
        &[
            "add",
            "--number",
            "R8-0001",
            "--name",
            "山田 花子",
            "--birth-date",
            &born,
            "--notified-on",
            &notified,
            "--tier",
            "self-plan",
            "--reason",
            "妊娠届出時の面接",
        ],
    )
    .await;

    // A referral about her: under 台帳にない連絡票, with her row as candidate.
    let first = w.referred().await;
    let list = json(&center, &["list"]).await;
    assert_eq!(unlinked_cases(&list), [first.as_str()], "{list}");
    let u = &list["unlinked"][0];
    assert_eq!(u["name"], "山田 花子");
    assert_eq!(u["sender"]["name"], "さくらレディースクリニック", "{u}");
    assert_eq!(u["candidates"][0]["number"], "R8-0001", "{u}");
    let (_, text, _) = sl(&center, &["list"]).await;
    assert!(
        text.contains("台帳にない連絡票") && text.contains(first.as_str()),
        "{text}"
    );

    // A person confirms it is her: linked, and it leaves the list.
    let linked = json(&center, &["link", "R8-0001", "--case", first.as_str()]).await;
    assert_eq!(linked["case_id"], first.as_str());
    assert!(unlinked_cases(&json(&center, &["list"]).await).is_empty());
    let row = json(&center, &["show", "R8-0001"]).await;
    assert_eq!(row["cases"][0]["case_id"], first.as_str());
    assert_eq!(row["cases"][0]["linked_by"], NURSE);
    assert_eq!(row["cases"][0]["referrals"][0]["from"]["id"], CLINIC);
    // Confirming it twice changes nothing.
    json(&center, &["link", "R8-0001", "--case", first.as_str()]).await;
    let again = json(&center, &["show", "R8-0001"]).await;
    assert_eq!(again["cases"], row["cases"]);

    // Another case: its row made from the referral and linked in one step.
    let second = w.referred().await;
    let added = json(
        &center,
        &["add", "--from-case", second.as_str(), "--number", "R8-0002"],
    )
    .await;
    assert_eq!(added["number"], "R8-0002");
    assert_eq!(added["name"], "山田 花子");
    assert_eq!(added["items"]["birth_date"], born.as_str());
    assert_eq!(added["tier"]["name"], "support_plan");
    assert_eq!(added["cases"][0]["case_id"], second.as_str());
    assert!(unlinked_cases(&json(&center, &["list"]).await).is_empty());
    // A case belongs to one row.
    refused(
        &center,
        &["link", "R8-0001", "--case", second.as_str()],
        "既に別の行に結び付いています",
    )
    .await;

    // The 出生連絡: the baby's row, and her infant visit moves to the birth.
    let due = added["items"]["due_date"].as_str().unwrap().to_owned();
    let visit = point(&added, "points", "infant_visit");
    assert_eq!(visit["from"], due.as_str(), "{visit}");
    let birth = today().plus_days(-5);
    w.refer(&second, birth_notice(&second, birth)).await;
    let baby = json(
        &center,
        &[
            "add",
            "--from-case",
            second.as_str(),
            "--child-number",
            "R8-0003",
        ],
    )
    .await;
    assert_eq!(baby["kind"]["name"], "child");
    assert_eq!(baby["items"]["mother"], "R8-0002");
    assert_eq!(baby["items"]["birth_date"], birth.to_string());
    assert_eq!(baby["age_months"], 0);
    refused(
        &center,
        &["set", "R8-0002", "--number", "R8-0009"],
        "子どもの行が母として指している台帳番号は変えられません",
    )
    .await;
    let mother = json(&center, &["show", "R8-0002"]).await;
    let visit = point(&mother, "points", "infant_visit");
    assert_eq!(visit["from"], birth.to_string(), "{visit}");
    assert_eq!(visit["state"]["name"], "due", "{visit}");

    // The council registers the case; the center's plan on it is past its
    // review day, and a meeting is called.
    sent(&w.yotaikyo, &registration_draft(&second)).await;
    let plan = plans::send_plan(&w.center.node, &overdue_plan(&second)).await;
    assert!(plan.whole.is_ok(), "{:?}", plan.whole);
    let review_on = today().plus_days(-10).to_string();
    let list = json(&center, &["list"]).await;
    let due_plans = list["plans_due"].as_array().unwrap();
    assert_eq!(due_plans.len(), 1, "{list}");
    assert_eq!(due_plans[0]["number"], "R8-0002");
    assert_eq!(due_plans[0]["case_id"], second.as_str());
    assert_eq!(due_plans[0]["review_on"], review_on.as_str());
    let (_, text, _) = sl(&center, &["list"]).await;
    assert!(
        text.contains("見直し時期の支援プラン") && text.contains(&review_on),
        "{text}"
    );
    sent(&w.center, &meeting_draft(&second)).await;
    let mother = json(&center, &["show", "R8-0002"]).await;
    let case = &mother["cases"][0];
    assert_eq!(
        case["meetings"][0]["kind"]["name"], "individual_case",
        "{case}"
    );
    assert_eq!(case["plans"][0]["review_on"], review_on.as_str(), "{case}");
    let (_, text, _) = sl(&center, &["show", "R8-0002"]).await;
    assert!(
        text.contains("連携ケース") && text.contains("個別ケース検討会議"),
        "{text}"
    );
    w.stop().await;
}

/// Two children on the ledger: 佐藤's in 北地区 (特定妊婦の子 level, born
/// 200 days ago: overdue), 鈴木's in 南地区 (セルフプラン, born 10 days ago).
async fn two_children(center: &str) {
    for (number, name, born, tier, district, staff) in [
        (
            "R8-0101",
            "北 一郎",
            days(-200),
            "specified",
            "北地区",
            "佐藤",
        ),
        (
            "R8-0102",
            "南 二郎",
            days(-10),
            "self-plan",
            "南地区",
            "鈴木",
        ),
    ] {
        json(
            center,
            &[
                "add",
                "--number",
                number,
                "--kind",
                "child",
                "--name",
                name,
                "--birth-date",
                &born,
                "--tier",
                tier,
                "--district",
                district,
                "--staff",
                staff,
                "--reason",
                "出生連絡",
            ],
        )
        .await;
    }
}

pub async fn contacts_move_the_next_contact_tier_changes_keep_why_and_the_morning_filters_choose(
    db: Db,
) {
    let w = World::start(&db).await;
    let center = w.config(CENTER);
    two_children(&center).await;

    // No contact yet: the next one is a month after the birth, overdue.
    let row = json(&center, &["show", "R8-0101"]).await;
    let born = today().plus_days(-200);
    assert_eq!(row["next_contact"]["day"], born.plus_months(1).to_string());
    assert_eq!(row["next_contact"]["rule"]["name"], "specified_monthly");
    assert_eq!(
        row["next_contact"]["overdue_days"],
        born.plus_months(1).days_until(today())
    );
    assert_eq!(
        numbers(&json(&center, &["list", "--due"]).await),
        ["R8-0101"]
    );

    // A visit today: the next contact is a month on, by the same rule.
    let after = json(
        &center,
        &[
            "contact",
            "R8-0101",
            "--kind",
            "visit",
            "--staff",
            "佐藤",
            "--summary",
            "体重増加良好",
        ],
    )
    .await;
    assert_eq!(after["last_contact"], today().to_string());
    assert_eq!(
        after["next_contact"]["day"],
        today().plus_months(1).to_string()
    );
    assert_eq!(after["next_contact"]["rule"]["name"], "specified_monthly");
    assert_eq!(after["next_contact"]["overdue_days"], 0);
    assert_eq!(after["contacts"][0]["kind"]["label"], "訪問");
    assert_eq!(after["contacts"][0]["recorded_by"], NURSE);
    // セルフプラン: three months after the birth.
    let row = json(&center, &["show", "R8-0102"]).await;
    let second_born = today().plus_days(-10);
    assert_eq!(
        row["next_contact"]["day"],
        second_born.plus_months(3).to_string()
    );
    assert_eq!(row["next_contact"]["rule"]["name"], "self_plan_quarterly");

    // The morning filters, each letting the right rows through.
    assert!(numbers(&json(&center, &["list", "--due"]).await).is_empty());
    let in_two_months = days(61);
    let by = json(&center, &["list", "--by", &in_two_months]).await;
    assert_eq!(numbers(&by), ["R8-0101"]);
    assert_eq!(by["due_by"], in_two_months.as_str());
    let all = json(&center, &["list"]).await;
    assert_eq!(numbers(&all), ["R8-0101", "R8-0102"]);
    assert_eq!(
        numbers(&json(&center, &["list", "--tier", "specified"]).await),
        ["R8-0101"]
    );
    assert_eq!(
        numbers(&json(&center, &["list", "--tier", "self-plan"]).await),
        ["R8-0102"]
    );
    assert_eq!(
        numbers(&json(&center, &["list", "--district", "南地区"]).await),
        ["R8-0102"]
    );
    assert_eq!(
        numbers(&json(&center, &["list", "--staff", "佐藤"]).await),
        ["R8-0101"]
    );
    assert!(numbers(&json(&center, &["list", "--staff", "高橋"]).await).is_empty());
    // The table says the same, in Japanese.
    let (ok, text, _) = sl(&center, &["list", "--district", "北地区"]).await;
    assert!(ok);
    assert!(
        text.contains("R8-0101") && !text.contains("R8-0102"),
        "{text}"
    );
    assert!(
        text.contains("特定妊婦・要支援・要保護: 最終接触から1か月"),
        "{text}"
    );
    assert!(text.contains("台帳にない連絡票") && text.contains("見直し時期の支援プラン"));

    // A tier change without a reason is refused, and nothing changes.
    refused(
        &center,
        &["set", "R8-0102", "--tier", "specified"],
        "理由が必要です",
    )
    .await;
    let row = json(&center, &["show", "R8-0102"]).await;
    assert_eq!(row["tier"]["name"], "self_plan");
    assert_eq!(row["tiers"].as_array().unwrap().len(), 1);
    // With one, it is in the history with who and why; the next contact
    // follows the new tier.
    let raised = json(
        &center,
        &[
            "set",
            "R8-0102",
            "--tier",
            "specified",
            "--reason",
            "DVの訴えがあったため",
        ],
    )
    .await;
    let change = &raised["tiers"][1];
    assert_eq!(change["from"]["name"], "self_plan");
    assert_eq!(change["to"]["name"], "specified");
    assert_eq!(change["reason"], "DVの訴えがあったため");
    assert_eq!(change["by"], NURSE);
    assert_eq!(
        raised["next_contact"]["day"],
        second_born.plus_months(1).to_string()
    );
    // Only the named item changed.
    assert_eq!(raised["items"]["district"], "南地区");
    assert_eq!(raised["items"]["staff"], "鈴木");
    w.stop().await;
}

pub async fn support_ledger_input_that_cannot_be_right_is_refused_and_nothing_is_stored(db: Db) {
    let mut w = World::start(&db).await;
    let center = w.config(CENTER);
    two_children(&center).await;
    let before = json(&center, &["show", "R8-0101"]).await;

    refused(
        &center,
        &["show", "R8-9999"],
        "この台帳番号の行はありません",
    )
    .await;
    refused(
        &center,
        &["contact", "R8-9999", "--kind", "phone"],
        "この台帳番号の行はありません",
    )
    .await;
    refused(
        &center,
        &["contact", "R8-0101", "--kind", "phone", "--day", &days(1)],
        "接触した日が未来の日付です",
    )
    .await;
    refused(
        &center,
        &[
            "contact",
            "R8-0101",
            "--kind",
            "phone",
            "--day",
            "2026-02-30",
        ],
        "--day の日付が正しくありません",
    )
    .await;
    refused(
        &center,
        &[
            "add",
            "--number",
            "R8-0200",
            "--name",
            "西 三郎",
            "--kind",
            "child",
            "--birth-date",
            "令和8年4月1日",
            "--reason",
            "出生連絡",
        ],
        "生年月日（--birth-date）の日付が正しくありません",
    )
    .await;
    refused(
        &center,
        &[
            "add",
            "--number",
            "R8-0200",
            "--name",
            "西 三郎",
            "--kind",
            "child",
            "--birth-date",
            &days(3),
            "--reason",
            "出生連絡",
        ],
        "生年月日",
    )
    .await;
    refused(
        &center,
        &[
            "add",
            "--number",
            "R8-0200",
            "--name",
            "西 三郎",
            "--kind",
            "child",
            "--reason",
            "出生連絡",
        ],
        "生年月日を入力してください",
    )
    .await;
    refused(
        &center,
        &["add", "--number", "R8-0200", "--name", "西 三郎"],
        "理由が必要です",
    )
    .await;
    refused(
        &center,
        &[
            "add",
            "--number",
            "R8-0101",
            "--name",
            "北 一郎",
            "--reason",
            "重複",
        ],
        "台帳番号は既に使われています",
    )
    .await;
    let unknown_tier = refused(
        &center,
        &["set", "R8-0101", "--tier", "urgent", "--reason", "x"],
        "urgent",
    )
    .await;
    assert!(unknown_tier.contains("specified"), "{unknown_tier}");
    refused(&center, &["set", "R8-0101"], "変更する項目がありません").await;
    refused(
        &center,
        &["link", "R8-0101", "--case", "case-000000000000"],
        "このケースの記録がありません",
    )
    .await;
    // A case never referred to the center has no referral to start from.
    let case = w.referred().await;
    refused(
        &center,
        &["add", "--from-case", case.as_str()],
        "台帳番号が必要です",
    )
    .await;
    refused(
        &center,
        &[
            "add",
            "--from-case",
            case.as_str(),
            "--number",
            "R8-0300",
            "--child-number",
            "R8-0301",
        ],
        "出生連絡",
    )
    .await;
    // Any node but the center's is refused.
    let clinic = w.config(CLINIC);
    refused(&clinic, &["list"], "こども家庭センターのノードだけ").await;
    refused(
        &clinic,
        &["contact", "R8-0101", "--kind", "phone"],
        "こども家庭センターのノードだけ",
    )
    .await;

    // Nothing of it was stored.
    let after = json(&center, &["show", "R8-0101"]).await;
    assert_eq!(before, after);
    let list = json(&center, &["list", "--closed"]).await;
    assert_eq!(numbers(&list), ["R8-0101", "R8-0102"]);
    assert_eq!(unlinked_cases(&list), [case.as_str()]);
    w.stop().await;
}
