//! The 支援台帳 pages on the center's node against a real hub: rows added
//! and edited through the form, the morning list's filters, a contact
//! recorded from the list that moves the next contact, a clinic's referral
//! that is on no row becoming one linked to its case, every bad input
//! refused at its field with nothing changed, and any other node refusing
//! the pages with a 403 that says whose ledger it is.

use reqwest::StatusCode;
use reqwest::header::LOCATION;
use tsunagu::agency::staff::{Actor, Viewed};
use tsunagu::agency::support_ledger;
use tsunagu::protocol::Timestamp;
use tsunagu::protocol::day::Day;

use crate::helpers::*;
use crate::ui::{Ui, page_csrf};

fn today() -> Day {
    Day::of(Timestamp::now())
}

/// A pregnant woman's row, as the form posts it.
fn pregnant<'a>(
    number: &'a str,
    name: &'a str,
    district: &'a str,
    tier: &'a str,
) -> Vec<(&'static str, &'a str)> {
    vec![
        ("number", number),
        ("kind", "pregnant"),
        ("name", name),
        ("birth_date", "1996-05-01"),
        ("district", district),
        ("staff", "高橋 由美"),
        ("tier", tier),
    ]
}

/// Post `form` (with the CSRF token of `page`) as the signed-in member.
async fn post(
    ui: &Ui,
    cookie: &str,
    page: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let csrf = page_csrf(ui, page, cookie).await;
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(form);
    ui.post(path, cookie, &all).await
}

/// Add a row through the form: its id.
async fn add(ui: &Ui, cookie: &str, form: &[(&str, &str)]) -> String {
    let added = post(ui, cookie, "/support/new", "/support/new", form).await;
    assert_eq!(
        added.status(),
        StatusCode::SEE_OTHER,
        "{}",
        added.text().await.unwrap()
    );
    let to = added.headers()[LOCATION].to_str().unwrap().to_owned();
    to.trim_start_matches("/support/")
        .split('?')
        .next()
        .unwrap()
        .to_owned()
}

/// The birth date a new-row form was prefilled with from a referral.
fn prefilled_birth(form: &str) -> String {
    let marker = "id=\"f-birth_date\" name=\"birth_date\" value=\"";
    let start = form.find(marker).expect("no birth date input") + marker.len();
    form[start..].split('"').next().unwrap().to_owned()
}

async fn ledger(ui: &Ui) -> support_ledger::Ledger {
    support_ledger::load(ui.center.node.records(), today())
        .await
        .unwrap()
}

async fn body(ui: &Ui, path: &str, cookie: &str) -> String {
    let page = ui.get(path, cookie).await;
    assert_eq!(page.status(), StatusCode::OK, "{path}");
    page.text().await.unwrap()
}

