//! The 支援台帳 in and out of the center's node, through a real hub: the
//! sample workbook, the round trip (.xlsx and CSV, into the same node and a
//! fresh one), every bad input of the issue refused with its message and
//! nothing written, the CLI (`support-ledger import | export`), and the
//! import and export pages of the staff UI.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use tsunagu::agency::staff::{Actor, Viewed};
use tsunagu::agency::support_ledger::exchange::{self, Outcome, Plan, export};
use tsunagu::agency::support_ledger::{self, Ledger, Subject, SubjectKind, Tier};
use tsunagu::protocol::Timestamp;
use tsunagu::protocol::day::Day;
use tsunagu::store::records::Records;

use crate::helpers::*;
use crate::ui::{Ui, page_csrf};
use crate::ui_consents::{BOUNDARY, Form};

fn sample_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/support-ledger.xlsx")
}

fn today() -> Day {
    Day::of(Timestamp::now())
}

async fn plan_of(records: &Records, bytes: &[u8]) -> Plan {
    exchange::prepare(records, bytes, &[], today())
        .await
        .unwrap()
}

async fn ledger_of(records: &Records) -> Ledger {
    support_ledger::load(records, today()).await.unwrap()
}

/// A contact as a round trip must keep it.
type Kept = (Day, String, String, String);

/// What a round trip must keep: every row's items and contacts.
fn contents(ledger: &Ledger) -> Vec<(Subject, Vec<Kept>)> {
    ledger
        .subjects
        .iter()
        .map(|v| {
            let contacts = v
                .contacts
                .iter()
                .map(|c| {
                    let point = c.point.map_or("", |p| p.as_str());
                    (
                        c.day,
                        c.kind.as_str().to_owned(),
                        c.staff.clone(),
                        format!("{}|{point}", c.summary),
                    )
                })
                .collect();
            (v.subject.clone(), contacts)
        })
        .collect()
}

async fn fresh_records(dir: &Path) -> Records {
    Records::open(&format!("sqlite:{}", dir.join("fresh.db").display()))
        .await
        .unwrap()
}

/// Import `bytes` for real, checking the plan had nothing refused.
async fn import_all(records: &Records, bytes: &[u8]) -> Plan {
    let plan = plan_of(records, bytes).await;
    assert!(
        plan.importable(),
        "{:?}",
        plan.refusals(tsunagu::i18n::Lang::Ja)
    );
    exchange::import(records, &plan, "テスト 職員", Timestamp::now())
        .await
        .unwrap();
    plan
}

#[tokio::test]
async fn the_sample_workbook_imports_cleanly_with_its_wareki_and_serial_dates_and_contacts_once() {
    let ui = Ui::start(|_| {}).await;
    let records = ui.center.node.records();
    let bytes = std::fs::read(sample_path()).unwrap();
    let plan = plan_of(records, &bytes).await;
    let counts = plan.counts();
    assert!(
        plan.importable(),
        "{:?}",
        plan.refusals(tsunagu::i18n::Lang::Ja)
    );
    assert!(counts.new >= 30, "{counts:?}");
    assert_eq!(
        (counts.changed, counts.unchanged, counts.refused),
        (0, 0, 0)
    );
    assert!(counts.contacts_new >= 8, "{counts:?}");
    let dry = ledger_of(records).await;
    assert!(dry.subjects.is_empty(), "a plan writes nothing");

    import_all(records, &bytes).await;
    let ledger = ledger_of(records).await;
    assert_eq!(ledger.subjects.len(), counts.new);
    // 令和8年6月1日 (text) and 46174 (an Excel serial number).
    let wareki = ledger.by_number("M-0002").unwrap();
    assert_eq!(
        wareki.subject.notified_on,
        Some("2026-06-01".parse().unwrap())
    );
    let serial = ledger.by_number("M-0003").unwrap();
    assert_eq!(
        serial.subject.notified_on,
        Some("2026-06-02".parse().unwrap())
    );
    let child = ledger.by_number("C-0003").unwrap();
    assert_eq!(child.subject.kind, SubjectKind::Child);
    assert_eq!(child.subject.mother.as_deref(), Some("M-0005"));
    let first = ledger.by_number("M-0001").unwrap();
    assert_eq!(first.tiers[0].reason, exchange::IMPORT_REASON);
    assert_eq!(first.tiers[0].by, "テスト 職員");
    let contacts: usize = ledger.subjects.iter().map(|s| s.contacts.len()).sum();
    assert_eq!(contacts, counts.contacts_new);

    // The same file again: nothing changes, no contact is doubled.
    let again = plan_of(records, &bytes).await;
    let c = again.counts();
    assert_eq!((c.new, c.changed, c.unchanged), (0, 0, counts.new));
    assert_eq!((c.contacts_new, c.contacts_kept), (0, counts.contacts_new));
    exchange::import(records, &again, "テスト 職員", Timestamp::now())
        .await
        .unwrap();
    assert_eq!(contents(&ledger_of(records).await), contents(&ledger));
    ui.stop().await;
}

