//! 事業評価 on a real hub: a clinic's referral reaches the center, the
//! center acknowledges it and follows her on its 支援台帳, and the report —
//! from the library, the page and the CLI — counts it; a period that ends
//! before it starts and a bad target are refused at their field, changing
//! nothing; any node but the center's answers 403.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use serde_json::Value as Json;
use tsunagu::agency::Sent;
use tsunagu::agency::referral_update::referral_update_draft;
use tsunagu::agency::support_ledger::report::{self, Period, Value};
use tsunagu::agency::support_ledger::{self, Contact, ContactKind, Subject, SubjectKind, Tier};
use tsunagu::i18n::Lang;
use tsunagu::protocol::day::Day;
use tsunagu::protocol::{ReferralState, Timestamp};

use crate::helpers::*;
use crate::ui::{Ui, hidden};

#[tokio::test]
async fn a_referral_through_the_hub_is_counted_on_the_centers_report_and_page() {
    let mut center = Ui::start(|_| {}).await;
    let clinic = center.join(CLINIC).await;
    let case = clinic.center.node.open_case().await.unwrap();
    let id = sent(&clinic.center, &referral_draft(&case, &[CENTER])).await;
    center.center.wait_stored(id).await;
    let node = center.center.node.clone();
    // 受理, and a row for her with a phone call today.
    let ack = referral_update_draft(
        &node,
        id,
        ReferralState::Received,
        String::new(),
        hokenshi(),
    )
    .await
    .unwrap();
    assert!(matches!(node.send(&ack).await, Ok(Sent::Accepted { .. })));
    let now = Timestamp::now();
    let today = Day::of(now);
    let row = Subject {
        number: "R8-0001".into(),
        kind: SubjectKind::Pregnant,
        name: "港 花子".into(),
        tier: Tier::SupportPlan,
        ..Subject::default()
    };
    let row = support_ledger::add_linked(node.records(), row, &case, "連絡票", "田中", now)
        .await
        .unwrap();
    let call = Contact {
        day: today,
        kind: ContactKind::Phone,
        staff: "田中".into(),
        summary: "電話で状況確認".into(),
        point: None,
        recorded_by: "田中".into(),
        recorded_at: now,
    };
    support_ledger::record_contact(node.records(), &row, call)
        .await
        .unwrap();

    let period = Period::new(today, today).unwrap();
    let r = report::build(&node, period, today, Lang::Ja).await.unwrap();
    let received = r.get("referrals_received").unwrap();
    assert_eq!(received.value, Value::Count { count: 1 });
    let kinds = &received.breakdowns[0].parts;
    assert_eq!(
        (kinds[0].key.as_str(), kinds[0].count),
        ("obstetric_clinic", 1)
    );
    assert!(
        received.breakdowns[1]
            .parts
            .iter()
            .any(|p| p.key == "high_epds" && p.count == 1)
    );
    assert!(matches!(
        r.get("receipt_days_received").unwrap().value,
        Value::Days { measured: 1, .. }
    ));
    assert_eq!(
        r.get("consultations").unwrap().value,
        Value::Count { count: 1 }
    );
    assert_eq!(
        r.get("staff_accounts").unwrap().value,
        Value::Count { count: 1 }
    );

    // The page shows it, laid out as the 検証票, with the charts it serves.
    let cookie = center.sign_in().await;
    let q = format!("from={today}&to={today}");
    let page = center.get(&format!("/support/report?{q}"), &cookie).await;
    assert_eq!(page.status(), StatusCode::OK);
    let body = page.text().await.unwrap();
    assert!(body.contains("id=\"ind-referrals_received\""), "{body}");
    assert!(body.contains("産科医療機関 1"), "{body}");
    assert!(
        body.contains("実績値 A") && body.contains("目標値 B"),
        "{body}"
    );
    assert!(!body.contains("港 花子"), "a report names no one");
    let english = center
        .get(&format!("/support/report?{q}&lang=en"), &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(english.contains("Referrals received") && english.contains("obstetric clinic 1"));
    assert!(english.contains("Actual A") && !english.contains("受けた連絡票"));
    let svg = center
        .get(&format!("/support/report/chart/trend.svg?{q}"), &cookie)
        .await;
    assert_eq!(svg.status(), StatusCode::OK);
    assert_eq!(svg.headers()[CONTENT_TYPE], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("<svg"));
    let png = center
        .get(&format!("/support/report/chart/breakdown.png?{q}"), &cookie)
        .await;
    assert_eq!(png.headers()[CONTENT_TYPE], "image/png");
    let missing = center
        .get(&format!("/support/report/chart/pie.svg?{q}"), &cookie)
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // A target: refused without the token, refused at its field when bad,
    // kept when good; the page then judges against it.
    let year = Period::fiscal_year_of(today).to_string();
    let path = "/support/report/targets";
    let mut form = vec![
        ("year", year.as_str()),
        ("indicator", "referrals_received"),
        ("value", "abc"),
        ("from", ""),
        ("to", ""),
    ];
    let forged = center.post(path, &cookie, &form).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let csrf = hidden(&body, "csrf");
    form.push(("csrf", csrf.as_str()));
    let bad = center.post(path, &cookie, &form).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let text = bad.text().await.unwrap();
    assert!(
        text.contains("目標値「abc」は数値として読めません"),
        "{text}"
    );
    assert!(text.contains("id=\"err-value\""), "{text}");
    form[2].1 = "-1";
    let negative = center.post(path, &cookie, &form).await;
    assert_eq!(negative.status(), StatusCode::BAD_REQUEST);
    form[1].1 = "no_such_indicator";
    form[2].1 = "2";
    let unknown = center.post(path, &cookie, &form).await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert!(
        unknown
            .text()
            .await
            .unwrap()
            .contains("id=\"err-indicator\"")
    );
    form[0].1 = "令和8";
    form[1].1 = "referrals_received";
    let year_bad = center.post(path, &cookie, &form).await;
    assert_eq!(year_bad.status(), StatusCode::BAD_REQUEST);
    assert!(
        year_bad
            .text()
            .await
            .unwrap()
            .contains("年度を 2026 のように数字で")
    );
    let fy: i32 = year.parse().unwrap();
    assert!(
        node.records().support_targets(fy).await.unwrap().is_empty(),
        "nothing kept"
    );
    form[0].1 = &year;
    form[3].1 = &q[5..15];
    form[4].1 = &q[19..];
    let saved = center.post(path, &cookie, &form).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        saved.headers()[LOCATION],
        format!("/support/report?{q}&saved=1").as_str()
    );
    assert_eq!(
        node.records().support_targets(fy).await.unwrap(),
        vec![("referrals_received".to_owned(), 2.0)]
    );
    let body = center
        .get(&format!("/support/report?{q}&saved=1"), &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("目標値を保存しました"), "{body}");
    assert!(
        body.contains("50.0%") && body.contains("sr-behind"),
        "{body}"
    );

    // A period that ends before it starts: 400 at the field, nothing counted.
    let back = center
        .get("/support/report?from=2026-06-30&to=2026-04-01", &cookie)
        .await;
    assert_eq!(back.status(), StatusCode::BAD_REQUEST);
    let body = back.text().await.unwrap();
    assert!(
        body.contains("終了日（2026-04-01）が開始日（2026-06-30）より前です"),
        "{body}"
    );
    assert!(body.contains("aria-describedby=\"err-to\""), "{body}");
    assert!(!body.contains("id=\"ind-referrals_received\""), "{body}");
    let day = center
        .get("/support/report?from=2026-02-30&to=", &cookie)
        .await;
    assert_eq!(day.status(), StatusCode::BAD_REQUEST);
    assert!(
        day.text()
            .await
            .unwrap()
            .contains("開始日「2026-02-30」は日付として読めません")
    );

    // Any other node: 403, saying whose it is.
    let other = clinic.sign_in().await;
    for path in ["/support/report", "/support/report/chart/trend.svg"] {
        let refused = clinic.get(path, &other).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{path}");
        let body = refused.text().await.unwrap();
        assert!(
            body.contains("支援台帳はこども家庭センターの台帳です"),
            "{body}"
        );
    }

    clinic.stop().await;
    center.stop().await;
}

