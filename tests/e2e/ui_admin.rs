//! The administration screens of the staff UI through HTTP, as a browser
//! speaks them: only 管理者 reach them; adding a member shows their TOTP
//! enrolment once and they can then sign in; disabling ends their open
//! session; resets; every bad input refused with its reason and nothing
//! changed; the access log filtered and exported as CSV.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use tsunagu::agency::staff::{StaffRole, TotpSecret, Viewed};
use tsunagu::protocol::Timestamp;

use crate::ui::{NAME, PASSWORD, Ui, hidden, page_csrf};

const ADMIN: &str = "山本 誠";
const ADMIN_PASSWORD: &str = "冬の朝に湯気の立つ白い茶碗";

/// A node with the nurse (`NAME`) and an administrator, who is signed in:
/// the UI and the administrator's session cookie.
async fn with_admin() -> (Ui, String) {
    let ui = Ui::start(|_| {}).await;
    let secret = ui
        .add_member(ADMIN, StaffRole::Administrator, ADMIN_PASSWORD)
        .await;
    let cookie = ui.sign_in_as(ADMIN, ADMIN_PASSWORD, &secret, 0).await;
    (ui, cookie)
}

async fn staff_id(ui: &Ui, name: &str) -> String {
    ui.accounts.find(name).await.unwrap().id.to_string()
}

async fn body(response: reqwest::Response) -> String {
    response.text().await.unwrap()
}

/// Press an action's button on member `id` (`disable`, `enable`,
/// `second-factor`) with the form's `csrf` (empty: without it).
async fn act(ui: &Ui, cookie: &str, id: &str, action: &str, csrf: &str) -> reqwest::Response {
    let form: &[(&str, &str)] = match csrf {
        "" => &[],
        csrf => &[("csrf", csrf)],
    };
    ui.post(&format!("/admin/staff/{id}/{action}"), cookie, form)
        .await
}

#[tokio::test]
async fn a_member_who_is_not_an_administrator_is_refused_every_admin_page_with_the_reason() {
    let ui = Ui::start(|_| {}).await;
    let cookie = ui.sign_in().await;
    for path in ["/admin", "/admin/access-log", "/admin/access-log.csv"] {
        let page = ui.get(path, &cookie).await;
        assert_eq!(page.status(), StatusCode::FORBIDDEN, "{path}");
        let text = body(page).await;
        assert!(
            text.contains("管理者だけが使える画面です"),
            "{path}: {text}"
        );
        assert!(text.contains("管理者に依頼してください"), "{path}: {text}");
    }
    let csrf = page_csrf(&ui, "/", &cookie).await;
    let added = ui
        .post(
            "/admin/staff",
            &cookie,
            &[
                ("csrf", &csrf),
                ("name", "鈴木 花子"),
                ("role", "administrator"),
                ("password", "春の川に桜の花びらが流れる"),
            ],
        )
        .await;
    assert_eq!(added.status(), StatusCode::FORBIDDEN);
    assert_eq!(ui.accounts.list().await.unwrap().len(), 1, "nothing added");
    ui.stop().await;
}

#[tokio::test]
async fn an_administrator_adds_a_member_who_sees_their_qr_code_once_and_then_signs_in() {
    let (ui, cookie) = with_admin().await;
    let list = body(ui.get("/admin", &cookie).await).await;
    assert!(list.contains(NAME) && list.contains("保健師"), "{list}");
    let csrf = hidden(&list, "csrf");

    let password = "春の川に桜の花びらが流れる";
    let added = ui
        .post(
            "/admin/staff",
            &cookie,
            &[
                ("csrf", &csrf),
                ("name", "鈴木 花子"),
                ("role", "nursery_teacher"),
                ("contact", "内線 410"),
                ("password", password),
            ],
        )
        .await;
    assert_eq!(added.status(), StatusCode::OK);
    let page = body(added).await;
    assert!(page.contains("data:image/svg+xml;base64,"), "no QR code");
    assert!(page.contains("一度だけ表示されます"), "{page}");
    let secret = page
        .split("class=\"mono secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the key to type is shown");
    let codes = page.split("class=\"codes mono\">").nth(1).unwrap();
    let codes = codes.split("</ol>").next().unwrap();
    assert_eq!(codes.matches("<li>").count(), 10, "ten recovery codes");
    let secret = TotpSecret::from_base32(secret).expect("a base32 secret");

    let member = ui.accounts.find("鈴木 花子").await.unwrap();
    assert_eq!(member.role, StaffRole::NurseryTeacher);
    assert_eq!(member.contact, "内線 410");
    ui.sign_in_as("鈴木 花子", password, &secret, 0).await;

    let list = body(ui.get("/admin", &cookie).await).await;
    assert!(
        list.contains("鈴木 花子") && list.contains("保育士"),
        "{list}"
    );
    let english = body(ui.get("/admin?lang=en", &cookie).await).await;
    assert!(
        english.contains("Staff administration") && english.contains("nursery teacher"),
        "{english}"
    );
    assert!(
        !english.contains("職員の管理"),
        "Japanese left in English: {english}"
    );
    ui.stop().await;
}

