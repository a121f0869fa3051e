//! The staff web UI of a node connected to a real hub, through HTTP as a
//! browser speaks it: security headers, login with password and TOTP, CSRF
//! on every change, the inbox and a record with another agency's markup
//! shown as text, each view in the access log, live events, and the refusal
//! to serve passwords in clear off loopback.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};
use tokio_util::sync::CancellationToken;
use tsunagu::agency::AgencyConfig;
use tsunagu::agency::staff::{Actor, NewStaff, StaffAccounts, StaffRole, TotpSecret, Viewed};
use tsunagu::agency::ui;
use tsunagu::protocol::payload::Body;
use tsunagu::protocol::{EnvelopeId, Timestamp, Urgency};

use crate::helpers::*;

pub(crate) const NAME: &str = "高橋 由美";
pub(crate) const PASSWORD: &str = "夏の海に白い帆が三つ見える";
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";
const MARKUP: &str = "<script>alert(1)</script>";

/// A hub (when this UI started it), a node with its UI on 127.0.0.1:0, one
/// staff member.
pub(crate) struct Ui {
    pub(crate) hub: Option<TestHub>,
    pub(crate) hub_url: String,
    pub(crate) _data: tempfile::TempDir,
    pub(crate) center: TestNode,
    pub(crate) accounts: StaffAccounts,
    pub(crate) secret: TotpSecret,
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
    pub(crate) shutdown: CancellationToken,
}

impl Ui {
    /// A hub and the center's node with its UI.
    pub(crate) async fn start(adjust: impl FnOnce(&mut AgencyConfig)) -> Ui {
        let hub = TestHub::start(&Db::Sqlite).await;
        let url = hub.url.clone();
        Ui::on(url, Some(hub), CENTER, adjust).await
    }

    /// Another agency's node with its UI, on this UI's hub.
    pub(crate) async fn join(&self, id: &str) -> Ui {
        Ui::on(self.hub_url.clone(), None, id, |_| {}).await
    }

    pub(crate) async fn on(
        hub_url: String,
        hub: Option<TestHub>,
        id: &str,
        adjust: impl FnOnce(&mut AgencyConfig),
    ) -> Ui {
        let data = tempfile::tempdir().unwrap();
        let mut config = AgencyConfig::from_example(&certs(), &agency(id), &hub_url, data.path());
        adjust(&mut config);
        let mut center = TestNode::open_config(&config).await;
        center.start();
        center
            .wait_for(|e| matches!(e, tsunagu::agency::NodeEvent::Connected { .. }))
            .await;
        let accounts = StaffAccounts::from_config(&config, center.node.records().clone()).unwrap();
        let new = NewStaff {
            name: NAME,
            role: StaffRole::PublicHealthNurse,
            contact: "内線 210",
            password: PASSWORD,
        };
        let (_, enrolment) = accounts
            .add(Actor::NodeConsole, new, Timestamp::now())
            .await
            .unwrap();
        let secret = TotpSecret::from_base32(&enrolment.secret_base32).unwrap();
        let shutdown = CancellationToken::new();
        let listen = "127.0.0.1:0".parse().unwrap();
        let running = ui::start(&config, center.node.clone(), listen, shutdown.clone())
            .await
            .unwrap();
        let scheme = if running.https { "https" } else { "http" };
        let ca = std::fs::read(certs().join("ca.pem")).unwrap();
        let tls = tsunagu::crypto::tls::client_config_without_cert(&ca).unwrap();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured((*tls).clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PATIENCE)
            .build()
            .unwrap();
        Ui {
            hub,
            hub_url,
            _data: data,
            center,
            accounts,
            secret,
            base: format!("{scheme}://{}", running.addr),
            http,
            shutdown,
        }
    }