/// `tsunagu agency ARGS` as the center's 保健師.
async fn run(args: &[&str]) -> (bool, String, String) {
    staff_as(&hokenshi(), args).await
}

#[tokio::test]
async fn the_cli_reports_as_json_writes_charts_sets_targets_and_refuses_a_backward_period() {
    let hub = TestHub::start(&Db::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let center = agency_toml(dir.path(), &hub.url, CENTER);
    let clinic = agency_toml(dir.path(), &hub.url, CLINIC);
    let report = |config: &str, from: &str, to: &str| {
        ["report", "--config", config, "--from", from, "--to", to]
            .map(str::to_owned)
            .to_vec()
    };

    let args = report(&center, "2026-06-30", "2026-04-01");
    let (ok, _, err) = run(&args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert!(!ok);
    assert!(
        err.contains("終了日（2026-04-01）が開始日（2026-06-30）より前です"),
        "{err}"
    );

    let args = report(&clinic, "2026-04-01", "2026-06-30");
    let (ok, _, err) = run(&args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert!(!ok);
    assert!(err.contains("センターのノードだけ"), "{err}");

    let target = |value: &str| {
        let v = value.to_owned();
        let c = center.clone();
        async move {
            run(&[
                "report",
                "target",
                "--config",
                &c,
                "--year",
                "2026",
                "--indicator",
                "consultations",
                "--value",
                &v,
            ])
            .await
        }
    };
    let (ok, _, err) = target("-1").await;
    assert!(!ok);
    assert!(err.contains("目標値は0以上にしてください"), "{err}");
    let (ok, out, err) = target("120").await;
    assert!(ok, "{err}");
    assert!(out.contains("目標値を設定しました"), "{out}");

    let charts = dir.path().join("charts");
    let mut args = report(&center, "2026-04-01", "2026-06-30");
    args.extend([
        "--json".into(),
        "--charts".into(),
        charts.display().to_string(),
    ]);
    let (ok, out, err) = run(&args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert!(ok, "{err}");
    let json: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(json["report"]["fiscal_year"], 2026);
    let consultations = json["report"]["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "consultations")
        .unwrap();
    assert_eq!(consultations["value"]["count"], 0);
    assert_eq!(consultations["target"], 120.0);
    assert_eq!(consultations["judgement"], "behind");
    for name in ["trend.svg", "trend.png", "breakdown.svg", "breakdown.png"] {
        assert!(charts.join(name).is_file(), "{name}");
    }
}
