//! The support plan screens against a real hub and real nodes: version 1
//! from the editor, the other agency's actions on its own list, the next
//! version from the latest, the diff in words, and a revision of a version
//! that is no longer the latest refused as "someone revised it meanwhile".

use reqwest::StatusCode;
use reqwest::header::LOCATION;
use tsunagu::agency::staff::{Actor, Viewed};
use tsunagu::protocol::day::Day;
use tsunagu::protocol::{Purpose, Timestamp};

use crate::helpers::*;
use crate::ui::page_csrf;
use crate::ui_meetings::{Table, accepted};

/// The editor's fields for a plan with `goals`, the center's visits
/// (`often`) and child welfare's check, whole to child welfare.
pub(crate) fn plan_form<'a>(
    goals: &'a str,
    often: &'a str,
    made: &'a str,
    review: &'a str,
    consent: &'a str,
) -> Vec<(&'static str, &'a str)> {
    vec![
        ("wishes", "赤ちゃんを元気に産みたい"),
        ("goals", goals),
        ("rows", "3"),
        ("a0_what", "家庭訪問"),
        ("a0_agency", CENTER),
        ("a0_frequency", often),
        ("a1_what", "養育状況の確認"),
        ("a1_agency", WELFARE),
        ("a1_frequency", "月1回"),
        ("lead", CENTER),
        ("made_on", made),
        ("review_on", review),
        ("categories", "basic"),
        ("whole", WELFARE),
        ("basis", "consent"),
        ("consent_id", consent),
    ]
}

#[tokio::test]
async fn a_plan_is_written_revised_and_compared_and_a_stale_revision_is_refused() {
    let mut t = Table::start().await;
    let (case, consent) = t.referred_case(&[Purpose::SupportPlan]).await;
    let (case, consent) = (case.to_string(), consent.to_string());
    let today = Day::of(Timestamp::now());
    let (made, review, early) = (
        today.to_string(),
        today.plus_days(90).to_string(),
        today.plus_days(-1).to_string(),
    );
    let cookie = t.center.sign_in().await;
    let body = t.center.get("/plans", &cookie).await.text().await.unwrap();
    assert!(body.contains("支援プランはありません"), "{body}");

    let post = async |path: &str, page: &str, form: &[(&str, &str)]| {
        let csrf = page_csrf(&t.center, page, &cookie).await;
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(form);
        t.center.post(path, &cookie, &all).await
    };
    let mut first = plan_form("", "週1回", &made, &review, &consent);
    first.push(("case", &case));

    // No goals, a review before the plan, no CSRF: refused, nothing sent.
    let refused = post("/plans/new", "/plans/new", &first).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = refused.text().await.unwrap();
    assert!(body.contains("目標を1つ以上書いてください"), "{body}");
    let goals = "妊婦健診を毎回受ける\n夜間の相談先を知る";
    let mut early_review = plan_form(goals, "週1回", &made, &early, &consent);
    early_review.push(("case", &case));
    let body = post("/plans/new", "/plans/new", &early_review)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("見直し日は作成日より後の日にしてください"),
        "{body}"
    );
    let mut good = plan_form(goals, "週1回", &made, &review, &consent);
    good.push(("case", &case));
    let forged = t.center.post("/plans/new", &cookie, &good).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(accepted(&t.center, "support_plan").await.is_empty());

    // Version 1.
    let done = post("/plans/new", "/plans/new", &good).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let location = done.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.ends_with("?version=1&done=recorded"), "{location}");
    let page = location.split('?').next().unwrap().to_owned();
    let plan_id = page.strip_prefix("/plans/").unwrap().to_owned();
    let body = t.center.get(&location, &cookie).await.text().await.unwrap();
    assert!(
        body.contains("この版を記録し、選んだ機関に送りました"),
        "{body}"
    );
    assert!(
        body.contains("夜間の相談先を知る") && body.contains("家庭訪問"),
        "{body}"
    );
    assert!(body.contains("みなと市子ども家庭総合支援拠点"), "{body}");

    // Child welfare sees its action among its own.
    let v1 = accepted(&t.center, "support_plan").await[0];
    t.welfare.center.wait_stored(v1).await;
    let w = t.welfare.sign_in().await;
    let body = t.welfare.get("/plans", &w).await.text().await.unwrap();
    assert!(
        body.contains("養育状況の確認") && body.contains("月1回"),
        "{body}"
    );

    // Version 2 from version 1: a goal dropped and one added, visits more often.
    let revise = format!("{page}/revise");
    let goals2 = "妊婦健診を毎回受ける\n産後の育児を分担する";
    let mut next = plan_form(goals2, "週2回", &made, &review, &consent);
    next.push(("based_on", "1"));
    let done = post(&revise, &page, &next).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert!(
        done.headers()[LOCATION]
            .to_str()
            .unwrap()
            .contains("version=2")
    );

    // The same form again, based on version 1: someone revised it meanwhile.
    let stale = post(&revise, &page, &next).await;
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    let body = stale.text().await.unwrap();
    assert!(
        body.contains("ほかの職員または機関がプランを改訂しました（最新は版2）"),
        "{body}"
    );
    assert!(
        body.contains("ページを開き直して最新の版を確認し"),
        "{body}"
    );
    assert_eq!(accepted(&t.center, "support_plan").await.len(), 2);

    // The diff, in words.
    let body = t
        .center
        .get(&format!("{page}/diff"), &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("版1 → 版2"), "{body}");
    assert!(
        body.contains("追加") && body.contains("産後の育児を分担する"),
        "{body}"
    );
    assert!(
        body.contains("削除") && body.contains("夜間の相談先を知る"),
        "{body}"
    );
    assert!(
        body.contains("（週1回） → みなと市こども家庭センター: 家庭訪問（週2回）"),
        "{body}"
    );

    let log = t
        .center
        .accounts
        .access_log(Actor::NodeConsole, None, None, Timestamp::now())
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|e| e.what == Viewed::Plan && e.record_id == plan_id),
        "{log:?}"
    );
    t.stop().await;
}