#[tokio::test]
async fn disabling_a_member_ends_their_open_session_and_enabling_lets_them_back_in() {
    let (ui, admin) = with_admin().await;
    let nurse = ui.sign_in().await;
    assert_eq!(ui.get("/", &nurse).await.status(), StatusCode::OK);
    let id = staff_id(&ui, NAME).await;
    let csrf = page_csrf(&ui, "/admin", &admin).await;

    let disabled = act(&ui, &admin, &id, "disable", &csrf).await;
    assert_eq!(disabled.status(), StatusCode::SEE_OTHER);
    let back = disabled.headers()[LOCATION].to_str().unwrap().to_owned();
    let page = body(ui.get(&back, &admin).await).await;
    assert!(page.contains(&format!("{NAME}を無効にしました")), "{page}");
    assert!(page.contains("無効"), "{page}");

    let inbox = ui.get("/", &nurse).await;
    assert_eq!(inbox.status(), StatusCode::SEE_OTHER);
    assert_eq!(inbox.headers()[LOCATION], "/login?ended=ended");
    let now = u64::try_from(Timestamp::now().unix_millis() / 1000).unwrap();
    let next_code = ui.secret.code_at(now + 30);
    let refused = ui.post_login_as(NAME, PASSWORD, &next_code).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(
        body(refused)
            .await
            .contains("このアカウントは無効になっています")
    );

    let enabled = act(&ui, &admin, &id, "enable", &csrf).await;
    assert_eq!(enabled.status(), StatusCode::SEE_OTHER);
    ui.sign_in_as(NAME, PASSWORD, &ui.secret, 1).await;
    ui.stop().await;
}

#[tokio::test]
async fn a_password_reset_meets_the_policy_and_ends_the_members_sessions() {
    let (ui, admin) = with_admin().await;
    let nurse = ui.sign_in().await;
    let id = staff_id(&ui, NAME).await;
    let csrf = page_csrf(&ui, "/admin", &admin).await;
    let path = format!("/admin/staff/{id}/password");

    for (weak, why) in [
        ("", "新しいパスワードを入力してください"),
        ("short", "12文字以上にしてください"),
        ("aaaaaaaaaaaaaaaa", "連続した文字"),
    ] {
        let refused = ui
            .post(&path, &admin, &[("csrf", &csrf), ("password", weak)])
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{weak}");
        let page = body(refused).await;
        assert!(page.contains(why), "{weak}: {page}");
        assert!(
            page.contains(&format!("id=\"pw-error-{id}\"")),
            "at the field"
        );
    }
    assert_eq!(
        ui.get("/", &nurse).await.status(),
        StatusCode::OK,
        "a refused reset changes nothing"
    );

    let new_password = "秋の山に赤い葉が舞い落ちる";
    let reset = ui
        .post(
            &path,
            &admin,
            &[("csrf", &csrf), ("password", new_password)],
        )
        .await;
    assert_eq!(reset.status(), StatusCode::SEE_OTHER);
    assert_eq!(ui.get("/", &nurse).await.status(), StatusCode::SEE_OTHER);
    ui.sign_in_as(NAME, new_password, &ui.secret, 1).await;
    ui.stop().await;
}

#[tokio::test]
async fn a_second_factor_reset_shows_a_new_enrolment_and_the_old_codes_stop_working() {
    let (ui, admin) = with_admin().await;
    let id = staff_id(&ui, NAME).await;
    let csrf = page_csrf(&ui, "/admin", &admin).await;
    let reset = act(&ui, &admin, &id, "second-factor", &csrf).await;
    assert_eq!(reset.status(), StatusCode::OK);
    let page = body(reset).await;
    assert!(page.contains("二要素認証を再登録しました"), "{page}");
    assert!(page.contains("data:image/svg+xml;base64,"));
    let old = ui.post_login(PASSWORD, &ui.code()).await;
    assert_eq!(
        old.status(),
        StatusCode::UNAUTHORIZED,
        "the old secret still works"
    );
    ui.stop().await;
}