    pub(crate) fn code(&self) -> String {
        let now = u64::try_from(Timestamp::now().unix_millis() / 1000).unwrap();
        self.secret.code_at(now)
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The login form's CSRF value and the cookie that pairs with it.
    pub(crate) async fn login_form(&self) -> (String, String) {
        let page = self.http.get(self.url("/login")).send().await.unwrap();
        let cookie = cookie_pair(&page, "tsunagu_login_csrf");
        let body = page.text().await.unwrap();
        (hidden(&body, "csrf"), cookie)
    }

    /// Submit the login form; the response as it came (no redirect followed).
    pub(crate) async fn post_login(&self, password: &str, code: &str) -> reqwest::Response {
        self.post_login_as(NAME, password, code).await
    }

    /// Submit the login form for `name`.
    pub(crate) async fn post_login_as(
        &self,
        name: &str,
        password: &str,
        code: &str,
    ) -> reqwest::Response {
        let (csrf, cookie) = self.login_form().await;
        let form = [
            ("name", name),
            ("password", password),
            ("code", code),
            ("csrf", csrf.as_str()),
        ];
        self.http
            .post(self.url("/login"))
            .header("cookie", cookie)
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Sign in: the `Cookie` header value of the session.
    pub(crate) async fn sign_in(&self) -> String {
        let response = self.post_login(PASSWORD, &self.code()).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        cookie_pair(&response, "tsunagu_session")
    }

    /// Add a member from the node console; their TOTP secret.
    pub(crate) async fn add_member(
        &self,
        name: &str,
        role: StaffRole,
        password: &str,
    ) -> TotpSecret {
        let new = NewStaff {
            name,
            role,
            contact: "内線 300",
            password,
        };
        let (_, enrolment) = self
            .accounts
            .add(Actor::NodeConsole, new, Timestamp::now())
            .await
            .unwrap();
        TotpSecret::from_base32(&enrolment.secret_base32).unwrap()
    }

    /// Sign `name` in with `secret`'s code `steps_ahead` 30-second steps
    /// from now (a code once used cannot sign in again; the next step's code
    /// is accepted early): the session's `Cookie` value.
    pub(crate) async fn sign_in_as(
        &self,
        name: &str,
        password: &str,
        secret: &TotpSecret,
        steps_ahead: u64,
    ) -> String {
        let now = u64::try_from(Timestamp::now().unix_millis() / 1000).unwrap();
        let code = secret.code_at(now + 30 * steps_ahead);
        let response = self.post_login_as(name, password, &code).await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "{name} could not sign in"
        );
        cookie_pair(&response, "tsunagu_session")
    }

    pub(crate) async fn get(&self, path: &str, cookie: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
    }

    /// Stop the hub this UI started: its nodes then cannot reach it.
    pub(crate) async fn stop_hub(&mut self) {
        if let Some(hub) = self.hub.take() {
            hub.stop().await;
        }
    }

    pub(crate) async fn stop(self) {
        self.shutdown.cancel();
        self.accounts.records().close().await;
        self.center.stop().await;
        if let Some(hub) = self.hub {
            hub.stop().await;
        }
    }
}

/// `name=value` of the cookie the response sets.
pub(crate) fn cookie_pair(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie set"))
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// The value of the hidden input `name` in a page.
pub(crate) fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).expect("no hidden field") + marker.len();
    body[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn every_page_carries_the_security_headers_and_staff_sign_in_with_their_totp_code() {
    let ui = Ui::start(|_| {}).await;

    let page = ui.http.get(ui.url("/login")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let h = page.headers();
    assert_eq!(h[CONTENT_SECURITY_POLICY], CSP);
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h[CACHE_CONTROL], "no-store");
    let body = page.text().await.unwrap();
    assert!(body.contains("<html lang=\"ja\">"), "{body}");
    assert!(
        body.contains("確認コード") && !body.contains("<script>"),
        "{body}"
    );

    let css = ui.http.get(ui.url("/assets/app.css")).send().await.unwrap();
    assert_eq!(css.headers()[CONTENT_SECURITY_POLICY], CSP);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );

    // A wrong code and a wrong password get the same answer.
    let wrong_code = ui.post_login(PASSWORD, "000000").await;
    assert_eq!(wrong_code.status(), StatusCode::UNAUTHORIZED);
    let wrong_code = wrong_code.text().await.unwrap();
    let wrong_password = ui.post_login("違うパスワードです", &ui.code()).await;
    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    let wrong_password = wrong_password.text().await.unwrap();
    let message = "氏名、パスワード、確認コードのいずれかが正しくありません。";
    assert!(wrong_code.contains(message), "{wrong_code}");
    assert!(wrong_password.contains(message), "{wrong_password}");
    assert!(!wrong_password.contains("違うパスワードです"));

    let signed_in = ui.post_login(PASSWORD, &ui.code()).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_in.headers()[LOCATION], "/");
    let set = signed_in
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("tsunagu_session="))
        .unwrap();
    assert!(set.contains("Secure; HttpOnly; SameSite=Strict"), "{set}");
    let cookie = cookie_pair(&signed_in, "tsunagu_session");

    let inbox = ui.get("/", &cookie).await;
    assert_eq!(inbox.status(), StatusCode::OK);
    assert_eq!(inbox.headers()[CONTENT_SECURITY_POLICY], CSP);
    assert_eq!(inbox.headers()[CACHE_CONTROL], "no-store");
    let body = inbox.text().await.unwrap();
    assert!(body.contains("受信箱") && body.contains(NAME), "{body}");
    assert!(body.contains("<script src=\"/assets/live.js\" defer></script>"));

    let english = ui.get("/?lang=en", &cookie).await;
    let remembered = cookie_pair(&english, "tsunagu_lang");
    let body = english.text().await.unwrap();
    assert!(
        body.contains("<html lang=\"en\">") && body.contains("Inbox"),
        "{body}"
    );
    let both = format!("{cookie}; {remembered}");
    let body = ui.get("/", &both).await.text().await.unwrap();
    assert!(
        body.contains("<html lang=\"en\">"),
        "the language was not remembered"
    );

    ui.stop().await;
}

