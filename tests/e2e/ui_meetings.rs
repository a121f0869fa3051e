//! The meeting and ledger screens of the staff UI against a real hub (on a
//! clock the test moves) and real nodes: the center schedules a meeting
//! inviting child welfare and the clinic, each answers from its own pages,
//! the organiser's page shows the answers, the minutes go in full only to
//! those at the table, then the meeting is cancelled; every bad input is
//! refused at its field and sends nothing. The 進行管理台帳 on the 調整機関's
//! node only: filters, CSV, the entry form.

use std::sync::Arc;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use tsunagu::agency::staff::{Actor, Viewed};
use tsunagu::hub::clock::ManualClock;
use tsunagu::protocol::day::show_local;
use tsunagu::protocol::{CaseId, ConsentId, EnvelopeId, Timestamp};

use crate::helpers::*;
use crate::ui::{Ui, page_csrf};

/// A hub on a manual clock, the center's UI, and the clinic's and child
/// welfare's UIs on the same hub.
pub(crate) struct Table {
    pub clock: Arc<ManualClock>,
    pub center: Ui,
    pub welfare: Ui,
    pub clinic: Ui,
}

impl Table {
    pub(crate) async fn start() -> Table {
        let clock = Arc::new(ManualClock::new());
        let dir = Arc::new(tempfile::tempdir().unwrap());
        let hub = TestHub::start_with_clock(&Db::Sqlite, dir, None, clock.clone()).await;
        let url = hub.url.clone();
        let center = Ui::on(url, Some(hub), CENTER, |_| {}).await;
        let welfare = center.join(WELFARE).await;
        let clinic = center.join(CLINIC).await;
        Table {
            clock,
            center,
            welfare,
            clinic,
        }
    }

    /// The clinic opens a case, records her consent (center, child welfare
    /// and the clinic itself; referral, case meetings and `more` purposes)
    /// and refers her to the center and child welfare.
    pub(crate) async fn referred_case(
        &mut self,
        more: &[tsunagu::protocol::Purpose],
    ) -> (CaseId, ConsentId) {
        let case = self.clinic.center.node.open_case().await.unwrap();
        let mut scope = consent_scope(&case, &[CENTER, WELFARE, CLINIC]);
        scope.purposes.extend_from_slice(more);
        let consent = scope.consent_id;
        sent(&self.clinic.center, &consent_record_draft(scope)).await;
        let referral = sent(
            &self.clinic.center,
            &consent_referral_draft(&case, consent, &[CENTER, WELFARE]),
        )
        .await;
        self.center.center.wait_stored(referral).await;
        self.welfare.center.wait_stored(referral).await;
        (case, consent)
    }

    pub(crate) async fn stop(self) {
        self.clinic.stop().await;
        self.welfare.stop().await;
        self.center.stop().await;
    }
}

/// The envelopes of `kind` the hub took from this node, oldest first.
pub(crate) async fn accepted(ui: &Ui, kind: &str) -> Vec<EnvelopeId> {
    let rows = ui.center.node.records().outbox().await.unwrap();
    rows.into_iter()
        .filter(|r| r.kind == kind && r.status == "accepted")
        .map(|r| r.envelope_id.parse().unwrap())
        .collect()
}

/// `t` as a `datetime-local` field holds it (JST).
fn local(t: Timestamp) -> String {
    show_local(t).replacen(' ', "T", 1)
}

fn in_days(clock: &ManualClock, days: i64) -> Timestamp {
    Timestamp::from_datetime(clock.now_for_test() + time::Duration::days(days))
}

/// POST `form` to `path` with the page's CSRF token; the response.
async fn post_with_csrf(
    ui: &Ui,
    page: &str,
    path: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let csrf = page_csrf(ui, page, cookie).await;
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(form);
    ui.post(path, cookie, &all).await
}

async fn body_of(r: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(r.status(), status);
    r.text().await.unwrap()
}

