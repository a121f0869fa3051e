//! The 進行管理台帳 on the 調整機関's node: a case registered through the
//! hub, its entry set, listed, exported and put on the agenda from the
//! command line; bad input refused with what to do, nothing stored.

use serde_json::Value;
use tsunagu::protocol::action::Action;
use tsunagu::protocol::case::{CaseClassification, Registration};
use tsunagu::protocol::day::Day;
use tsunagu::protocol::payload::Body;
use tsunagu::protocol::{CaseId, Timestamp};

use crate::helpers::*;

both_backends!(
    the_coordinator_keeps_a_registered_case_on_the_ledger_lists_and_exports_it,
    ledger_input_that_cannot_be_right_is_refused_and_nothing_is_stored,
);

const CENTER_NAME: &str = "みなと市こども家庭センター";

type World = CouncilWorld;

impl World {
    /// The 調整機関 registers a new case: 特定妊婦, the center leading.
    async fn registered_case(&self) -> CaseId {
        let case = self.center.node.open_case().await.unwrap();
        let register = action_draft(
            Some(&case),
            &[],
            Action::RegisterCase {
                registration: Registration {
                    classification: CaseClassification::SpecifiedExpectantMother,
                    lead: agency(CENTER),
                    members: vec![agency(CENTER), agency(WELFARE), agency(NURSERY)],
                },
            },
            Body::CaseUpdate(note("医療機関からの連絡により登録")),
        );
        sent(&self.yotaikyo, &register).await;
        case
    }
}

/// `tsunagu agency ledger …` as staff, in Japanese: (success, stdout,
/// stdout + stderr). Off the test's runtime thread, which runs the hub.
async fn ledger(args: &[&str]) -> (bool, String, String) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tsunagu"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .arg("agency")
            .arg("ledger")
            .args(&args)
            .env_remove("TSUNAGU_LANG")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
        (out.status.success(), stdout, all)
    })
    .await
    .unwrap()
}

/// `tsunagu agency ledger ARGS --json`, which must succeed; its JSON.
async fn json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let (ok, out, both) = ledger(&all).await;
    assert!(ok, "{args:?} failed: {both}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out}"))
}

fn days_ago(n: i64) -> String {
    Day::of(Timestamp::now()).plus_days(-n).to_string()
}

pub async fn the_coordinator_keeps_a_registered_case_on_the_ledger_lists_and_exports_it(db: Db) {
    let w = World::start(&db).await;
    let yotaikyo = w.config(YOTAIKYO);
    let case = w.registered_case().await;
    let received = days_ago(3);

    let (ok, out, both) = ledger(&[
        "set",
        "--config",
        &yotaikyo,
        "--case",
        case.as_str(),
        "--number",
        "2026-012",
        "--received-on",
        &received,
        "--route",
        "medical",
        "--status",
        "assessment",
        "--risk",
        "medium",
        "--policy",
        "妊婦健診の受診を見守り、出産後に家庭訪問",
    ])
    .await;
    assert!(ok, "{both}");
    assert!(
        out.contains("台帳を更新しました") && out.contains("2026-012"),
        "{out}"
    );
    assert!(out.contains("アセスメント中"), "{out}");

    let listed = json(&["list", "--config", &yotaikyo]).await;
    let rows = listed.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{listed}");
    let row = &rows[0];
    assert_eq!(row["case_id"], case.as_str());
    assert_eq!(row["case_number"], "2026-012");
    assert_eq!(row["received_on"], received.as_str());
    assert_eq!(row["route"]["label"], "医療機関からの連絡");
    assert_eq!(row["classification"]["name"], "specified_expectant_mother");
    assert_eq!(row["status"]["name"], "assessment");
    assert_eq!(row["risk"]["label"], "中");
    assert_eq!(row["lead"]["name"], CENTER_NAME);
    // Three months after registration (today), unless a meeting decides.
    let today = Day::of(Timestamp::now());
    assert_eq!(row["next_review"], today.plus_months(3).to_string());
    let members: Vec<&str> = row["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(members, [CENTER, WELFARE, NURSERY]);

    // Filters.
    let count = |v: Value| v.as_array().unwrap().len();
    let filtered = |extra: &'static [&'static str]| {
        let yotaikyo = yotaikyo.clone();
        async move {
            let mut args = vec!["list", "--config", &yotaikyo];
            args.extend_from_slice(extra);
            count(json(&args).await)
        }
    };
    assert_eq!(filtered(&["--status", "assessment"]).await, 1);
    assert_eq!(filtered(&["--status", "closed"]).await, 0);
    assert_eq!(
        filtered(&["--classification", "specified-expectant-mother"]).await,
        1
    );
    assert_eq!(
        filtered(&["--classification", "protection-needed"]).await,
        0
    );
    assert_eq!(filtered(&["--lead", CENTER]).await, 1);
    assert_eq!(filtered(&["--lead", WELFARE]).await, 0);
    assert_eq!(filtered(&["--due"]).await, 0);

    // The table names the lead, under a header.
    let (ok, out, both) = ledger(&["list", "--config", &yotaikyo]).await;
    assert!(ok, "{both}");
    assert!(
        out.lines().next().unwrap().starts_with("ケース番号"),
        "{out}"
    );
    assert!(
        out.contains(CENTER_NAME) && out.contains("特定妊婦"),
        "{out}"
    );

    // The agenda takes it up once its review falls due.
    let until = today.plus_months(4).to_string();
    let agenda = json(&["agenda", "--config", &yotaikyo, "--until", &until]).await;
    assert_eq!(agenda["cases"][0]["case_id"], case.as_str());
    let invitees: Vec<&str> = agenda["invitees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(invitees, [CENTER, WELFARE, NURSERY]);
    assert_eq!(
        json(&["agenda", "--config", &yotaikyo]).await["cases"],
        serde_json::json!([])
    );

    // Export, and read it back as Excel would.
    let file = w.data.path().join("ledger.csv");
    let path = file.display().to_string();
    let (ok, out, both) = ledger(&["export", "--config", &yotaikyo, "--out", &path]).await;
    assert!(ok && out.contains("台帳を書き出しました"), "{both}");
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(&bytes[..3], [0xEF, 0xBB, 0xBF], "UTF-8 byte order mark");
    assert!(bytes.windows(2).any(|w| w == b"\r\n"), "CRLF line endings");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[0], "ケース番号");
    assert_eq!(&header[3], "受理経路");
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    let cell = |name: &str| &r[header.iter().position(|h| h == name).unwrap()];
    assert_eq!(cell("ケース番号"), "2026-012");
    assert_eq!(cell("ケースID"), case.as_str());
    assert_eq!(cell("受理経路"), "医療機関からの連絡");
    assert_eq!(cell("区分"), "特定妊婦");
    assert_eq!(cell("主担当機関"), CENTER_NAME);
    assert_eq!(cell("援助方針"), "妊婦健診の受診を見守り、出産後に家庭訪問");
    assert_eq!(cell("状態"), "アセスメント中");
    w.stop().await;
}

