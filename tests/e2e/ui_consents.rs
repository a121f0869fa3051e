//! The consent screens of a node's staff UI against a real hub and real
//! nodes: a written consent recorded through the multipart form with its
//! scan, read back as plain sentences, its scan downloaded as it was
//! uploaded, the printable summary, the withdrawal; and every bad input
//! refused at its field, changing nothing.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use tsunagu::agency::staff::{Actor, Viewed};
use tsunagu::protocol::{CaseId, ErrorCode, Timestamp};

use crate::helpers::*;
use crate::ui::{Ui, page_csrf};

/// A `multipart/form-data` body, built by hand as a browser sends it
/// (reqwest's own builder is not compiled in).
#[derive(Default)]
pub(crate) struct Form {
    parts: Vec<(String, Option<String>, Vec<u8>)>,
}

pub(crate) const BOUNDARY: &str = "----tsunagu-test-boundary-7d1e";

impl Form {
    pub(crate) fn new() -> Self {
        Form::default()
    }

    pub(crate) fn text(mut self, name: &str, value: impl Into<String>) -> Self {
        let value: String = value.into();
        self.parts.push((name.to_owned(), None, value.into_bytes()));
        self
    }

    pub(crate) fn file(mut self, name: &str, file_name: &str, bytes: Vec<u8>) -> Self {
        self.parts
            .push((name.to_owned(), Some(file_name.to_owned()), bytes));
        self
    }

    pub(crate) fn body(self) -> Vec<u8> {
        let mut body = Vec::new();
        for (name, file, bytes) in self.parts {
            body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
            let disposition = match file {
                Some(f) => format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                ),
                None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
            };
            body.extend_from_slice(disposition.as_bytes());
            body.extend_from_slice(&bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        body
    }
}

/// A scan that is a PDF by its bytes.
fn pdf(len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n% signed consent form\n".to_vec();
    bytes.resize(len, b'0');
    bytes
}

/// A day a year from now, as the date field sends it.
fn next_year() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!(
        "{:04}-{:02}-{:02}",
        d.year() + 1,
        u8::from(d.month()),
        d.day().min(28)
    )
}

/// The form as a person fills it for a written consent: she agrees that
/// the center receives her basic and pregnancy information for a referral.
fn written(csrf: &str, case: &CaseId, scan: Option<(Vec<u8>, &str)>) -> Form {
    written_to(csrf, case, scan, CENTER)
}

/// The same, its record sent to `to`.
fn written_to(csrf: &str, case: &CaseId, scan: Option<(Vec<u8>, &str)>, to: &str) -> Form {
    let mut form = Form::new()
        .text("csrf", csrf.to_owned())
        .text("case", case.to_string())
        .text("given_by", "person")
        .text("given_by_name", "山田 花子")
        .text("decision", "granted")
        .text("method", "written")
        .text("recipient", format!("agency:{CENTER}"))
        .text("category", "basic")
        .text("category", "pregnancy_medical")
        .text("purpose", "referral")
        .text("until", next_year())
        .text("to", to.to_owned())
        .text("note", "書面で説明し、署名を得た");
    if let Some((bytes, name)) = scan {
        form = form.file("scan", name, bytes);
    }
    form
}

async fn submit(ui: &Ui, cookie: &str, form: Form) -> reqwest::Response {
    ui.http
        .post(ui.url("/consents/new"))
        .header("cookie", cookie)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(form.body())
        .send()
        .await
        .unwrap()
}

async fn consents_sent(ui: &Ui) -> usize {
    let all = ui.center.node.records().outbox().await.unwrap();
    all.iter().filter(|r| r.kind == "consent_record").count()
}