#[tokio::test]
async fn the_morning_list_filters_by_district_and_due_and_a_contact_from_it_moves_the_next_contact()
{
    let ui = Ui::start(|_| {}).await;
    let cookie = ui.sign_in().await;
    let empty = body(&ui, "/support", &cookie).await;
    assert!(empty.contains("台帳にはまだ行がありません"), "{empty}");
    assert!(
        empty.contains("href=\"/support/import\"") && empty.contains("href=\"/support/report\"")
    );

    // Two rows in two districts; the first notified five weeks ago, so its
    // monthly contact (特定妊婦) is overdue.
    let notified = today().plus_days(-35);
    let late = notified.plus_months(1).days_until(today());
    let notified = notified.to_string();
    let mut first = pregnant("R-001", "青木 明子", "東地区", "specified");
    first.push(("notified_on", &notified));
    let first_id = add(&ui, &cookie, &first).await;
    let second_id = add(
        &ui,
        &cookie,
        &pregnant("R-002", "井上 恵", "西地区", "independent"),
    )
    .await;

    let all = body(&ui, "/support", &cookie).await;
    assert!(
        all.contains("青木 明子") && all.contains("井上 恵"),
        "{all}"
    );
    assert!(all.contains(&format!("{late}日超過")), "{all}");
    assert!(
        all.contains("特定妊婦・要支援・要保護: 最終接触から1か月"),
        "{all}"
    );
    let east = body(
        &ui,
        "/support?district=%E6%9D%B1%E5%9C%B0%E5%8C%BA",
        &cookie,
    )
    .await;
    assert!(
        east.contains("青木 明子") && !east.contains("井上 恵"),
        "{east}"
    );
    // 井上 is 自立 with no contact point scheduled: nothing is due.
    let due = body(&ui, "/support?due=today", &cookie).await;
    assert!(
        due.contains("青木 明子") && !due.contains("井上 恵"),
        "{due}"
    );

    // The contact form on the row: a phone call today by the signed-in
    // member, one submit; back to the same filtered list with a notice.
    assert!(east.contains(&format!("action=\"/support/{first_id}/contact\"")));
    assert!(east.contains("value=\"phone\" selected"));
    let back = "due=today&district=%E6%9D%B1%E5%9C%B0%E5%8C%BA";
    let day = today().to_string();
    let recorded = post(
        &ui,
        &cookie,
        "/support",
        &format!("/support/{first_id}/contact"),
        &[
            ("from", "list"),
            ("back", back),
            ("kind", "phone"),
            ("day", &day),
            ("staff", "高橋 由美"),
            ("summary", ""),
        ],
    )
    .await;
    assert_eq!(recorded.status(), StatusCode::SEE_OTHER);
    let to = recorded.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(
        to.starts_with(&format!("/support?{back}&done=contact")),
        "{to}"
    );
    let after = body(&ui, &to, &cookie).await;
    assert!(
        after.contains("R-001 青木 明子 の接触を記録しました"),
        "{after}"
    );
    // Contacted today: the next contact is a month away, off the due list.
    assert!(
        !after.contains(&format!("<a href=\"/support/{first_id}\">")),
        "{after}"
    );
    let row = ledger(&ui).await;
    let next = row.get(&first_id).unwrap().computed.next_contact.unwrap();
    assert_eq!(next.day, today().plus_months(1));

    // The row page: the rule in words, the contact with who made it, the
    // view in the access log by the 台帳番号.
    let page = body(&ui, &format!("/support/{first_id}"), &cookie).await;
    assert!(
        page.contains("根拠: 特定妊婦・要支援・要保護: 最終接触から1か月"),
        "{page}"
    );
    assert!(page.contains("妊娠届出時の面接"), "{page}");
    assert!(
        page.contains(&format!(
            "<td class=\"mt-nowrap\">{day}</td><td>電話</td><td>高橋 由美</td>"
        )),
        "{page}"
    );
    let log = ui
        .accounts
        .access_log(Actor::NodeConsole, None, None, Timestamp::now())
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|e| e.what == Viewed::SupportSubject && e.record_id == "R-001"),
        "{log:?}"
    );

    // In English on request: the same page, in the staff's other language.
    let english = body(&ui, &format!("/support/{first_id}?lang=en"), &cookie).await;
    assert!(
        english.contains("Rule: specified: one month after the last contact"),
        "{english}"
    );
    assert!(
        english.contains("Tier history") && english.contains("phone"),
        "{english}"
    );

    // A tier change with its reason is kept in the history.
    let version = row.get(&second_id).unwrap().version.to_string();
    let mut edit = pregnant("R-002", "井上 恵", "西地区", "support_plan");
    edit.extend([
        ("version", version.as_str()),
        ("tier_reason", "夫の失職で生活が不安定"),
    ]);
    let saved = post(
        &ui,
        &cookie,
        &format!("/support/{second_id}/edit"),
        &format!("/support/{second_id}/edit"),
        &edit,
    )
    .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let page = body(&ui, &format!("/support/{second_id}"), &cookie).await;
    assert!(
        page.contains(
            "<td>自立</td><td>支援プラン対象</td><td>高橋 由美</td><td>夫の失職で生活が不安定</td>"
        ),
        "{page}"
    );

    // Closed (moved away): off the list unless 終結を含む is ticked.
    let mut closed = pregnant("R-002", "井上 恵", "西地区", "support_plan");
    closed.extend([("version", "2"), ("closed_on", day.as_str())]);
    let edit = format!("/support/{second_id}/edit");
    let saved = post(&ui, &cookie, &edit, &edit, &closed).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let open = body(&ui, "/support", &cookie).await;
    assert!(!open.contains("井上 恵"), "{open}");
    let all = body(&ui, "/support?closed=1", &cookie).await;
    assert!(
        all.contains("井上 恵</a> <span class=\"note\">（終結）</span>"),
        "{all}"
    );
    ui.stop().await;
}