#[tokio::test]
async fn each_bad_admin_input_is_refused_with_its_reason_and_changes_nothing() {
    let (ui, admin) = with_admin().await;
    let csrf = page_csrf(&ui, "/admin", &admin).await;
    let good = "春の川に桜の花びらが流れる";
    let cases: [(&str, &str, &str, &str); 5] = [
        (NAME, "clerk", good, "すでに登録されています"),
        ("", "clerk", good, "氏名を入力してください"),
        ("田中 一郎", "", good, "職種を選んでください"),
        ("田中 一郎", "clerk", "", "初期パスワードを入力してください"),
        (
            "田中 一郎",
            "clerk",
            "password2026!",
            "よく使われるパスワード",
        ),
    ];
    for (name, role, password, why) in cases {
        let refused = ui
            .post(
                "/admin/staff",
                &admin,
                &[
                    ("csrf", &csrf),
                    ("name", name),
                    ("role", role),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{why}");
        let page = body(refused).await;
        assert!(page.contains(why), "{why}: {page}");
        assert!(
            page.contains("aria-invalid=\"true\""),
            "{why}: not at a field"
        );
    }
    assert_eq!(ui.accounts.list().await.unwrap().len(), 2, "nothing added");

    // Without the form's token: refused, nothing added.
    let no_csrf = ui
        .post(
            "/admin/staff",
            &admin,
            &[("name", "田中 一郎"), ("role", "clerk"), ("password", good)],
        )
        .await;
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
    assert!(body(no_csrf).await.contains("この操作は受け付けられません"));
    let nurse = staff_id(&ui, NAME).await;
    let no_csrf = act(&ui, &admin, &nurse, "disable", "").await;
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
    assert!(ui.accounts.find(NAME).await.unwrap().is_enabled());

    // An unknown member, by a well-formed id or not.
    let unknown = uuid_like();
    for id in [unknown.as_str(), "not-an-id"] {
        let refused = act(&ui, &admin, id, "disable", &csrf).await;
        assert_eq!(refused.status(), StatusCode::NOT_FOUND, "{id}");
        assert!(body(refused).await.contains("その職員は登録されていません"));
    }

    // Disabling oneself.
    let me = staff_id(&ui, ADMIN).await;
    let refused = act(&ui, &admin, &me, "disable", &csrf).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        body(refused)
            .await
            .contains("自分のアカウントは無効にできません")
    );
    assert!(ui.accounts.find(ADMIN).await.unwrap().is_enabled());
    assert_eq!(ui.get("/admin", &admin).await.status(), StatusCode::OK);
    ui.stop().await;
}

fn uuid_like() -> String {
    tsunagu::agency::staff::StaffId::new().to_string()
}

#[tokio::test]
async fn the_access_log_is_filtered_by_person_record_and_day_and_exported_as_csv() {
    let (ui, admin) = with_admin().await;
    let nurse = ui.accounts.find(NAME).await.unwrap();
    let now = Timestamp::now();
    for record in ["record-aaa", "record-bbb"] {
        ui.accounts
            .record_view(&nurse, Viewed::Envelope, record, now)
            .await
            .unwrap();
    }
    let page = body(ui.get("/admin/access-log", &admin).await).await;
    assert!(
        page.contains("record-aaa") && page.contains("record-bbb"),
        "{page}"
    );
    assert!(page.contains(NAME) && page.contains("連絡・記録"), "{page}");

    let by_record = body(ui.get("/admin/access-log?record=bbb", &admin).await).await;
    assert!(by_record.contains("record-bbb") && !by_record.contains("record-aaa"));
    let admin_id = staff_id(&ui, ADMIN).await;
    let by_who = body(
        ui.get(&format!("/admin/access-log?who={admin_id}"), &admin)
            .await,
    )
    .await;
    assert!(!by_who.contains("record-aaa"), "{by_who}");
    let today = tsunagu::protocol::day::Day::of(now);
    let by_day = body(
        ui.get(
            &format!("/admin/access-log?from={today}&to={today}"),
            &admin,
        )
        .await,
    )
    .await;
    assert!(by_day.contains("record-aaa"), "{by_day}");
    let yesterday = today.plus_days(-1);
    let before = body(
        ui.get(&format!("/admin/access-log?to={yesterday}"), &admin)
            .await,
    )
    .await;
    assert!(!before.contains("record-aaa"), "{before}");

    for (query, why) in [
        ("from=2026-13-40", "日付は 2026-04-01 の形で"),
        (
            &format!("from={today}&to={yesterday}") as &str,
            "終了日は開始日と同じか",
        ),
    ] {
        let refused = ui.get(&format!("/admin/access-log?{query}"), &admin).await;
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}"
        );
        assert!(body(refused).await.contains(why), "{query}");
    }

    let csv = ui
        .get(&format!("/admin/access-log.csv?who={}", nurse.id), &admin)
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert_eq!(csv.headers()[CONTENT_TYPE], "text/csv; charset=utf-8");
    let disposition = csv.headers()[CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"access-log-"),
        "{disposition}"
    );
    let text = body(csv).await;
    assert!(text.starts_with("\u{feff}seq,at,staff_id"), "{text}");
    assert_eq!(
        text.lines().count(),
        3,
        "a header and the nurse's two views: {text}"
    );
    assert!(text.contains(NAME) && text.contains("record-bbb"));
    ui.stop().await;
}