#[tokio::test]
async fn a_state_change_without_its_csrf_token_is_refused() {
    let ui = Ui::start(|_| {}).await;
    let cookie = ui.sign_in().await;

    let logout = ui
        .http
        .post(ui.url("/logout"))
        .header("cookie", &cookie)
        .form(&[("other", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::FORBIDDEN);
    let body = logout.text().await.unwrap();
    assert!(body.contains("この操作は受け付けられません"), "{body}");
    // Still signed in: nothing changed.
    assert_eq!(ui.get("/", &cookie).await.status(), StatusCode::OK);

    let form = [("name", NAME), ("password", PASSWORD), ("code", "123456")];
    let login = ui
        .http
        .post(ui.url("/login"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::FORBIDDEN);

    // With the token, logout ends the session.
    let page = ui.get("/", &cookie).await.text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    let logout = ui
        .http
        .post(ui.url("/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    let after = ui.get("/", &cookie).await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert!(
        after.headers()[LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    ui.stop().await;
}

#[tokio::test]
async fn an_idle_session_is_sent_to_the_login_page_with_the_reason() {
    let ui = Ui::start(|c| c.ui.session_idle_minutes = 0).await;
    let cookie = ui.sign_in().await;
    let inbox = ui.get("/", &cookie).await;
    assert_eq!(inbox.status(), StatusCode::SEE_OTHER);
    assert_eq!(inbox.headers()[LOCATION], "/login?ended=idle");
    let page = ui.get("/login?ended=idle", "").await.text().await.unwrap();
    assert!(page.contains("一定時間操作がなかったため"), "{page}");
    ui.stop().await;
}

#[tokio::test]
async fn a_referral_full_of_markup_renders_as_text_and_its_view_is_in_the_access_log() {
    let mut ui = Ui::start(|_| {}).await;
    let cookie = ui.sign_in().await;

    // The live stream is open before the referral is sent.
    let mut events = ui.get("/events", &cookie).await;
    assert_eq!(events.status(), StatusCode::OK);
    assert!(
        events.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );

    let data = tempfile::tempdir().unwrap();
    let clinic = TestNode::connect(&ui.hub_url, CLINIC, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();
    let mut draft = referral_draft(&case, &[CENTER]);
    draft.urgency = Urgency::Emergency;
    if let Body::Referral(r) = &mut draft.payload.body {
        r.findings = format!("所見 {MARKUP}");
        r.mother.name = "<img src=x onerror=alert(2)>".into();
    }
    draft.payload.author.name = "<b>佐藤</b>".into();
    let id = sent(&clinic, &draft).await;
    ui.center.wait_stored(id).await;

    let told = read_until(&mut events, "event: inbox").await;
    assert!(told.contains("event: inbox"));
    drop(events);

    let rows = ui.get("/inbox/rows", &cookie).await.text().await.unwrap();
    assert!(rows.contains(&format!("/envelopes/{id}")), "{rows}");
    let inbox = ui.get("/", &cookie).await.text().await.unwrap();
    assert!(
        inbox.contains("緊急") && inbox.contains("class=\"urgent unread\""),
        "{inbox}"
    );
    assert!(inbox.contains("さくらレディースクリニック"), "{inbox}");

    let page = ui.get(&format!("/envelopes/{id}"), &cookie).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()[CONTENT_SECURITY_POLICY], CSP);
    let body = page.text().await.unwrap();
    // askama escapes `<` and `>` as `&#60;` and `&#62;` (the same as `&lt;`
    // and `&gt;` to a browser; the browser test reads the rendered text).
    let escaped = |s: &str| s.replace('<', "&#60;").replace('>', "&#62;");
    assert!(body.contains(&escaped(&format!("所見 {MARKUP}"))), "{body}");
    assert!(
        body.contains(&escaped("<img src=x onerror=alert(2)>")),
        "{body}"
    );
    assert!(body.contains(&escaped("<b>佐藤</b>")), "{body}");
    assert!(!body.contains(MARKUP) && !body.contains("<img") && !body.contains("<b>"));
    assert!(
        !body.contains("<script>"),
        "no script may be inline: {body}"
    );

    let log = ui
        .accounts
        .access_log(Actor::NodeConsole, None, None, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].what, Viewed::Envelope);
    assert_eq!(log[0].record_id, id.to_string());
    assert_eq!(log[0].staff_name, NAME);

    let missing = ui.get("/envelopes/not-an-id", &cookie).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    clinic.stop().await;
    ui.stop().await;
}

#[tokio::test]
async fn a_ui_off_loopback_without_a_certificate_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config =
        AgencyConfig::from_example(&certs(), &agency(CENTER), "https://127.0.0.1:9", dir.path());
    config.ui.listen = Some("0.0.0.0:0".parse().unwrap());
    let path = dir.path().join("center.toml");
    std::fs::write(&path, toml::to_string(&config).unwrap()).unwrap();
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_tsunagu"))
            .env_remove("TSUNAGU_LANG")
            .args(["agency", "run", "--config"])
            .arg(&path)
            .output(),
    )
    .await
    .expect("agency run did not refuse at once")
    .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("HTTPS の証明書が必要です") && err.contains("tls_cert"),
        "{err}"
    );

    // The library refuses the same, and serves HTTPS once a certificate is set.
    let listen = config.ui.listen.unwrap();
    assert!(matches!(
        ui::tls_for(&config.ui, listen),
        Err(ui::ListenError::NeedsTls(_))
    ));
    config.ui.tls_cert = Some(certs().join("hub.pem"));
    config.ui.tls_key = Some(certs().join("hub-key.pem"));
    assert!(ui::tls_for(&config.ui, listen).unwrap().is_some());
}

/// Read the event stream until `wanted` appears.
async fn read_until(events: &mut reqwest::Response, wanted: &str) -> String {
    tokio::time::timeout(PATIENCE, async {
        let mut seen = String::new();
        while let Some(chunk) = events.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains(wanted) {
                return seen;
            }
        }
        panic!("the stream ended before {wanted:?}: {seen}");
    })
    .await
    .unwrap_or_else(|_| panic!("no {wanted:?} on the live stream"))
}

#[tokio::test]
async fn an_open_live_stream_is_told_when_its_session_has_ended() {
    let ui = Ui::start(|_| {}).await;
    let cookie = ui.sign_in().await;
    let mut events = ui.get("/events", &cookie).await;
    assert_eq!(events.status(), StatusCode::OK);

    // Signed out elsewhere (another tab): the open inbox must not live on.
    let page = ui.get("/", &cookie).await.text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    let logout = ui
        .http
        .post(ui.url("/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);

    let data = tempfile::tempdir().unwrap();
    let clinic = TestNode::connect(&ui.hub_url, CLINIC, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();
    sent(&clinic, &referral_draft(&case, &[CENTER])).await;
    let told = read_until(&mut events, "event: ended").await;
    assert!(told.contains("data: ended"), "{told}");
    assert!(!told.contains("event: inbox"), "{told}");
    drop(events);
    clinic.stop().await;
    ui.stop().await;
}

#[tokio::test]
async fn with_a_certificate_configured_the_ui_speaks_https() {
    let ui = Ui::start(|c| {
        c.ui.tls_cert = Some(certs().join("hub.pem"));
        c.ui.tls_key = Some(certs().join("hub-key.pem"));
    })
    .await;
    assert!(ui.base.starts_with("https://127.0.0.1:"), "{}", ui.base);
    let cookie = ui.sign_in().await;
    let inbox = ui.get("/", &cookie).await;
    assert_eq!(inbox.status(), StatusCode::OK);
    assert_eq!(inbox.headers()[CONTENT_SECURITY_POLICY], CSP);
    let plain = format!("http://{}/login", ui.base.trim_start_matches("https://"));
    assert!(
        ui.http.get(plain).send().await.is_err(),
        "plain HTTP must not be answered"
    );
    ui.stop().await;
}

/// The record page's CSRF value for the session `cookie`.
pub(crate) async fn page_csrf(ui: &Ui, path: &str, cookie: &str) -> String {
    hidden(&ui.get(path, cookie).await.text().await.unwrap(), "csrf")
}

/// The referral updates this node has sent.
async fn updates_sent(ui: &Ui) -> Vec<tsunagu::store::records::OutboxRow> {
    let all = ui.center.node.records().outbox().await.unwrap();
    all.into_iter()
        .filter(|r| r.kind == "referral_update")
        .collect()
}

impl Ui {
    pub(crate) async fn post(
        &self,
        path: &str,
        cookie: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .header("cookie", cookie)
            .form(form)
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn the_recipient_acknowledges_a_referral_from_its_page_signed_by_the_logged_in_member() {
    let center = Ui::start(|_| {}).await;
    let mut clinic = center.join(CLINIC).await;
    let case = clinic.center.node.open_case().await.unwrap();
    let mut draft = referral_draft(&case, &[CENTER]);
    if let Body::Referral(r) = &mut draft.payload.body {
        r.findings = format!("所見 {MARKUP}");
    }
    let id = sent(&clinic.center, &draft).await;
    let mut center = center;
    center.center.wait_stored(id).await;
    let path = format!("/envelopes/{id}");
    let update = format!("{path}/update");

    // The recipient sees its state in the staff's words, 受理 and no 取消.
    let cookie = center.sign_in().await;
    let body = center.get(&path, &cookie).await.text().await.unwrap();
    assert!(body.contains("送付済み（未受理）"), "{body}");
    assert!(body.contains(">受理</button>"), "{body}");
    assert!(body.contains("保存する前に検証済み"), "{body}");
    assert!(!body.contains(">取消</button>"), "{body}");
    assert!(!body.contains(MARKUP) && body.contains("所見 &#60;script&#62;"));
    let csrf = hidden(&body, "csrf");

    // Without the token: 403, nothing sent.
    let forged = center
        .post(&update, &cookie, &[("state", "received")])
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    // A decline without a reason: refused at the form in Japanese, nothing sent.
    let empty = [
        ("csrf", csrf.as_str()),
        ("state", "declined"),
        ("text", " "),
    ];
    let refused = center.post(&update, &cookie, &empty).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = refused.text().await.unwrap();
    assert!(body.contains("内容が空のため送信していません"), "{body}");
    assert!(updates_sent(&center).await.is_empty());
    // 対応決定 before 受理: the hub refuses, the page says why in Japanese.
    let csrf = page_csrf(&center, &path, &cookie).await;
    let early = [("csrf", csrf.as_str()), ("state", "accepted"), ("text", "")];
    let refused = center.post(&update, &cookie, &early).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = refused.text().await.unwrap();
    assert!(body.contains("送信されませんでした"), "{body}");
    assert!(body.contains("次の手順: ページを開き直して"), "{body}");
    assert!(body.contains("role=\"alert\""), "{body}");

    // 受理: back to the page with what was sent.
    let csrf = page_csrf(&center, &path, &cookie).await;
    let ack = [("csrf", csrf.as_str()), ("state", "received")];
    let done = center.post(&update, &cookie, &ack).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(done.headers()[LOCATION], format!("{path}?done=received"));
    let sent_updates: Vec<_> = updates_sent(&center)
        .await
        .into_iter()
        .filter(|r| r.status == "accepted")
        .collect();
    assert_eq!(sent_updates.len(), 1, "{sent_updates:?}");
    let update_id = sent_updates[0].envelope_id.parse().unwrap();

    // The clinic receives it, signed by the center's logged-in member.
    clinic.center.wait_stored(update_id).await;
    let held = clinic.center.node.records().inbox_item(update_id).await;
    let payload: tsunagu::protocol::payload::Payload =
        serde_json::from_str(&held.unwrap().unwrap().payload).unwrap();
    assert_eq!(payload.author.name, NAME);
    assert_eq!(
        payload.author.role,
        StaffRole::PublicHealthNurse.label(tsunagu::i18n::Lang::Ja)
    );
    assert_eq!(payload.author.contact, "内線 210");

    // The page now says so, with the timeline's 受理 entry and the next acts.
    let body = center
        .get(&format!("{path}?done=received"), &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("送信しました:「受理」"), "{body}");
    assert!(body.contains("<strong>受理</strong>"), "{body}");
    assert!(body.contains(">対応決定</button>") && body.contains(">辞退</button>"));
    assert!(!body.contains(">受理</button>"), "{body}");
    // The refused 対応決定 is not in the timeline.
    assert!(!body.contains("<strong>対応決定</strong>"), "{body}");

    // The sender sees 取消 while the center has not taken it on.
    let sender = clinic.sign_in().await;
    let body = clinic.get(&path, &sender).await.text().await.unwrap();
    assert!(body.contains(">取消</button>"), "{body}");
    assert!(
        body.contains("送信日時") && !body.contains("受信日時"),
        "{body}"
    );
    assert!(body.contains("<strong>受理</strong>"), "{body}");

    // 取消 from the sender's page reaches the center.
    let csrf = hidden(&body, "csrf");
    let cancel = [
        ("csrf", csrf.as_str()),
        ("state", "cancelled"),
        ("text", ""),
    ];
    let done = clinic.post(&update, &sender, &cancel).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let body = clinic.get(&path, &sender).await.text().await.unwrap();
    assert!(body.contains("<strong>取消</strong>"), "{body}");
    assert!(!body.contains(">取消</button>"), "{body}");

    clinic.stop().await;
    center.stop().await;
}

/// Whether the inbox at `query` lists envelope `id`.
async fn lists(ui: &Ui, cookie: &str, query: &str, id: &str) -> bool {
    let page = ui.get(&format!("/{query}"), cookie).await;
    assert_eq!(page.status(), StatusCode::OK, "{query}");
    let body = page.text().await.unwrap();
    body.contains(&format!("/envelopes/{id}\""))
}

#[tokio::test]
async fn the_inbox_filters_follow_a_referral_from_unread_to_awaiting_to_in_progress_and_mine() {
    let center = Ui::start(|_| {}).await;
    let mut clinic = center.join(CLINIC).await;
    let case = clinic.center.node.open_case().await.unwrap();
    let mut draft = referral_draft(&case, &[CENTER]);
    draft.urgency = Urgency::Emergency;
    let id = sent(&clinic.center, &draft).await;
    let mut center = center;
    center.center.wait_stored(id).await;
    let id = id.to_string();
    let cookie = center.sign_in().await;

    // Just arrived: unread, awaiting 受理 with its deadline counting down.
    assert!(lists(&center, &cookie, "?filter=unread", &id).await);
    assert!(lists(&center, &cookie, "?filter=awaiting", &id).await);
    assert!(!lists(&center, &cookie, "?filter=in_progress", &id).await);
    assert!(!lists(&center, &cookie, "?filter=mine", &id).await);
    assert!(lists(&center, &cookie, &format!("?case={case}"), &id).await);
    assert!(!lists(&center, &cookie, "?case=no-such-case", &id).await);
    let rows = center
        .get("/inbox/rows?filter=awaiting", &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(rows.contains("受理期限（目安）"), "{rows}");
    assert!(rows.contains("class=\"countdown\" datetime=\""), "{rows}");
    assert!(
        rows.contains("あと59分") || rows.contains("あと58分"),
        "{rows}"
    );

    // Opened: no longer unread. Acknowledged: in progress, and this member's.
    let path = format!("/envelopes/{id}");
    let csrf = page_csrf(&center, &path, &cookie).await;
    assert!(!lists(&center, &cookie, "?filter=unread", &id).await);
    // 対応決定 before 受理: the hub refuses; the sent items say so, and why.
    let early = [("csrf", csrf.as_str()), ("state", "accepted"), ("text", "")];
    let refused = center
        .post(&format!("{path}/update"), &cookie, &early)
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let sent_page = center.get("/sent", &cookie).await.text().await.unwrap();
    assert!(sent_page.contains("送信されませんでした"), "{sent_page}");
    assert!(sent_page.contains("理由を確かめ"), "{sent_page}");
    assert!(!lists(&center, &cookie, "?filter=in_progress", &id).await);
    let ack = [("csrf", csrf.as_str()), ("state", "received")];
    let done = center.post(&format!("{path}/update"), &cookie, &ack).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert!(!lists(&center, &cookie, "?filter=awaiting", &id).await);
    assert!(lists(&center, &cookie, "?filter=in_progress", &id).await);
    assert!(lists(&center, &cookie, "?filter=mine", &id).await);
    let sent_page = center.get("/sent", &cookie).await.text().await.unwrap();
    assert!(
        sent_page.contains("さくらレディースクリニック"),
        "{sent_page}"
    );
    assert!(sent_page.contains("送信済み"), "{sent_page}");

    // The clinic's record page's states part says 受理 once the update is in.
    let update_id = updates_sent(&center)
        .await
        .into_iter()
        .find(|r| r.status == "accepted")
        .unwrap()
        .envelope_id
        .parse()
        .unwrap();
    clinic.center.wait_stored(update_id).await;
    let sender = clinic.sign_in().await;
    let states = clinic
        .get(&format!("{path}/states"), &sender)
        .await
        .text()
        .await
        .unwrap();
    assert!(states.contains("<td>受理</td>"), "{states}");
    let sent_page = clinic.get("/sent", &sender).await.text().await.unwrap();
    assert!(
        sent_page.contains(&format!("/envelopes/{id}\""))
            && sent_page.contains("みなと市こども家庭センター"),
        "{sent_page}"
    );
    let unknown = clinic
        .get(&format!("/envelopes/{}/states", EnvelopeId::new()), &sender)
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    clinic.stop().await;
    center.stop().await;
}