#[tokio::test]
async fn bad_input_on_the_support_pages_is_named_at_its_field_and_changes_nothing() {
    let ui = Ui::start(|_| {}).await;
    let cookie = ui.sign_in().await;
    let id = add(
        &ui,
        &cookie,
        &pregnant("R-010", "上田 由紀", "東地区", "self_plan"),
    )
    .await;
    let refused = async |path: &str, page: &str, form: &[(&str, &str)], status: StatusCode| {
        let r = post(&ui, &cookie, page, path, form).await;
        assert_eq!(r.status(), status, "{path} {form:?}");
        r.text().await.unwrap()
    };
    let unchanged = async || {
        let l = ledger(&ui).await;
        assert_eq!(l.subjects.len(), 1);
        let v = l.get(&id).unwrap();
        assert_eq!(
            (v.subject.name.as_str(), v.version, v.contacts.len()),
            ("上田 由紀", 1, 0)
        );
    };
    let new = ("/support/new", "/support/new");
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;

    // Blank name: at the field, in the summary linking to it, typed values kept.
    let body = refused(
        new.0,
        new.1,
        &pregnant("R-011", " ", "北地区", "independent"),
        unprocessable,
    )
    .await;
    assert!(body.contains("氏名を入力してください"), "{body}");
    assert!(
        body.contains("href=\"#f-name\"") && body.contains("aria-describedby=\"err-name\""),
        "{body}"
    );
    assert!(body.contains("value=\"北地区\""), "{body}");
    // A future date.
    let tomorrow = today().plus_days(1).to_string();
    let mut future = pregnant("R-011", "北村 光", "北地区", "independent");
    future.push(("notified_on", &tomorrow));
    let body = refused(new.0, new.1, &future, unprocessable).await;
    assert!(
        body.contains(&format!("妊娠届出日（{tomorrow}）が未来の日付です")),
        "{body}"
    );
    // An unknown tier posted.
    let body = refused(
        new.0,
        new.1,
        &pregnant("R-011", "北村 光", "北地区", "urgent"),
        unprocessable,
    )
    .await;
    assert!(body.contains("支援区分を一覧から選んでください"), "{body}");
    // A number already used.
    let body = refused(
        new.0,
        new.1,
        &pregnant("R-010", "北村 光", "北地区", "independent"),
        unprocessable,
    )
    .await;
    assert!(
        body.contains("台帳番号 R-010 は既にほかの行で使われています"),
        "{body}"
    );
    unchanged().await;

    // A tier change without its reason; then an edit of a version someone
    // else has replaced meanwhile: 409.
    let edit = format!("/support/{id}/edit");
    let mut change = pregnant("R-010", "上田 由紀", "東地区", "specified");
    change.push(("version", "1"));
    let body = refused(&edit, &edit, &change, unprocessable).await;
    assert!(
        body.contains("支援区分を変えるときは、その理由を書いてください"),
        "{body}"
    );
    unchanged().await;
    let mut stale = pregnant("R-010", "上田 由紀（旧姓）", "東地区", "self_plan");
    stale.push(("version", "0"));
    let body = refused(&edit, &edit, &stale, StatusCode::CONFLICT).await;
    assert!(body.contains("ほかの職員がこの行を変更しました"), "{body}");
    assert!(body.contains("上田 由紀（旧姓）"), "{body}");
    unchanged().await;

    // A contact in the future; a case id that is none; without the CSRF token.
    let row = format!("/support/{id}");
    let contact = format!("{row}/contact");
    let body = refused(
        &contact,
        &row,
        &[
            ("from", "row"),
            ("kind", "phone"),
            ("day", &tomorrow),
            ("staff", "高橋 由美"),
        ],
        unprocessable,
    )
    .await;
    assert!(body.contains("未来の日付の接触は記録できません"), "{body}");
    let body = refused(
        &contact,
        &row,
        &[
            ("from", "row"),
            ("kind", "fax"),
            ("day", &today().to_string()),
            ("staff", "高橋 由美"),
        ],
        unprocessable,
    )
    .await;
    assert!(body.contains("種別を一覧から選んでください"), "{body}");
    let body = refused(
        &format!("{row}/link"),
        &row,
        &[("from", "row"), ("case", "ケース 1")],
        unprocessable,
    )
    .await;
    assert!(body.contains("ケースIDの形式が違います"), "{body}");
    let body = refused(
        &format!("{row}/link"),
        &row,
        &[("from", "row"), ("case", "no-such-case")],
        unprocessable,
    )
    .await;
    assert!(
        body.contains("このノードにはケース no-such-case の記録がありません"),
        "{body}"
    );
    let forged = ui
        .post(
            &contact,
            &cookie,
            &[
                ("kind", "phone"),
                ("day", &today().to_string()),
                ("staff", "高橋 由美"),
            ],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let forged = ui
        .post(
            "/support/new",
            &cookie,
            &pregnant("R-012", "森 文", "東地区", "independent"),
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    unchanged().await;
    ui.stop().await;
}

#[tokio::test]
async fn a_clinic_referral_on_no_row_becomes_a_row_linked_to_its_case_which_no_other_row_can_take()
{
    let center = Ui::start(|_| {}).await;
    let clinic = center.join(CLINIC).await;
    let case = clinic.center.node.open_case().await.unwrap();
    let id = sent(&clinic.center, &referral_draft(&case, &[CENTER])).await;
    let mut center = center;
    center.center.wait_stored(id).await;
    let cookie = center.sign_in().await;

    // On the morning list: the mother by name, the clinic by name, 妊娠中.
    let list = body(&center, "/support", &cookie).await;
    assert!(list.contains("台帳にない連絡票（1件）"), "{list}");
    assert!(list.contains("<strong>山田 花子</strong>"), "{list}");
    assert!(
        list.contains("妊娠中") && list.contains("さくらレディースクリニック"),
        "{list}"
    );
    let new = format!("/support/new?case={case}");
    assert!(list.contains(&new.replace('&', "&amp;")), "{list}");

    // The new row, prefilled from the referral; the number is the staff's.
    let form = body(&center, &new, &cookie).await;
    assert!(form.contains("value=\"山田 花子\""), "{form}");
    assert!(form.contains("連絡票から作成します"), "{form}");
    let csrf = page_csrf(&center, &new, &cookie).await;
    let mut fields: Vec<(String, String)> = vec![
        ("csrf".into(), csrf),
        ("case".into(), case.to_string()),
        ("number".into(), "R-100".into()),
        ("kind".into(), "pregnant".into()),
        ("name".into(), "山田 花子".into()),
        ("tier".into(), "support_plan".into()),
    ];
    let birth = prefilled_birth(&form);
    fields.push(("birth_date".into(), birth));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let added = center.post("/support/new", &cookie, &pairs).await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let l = ledger(&center).await;
    let row = l.by_number("R-100").unwrap();
    assert_eq!(row.cases.len(), 1);
    assert_eq!(row.cases[0].case, case);
    let list = body(&center, "/support", &cookie).await;
    assert!(list.contains("台帳にない連絡票（0件）"), "{list}");

    // The row shows the case's timeline with the referral.
    let page = body(&center, &format!("/support/{}", row.id), &cookie).await;
    assert!(page.contains(&format!("href=\"/cases/{case}\"")), "{page}");
    assert!(page.contains("さくら") && page.contains("連絡票"), "{page}");

    // The same case on another row: refused, naming the row it is on.
    let other = add(
        &center,
        &cookie,
        &pregnant("R-101", "山田 花", "南地区", "independent"),
    )
    .await;
    let path = format!("/support/{other}");
    let refused = post(
        &center,
        &cookie,
        &path,
        &format!("{path}/link"),
        &[("from", "row"), ("case", case.as_str())],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = refused.text().await.unwrap();
    assert!(
        body.contains("既に台帳番号 R-100 山田 花子 の行に紐付いています"),
        "{body}"
    );
    assert!(
        ledger(&center)
            .await
            .by_number("R-101")
            .unwrap()
            .cases
            .is_empty()
    );
    clinic.stop().await;
    center.stop().await;
}

#[tokio::test]
async fn every_support_ledger_page_on_another_node_is_refused_saying_whose_ledger_it_is() {
    let center = Ui::start(|_| {}).await;
    let clinic = center.join(CLINIC).await;
    let cookie = clinic.sign_in().await;
    for path in [
        "/support",
        "/support/new",
        "/support/some-row",
        "/support/some-row/edit",
    ] {
        let page = clinic.get(path, &cookie).await;
        assert_eq!(page.status(), StatusCode::FORBIDDEN, "{path}");
        let body = page.text().await.unwrap();
        assert!(
            body.contains("支援台帳はこども家庭センターの台帳です"),
            "{body}"
        );
    }
    let csrf = page_csrf(&clinic, "/", &cookie).await;
    let refused = clinic
        .post(
            "/support/new",
            &cookie,
            &[
                ("csrf", csrf.as_str()),
                ("number", "X"),
                ("kind", "pregnant"),
                ("name", "x"),
                ("tier", "independent"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    clinic.stop().await;
    center.stop().await;
}

#[tokio::test]
async fn a_birth_notice_adds_the_mother_linked_to_its_case_and_her_baby_in_one_save() {
    use tsunagu::protocol::payload::Body;
    use tsunagu::protocol::referral::{Child, ReferralTiming};
    let center = Ui::start(|_| {}).await;
    let clinic = center.join(CLINIC).await;
    let case = clinic.center.node.open_case().await.unwrap();
    let mut draft = referral_draft(&case, &[CENTER]);
    let born = today().plus_days(-5);
    if let Body::Referral(r) = &mut draft.payload.body {
        r.timing = ReferralTiming::Postpartum;
        r.child = Some(Child {
            birth_date: born.into(),
            birth_weight_g: 2480,
            gestational_weeks_at_birth: 37,
            nicu: false,
        });
    }
    let id = sent(&clinic.center, &draft).await;
    let mut center = center;
    center.center.wait_stored(id).await;
    let cookie = center.sign_in().await;
    let list = body(&center, "/support", &cookie).await;
    assert!(list.contains("出産後（出生連絡）"), "{list}");

    let new = format!("/support/new?case={case}");
    let form = body(&center, &new, &cookie).await;
    assert!(form.contains("山田 花子の子・生年月日"), "{form}");
    assert!(form.contains("出生体重2480g・在胎37週"), "{form}");
    let birth = prefilled_birth(&form);
    let case_text = case.to_string();
    let mut fields = vec![
        ("case", case_text.as_str()),
        ("number", "R-200"),
        ("kind", "pregnant"),
        ("name", "山田 花子"),
        ("birth_date", birth.as_str()),
        ("tier", "support_plan"),
        ("with_child", "1"),
    ];
    // The baby's number left blank: refused at its field, nothing kept.
    let refused = post(&center, &cookie, &new, "/support/new", &fields).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = refused.text().await.unwrap();
    assert!(
        text.contains("赤ちゃんの台帳番号を入力してください"),
        "{text}"
    );
    assert!(ledger(&center).await.subjects.is_empty());

    fields.push(("child_number", "R-201"));
    let added = post(&center, &cookie, &new, "/support/new", &fields).await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let l = ledger(&center).await;
    let mother = l.by_number("R-200").unwrap();
    let baby = l.by_number("R-201").unwrap();
    assert_eq!(mother.cases[0].case, case);
    assert_eq!(baby.subject.mother.as_deref(), Some("R-200"));
    assert_eq!(baby.subject.birth_date, Some(born));
    // The baby's row follows its checkups from the birth.
    let page = body(&center, &format!("/support/{}", baby.id), &cookie).await;
    assert!(page.contains("3か月児健診"), "{page}");
    clinic.stop().await;
    center.stop().await;
}

#[tokio::test]
async fn a_referral_that_looks_like_a_row_is_linked_to_it_only_when_staff_confirm() {
    let center = Ui::start(|_| {}).await;
    let clinic = center.join(CLINIC).await;
    let case = clinic.center.node.open_case().await.unwrap();
    let id = sent(&clinic.center, &referral_draft(&case, &[CENTER])).await;
    let mut center = center;
    center.center.wait_stored(id).await;
    let cookie = center.sign_in().await;
    let form = body(&center, &format!("/support/new?case={case}"), &cookie).await;
    let birth = prefilled_birth(&form);
    // Her row was on the ledger before the referral (written with a space
    // of another width): offered, not linked.
    let mut her = pregnant("R-300", "山田　花子", "南地区", "self_plan");
    her.retain(|(k, _)| *k != "birth_date");
    her.push(("birth_date", &birth));
    let row = add(&center, &cookie, &her).await;
    let list = body(&center, "/support", &cookie).await;
    assert!(
        list.contains("この行に紐付ける: R-300 山田　花子"),
        "{list}"
    );
    assert!(ledger(&center).await.get(&row).unwrap().cases.is_empty());

    let back = "district=%E5%8D%97%E5%9C%B0%E5%8C%BA";
    let linked = post(
        &center,
        &cookie,
        "/support",
        &format!("/support/{row}/link"),
        &[("from", "list"), ("back", back), ("case", case.as_str())],
    )
    .await;
    assert_eq!(linked.status(), StatusCode::SEE_OTHER);
    let to = linked.headers()[LOCATION].to_str().unwrap().to_owned();
    assert_eq!(to, format!("/support?{back}&done=linked&row={row}"));
    let list = body(&center, &to, &cookie).await;
    assert!(
        list.contains("連絡票のケースを R-300 山田　花子 の行に紐付けました"),
        "{list}"
    );
    assert!(list.contains("台帳にない連絡票（0件）"), "{list}");
    assert_eq!(ledger(&center).await.get(&row).unwrap().cases[0].case, case);
    clinic.stop().await;
    center.stop().await;
}

#[tokio::test]
async fn a_plan_on_a_rows_case_due_for_review_within_a_week_is_on_the_morning_list() {
    use tsunagu::protocol::Purpose;
    let mut t = crate::ui_meetings::Table::start().await;
    let (case, consent) = t.referred_case(&[Purpose::SupportPlan]).await;
    let (case, consent) = (case.to_string(), consent.to_string());
    let cookie = t.center.sign_in().await;
    let (made, review) = (today().to_string(), today().plus_days(3).to_string());
    let mut plan =
        crate::ui_plans::plan_form("妊婦健診を毎回受ける", "週1回", &made, &review, &consent);
    plan.push(("case", &case));
    let done = post(&t.center, &cookie, "/plans/new", "/plans/new", &plan).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let location = done.headers()[LOCATION].to_str().unwrap().to_owned();
    let plan_page = location.split('?').next().unwrap().to_owned();

    // Not on the panel until the case is on a row.
    let list = body(&t.center, "/support", &cookie).await;
    assert!(
        list.contains("1週間以内に見直し日の来る支援プランはありません"),
        "{list}"
    );
    let row = add(
        &t.center,
        &cookie,
        &pregnant("R-400", "山田 花子", "東地区", "support_plan"),
    )
    .await;
    let path = format!("/support/{row}");
    let linked = post(
        &t.center,
        &cookie,
        &path,
        &format!("{path}/link"),
        &[("from", "row"), ("case", &case)],
    )
    .await;
    assert_eq!(linked.status(), StatusCode::SEE_OTHER);
    let list = body(&t.center, "/support", &cookie).await;
    assert!(
        list.contains(&format!(
            "<a href=\"{plan_page}\">支援プラン 第1版</a>・見直し日 {review}"
        )),
        "{list}"
    );
    assert!(
        list.contains(&format!("<a href=\"/support/{row}\">台帳番号 R-400</a>")),
        "{list}"
    );
    t.stop().await;
}