#[tokio::test]
async fn a_written_consent_recorded_through_the_form_reads_back_in_plain_japanese_with_its_scan() {
    let center = Ui::start(|_| {}).await;
    let clinic = center.join(CLINIC).await;
    let case = clinic.center.node.open_case().await.unwrap();
    let cookie = clinic.sign_in().await;
    let csrf = page_csrf(&clinic, &format!("/consents/new?case={case}"), &cookie).await;
    let scan = pdf(300 * 1024);

    let recorded = submit(
        &clinic,
        &cookie,
        written(&csrf, &case, Some((scan.clone(), "doui.pdf"))),
    )
    .await;
    assert_eq!(recorded.status(), StatusCode::SEE_OTHER);
    let to = recorded.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(to.ends_with("?done=recorded"), "{to}");
    let id = to
        .trim_start_matches("/consents/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();

    let page = clinic.get(&to, &cookie).await.text().await.unwrap();
    assert!(page.contains("同意を記録しました"), "{page}");
    assert!(
        page.contains(
            "さくらレディースクリニックとみなと市こども家庭センターは、基本情報・妊娠・医療の情報を、紹介・情報提供のために、"
        ),
        "{page}"
    );
    assert!(page.contains("日まで共有できます。"), "{page}");
    assert!(
        page.contains("有効") && page.contains("山田 花子"),
        "{page}"
    );

    let english = clinic
        .get(&format!("/consents/{id}?lang=en"), &cookie)
        .await;
    let english = english.text().await.unwrap();
    assert!(
        english.contains(
            "さくらレディースクリニック and みなと市こども家庭センター may share basic information, pregnancy and medical information for referral, until "
        ),
        "{english}"
    );

    let download = clinic.get(&format!("/consents/{id}/scan"), &cookie).await;
    assert_eq!(download.status(), StatusCode::OK);
    let h = download.headers();
    assert_eq!(h[CONTENT_TYPE], "application/pdf");
    assert!(
        h[CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(download.bytes().await.unwrap().as_ref(), scan.as_slice());

    let print = clinic.get(&format!("/consents/{id}/print"), &cookie).await;
    assert_eq!(print.status(), StatusCode::OK);
    let print = print.text().await.unwrap();
    assert!(print.contains("/assets/print.css") && print.contains("/assets/print.js"));
    assert!(print.contains("同意はいつでも撤回できます"), "{print}");
    assert!(
        print.contains("さくらレディースクリニック（担当: 高橋 由美"),
        "{print}"
    );
    assert!(
        !print.contains("class=\"sections\""),
        "no menu on the printout"
    );
    assert!(!print.contains("<script>"), "no inline script");

    // The center received the record, encrypted to it, and holds it too.
    let list = clinic.get("/consents", &cookie).await.text().await.unwrap();
    assert!(list.contains(&format!("/consents/{id}")), "{list}");

    let log = clinic
        .accounts
        .access_log(Actor::NodeConsole, None, None, Timestamp::now())
        .await
        .unwrap();
    assert!(log.iter().all(|e| e.what == Viewed::Envelope));
    assert_eq!(
        log.len(),
        4,
        "the page twice, the scan and the printout: {log:?}"
    );

    clinic.stop().await;
    center.stop().await;
}

#[tokio::test]
async fn every_bad_consent_form_is_refused_at_its_field_and_records_nothing() {
    let ui = Ui::start(|_| {}).await;
    let case = ui.center.node.open_case().await.unwrap();
    let cookie = ui.sign_in().await;
    let csrf = page_csrf(&ui, "/consents/new", &cookie).await;

    // Nothing filled in but the token.
    let empty = Form::new()
        .text("csrf", csrf.clone())
        .text("decision", "granted");
    let answer = submit(&ui, &cookie, empty).await;
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = answer.text().await.unwrap();
    for message in [
        "ケースIDを入力してください",
        "同意した人（本人・保護者）を選んでください",
        "同意した人の氏名を入力してください",
        "同意の方法（書面・口頭）を選んでください",
        "情報を共有してよい機関を1つ以上選んでください",
        "共有してよい情報の区分を1つ以上選んでください",
        "利用目的を1つ以上選んでください",
    ] {
        assert!(page.contains(message), "{message}: {page}");
    }
    assert!(page.contains("aria-invalid=\"true\""), "{page}");

    let no_scan = submit(&ui, &cookie, written_to(&csrf, &case, None, CLINIC)).await;
    assert_eq!(no_scan.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = no_scan.text().await.unwrap();
    assert!(
        page.contains("署名された同意書のスキャン（PDF・PNG・JPEG）を添付してください"),
        "{page}"
    );
    // What was typed comes back.
    assert!(page.contains("value=\"山田 花子\""), "{page}");

    let html = b"<html><script>alert(1)</script></html>".to_vec();
    let wrong = submit(
        &ui,
        &cookie,
        written_to(&csrf, &case, Some((html, "doui.pdf")), CLINIC),
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = wrong.text().await.unwrap();
    assert!(
        page.contains("添付できるのはPDFと画像（PNG・JPEG）だけです。「doui.pdf」"),
        "{page}"
    );

    let big = pdf(5 * 1024 * 1024 + 1);
    let oversize = submit(
        &ui,
        &cookie,
        written_to(&csrf, &case, Some((big, "doui.pdf")), CLINIC),
    )
    .await;
    assert_eq!(oversize.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let page = oversize.text().await.unwrap();
    assert!(page.contains("同意書のスキャンは5MBまでです"), "{page}");

    let huge = pdf(25 * 1024 * 1024);
    let cut = submit(
        &ui,
        &cookie,
        written_to(&csrf, &case, Some((huge, "doui.pdf")), CLINIC),
    )
    .await;
    assert_eq!(cut.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(cut.text().await.unwrap().contains("5MBまで"));

    let past =
        written_to(&csrf, &case, Some((pdf(1000), "a.pdf")), CLINIC).text("until", "2001-01-01");
    let answer = submit(&ui, &cookie, past).await;
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.text().await.unwrap().contains("今日以降の日付"));

    let unknown_case = written_to(
        &csrf,
        &"nowhere-case-0001".parse::<CaseId>().unwrap(),
        Some((pdf(1000), "a.pdf")),
        CLINIC,
    );
    let answer = submit(&ui, &cookie, unknown_case).await;
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = answer.text().await.unwrap();
    assert!(page.contains("ハブが記録を受け付けませんでした"), "{page}");

    let forged = submit(
        &ui,
        &cookie,
        written_to("", &case, Some((pdf(1000), "a.pdf")), CLINIC),
    )
    .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    assert_eq!(
        consents_sent(&ui).await,
        1,
        "only the unknown case reached the hub"
    );
    for missing in [
        "/consents/not-an-id",
        &format!("/consents/{}", tsunagu::protocol::ConsentId::new()),
    ] {
        assert_eq!(
            ui.get(missing, &cookie).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    ui.stop().await;
}

#[tokio::test]
async fn a_withdrawal_needs_her_words_and_a_confirmation_and_an_ended_consent_cannot_be_withdrawn_again()
 {
    let center = Ui::start(|_| {}).await;
    let clinic = center.join(CLINIC).await;
    let case = clinic.center.node.open_case().await.unwrap();
    let scope = consent_scope(&case, &[CENTER]);
    let consent = scope.consent_id;
    sent(&clinic.center, &consent_record_draft(scope)).await;
    sent(
        &clinic.center,
        &consent_referral_draft(&case, consent, &[CENTER]),
    )
    .await;
    let cookie = clinic.sign_in().await;
    let path = format!("/consents/{consent}");
    let csrf = page_csrf(&clinic, &path, &cookie).await;
    let withdraw = format!("{path}/withdraw");

    let bare = clinic.post(&withdraw, &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(bare.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = bare.text().await.unwrap();
    assert!(
        page.contains("撤回の申し出の内容（いつ、誰に、どのように）を入力してください"),
        "{page}"
    );
    assert!(page.contains("チェックを入れてください"), "{page}");

    let words = "11月29日、本人から電話で撤回の申し出";
    let forged = clinic
        .post(&withdraw, &cookie, &[("reason", words), ("confirm", "yes")])
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let form = [
        ("csrf", csrf.as_str()),
        ("reason", words),
        ("confirm", "yes"),
    ];
    let done = clinic.post(&withdraw, &cookie, &form).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let page = clinic.get(&path, &cookie).await.text().await.unwrap();
    assert!(page.contains("撤回済み") && page.contains(words), "{page}");
    assert!(!page.contains("/withdraw\""), "no withdrawal form any more");

    let again = clinic.post(&withdraw, &cookie, &form).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("この同意はすでに撤回されています")
    );

    let relying = consent_referral_draft(&case, consent, &[CENTER]);
    refused_with(&clinic.center, &relying, ErrorCode::ConsentWithdrawn).await;
    clinic.stop().await;
    center.stop().await;
}