#[tokio::test]
async fn a_meeting_is_scheduled_answered_minuted_and_cancelled_through_the_pages() {
    let mut t = Table::start().await;
    let (case, consent) = t.referred_case(&[]).await;
    let case_id = case.to_string();
    let consent_id = consent.to_string();
    let cookie = t.center.sign_in().await;
    let body = body_of(t.center.get("/meetings", &cookie).await, StatusCode::OK).await;
    assert!(body.contains("これからの会議はありません"), "{body}");
    assert!(body.contains("月間カレンダー"), "{body}");

    let at = local(in_days(&t.clock, 2));
    let past = local(in_days(&t.clock, -1));
    let schedule = |at: String, invite: Vec<&'static str>| {
        let mut f: Vec<(&'static str, String)> = vec![
            ("case", case_id.clone()),
            ("kind", "individual_case".into()),
            ("at", at),
            ("minutes", "60".into()),
            ("place", "みなと市役所 3階 会議室B".into()),
            ("agenda", "出産前後の支援体制".into()),
            ("categories", "basic".into()),
            ("basis", "consent".into()),
            ("consent_id", consent_id.clone()),
            (
                "expect_minato-child-welfare",
                "養育状況の見通しを報告".into(),
            ),
        ];
        f.extend(invite.into_iter().map(|a| ("invite", a.to_owned())));
        f
    };
    let send = async |f: Vec<(&'static str, String)>, with_csrf: bool| {
        let csrf = page_csrf(&t.center, "/meetings/new", &cookie).await;
        let mut all: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if with_csrf {
            all.push(("csrf", csrf.as_str()));
        }
        t.center.post("/meetings/new", &cookie, &all).await
    };

    // Without the CSRF token: 403, nothing sent.
    let forged = send(schedule(at.clone(), vec![WELFARE]), false).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    // A time in the past, a malformed one, no invitees: refused at the field.
    let body = body_of(
        send(schedule(past, vec![WELFARE]), true).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        body.contains("は過ぎています。これからの日時を指定してください"),
        "{body}"
    );
    assert!(body.contains("aria-describedby=\"err-at\""), "{body}");
    let body = body_of(
        send(schedule("12月3日の午後".into(), vec![WELFARE]), true).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body.contains("「2026-12-03 14:00」の形"), "{body}");
    let body = body_of(
        send(schedule(at.clone(), vec![]), true).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        body.contains("招待する機関を1つ以上選んでください"),
        "{body}"
    );
    // The nursery is not covered by her consent: the hub's reason, by name.
    let body = body_of(
        send(schedule(at.clone(), vec![WELFARE, NURSERY]), true).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body.contains("ひかり保育園"), "{body}");
    assert!(body.contains("次の手順"), "{body}");
    assert!(accepted(&t.center, "meeting_invitation").await.is_empty());

    // Scheduled: to the meeting's page.
    let done = send(schedule(at.clone(), vec![WELFARE, CLINIC]), true).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let location = done.headers()[LOCATION].to_str().unwrap().to_owned();
    let id = location
        .strip_prefix("/meetings/")
        .and_then(|l| l.strip_suffix("?done=scheduled"))
        .unwrap()
        .to_owned();
    let page = format!("/meetings/{id}");
    let body = body_of(t.center.get(&location, &cookie).await, StatusCode::OK).await;
    assert!(body.contains("会議の案内を送りました"), "{body}");
    assert!(body.contains("個別ケース検討会議"), "{body}");
    assert!(body.contains("みなと市子ども家庭総合支援拠点"), "{body}");
    assert!(body.contains("未回答"), "{body}");
    assert!(body.contains("養育状況の見通しを報告"), "{body}");
    let invitation = accepted(&t.center, "meeting_invitation").await[0];
    t.welfare.center.wait_stored(invitation).await;
    t.clinic.center.wait_stored(invitation).await;
    let list = body_of(t.center.get("/meetings", &cookie).await, StatusCode::OK).await;
    assert!(list.contains(&format!("href=\"/meetings/{id}\"")), "{list}");
    assert!(list.contains("開催機関（出席 0・回答 0/2）"), "{list}");
    let english = body_of(
        t.center.get("/meetings?lang=en", &cookie).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        english.contains("Organiser (0 attending, 0/2 answered)"),
        "{english}"
    );
    assert!(
        english.contains("individual case meeting") || english.contains("Individual"),
        "{english}"
    );
    assert!(!english.contains("これからの会議"), "{english}");

    // Child welfare answers: a name is needed to attend; then 出席.
    let w = t.welfare.sign_in().await;
    let answer = format!("{page}/answer");
    let body = body_of(
        post_with_csrf(
            &t.welfare,
            &page,
            &answer,
            &w,
            &[("attendance", "attend"), ("attendee_name", "")],
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body.contains("出席する人の氏名を書いてください"), "{body}");
    let ok = post_with_csrf(
        &t.welfare,
        &page,
        &answer,
        &w,
        &[
            ("attendance", "attend"),
            ("attendee_name", "鈴木 健"),
            ("attendee_role", "社会福祉士"),
        ],
    )
    .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    // The clinic declines.
    let c = t.clinic.sign_in().await;
    let ok = post_with_csrf(
        &t.clinic,
        &page,
        &answer,
        &c,
        &[("attendance", "decline"), ("note", "外来のため")],
    )
    .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    for from in [&t.welfare, &t.clinic] {
        let id = accepted(from, "meeting_answer").await[0];
        t.center.center.wait_stored(id).await;
    }
    let answers = body_of(
        t.center.get(&format!("{page}/answers"), &cookie).await,
        StatusCode::OK,
    )
    .await;
    assert!(answers.contains("鈴木 健（社会福祉士）"), "{answers}");
    assert!(
        answers.contains("欠席") && answers.contains("外来のため"),
        "{answers}"
    );

    // Minutes before the meeting has started: the hub refuses, said why.
    let minutes = format!("{page}/minutes");
    let minutes_form = |full: &'static str| {
        vec![
            ("case_summary", "初産、支援者が少ない。"),
            ("decisions", "センターが主担当として週1回訪問する"),
            ("categories", "basic"),
            ("full_to", full),
            ("basis", "consent"),
            ("consent_id", consent_id.as_str()),
        ]
    };
    let body = body_of(
        post_with_csrf(
            &t.center,
            &minutes,
            &minutes,
            &cookie,
            &minutes_form(WELFARE),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        body.contains("会議の開始前には会議録を送れません"),
        "{body}"
    );
    t.clock.advance(time::Duration::days(3));
    // Full minutes to the clinic, which declined: refused, the clinic named.
    let body = body_of(
        post_with_csrf(
            &t.center,
            &minutes,
            &minutes,
            &cookie,
            &minutes_form(CLINIC),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body.contains("さくらレディースクリニック"), "{body}");
    assert!(body.contains("抜粋を送ってください"), "{body}");
    // Child welfare is not the organiser: it may not minute.
    let body = body_of(
        post_with_csrf(&t.welfare, &page, &minutes, &w, &minutes_form(WELFARE)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        body.contains("会議録を送れるのは開催機関だけです"),
        "{body}"
    );
    assert!(accepted(&t.center, "minutes").await.is_empty());
    // In full to child welfare, who attended: shared.
    let ok = post_with_csrf(
        &t.center,
        &minutes,
        &minutes,
        &cookie,
        &minutes_form(WELFARE),
    )
    .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let shared = accepted(&t.center, "minutes").await[0];
    t.welfare.center.wait_stored(shared).await;
    let body = body_of(t.welfare.get(&page, &w).await, StatusCode::OK).await;
    assert!(
        body.contains("センターが主担当として週1回訪問する"),
        "{body}"
    );

    // Cancelled, with a reason (none: refused); then no answer is taken.
    let cancel = format!("{page}/cancel");
    let body = body_of(
        post_with_csrf(&t.center, &page, &cancel, &cookie, &[("note", " ")]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body.contains("中止の理由を書いてください"), "{body}");
    let ok = post_with_csrf(
        &t.center,
        &page,
        &cancel,
        &cookie,
        &[("note", "本人の体調不良のため")],
    )
    .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let cancelled = accepted(&t.center, "meeting_change").await[0];
    t.welfare.center.wait_stored(cancelled).await;
    let body = body_of(
        post_with_csrf(&t.welfare, &page, &answer, &w, &[("attendance", "decline")]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body.contains("この会議は中止されたため"), "{body}");
    assert_eq!(accepted(&t.welfare, "meeting_answer").await.len(), 1);

    // Every view of the meeting page is in the access log.
    let log = t
        .center
        .accounts
        .access_log(Actor::NodeConsole, None, None, Timestamp::now())
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|e| e.what == Viewed::Meeting && e.record_id == id),
        "{log:?}"
    );
    t.stop().await;
}

#[tokio::test]
async fn a_meeting_moves_to_a_time_to_come_and_a_past_one_is_refused() {
    let mut t = Table::start().await;
    let (case, consent) = t.referred_case(&[]).await;
    let cookie = t.center.sign_in().await;
    let at = local(in_days(&t.clock, 2));
    let consent = consent.to_string();
    let case = case.to_string();
    let done = post_with_csrf(
        &t.center,
        "/meetings/new",
        "/meetings/new",
        &cookie,
        &[
            ("case", &case),
            ("kind", "stakeholders"),
            ("at", &at),
            ("minutes", "30"),
            ("invite", WELFARE),
            ("categories", "basic"),
            ("basis", "consent"),
            ("consent_id", &consent),
        ],
    )
    .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let location = done.headers()[LOCATION].to_str().unwrap();
    let page = location.split('?').next().unwrap().to_owned();
    let move_to = format!("{page}/reschedule");
    let past = local(in_days(&t.clock, -2));
    let body = body_of(
        post_with_csrf(
            &t.center,
            &page,
            &move_to,
            &cookie,
            &[("at", &past), ("minutes", "30")],
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body.contains("は過ぎています"), "{body}");
    let body = body_of(
        post_with_csrf(
            &t.center,
            &page,
            &move_to,
            &cookie,
            &[("at", &at), ("minutes", "0")],
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body.contains("1分から1440分"), "{body}");
    let later = in_days(&t.clock, 5);
    let ok = post_with_csrf(
        &t.center,
        &page,
        &move_to,
        &cookie,
        &[
            ("at", &local(later)),
            ("minutes", "45"),
            ("note", "会場の都合"),
        ],
    )
    .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let body = body_of(t.center.get(&page, &cookie).await, StatusCode::OK).await;
    assert!(body.contains(&show_local(later)), "{body}");
    assert!(body.contains("会場の都合"), "{body}");
    t.stop().await;
}

#[tokio::test]
async fn the_ledger_is_the_coordinating_bodys_with_its_filters_csv_and_entry_form() {
    let mut t = Table::start().await;
    let (case, _) = t.referred_case(&[]).await;
    let yotaikyo = t.center.join(YOTAIKYO).await;
    sent(&yotaikyo.center, &registration_draft(&case)).await;

    // Any other node: 403, saying whose ledger it is.
    let cookie = t.center.sign_in().await;
    let body = body_of(
        t.center.get("/ledger", &cookie).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(body.contains("調整機関"), "{body}");
    let refused = t.center.get("/ledger.csv", &cookie).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let y = yotaikyo.sign_in().await;
    let body = body_of(yotaikyo.get("/ledger", &y).await, StatusCode::OK).await;
    assert!(body.contains(&case.to_string()), "{body}");
    assert!(body.contains("特定妊婦"), "{body}");
    assert!(body.contains("みなと市こども家庭センター"), "{body}");
    let body = body_of(
        yotaikyo
            .get("/ledger?classification=support_needed", &y)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(body.contains("該当するケースはありません"), "{body}");
    let body = body_of(
        yotaikyo.get("/ledger?due=1&until=2027-13-40", &y).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body.contains("基準日は 2027-02-28 のように"), "{body}");

    // The entry: a reason is needed to close; a bad date is named; CSRF.
    let soon = tsunagu::protocol::day::Day::of(Timestamp::now())
        .plus_days(7)
        .to_string();
    let entry = format!("/ledger/{case}");
    let body = body_of(
        post_with_csrf(
            &yotaikyo,
            &entry,
            &entry,
            &y,
            &[("status", "closed"), ("reason", "")],
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body.contains("には理由が必要です"), "{body}");
    let body = body_of(
        post_with_csrf(
            &yotaikyo,
            &entry,
            &entry,
            &y,
            &[("received_on", "11/20"), ("status", "received")],
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body.contains("日付は 2026-11-20 のように"), "{body}");
    let forged = yotaikyo.post(&entry, &y, &[("number", "2026-012")]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let ok = post_with_csrf(
        &yotaikyo,
        &entry,
        &entry,
        &y,
        &[
            ("number", "2026-012"),
            ("route", "medical"),
            ("risk", "medium"),
            ("status", "supporting"),
            ("next_review", &soon),
        ],
    )
    .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let body = body_of(
        yotaikyo.get(&format!("{entry}?done=1"), &y).await,
        StatusCode::OK,
    )
    .await;
    assert!(body.contains("台帳を更新しました"), "{body}");
    assert!(
        body.contains("医療機関からの連絡") && body.contains("支援中"),
        "{body}"
    );

    // Due in a week: on the agenda, and a 実務者会議 is held on it.
    let body = body_of(yotaikyo.get("/ledger", &y).await, StatusCode::OK).await;
    assert!(body.contains("この議題で実務者会議を開く"), "{body}");
    let at = local(in_days(&t.clock, 10));
    let held = [
        ("at", at.as_str()),
        ("minutes", "120"),
        ("place", "みなと市役所 5階 大会議室"),
        ("categories", "basic"),
        ("until", soon.as_str()),
    ];
    let body = body_of(
        post_with_csrf(&yotaikyo, "/ledger", "/ledger/meeting", &y, &held).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        body.contains("要対協での共有の理由を書いてください"),
        "{body}"
    );
    let mut with_reason = held.to_vec();
    with_reason.push((
        "justification",
        "要対協登録ケースの進行管理（実務者会議）のため",
    ));
    let held = post_with_csrf(&yotaikyo, "/ledger", "/ledger/meeting", &y, &with_reason).await;
    assert_eq!(held.status(), StatusCode::SEE_OTHER);
    let location = held.headers()[LOCATION].to_str().unwrap().to_owned();
    let body = body_of(yotaikyo.get(&location, &y).await, StatusCode::OK).await;
    assert!(body.contains("実務者会議"), "{body}");
    assert!(
        body.contains("2026-012") && body.contains(&case.to_string()),
        "{body}"
    );
    assert!(body.contains("ひかり保育園"), "{body}");
    assert!(body.contains("みなと市子ども家庭総合支援拠点"), "{body}");

    // The CSV: a download, the file `agency ledger export` writes.
    let csv = yotaikyo.get("/ledger.csv", &y).await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let disposition = csv.headers()[CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"ledger-"),
        "{disposition}"
    );
    let text = csv.text().await.unwrap();
    let node = &yotaikyo.center.node;
    let rows = tsunagu::agency::ledger::rows(node.records(), node.id(), Timestamp::now())
        .await
        .unwrap();
    let name = |a: &tsunagu::protocol::AgencyId| node.directory().name_of(a.as_str());
    let expected =
        tsunagu::agency::ledger::csv::export(&rows, name, tsunagu::i18n::Lang::Ja).unwrap();
    assert_eq!(text, expected);
    assert!(
        text.starts_with('\u{feff}') && text.contains("2026-012,"),
        "{text}"
    );
    let log = yotaikyo
        .accounts
        .access_log(Actor::NodeConsole, None, None, Timestamp::now())
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|e| e.what == Viewed::LedgerEntry && e.record_id == case.to_string()),
        "{log:?}"
    );
    yotaikyo.stop().await;
    t.stop().await;
}
