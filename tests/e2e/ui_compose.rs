//! The 連絡票 form through HTTP as a browser sends it (multipart): what the
//! clinic types reaches the center decrypted, field for field and file for
//! file; every bad input comes back at its field with nothing sent; what
//! the hub would refuse (a consent that does not reach, or was withdrawn)
//! is refused before sending; drafts are each member's own.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use tsunagu::agency::staff::{Actor, NewStaff, StaffRole, TotpSecret, Viewed};
use tsunagu::protocol::payload::{Body, Payload};
use tsunagu::protocol::referral::Referral;
use tsunagu::protocol::{Action, EnvelopeId, InfoCategory, Timestamp};

use crate::helpers::*;
use crate::ui::{NAME, Ui, cookie_pair, hidden};

const BOUNDARY: &str = "----tsunagu-test-boundary-7f3a";

/// A multipart body: text fields, then files as (field name, file name, bytes).
fn multipart(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (file_name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// The demo referral (examples/referral.toml) as typed into the form, to
/// the center under 児童福祉法第21条の10の5, in a new case.
fn demo_fields() -> Vec<(&'static str, String)> {
    let today = time::OffsetDateTime::now_utc().date();
    let birth = today.replace_year(today.year() - 19).unwrap_or(today);
    let due = today + time::Duration::weeks(28);
    let mut f: Vec<(&str, String)> = [
        ("action", "send"),
        ("case", "new"),
        ("urgency", "early"),
        ("recipients", CENTER),
        ("basis", "provision_to_municipality"),
        ("justification", "特定妊婦と思われ、早期の支援が必要なため"),
        ("timing", "pregnancy"),
        ("mother.name", "山田 花子"),
        ("mother.furigana", "やまだ はなこ"),
        ("mother.address", "みなと市中央一丁目2番3号 コーポみなと201"),
        ("mother.phone", "090-0000-0000"),
        ("pregnancy.gestational_weeks", "12"),
        ("pregnancy.gravida", "1"),
        ("pregnancy.para", "0"),
        (
            "pregnancy.planned_birth_facility",
            "みなと産婦人科クリニック（当院）",
        ),
        ("reasons", "young"),
        ("reasons", "unbooked"),
        ("reasons", "unplanned_pregnancy"),
        ("reasons", "high_epds"),
        ("reasons", "no_supporter"),
        ("findings", "妊娠12週で初診。EPDS 11点（項目10は0点）。"),
        ("household", "単身（アパートで一人暮らし）"),
        ("key_person", "実母（県外在住）"),
        ("support_requested", "visit"),
        ("consent", "agreed"),
    ]
    .iter()
    .map(|(k, v)| (*k, (*v).to_owned()))
    .collect();
    f.push(("mother.birth_date", birth.to_string()));
    f.push(("pregnancy.due_date", due.to_string()));
    let items = ["2", "1", "2", "1", "1", "1", "1", "1", "1", "0"];
    for (name, score) in EPDS_ITEMS.iter().zip(items) {
        f.push((name, score.to_owned()));
    }
    f
}

const EPDS_ITEMS: [&str; 10] = [
    "epds.items[0]",
    "epds.items[1]",
    "epds.items[2]",
    "epds.items[3]",
    "epds.items[4]",
    "epds.items[5]",
    "epds.items[6]",
    "epds.items[7]",
    "epds.items[8]",
    "epds.items[9]",
];

/// `fields` with `name` set to `value` (every earlier value of it removed).
fn with(
    mut fields: Vec<(&'static str, String)>,
    name: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    fields.retain(|(k, _)| *k != name);
    fields.push((name, value.to_owned()));
    fields
}

/// A small PDF, as far as its first bytes tell.
fn pdf(len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend((0..len).map(|i| (i % 251) as u8));
    bytes
}

impl Ui {
    /// POST /compose as the browser does, with this session's token unless
    /// `csrf` is given.
    async fn compose(
        &self,
        cookie: &str,
        csrf: Option<&str>,
        fields: &[(&str, String)],
        files: &[(&str, &[u8])],
    ) -> reqwest::Response {
        let token = match csrf {
            Some(t) => t.to_owned(),
            None => hidden(
                &self.get("/compose", cookie).await.text().await.unwrap(),
                "csrf",
            ),
        };
        let mut all: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
        all.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
        self.http
            .post(self.url("/compose"))
            .header("cookie", cookie)
            .header(
                CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(multipart(&all, files))
            .send()
            .await
            .unwrap()
    }

    async fn outbox_len(&self) -> usize {
        self.center.node.records().outbox().await.unwrap().len()
    }
}

/// The envelope id a send confirmation redirects to.
fn sent_id(response: &reqwest::Response) -> EnvelopeId {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to = response.headers()[LOCATION].to_str().unwrap();
    to.strip_prefix("/compose/sent/")
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

async fn received_referral(ui: &Ui, id: EnvelopeId) -> (Payload, Referral) {
    let row = ui
        .center
        .node
        .records()
        .inbox_item(id)
        .await
        .unwrap()
        .unwrap();
    let payload: Payload = serde_json::from_str(&row.payload).unwrap();
    let Body::Referral(r) = payload.body.clone() else {
        panic!("not a referral")
    };
    (payload, *r)
}

#[tokio::test]
async fn the_form_sends_what_was_typed_and_its_attachment_reaches_the_center_byte_for_byte() {
    let mut center = Ui::start(|_| {}).await;
    let clinic = center.join(CLINIC).await;
    let cookie = clinic.sign_in().await;

    // Saved first as a draft: sending it deletes the draft.
    let saved = clinic
        .compose(&cookie, None, &with(demo_fields(), "action", "save"), &[])
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let location = saved.headers()[LOCATION].to_str().unwrap().to_owned();
    let draft = location
        .split("draft=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();

    let file = pdf(300_000);
    let fields = with(demo_fields(), "draft_id", &draft);
    let response = clinic
        .compose(&cookie, None, &fields, &[("紹介状.pdf", &file)])
        .await;
    let id = sent_id(&response);
    let staff = clinic.accounts.find(NAME).await.unwrap().id.to_string();
    let drafts = clinic
        .center
        .node
        .records()
        .drafts_of(&staff)
        .await
        .unwrap();
    assert!(drafts.is_empty(), "{drafts:?}");

    // The confirmation names the recipient and links the record.
    let page = clinic
        .get(&format!("/compose/sent/{id}"), &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("連絡票を送信しました") && page.contains("みなと"),
        "{page}"
    );
    assert!(
        page.contains(&format!("href=\"/envelopes/{id}\"")),
        "{page}"
    );

    // The center decrypts exactly what was typed, signed by the member.
    center.center.wait_stored(id).await;
    let (payload, referral) = received_referral(&center, id).await;
    assert_eq!(payload.author.name, NAME);
    assert_eq!(referral.mother.name, "山田 花子");
    assert_eq!(referral.pregnancy.as_ref().unwrap().gestational_weeks, 12);
    let epds = referral.epds.as_ref().unwrap();
    assert_eq!((epds.total, epds.item10), (11, 0));
    assert_eq!(epds.items, Some([2, 1, 2, 1, 1, 1, 1, 1, 1, 0]));
    assert_eq!(referral.attachments.len(), 1);
    assert_eq!(referral.attachments[0].file_name, "紹介状.pdf");
    assert_eq!(referral.attachments[0].bytes, file);

    // On its record page: the signature by name and role, the file as a link.
    let reader = center.sign_in().await;
    let path = format!("/envelopes/{id}");
    let body = center.get(&path, &reader).await.text().await.unwrap();
    assert!(body.contains("（署名を検証済み）"), "{body}");
    assert!(body.contains(&format!("{NAME}（保健師）")), "{body}");
    assert!(
        body.contains(&format!("href=\"{path}/attachments/0\"")),
        "{body}"
    );

    // The download is the upload, byte for byte, never inline, and logged.
    let download = center.get(&format!("{path}/attachments/0"), &reader).await;
    assert_eq!(download.status(), StatusCode::OK);
    let h = download.headers();
    assert_eq!(h[CONTENT_TYPE], "application/pdf");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let disposition = h[CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert_eq!(download.bytes().await.unwrap().to_vec(), file);
    let log = center
        .accounts
        .access_log(Actor::NodeConsole, None, None, Timestamp::now())
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|e| e.what == Viewed::Envelope && e.record_id == format!("{id}/attachments/0")),
        "{log:?}"
    );
    let missing = center.get(&format!("{path}/attachments/1"), &reader).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    clinic.stop().await;
    center.stop().await;
}

#[tokio::test]
async fn mistakes_come_back_at_their_fields_with_what_was_typed_and_nothing_is_sent() {
    let center = Ui::start(|_| {}).await;
    let clinic = center.join(CLINIC).await;
    let cookie = clinic.sign_in().await;

    let mut fields = with(demo_fields(), "mother.name", "");
    fields = with(fields, "mother.furigana", "yamada hanako");
    fields = with(fields, "pregnancy.gestational_weeks", "十二");
    fields.retain(|(k, _)| *k != "recipients");
    let response = clinic.compose(&cookie, None, &fields, &[]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    // The summary links each field; each message sits at its field.
    assert!(
        body.contains("送信していません。次の項目を確認してください"),
        "{body}"
    );
    assert!(
        body.contains("href=\"#f-mother-name\">氏名が未記入です</a>"),
        "{body}"
    );
    assert!(
        body.contains("id=\"f-mother-name-error\">氏名が未記入です</p>"),
        "{body}"
    );
    assert!(
        body.contains("id=\"f-mother-name\" name=\"mother.name\" value=\"\" aria-required=\"true\" aria-invalid=\"true\" aria-describedby=\"f-mother-name-error\""),
        "{body}"
    );
    assert!(
        body.contains("ふりがなはひらがなかカタカナで記入してください"),
        "{body}"
    );
    assert!(
        body.contains("妊娠週数は半角数字で入力してください"),
        "{body}"
    );
    assert!(
        body.contains("宛先を1つ以上、一覧から選んでください"),
        "{body}"
    );
    // What was typed is kept, escaped.
    assert!(body.contains("value=\"yamada hanako\""), "{body}");
    assert!(body.contains("value=\"十二\""), "{body}");
    // A statutory basis without its reason.
    let no_reason = with(demo_fields(), "justification", " ");
    let body = clinic
        .compose(&cookie, None, &no_reason, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("法令上の根拠で送るときは、その根拠に当たる理由を書いてください"),
        "{body}"
    );
    assert_eq!(clinic.outbox_len().await, 0);

    // Only checking a good form: it may be sent, and nothing is.
    let checked = clinic
        .compose(&cookie, None, &with(demo_fields(), "action", "check"), &[])
        .await;
    assert_eq!(checked.status(), StatusCode::OK);
    let body = checked.text().await.unwrap();
    assert!(
        body.contains("確認しました。この内容と根拠で送信できます。"),
        "{body}"
    );
    assert_eq!(clinic.outbox_len().await, 0);

    // Without the form's token: refused, nothing sent.
    let forged = clinic.compose(&cookie, Some(""), &demo_fields(), &[]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(clinic.outbox_len().await, 0);

    clinic.stop().await;
    center.stop().await;
}

#[tokio::test]
async fn a_file_of_the_wrong_type_or_too_large_is_refused_at_the_field() {
    let center = Ui::start(|_| {}).await;
    let clinic = center.join(CLINIC).await;
    let cookie = clinic.sign_in().await;

    let html = b"<html><script>alert(1)</script></html>";
    let response = clinic
        .compose(&cookie, None, &demo_fields(), &[("shokai.pdf", html)])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(body.contains("id=\"f-attachments-error\">「shokai.pdf」は添付できません。添付できるのはPDFと画像（PNG・JPEG）だけです。"), "{body}");

    // Two files over 5 MB together: read, checked, refused with the size.
    let half = pdf(2_700_000);
    let response = clinic
        .compose(
            &cookie,
            None,
            &demo_fields(),
            &[("a.pdf", &half), ("b.pdf", &half)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("添付ファイルが大きすぎます（5.1MB）。合計5MBまでです。"),
        "{body}"
    );
    assert!(
        body.contains("value=\"山田 花子\""),
        "what was typed is kept: {body}"
    );

    // Far over: not even read; a page with the reason, not a bare 413.
    let huge = pdf(8_000_000);
    let response = clinic
        .compose(&cookie, None, &demo_fields(), &[("big.pdf", &huge)])
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("添付ファイルが大きすぎるため、受け取れませんでした"),
        "{body}"
    );
    assert_eq!(clinic.outbox_len().await, 0);

    clinic.stop().await;
    center.stop().await;
}

#[tokio::test]
async fn a_consent_that_does_not_reach_or_was_withdrawn_blocks_the_send_with_the_reason() {
    let mut center = Ui::start(|_| {}).await;
    let clinic = center.join(CLINIC).await;
    let welfare = center.join(WELFARE).await;
    let case = clinic.center.node.open_case().await.unwrap();
    // She agreed to the center only, and not to mental-health information.
    let mut scope = consent_scope(&case, &[CENTER]);
    scope
        .categories
        .retain(|c| *c != InfoCategory::MentalHealth);
    let consent = scope.consent_id;
    sent(&clinic.center, &consent_record_draft(scope)).await;
    let cookie = clinic.sign_in().await;
    let under_consent = |to: &str| {
        let f = with(demo_fields(), "case", case.as_str());
        let f = with(f, "basis", &format!("consent:{consent}"));
        let f = with(f, "justification", "");
        with(f, "recipients", to)
    };

    // The form lists the consent for the case, in plain words.
    let page = clinic.get("/compose", &cookie).await.text().await.unwrap();
    assert!(page.contains(case.as_str()), "{page}");

    // Child welfare is not among its recipients.
    let body = clinic
        .compose(&cookie, None, &under_consent(WELFARE), &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("はこの同意の提供先に含まれていません"),
        "{body}"
    );
    assert!(
        body.contains("本人に説明して範囲を広げた同意を記録し直すか"),
        "{body}"
    );
    // EPDS is mental-health information, which it does not cover.
    let response = clinic
        .compose(&cookie, None, &under_consent(CENTER), &[])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("「精神保健」の情報が含まれますが、同意の範囲に入っていません"),
        "{body}"
    );
    assert_eq!(
        clinic
            .center
            .node
            .records()
            .outbox()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.kind == "referral")
            .count(),
        0
    );

    // A consent that covers it: sent. Then she withdraws it: blocked.
    let full = consent_scope(&case, &[CENTER]);
    let covering = full.consent_id;
    sent(&clinic.center, &consent_record_draft(full)).await;
    let fields = with(
        under_consent(CENTER),
        "basis",
        &format!("consent:{covering}"),
    );
    let id = sent_id(&clinic.compose(&cookie, None, &fields, &[]).await);
    center.center.wait_stored(id).await;
    let withdraw = action_draft(
        Some(&case),
        &[CENTER],
        Action::WithdrawConsent {
            consent_id: covering,
        },
        Body::ConsentWithdrawal(note("本人より電話で撤回の申し出")),
    );
    sent(&clinic.center, &withdraw).await;
    let response = clinic.compose(&cookie, None, &fields, &[]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("同意は撤回されています。この同意では何も送れません。"),
        "{body}"
    );
    assert!(body.contains("【撤回・終了済み】"), "{body}");

    welfare.stop().await;
    clinic.stop().await;
    center.stop().await;
}

/// Sign in as another member of the same node.
async fn sign_in_as(ui: &Ui, name: &str, password: &str, secret: &TotpSecret) -> String {
    let (csrf, cookie) = ui.login_form().await;
    let now = u64::try_from(Timestamp::now().unix_millis() / 1000).unwrap();
    let code = secret.code_at(now);
    let form = [
        ("name", name),
        ("password", password),
        ("code", &code),
        ("csrf", &csrf),
    ];
    let response = ui
        .http
        .post(ui.url("/login"))
        .header("cookie", cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    cookie_pair(&response, "tsunagu_session")
}

#[tokio::test]
async fn drafts_are_saved_resumed_and_deleted_and_each_is_its_members_own() {
    let center = Ui::start(|_| {}).await;
    let clinic = center.join(CLINIC).await;
    let cookie = clinic.sign_in().await;
    let other = NewStaff {
        name: "佐藤 美咲",
        role: StaffRole::Midwife,
        contact: "内線 301",
        password: "冬の朝に白い息が長く残る",
    };
    let (_, enrolment) = clinic
        .accounts
        .add(Actor::NodeConsole, other, Timestamp::now())
        .await
        .unwrap();
    let secret = TotpSecret::from_base32(&enrolment.secret_base32).unwrap();

    let half_done = [
        ("action", "save".to_owned()),
        ("mother.name", "山田 花子".to_owned()),
        ("findings", "途中まで <b>記入</b>".to_owned()),
    ];
    let saved = clinic.compose(&cookie, None, &half_done, &[]).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let resume = saved.headers()[LOCATION].to_str().unwrap().to_owned();
    let page = clinic.get(&resume, &cookie).await.text().await.unwrap();
    assert!(page.contains("下書きを保存しました"), "{page}");
    assert!(
        page.contains("途中まで &#60;b&#62;記入&#60;/b&#62;</textarea>"),
        "{page}"
    );
    let draft = resume
        .split("draft=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let listed = clinic.get("/compose", &cookie).await.text().await.unwrap();
    assert!(
        listed.contains(&format!("href=\"/compose?draft={draft}\"")),
        "{listed}"
    );

    // Another member sees none of it.
    let theirs = sign_in_as(&clinic, "佐藤 美咲", "冬の朝に白い息が長く残る", &secret).await;
    let listed = clinic.get("/compose", &theirs).await.text().await.unwrap();
    assert!(!listed.contains(&draft), "{listed}");
    let peek = clinic
        .get(&format!("/compose?draft={draft}"), &theirs)
        .await;
    assert_eq!(peek.status(), StatusCode::NOT_FOUND);
    let csrf = hidden(&listed, "csrf");
    let delete = format!("/compose/drafts/{draft}/delete");
    let theft = clinic.post(&delete, &theirs, &[("csrf", &csrf)]).await;
    assert_eq!(theft.status(), StatusCode::NOT_FOUND);

    // Its owner deletes it, with the form's token only.
    let forged = clinic.post(&delete, &cookie, &[]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let csrf = hidden(
        &clinic.get("/compose", &cookie).await.text().await.unwrap(),
        "csrf",
    );
    let deleted = clinic.post(&delete, &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    let listed = clinic
        .get("/compose?deleted=1", &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        listed.contains("下書きを削除しました") && !listed.contains(&draft),
        "{listed}"
    );

    clinic.stop().await;
    center.stop().await;
}

#[tokio::test]
async fn both_sides_follow_a_referral_from_the_form_to_its_reply_on_the_record_page() {
    let mut center = Ui::start(|_| {}).await;
    let mut clinic = center.join(CLINIC).await;
    let sender = clinic.sign_in().await;
    let id = sent_id(&clinic.compose(&sender, None, &demo_fields(), &[]).await);
    center.center.wait_stored(id).await;
    let path = format!("/envelopes/{id}");
    let update = format!("{path}/update");
    let reader = center.sign_in().await;

    // The recipient takes it through 受理, 対応決定, 経過 and 返信.
    let steps = [
        ("received", "", "受理"),
        ("accepted", "来週訪問します", "対応決定"),
        ("in_progress", "訪問し、本人と面談した", "対応中"),
        (
            "completed",
            "支援計画を作成し、継続して訪問する",
            "返信済み（完了）",
        ),
    ];
    for (state, text, _) in steps {
        let csrf = hidden(
            &center.get(&path, &reader).await.text().await.unwrap(),
            "csrf",
        );
        let form = [("csrf", csrf.as_str()), ("state", state), ("text", text)];
        let done = center.post(&update, &reader, &form).await;
        assert_eq!(done.status(), StatusCode::SEE_OTHER, "{state}");
    }
    let updates: Vec<EnvelopeId> = center
        .center
        .node
        .records()
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == "referral_update")
        .map(|r| r.envelope_id.parse().unwrap())
        .collect();
    assert_eq!(updates.len(), 4, "{updates:?}");
    for u in &updates {
        clinic.center.wait_stored(*u).await;
    }

    // The sender's page: the state at the center, every step in the
    // timeline with who wrote it and what, and no 取消 any more.
    let body = clinic.get(&path, &sender).await.text().await.unwrap();
    assert!(body.contains("<td>返信済み（完了）</td>"), "{body}");
    for (_, text, label) in steps {
        assert!(
            body.contains(&format!("<strong>{label}</strong>")),
            "{label}: {body}"
        );
        assert!(body.contains(text), "{text}: {body}");
    }
    assert!(
        body.contains(&format!(
            "{NAME}（保健師）: <strong>返信済み（完了）</strong>"
        )),
        "{body}"
    );
    assert!(!body.contains(">取消</button>"), "{body}");
    // The recipient's page: nothing left to press.
    let body = center.get(&path, &reader).await.text().await.unwrap();
    assert!(!body.contains("class=\"act\""), "{body}");

    clinic.stop().await;
    center.stop().await;
}

#[tokio::test]
async fn a_form_sent_after_the_session_ended_goes_to_the_login_page_and_nothing_is_sent() {
    let center = Ui::start(|_| {}).await;
    let clinic = center.join(CLINIC).await;
    let cookie = clinic.sign_in().await;
    let csrf = hidden(
        &clinic.get("/compose", &cookie).await.text().await.unwrap(),
        "csrf",
    );
    let logout = clinic
        .post("/logout", &cookie, &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    let late = clinic
        .compose(&cookie, Some(&csrf), &demo_fields(), &[])
        .await;
    assert_eq!(late.status(), StatusCode::SEE_OTHER);
    assert!(
        late.headers()[LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    assert_eq!(clinic.outbox_len().await, 0);
    clinic.stop().await;
    center.stop().await;
}

#[tokio::test]
async fn what_only_the_hub_knows_it_refuses_and_the_form_shows_its_reason_with_nothing_sent() {
    let center = Ui::start(|_| {}).await;
    let welfare = center.join(WELFARE).await;
    // Both are council members, so the node lets council sharing pass; only
    // the hub knows the case was never registered.
    let case = center.center.node.open_case().await.unwrap();
    let cookie = center.sign_in().await;
    let fields = with(demo_fields(), "recipients", WELFARE);
    let fields = with(fields, "case", case.as_str());
    let fields = with(fields, "basis", "yotaikyo_sharing");
    let response = center.compose(&cookie, None, &fields, &[]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("このケースは要対協に登録されていないか、終結しています"),
        "{body}"
    );
    assert!(
        body.contains("何も送信していません。理由に沿って宛先・根拠・内容を直してから"),
        "{body}"
    );
    // The hub's refusal is kept in the outbox as refused; nothing reached welfare.
    let outbox = center.center.node.records().outbox().await.unwrap();
    assert!(outbox.iter().all(|r| r.status == "refused"), "{outbox:?}");
    assert!(
        welfare
            .center
            .node
            .records()
            .inbox()
            .await
            .unwrap()
            .is_empty()
    );
    welfare.stop().await;
    center.stop().await;
}