#[tokio::test]
async fn an_xlsx_and_a_csv_export_import_back_unchanged_into_the_same_node_and_a_fresh_one() {
    let ui = Ui::start(|_| {}).await;
    let records = ui.center.node.records();
    import_all(records, &std::fs::read(sample_path()).unwrap()).await;
    // Text that looks like a formula, and Japanese outside JIS X 0208.
    let mut odd = ledger_of(records)
        .await
        .by_number("M-0001")
        .unwrap()
        .clone();
    odd.subject.history = "=HYPERLINK(\"x\") 髙﨑 ① ㈱\n2行目".into();
    support_ledger::update(
        records,
        &odd.id,
        odd.version,
        odd.subject.clone(),
        None,
        "テスト 職員",
        Timestamp::now(),
    )
    .await
    .unwrap();
    let before = ledger_of(records).await;

    let xlsx = export::xlsx(&before).unwrap();
    let csv = export::csv(&before).unwrap();
    assert!(csv.starts_with('\u{feff}'));
    assert!(csv.contains("'=HYPERLINK"), "the CSV cell is made inert");
    for (name, bytes) in [("xlsx", xlsx.clone()), ("csv", csv.clone().into_bytes())] {
        let plan = plan_of(records, &bytes).await;
        let c = plan.counts();
        assert_eq!(
            (c.new, c.changed, c.refused, c.unchanged),
            (0, 0, 0, before.subjects.len()),
            "{name}: {:?}",
            plan.refusals(tsunagu::i18n::Lang::Ja)
        );
        exchange::import(records, &plan, "テスト 職員", Timestamp::now())
            .await
            .unwrap();
        assert_eq!(
            contents(&ledger_of(records).await),
            contents(&before),
            "{name}"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let fresh = fresh_records(dir.path()).await;
    import_all(&fresh, &xlsx).await;
    assert_eq!(
        contents(&ledger_of(&fresh).await),
        contents(&before),
        "xlsx, fresh"
    );
    fresh.close().await;

    let dir = tempfile::tempdir().unwrap();
    let fresh = fresh_records(dir.path()).await;
    import_all(&fresh, csv.as_bytes()).await;
    // A CSV is one sheet: the rows, without the 接触記録.
    let rows_only =
        |l: &Ledger| -> Vec<Subject> { l.subjects.iter().map(|v| v.subject.clone()).collect() };
    assert_eq!(
        rows_only(&ledger_of(&fresh).await),
        rows_only(&before),
        "csv, fresh"
    );
    fresh.close().await;
    ui.stop().await;
}

/// A CSV of rows under the minimal headings.
fn csv_of(rows: &[&str]) -> Vec<u8> {
    let mut text = String::from("台帳番号,対象,氏名,生年月日,分娩予定日,支援区分\r\n");
    for r in rows {
        text.push_str(r);
        text.push_str("\r\n");
    }
    text.into_bytes()
}

#[tokio::test]
async fn bad_files_are_refused_whole_with_every_reason_by_row_and_column_and_nothing_written() {
    let ui = Ui::start(|_| {}).await;
    let records = ui.center.node.records();
    let ja = tsunagu::i18n::Lang::Ja;

    // A missing required column.
    let plan = plan_of(
        records,
        "台帳番号,氏名,対象\r\nA-1,山田 花子,妊婦\r\n".as_bytes(),
    )
    .await;
    assert!(!plan.importable());
    assert!(
        plan.refusals(ja)[0].starts_with("必須の列「支援区分」がありません"),
        "{:?}",
        plan.refusals(ja)
    );

    // Impossible dates: every one named by its row and column heading.
    let bad = csv_of(&[
        "A-1,妊婦,山田 花子,1995-05-01,2026-02-30,自立",
        "A-2,妊婦,佐藤 葵,1990-01-01,2027-01-10,セルフプラン",
        "A-3,子ども,佐藤 蓮,令和6年13月1日,,要注意",
    ]);
    let plan = plan_of(records, &bad).await;
    let refusals = plan.refusals(ja);
    assert_eq!(plan.counts().refused, 2);
    assert!(
        refusals.contains(&"2行目 列「分娩予定日」: 「2026-02-30」は存在しない日付です".to_owned()),
        "{refusals:?}"
    );
    assert!(
        refusals
            .contains(&"4行目 列「生年月日」: 「令和6年13月1日」は存在しない日付です".to_owned()),
        "{refusals:?}"
    );
    assert!(
        refusals.iter().any(|r| r.starts_with("4行目 列「支援区分」: 「要注意」は使えない値です（使える値: 自立、セルフプラン、支援プラン対象、特定妊婦・要支援・要保護）")),
        "{refusals:?}"
    );
    let e = exchange::import(records, &plan, "テスト 職員", Timestamp::now()).await;
    assert!(matches!(e, Err(exchange::ImportError::Refused)));

    // The same person under two numbers, and one number twice.
    let twice = csv_of(&[
        "A-1,妊婦,山田 花子,1995-05-01,2027-01-10,自立",
        "A-2,妊婦,山田　花子,1995/5/1,2027-01-10,自立",
        "A-1,妊婦,鈴木 愛,1993-03-03,2027-02-10,自立",
    ]);
    let refusals = plan_of(records, &twice).await.refusals(ja);
    assert!(
        refusals
            .iter()
            .any(|r| r.starts_with("3行目 氏名と生年月日が台帳番号 A-1 の行と同じです")),
        "{refusals:?}"
    );
    assert!(
        refusals.contains(
            &"4行目 台帳番号が2行目と同じです（1つの番号は1行だけにしてください）".to_owned()
        ),
        "{refusals:?}"
    );
    assert!(
        ledger_of(records).await.subjects.is_empty(),
        "nothing was written"
    );

    // The same person as a row already on the ledger.
    import_all(
        records,
        &csv_of(&["A-1,妊婦,山田 花子,1995-05-01,2027-01-10,自立"]),
    )
    .await;
    let refusals = plan_of(records, &csv_of(&["B-9,妊婦,山田花子,H7.5.1,,自立"]))
        .await
        .refusals(ja);
    assert!(
        refusals[0].starts_with("2行目 氏名と生年月日が台帳番号 A-1 の行と同じです"),
        "{refusals:?}"
    );
    assert_eq!(ledger_of(records).await.subjects.len(), 1);
    ui.stop().await;
}

#[tokio::test]
async fn a_shift_jis_csv_with_characters_outside_jis_x_0208_imports_them_intact() {
    let ui = Ui::start(|_| {}).await;
    let records = ui.center.node.records();
    let text = String::from_utf8(csv_of(&[
        "S-1,妊婦,髙橋 﨑子,1992-02-02,2027-03-03,支援プラン対象",
        "S-2,妊婦,①㈱ 花子,令和元年5月1日,,自立",
    ]))
    .unwrap();
    let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&text);
    assert!(!unmappable);
    import_all(records, &sjis).await;
    let ledger = ledger_of(records).await;
    assert_eq!(ledger.by_number("S-1").unwrap().subject.name, "髙橋 﨑子");
    assert_eq!(
        ledger.by_number("S-1").unwrap().subject.tier,
        Tier::SupportPlan
    );
    assert_eq!(ledger.by_number("S-2").unwrap().subject.name, "①㈱ 花子");
    assert_eq!(
        ledger.by_number("S-2").unwrap().subject.birth_date,
        Some("2019-05-01".parse().unwrap())
    );
    ui.stop().await;
}

#[tokio::test]
async fn a_tier_changed_by_import_is_kept_in_the_history_as_取込_by_the_importer() {
    let ui = Ui::start(|_| {}).await;
    let records = ui.center.node.records();
    import_all(
        records,
        &csv_of(&["T-1,妊婦,田中 結衣,1994-04-04,2027-04-04,自立"]),
    )
    .await;
    let plan = plan_of(
        records,
        &csv_of(&["T-1,妊婦,田中 結衣,1994-04-04,2027-04-04,特定妊婦"]),
    )
    .await;
    assert_eq!(plan.rows[0].outcome, Outcome::Changed(vec!["tier"]));
    exchange::import(records, &plan, "山本 保健師", Timestamp::now())
        .await
        .unwrap();
    let row = ledger_of(records).await.by_number("T-1").unwrap().clone();
    assert_eq!(row.subject.tier, Tier::Specified);
    let last = row.tiers.last().unwrap();
    assert_eq!(
        (last.from, last.to),
        (Some(Tier::Independent), Tier::Specified)
    );
    assert_eq!(
        (last.reason.as_str(), last.by.as_str()),
        ("取込", "山本 保健師")
    );
    ui.stop().await;
}

// ---- the CLI ----

fn tsunagu(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("agency")
        .arg("support-ledger")
        .args(args)
        .env("USER", "cli-user")
        .env_remove("TSUNAGU_LANG")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_cli_dry_run_writes_nothing_then_imports_and_exports_an_owner_only_file() {
    let ui = Ui::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let config = agency_toml(dir.path(), &ui.hub_url, CENTER);
    let sample = sample_path().display().to_string();

    let (ok, out, err) = tsunagu(&[
        "import",
        "--config",
        &config,
        &sample,
        "--dry-run",
        "--json",
    ]);
    assert!(ok, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["counts"]["refused"], 0);
    let new = plan["counts"]["new"].as_u64().unwrap();
    assert!(new >= 30);
    let columns = plan["columns"].as_array().unwrap();
    assert!(
        columns
            .iter()
            .any(|c| c["column"] == "備考" && c["target"] == "ignored")
    );
    assert!(err.is_empty(), "no progress bar on a pipe: {err}");

    let (ok, out, err) = tsunagu(&["import", "--config", &config, &sample, "--json"]);
    assert!(ok, "{err}");
    let done: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(done["imported"]["added"].as_u64(), Some(new));

    let out_file = dir.path().join("out.xlsx").display().to_string();
    let (ok, out, err) = tsunagu(&["export", "--config", &config, "--out", &out_file, "--json"]);
    assert!(ok, "{err}");
    let written: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(written["rows"].as_u64(), Some(new));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let loaded = tsunagu::agency::AgencyConfig::load(config.as_ref()).unwrap();
    let records = tsunagu::agency::node::open_records(&loaded).await.unwrap();
    let ledger = ledger_of(&records).await;
    assert_eq!(ledger.by_number("M-0001").unwrap().tiers[0].by, "cli-user");
    records.close().await;

    // Reading the export back with a column mapped by hand.
    let (ok, out, err) = tsunagu(&[
        "import",
        "--config",
        &config,
        &out_file,
        "--dry-run",
        "--json",
        "--map",
        "ふりがな=無視",
    ]);
    assert!(ok, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(plan["counts"]["unchanged"].as_u64(), Some(new));
    assert!(
        plan["columns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["column"] == "ふりがな" && c["chosen"] == true)
    );
    ui.stop().await;
}

#[tokio::test]
async fn the_cli_refuses_a_file_over_50_mb_a_bad_file_and_a_node_that_is_not_the_center() {
    let ui = Ui::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let config = agency_toml(dir.path(), &ui.hub_url, CENTER);

    let big = dir.path().join("big.csv");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(exchange::MAX_FILE_BYTES as u64 + 1).unwrap();
    let (ok, _, err) = tsunagu(&["import", "--config", &config, &big.display().to_string()]);
    assert!(!ok);
    assert!(
        err.contains("ファイルが大きすぎます（50 MB、上限 50 MB）"),
        "{err}"
    );

    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        csv_of(&["A-1,妊婦,山田 花子,1995-05-01,2026-02-30,自立"]),
    )
    .unwrap();
    let (ok, out, err) = tsunagu(&["import", "--config", &config, &bad.display().to_string()]);
    assert!(!ok);
    assert!(
        out.contains("2行目 列「分娩予定日」: 「2026-02-30」は存在しない日付です"),
        "{out}"
    );
    assert!(err.contains("何も取り込んでいません"), "{err}");

    let clinic = agency_toml(dir.path(), &ui.hub_url, CLINIC);
    let (ok, _, err) = tsunagu(&["export", "--config", &clinic, "--out", "/tmp/never.xlsx"]);
    assert!(!ok);
    assert!(
        err.contains("支援台帳はこども家庭センターのノードだけが扱います"),
        "{err}"
    );
    assert!(!Path::new("/tmp/never.xlsx").exists());
    ui.stop().await;
}

// ---- the UI ----

async fn upload(
    ui: &Ui,
    cookie: &str,
    csrf: &str,
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let form = Form::new().text("csrf", csrf).file("file", name, bytes);
    ui.http
        .post(ui.url("/support/import"))
        .header("cookie", cookie)
        .header(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(form.body())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_import_page_shows_the_mapping_and_plan_then_imports_on_confirmation() {
    let ui = Ui::start(|_| {}).await;
    let cookie = ui.sign_in().await;
    let csrf = page_csrf(&ui, "/support/import", &cookie).await;
    let bytes = std::fs::read(sample_path()).unwrap();

    let sent = upload(&ui, &cookie, &csrf, "support-ledger.xlsx", bytes).await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let at = sent.headers()[LOCATION].to_str().unwrap().to_owned();
    let page = ui.get(&at, &cookie).await;
    assert_eq!(page.status(), StatusCode::OK);
    let body = page.text().await.unwrap();
    assert!(body.contains("取り込みの確認"));
    assert!(
        body.contains("<th scope=\"row\" id=\"col20-h\">備考</th>"),
        "the unknown column is listed"
    );
    assert!(body.contains("data-count=\"refused\">0<"));
    assert!(
        ledger_of(ui.center.node.records())
            .await
            .subjects
            .is_empty()
    );

    // The upload waits beside the node's database, owner-only.
    let kept = ui._data.path().join("support-imports");
    let token = at.rsplit('/').next().unwrap().to_owned();
    let upload = kept.join(format!("{token}.upload"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&upload).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Without the CSRF token: refused, nothing written.
    let refused = ui.post(&at, &cookie, &[]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        ledger_of(ui.center.node.records())
            .await
            .subjects
            .is_empty()
    );

    let done = ui.post(&at, &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(done.status(), StatusCode::OK);
    let body = done.text().await.unwrap();
    assert!(body.contains("支援台帳に取り込みました"), "{body}");
    let n = ledger_of(ui.center.node.records()).await.subjects.len();
    assert!(n >= 30);
    assert!(body.contains(&format!("data-count=\"added\">{n}<")));
    let first = ledger_of(ui.center.node.records()).await;
    assert_eq!(
        first.by_number("M-0001").unwrap().tiers[0].by,
        crate::ui::NAME
    );

    // The upload is gone once imported.
    assert!(!upload.exists());
    let again = ui.get(&at, &cookie).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("この取り込みは見つかりません")
    );
    ui.stop().await;
}

#[tokio::test]
async fn the_import_page_refuses_bad_files_at_the_field_and_oversize_with_a_japanese_message() {
    let ui = Ui::start(|_| {}).await;
    let cookie = ui.sign_in().await;
    let csrf = page_csrf(&ui, "/support/import", &cookie).await;

    let big = vec![b'a'; exchange::MAX_FILE_BYTES + 2 * 1024 * 1024];
    let sent = upload(&ui, &cookie, &csrf, "big.csv", big).await;
    assert_eq!(sent.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body = sent.text().await.unwrap();
    assert!(body.contains("ファイルが大きすぎます"), "{body}");
    assert!(body.contains("id=\"file-error\""));

    let sent = upload(
        &ui,
        &cookie,
        &csrf,
        "old.xls",
        vec![0xD0, 0xCF, 0x11, 0xE0, 0, 0],
    )
    .await;
    assert_eq!(sent.status(), StatusCode::BAD_REQUEST);
    assert!(
        sent.text()
            .await
            .unwrap()
            .contains("古い Excel 形式（.xls）は読めません")
    );

    // A refused row: the plan names it, and 取り込む writes nothing.
    let bad = csv_of(&["A-1,妊婦,山田 花子,1995-05-01,2026-02-30,自立"]);
    let sent = upload(&ui, &cookie, &csrf, "bad.csv", bad).await;
    let at = sent.headers()[LOCATION].to_str().unwrap().to_owned();
    let body = ui.get(&at, &cookie).await.text().await.unwrap();
    assert!(
        body.contains("2行目 列「分娩予定日」: 「2026-02-30」は存在しない日付です"),
        "{body}"
    );
    assert!(
        !body.contains(&format!("action=\"{at}\"")),
        "no 取り込む button"
    );
    let forced = ui.post(&at, &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(forced.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        ledger_of(ui.center.node.records())
            .await
            .subjects
            .is_empty()
    );

    // A missing column, mapped by hand on the page.
    let text = "番号,対象,妊婦の名前,区分\r\nA-1,妊婦,山田 花子,自立\r\n";
    let sent = upload(&ui, &cookie, &csrf, "cols.csv", text.as_bytes().to_vec()).await;
    let at = sent.headers()[LOCATION].to_str().unwrap().to_owned();
    let body = ui.get(&at, &cookie).await.text().await.unwrap();
    assert!(body.contains("必須の列「氏名」がありません"), "{body}");
    let remapped = ui
        .post(
            &format!("{at}/mapping"),
            &cookie,
            &[("csrf", &csrf), ("col2", "name")],
        )
        .await;
    assert_eq!(remapped.status(), StatusCode::SEE_OTHER);
    let body = ui.get(&at, &cookie).await.text().await.unwrap();
    assert!(body.contains("data-count=\"new\">1<"), "{body}");
    assert!(!body.contains("必須の列"));
    ui.stop().await;
}

#[tokio::test]
async fn exports_download_with_their_types_are_in_the_access_log_and_other_nodes_answer_403() {
    let ui = Ui::start(|_| {}).await;
    import_all(
        ui.center.node.records(),
        &std::fs::read(sample_path()).unwrap(),
    )
    .await;
    let cookie = ui.sign_in().await;

    let xlsx = ui.get("/support/export.xlsx", &cookie).await;
    assert_eq!(xlsx.status(), StatusCode::OK);
    assert!(
        xlsx.headers()[CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains(".xlsx")
    );
    let bytes = xlsx.bytes().await.unwrap();
    let plan = plan_of(ui.center.node.records(), &bytes).await;
    assert_eq!(plan.counts().changed + plan.counts().new, 0);
    let csv = ui.get("/support/export.csv", &cookie).await;
    assert!(
        csv.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        csv.text()
            .await
            .unwrap()
            .starts_with("\u{feff}台帳番号,対象,氏名")
    );

    let log = ui
        .accounts
        .access_log(Actor::NodeConsole, None, None, Timestamp::now())
        .await
        .unwrap();
    let exports = log
        .iter()
        .filter(|v| v.what == Viewed::SupportSubject && v.record_id == "export")
        .count();
    assert_eq!(exports, 2);

    let clinic = ui.join(CLINIC).await;
    let cookie = clinic.sign_in().await;
    for path in [
        "/support/import",
        "/support/export.xlsx",
        "/support/export.csv",
    ] {
        let page = clinic.get(path, &cookie).await;
        assert_eq!(page.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(
            page.text()
                .await
                .unwrap()
                .contains("支援台帳はこども家庭センターの台帳です")
        );
    }
    clinic.stop().await;
    ui.stop().await;
}

/// Writes examples/support-ledger.xlsx: synthetic people only. Run with
/// `cargo test --test e2e regenerate_the_sample -- --ignored`.
#[test]
#[ignore = "writes examples/support-ledger.xlsx"]
fn regenerate_the_sample_workbook() {
    sample::write(&sample_path());
}

mod sample {
    use super::*;

    /// The 台帳 sheet: `|` between cells; `d:` a date cell, `n:` a plain
    /// number (an Excel serial day), anything else text. Synthetic people.
    const ROWS: &str = "\
台帳番号|対象|氏名|ふりがな|生年月日|母の台帳番号|担当地区|担当保健師|妊娠届出日|母子健康手帳交付日|分娩予定日|出産(予定)医療機関|家族構成|就労|要支援の有無|要支援の理由|支援区分|緊急度|3か月児健診|1歳6か月児健診|備考
M-0001|妊婦|青木 陽菜|あおき ひな|d:1991-02-10||港北|中村 あおい|d:2026-05-20|d:2026-05-20|d:2027-01-10|さくら産婦人科クリニック|夫・本人|会社員|無||自立||||架空の人物（見本）
M-0002|妊婦|石田 美月|いしだ みづき|d:1992-03-10||港南|山本 さくら|令和8年6月1日|d:2026-06-01|d:2027-01-15|さくら産婦人科クリニック|夫・本人|会社員|無||セルフプラン||||
M-0003|妊婦|上野 花|うえの はな|d:1993-04-10||港北|中村 あおい|n:46175|d:2026-06-02|d:2027-01-20|みなと市民病院|夫・本人|パート|有|産後うつの既往|支援プラン対象|中|||
M-0004|妊婦|江藤 莉子|えとう りこ|d:1994-05-10||港西|山本 さくら|d:2026-06-10|d:2026-06-10|d:2027-01-25|さくら産婦人科クリニック|夫・本人|会社員|無||自立||||
M-0005|妊婦|大野 結菜|おおの ゆな|d:2006-06-10||港南|山本 さくら|d:2026-02-01|d:2026-02-01|d:2026-09-01|みなと市民病院|本人のみ|無職|有|経済的困窮・若年|特定妊婦・要支援・要保護|高|||
M-0006|妊婦|加藤 杏|かとう あん|d:1996-07-10||港西|山本 さくら|R8.6.15|d:2026-06-15|d:2027-02-01|さくら産婦人科クリニック|夫・本人・長女|パート|無||セルフプラン||||
M-0007|妊婦|木村 紬|きむら つむぎ|d:1997-08-10||港北|中村 あおい|d:2026-06-20|d:2026-06-20|d:2027-02-05|みなと市民病院|本人・長男|パート|有|ひとり親|支援プラン対象|中|||
M-0008|妊婦|工藤 芽依|くどう めい|d:1998-09-10||港南|山本 さくら|d:2026-07-01|d:2026-07-01|d:2027-02-10|さくら産婦人科クリニック|夫・本人|会社員|無||自立||||
M-0009|妊婦|小林 心春|こばやし こはる|d:1999-10-10||港西|中村 あおい|d:2026-07-05|d:2026-07-05|d:2027-02-15|未定|本人のみ|無職|有|妊婦健診未受診|特定妊婦・要支援・要保護|高|||
M-0010|妊婦|佐々木 凛|ささき りん|d:1990-11-10||港北|山本 さくら|d:2026-07-10|d:2026-07-10|d:2027-02-20|さくら産婦人科クリニック|夫・本人|会社員|無||自立||||
M-0011|妊婦|清水 美桜|しみず みお|d:1991-12-10||港南|中村 あおい|d:2026-07-15|d:2026-07-15|d:2027-02-25|みなと市民病院|夫・本人|会社員|無||セルフプラン||||
M-0012|妊婦|鈴木 葵|すずき あおい|d:1992-01-10||港西|山本 さくら|d:2026-07-20|d:2026-07-20|d:2027-03-01|みなと市民病院|夫・本人|会社員|有|多胎|支援プラン対象|低|||
M-0013|妊婦|瀬戸 咲良|せと さくら|d:1993-02-10||港北|中村 あおい|d:2026-08-01|d:2026-08-01|d:2027-03-05|さくら産婦人科クリニック|夫・本人|会社員|無||自立||||
M-0014|妊婦|高橋 﨑子|たかはし さきこ|d:1994-03-10||港南|山本 さくら|d:2026-08-05|d:2026-08-05|d:2027-03-10|さくら産婦人科クリニック|夫・本人|会社員|無||自立||||
M-0015|妊婦|千葉 結衣|ちば ゆい|d:1995-04-10||港西|中村 あおい|d:2026-08-10|d:2026-08-10|d:2027-03-15|みなと市民病院|夫・本人|パート|無||セルフプラン||||
M-0016|妊婦|津田 明里|つだ あかり|d:1996-05-10||港北|山本 さくら|d:2026-08-15|d:2026-08-15|d:2027-03-20|さくら産婦人科クリニック|夫・本人|会社員|無||自立||||
M-0017|妊婦|寺田 柚葉|てらだ ゆずは|d:1997-06-10||港南|中村 あおい|d:2026-08-20|d:2026-08-20|d:2027-03-25|みなと市民病院|夫・本人|会社員|有|精神疾患の既往|支援プラン対象|中|||
M-0018|妊婦|戸田 澪|とだ みお|d:1998-07-10||港西|山本 さくら|d:2026-09-01|d:2026-09-01|d:2027-04-01|さくら産婦人科クリニック|夫・本人|会社員|無||自立||||
M-0019|妊婦|中島 楓|なかじま かえで|d:1999-08-10||港北|中村 あおい|d:2026-09-05|d:2026-09-05|d:2027-04-05|みなと市民病院|夫・本人|パート|無||セルフプラン||||
M-0020|妊婦|西村 詩|にしむら うた|d:1990-09-10||港南|山本 さくら|d:2026-09-10|d:2026-09-10|d:2027-04-10|さくら産婦人科クリニック|夫・本人|会社員|無||自立||||
C-0001|子ども|青木 蒼|あおき あお|d:2025-04-01||港北|中村 あおい|||||父・母・本人||無||自立||d:2025-07-10||
C-0002|子ども|石田 湊|いしだ みなと|d:2024-10-05||港南|山本 さくら|||||父・母・本人||無||セルフプラン||d:2025-01-20|d:2026-04-20|
C-0003|子ども|大野 陽葵|おおの ひまり|d:2026-08-28|M-0005|港南|山本 さくら|||||母・本人||有|母が特定妊婦として支援中|特定妊婦・要支援・要保護|高|||
C-0004|子ども|加藤 樹|かとう いつき|d:2025-01-15||港西|山本 さくら|||||父・母・姉・本人||無||自立||令和7年4月20日||
C-0005|子ども|木村 朝陽|きむら あさひ|d:2024-06-30||港北|中村 あおい|||||母・兄・本人||有|ひとり親家庭|支援プラン対象||d:2024-10-01|d:2026-01-15|
C-0006|子ども|工藤 律|くどう りつ|d:2023-12-12||港南|山本 さくら|||||父・母・本人||無||自立||d:2024-03-20|d:2025-06-25|
C-0007|子ども|小林 紬|こばやし つむぎ|d:2025-11-03||港西|中村 あおい|||||父・母・本人||無||セルフプラン||n:46094||
C-0008|子ども|佐藤 蓮|さとう れん|d:2026-03-09||港北|山本 さくら|||||父・母・本人||無||自立||d:2026-06-15||
C-0009|子ども|清水 凪|しみず なぎ|d:2024-02-22||港南|中村 あおい|||||父・母・本人||有|発達の遅れの疑い|支援プラン対象||d:2024-05-30|d:2025-08-30|
C-0010|子ども|鈴木 暖|すずき だん|d:2026-01-18||港西|山本 さくら|||||父・母・本人||無||自立||d:2026-04-25||";

    /// The 接触記録 sheet, the same way.
    const CONTACTS: &str = "\
台帳番号|日付|種別|対応者|内容|伴走型の区分
M-0001|d:2026-05-20|面接|中村 あおい|妊娠届出時の面接。体調良好。|妊娠届出時の面接
M-0002|d:2026-06-01|面接|山本 さくら|妊娠届出時の面接。|妊娠届出時の面接
M-0003|d:2026-06-02|面接|中村 あおい|妊娠届出時の面接。産後うつの既往を聴取。|妊娠届出時の面接
M-0003|d:2026-08-20|電話|中村 あおい|睡眠の状況を確認。|
M-0005|d:2026-02-01|面接|山本 さくら|妊娠届出時の面接。経済的困窮の訴え。|妊娠届出時の面接
M-0005|d:2026-07-01|訪問|山本 さくら|家庭訪問。出産準備を確認。|妊娠8か月頃の面接
C-0003|d:2026-10-01|訪問|山本 さくら|こんにちは赤ちゃん訪問。体重増加良好。|
C-0003|d:2026-11-02|関係機関から|山本 さくら|保育園から登園状況の連絡。|
M-0009|d:2026-07-05|来所|中村 あおい|妊婦健診の受診を勧奨。|妊娠届出時の面接
C-0005|d:2026-09-10|電話|中村 あおい|1歳6か月児健診の結果を確認。|";

    fn sheet(book: &mut Workbook, name: &str, table: &str) {
        let date = Format::new().set_num_format("yyyy/m/d");
        let bold = Format::new().set_bold();
        let sheet = book.add_worksheet();
        sheet.set_name(name).unwrap();
        for (r, line) in table.lines().enumerate() {
            for (c, cell) in line.split('|').enumerate() {
                let (r, c) = (r as u32, c as u16);
                if let Some(day) = cell.strip_prefix("d:") {
                    let d: time::Date = day.parse::<Day>().unwrap().into();
                    let day = ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day());
                    sheet
                        .write_datetime_with_format(r, c, day.unwrap(), &date)
                        .unwrap();
                } else if let Some(n) = cell.strip_prefix("n:") {
                    sheet.write_number(r, c, n.parse::<f64>().unwrap()).unwrap();
                } else if r == 0 {
                    sheet.write_string_with_format(r, c, cell, &bold).unwrap();
                } else if !cell.is_empty() {
                    sheet.write_string(r, c, cell).unwrap();
                }
            }
        }
    }

    pub fn write(path: &Path) {
        let mut book = Workbook::new();
        sheet(&mut book, "台帳", ROWS);
        sheet(&mut book, "接触記録", CONTACTS);
        book.save(path).unwrap();
    }
}