pub async fn ledger_input_that_cannot_be_right_is_refused_and_nothing_is_stored(db: Db) {
    let mut w = World::start(&db).await;
    let (yotaikyo, center) = (w.config(YOTAIKYO), w.config(CENTER));
    let case = w.registered_case().await;
    let set = |config: &str, case: &CaseId, extra: &[&str]| {
        let mut args: Vec<String> = ["set", "--config", config, "--case", case.as_str()]
            .iter()
            .map(|a| a.to_string())
            .collect();
        args.extend(extra.iter().map(|a| a.to_string()));
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            ledger(&args).await
        }
    };

    // Not the 調整機関's node.
    let (ok, _, out) = set(&center, &case, &["--number", "2026-013"]).await;
    assert!(!ok, "{out}");
    assert!(out.contains("調整機関のノードだけ"), "{out}");
    assert!(out.contains("次の手順"), "{out}");
    assert!(out.contains(CENTER_NAME), "{out}");

    // A case this node knows nothing of.
    let unknown = w.center.node.open_case().await.unwrap();
    let (ok, _, out) = set(&yotaikyo, &unknown, &["--number", "2026-014"]).await;
    assert!(!ok, "{out}");
    assert!(out.contains("このケースの記録がありません"), "{out}");

    // A case the node holds (a referral under her consent) but that is not
    // registered with the council.
    let scope = consent_scope(&unknown, &[YOTAIKYO]);
    let consent_id = scope.consent_id;
    sent(&w.clinic, &consent_record_draft(scope)).await;
    let referral = sent(
        &w.clinic,
        &consent_referral_draft(&unknown, consent_id, &[YOTAIKYO]),
    )
    .await;
    w.yotaikyo.wait_stored(referral).await;
    let (ok, _, out) = set(&yotaikyo, &unknown, &["--number", "2026-014"]).await;
    assert!(!ok, "{out}");
    assert!(out.contains("要対協に登録されていません"), "{out}");
    assert!(out.contains("agency case --case"), "{out}");

    // An impossible date, a day received in the future, a closure with no
    // reason: each named.
    let (ok, _, out) = set(&yotaikyo, &case, &["--received-on", "2026-13-01"]).await;
    assert!(
        !ok && out.contains("--received-on") && out.contains("YYYY-MM-DD"),
        "{out}"
    );
    let tomorrow = Day::of(Timestamp::now()).plus_days(1).to_string();
    let (ok, _, out) = set(&yotaikyo, &case, &["--received-on", &tomorrow]).await;
    assert!(!ok && out.contains("未来の日付"), "{out}");
    let (ok, _, out) = set(&yotaikyo, &case, &["--status", "closed"]).await;
    assert!(!ok && out.contains("--reason"), "{out}");

    // Nothing stored on either node.
    for node in [&w.yotaikyo, &w.center] {
        let entries = node.node.records().ledger_entries().await.unwrap();
        assert!(entries.is_empty(), "{entries:?}");
    }
    w.stop().await;
}
