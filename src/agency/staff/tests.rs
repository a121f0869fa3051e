//! Accounts, login, throttling, sessions and the access log against real
//! records, every time given explicitly (no sleeps).

use super::*;
use crate::store::records::Records;

const PASSWORD: &str = "春の空に燕が高く飛ぶ日のこと";
const ADDRESS: &str = "192.0.2.10";

struct Fixture {
    _dir: tempfile::TempDir,
    url: String,
    identity: age::x25519::Identity,
    accounts: StaffAccounts,
}

impl Fixture {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = crate::store::testing::sqlite_url(dir.path(), "node.db");
        let identity = age::x25519::Identity::generate();
        let accounts = open(&url, &identity).await;
        Self {
            _dir: dir,
            url,
            identity,
            accounts,
        }
    }

    /// The same node after a restart.
    async fn restart(mut self) -> Self {
        self.accounts.records().close().await;
        self.accounts = open(&self.url, &self.identity).await;
        self
    }

    async fn add(&self, name: &str, role: StaffRole) -> (StaffMember, TotpSecret, Vec<String>) {
        let (member, enrolment) = self
            .accounts
            .add(
                Actor::NodeConsole,
                NewStaff {
                    name,
                    role,
                    contact: "内線 201",
                    password: PASSWORD,
                },
                at(0),
            )
            .await
            .unwrap();
        let secret = TotpSecret::from_base32(&enrolment.secret_base32).unwrap();
        (member, secret, enrolment.recovery_codes)
    }

    async fn login(&self, name: &str, code: &str, now: Timestamp) -> Result<Session, LoginError> {
        self.accounts
            .login(name, PASSWORD, code, ADDRESS, now)
            .await
    }
}

async fn open(url: &str, identity: &age::x25519::Identity) -> StaffAccounts {
    StaffAccounts::new(
        Records::open(url).await.unwrap(),
        NodeSeal::new(identity.clone()),
        UiConfig::default(),
        "tsunagu (test)",
    )
}

/// 2026-11-23T00:00:00Z plus `secs`.
fn at(secs: i64) -> Timestamp {
    Timestamp::from_unix_millis((1_795_392_000 + secs) * 1000).unwrap()
}

fn code(secret: &TotpSecret, now: Timestamp) -> String {
    secret.code_at(u64::try_from(now.unix_millis() / 1000).unwrap())
}

const MIN: i64 = 60;

#[tokio::test]
async fn a_login_needs_password_and_current_code_and_a_code_is_not_used_twice() {
    let f = Fixture::new().await;
    let (member, secret, _) = f.add("佐藤 美咲", StaffRole::Midwife).await;
    let now = at(10 * MIN);
    let session = f
        .login("佐藤 美咲", &code(&secret, now), now)
        .await
        .unwrap();
    assert_eq!(session.staff, member);
    assert_eq!(session.staff.author().role, "助産師");
    assert_eq!(session.expires_at, at(10 * MIN + 8 * 3600));
    assert_eq!(session.recovery_codes_left, None);
    // The same code again, in the same step: a replay.
    let again = f
        .login("佐藤 美咲", &code(&secret, now), at(10 * MIN + 5))
        .await;
    assert!(
        matches!(again, Err(LoginError::InvalidCredentials)),
        "{again:?}"
    );
    // The previous step's code, still within the skew, after a later step was used: refused too.
    let earlier = code(&secret, at(10 * MIN - 30));
    let old = f.login("佐藤 美咲", &earlier, at(10 * MIN + 5)).await;
    assert!(
        matches!(old, Err(LoginError::InvalidCredentials)),
        "{old:?}"
    );
    // The next step's code is fresh.
    let next = at(10 * MIN + 30);
    f.login("佐藤 美咲", &code(&secret, next), next)
        .await
        .unwrap();
}

#[tokio::test]
async fn wrong_password_wrong_code_and_unknown_name_answer_the_same() {
    let f = Fixture::new().await;
    let (_, secret, _) = f.add("佐藤 美咲", StaffRole::Midwife).await;
    let now = at(MIN);
    let good = code(&secret, now);
    let wrong_password = f
        .accounts
        .login(
            "佐藤 美咲",
            "春の空に燕が低く飛ぶ日のこと",
            &good,
            ADDRESS,
            now,
        )
        .await;
    let wrong_code = f.login("佐藤 美咲", "000000", now).await;
    let unknown = f.login("鈴木 花子", &good, now).await;
    for answer in [wrong_password, wrong_code, unknown] {
        assert!(
            matches!(answer, Err(LoginError::InvalidCredentials)),
            "{answer:?}"
        );
    }
}

#[tokio::test]
async fn a_recovery_code_signs_in_once() {
    let f = Fixture::new().await;
    let (member, _, codes) = f.add("佐藤 美咲", StaffRole::Midwife).await;
    let typed = codes[3].to_uppercase().replace('-', " ");
    let session = f.login("佐藤 美咲", &typed, at(MIN)).await.unwrap();
    assert_eq!(session.recovery_codes_left, Some(9));
    let again = f.login("佐藤 美咲", &codes[3], at(2 * MIN)).await;
    assert!(
        matches!(again, Err(LoginError::InvalidCredentials)),
        "{again:?}"
    );
    assert_eq!(f.accounts.recovery_codes_left(member.id).await.unwrap(), 9);
    f.login("佐藤 美咲", &codes[4], at(3 * MIN)).await.unwrap();
}

#[tokio::test]
async fn five_failures_lock_the_account_for_fifteen_minutes_across_a_restart() {
    let f = Fixture::new().await;
    let (_, secret, _) = f.add("佐藤 美咲", StaffRole::Midwife).await;
    for i in 0..4 {
        let r = f.login("佐藤 美咲", "000000", at(i * MIN)).await;
        assert!(matches!(r, Err(LoginError::InvalidCredentials)), "{r:?}");
    }
    let fifth = f.login("佐藤 美咲", "000000", at(4 * MIN)).await;
    let Err(LoginError::Throttled { retry_at }) = fifth else {
        panic!("{fifth:?}");
    };
    assert_eq!(retry_at, at(19 * MIN));

    let f = f.restart().await;
    // Locked even with the right code, and from another address.
    let now = at(18 * MIN);
    let locked = f
        .accounts
        .login(
            "佐藤 美咲",
            PASSWORD,
            &code(&secret, now),
            "198.51.100.7",
            now,
        )
        .await;
    assert!(matches!(locked, Err(LoginError::Throttled { retry_at: r }) if r == retry_at));
    let now = at(19 * MIN);
    f.login("佐藤 美咲", &code(&secret, now), now)
        .await
        .unwrap();
}

#[tokio::test]
async fn failures_spread_over_more_than_the_window_do_not_lock() {
    let f = Fixture::new().await;
    let (_, secret, _) = f.add("佐藤 美咲", StaffRole::Midwife).await;
    for i in 0..8 {
        let r = f.login("佐藤 美咲", "000000", at(i * 4 * MIN)).await;
        assert!(
            matches!(r, Err(LoginError::InvalidCredentials)),
            "failure {i}: {r:?}"
        );
    }
    let now = at(40 * MIN);
    f.login("佐藤 美咲", &code(&secret, now), now)
        .await
        .unwrap();
}

#[tokio::test]
async fn twenty_failures_from_one_address_lock_that_address_only() {
    let f = Fixture::new().await;
    let (_, secret, _) = f.add("佐藤 美咲", StaffRole::Midwife).await;
    let mut last = None;
    for i in 0..20 {
        last = Some(f.login(&format!("誰か {i}"), "000000", at(i)).await);
    }
    assert!(
        matches!(last, Some(Err(LoginError::Throttled { .. }))),
        "{last:?}"
    );
    let now = at(MIN);
    let here = f.login("佐藤 美咲", &code(&secret, now), now).await;
    assert!(
        matches!(here, Err(LoginError::Throttled { .. })),
        "{here:?}"
    );
    f.accounts
        .login(
            "佐藤 美咲",
            PASSWORD,
            &code(&secret, now),
            "198.51.100.7",
            now,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_session_ends_after_fifteen_idle_minutes() {
    let f = Fixture::new().await;
    let (member, secret, _) = f.add("佐藤 美咲", StaffRole::Midwife).await;
    let start = at(MIN);
    let s = f
        .login("佐藤 美咲", &code(&secret, start), start)
        .await
        .unwrap();
    let token = SessionToken::from_cookie(s.token.expose());
    assert_eq!(
        f.accounts.touch(&token, at(15 * MIN)).await.unwrap(),
        member
    );
    // A validation is not activity: the idle clock still runs from 15 min.
    f.accounts.validate(&token, at(29 * MIN)).await.unwrap();
    let idle = f.accounts.touch(&token, at(30 * MIN)).await;
    assert!(matches!(idle, Err(SessionEnded::Idle)), "{idle:?}");
    let gone = f.accounts.touch(&token, at(30 * MIN)).await;
    assert!(matches!(gone, Err(SessionEnded::Unknown)), "{gone:?}");
}

#[tokio::test]
async fn a_session_ends_after_eight_hours_however_active() {
    let f = Fixture::new().await;
    let (_, secret, _) = f.add("佐藤 美咲", StaffRole::Midwife).await;
    let start = at(0);
    let s = f
        .login("佐藤 美咲", &code(&secret, start), start)
        .await
        .unwrap();
    for i in 1..48 {
        f.accounts.touch(&s.token, at(i * 10 * MIN)).await.unwrap();
    }
    let end = f.accounts.touch(&s.token, at(8 * 3600)).await;
    assert!(matches!(end, Err(SessionEnded::Expired)), "{end:?}");
}

#[tokio::test]
async fn pruning_forgets_only_the_sessions_that_have_ended() {
    let f = Fixture::new().await;
    let (_, a_secret, _) = f.add("佐藤 美咲", StaffRole::Midwife).await;
    let (_, b_secret, _) = f.add("田中 由美", StaffRole::PublicHealthNurse).await;
    let idle = f
        .login("佐藤 美咲", &code(&a_secret, at(0)), at(0))
        .await
        .unwrap();
    // At 25 min the first has idled out (at 15 min), but its row is kept so
    // that the person can still be told why.
    assert_eq!(f.accounts.prune_sessions(at(25 * MIN)).await.unwrap(), 0);
    // A day after it ended, it is forgotten; the second is in use.
    let day = 24 * 3600;
    let start = at(day + 10 * MIN);
    let live = f
        .login("田中 由美", &code(&b_secret, start), start)
        .await
        .unwrap();
    let (before, after) = (at(day + 14 * MIN), at(day + 15 * MIN));
    assert_eq!(f.accounts.prune_sessions(before).await.unwrap(), 0);
    assert_eq!(f.accounts.prune_sessions(after).await.unwrap(), 1);
    let gone = f.accounts.touch(&idle.token, after).await;
    assert!(matches!(gone, Err(SessionEnded::Unknown)), "{gone:?}");
    f.accounts.touch(&live.token, after).await.unwrap();
    assert_eq!(f.accounts.prune_sessions(after).await.unwrap(), 0);
}

#[tokio::test]
async fn logout_ends_the_session_and_csrf_is_per_session() {
    let f = Fixture::new().await;
    let (_, secret, _) = f.add("佐藤 美咲", StaffRole::Midwife).await;
    let a = f
        .login("佐藤 美咲", &code(&secret, at(0)), at(0))
        .await
        .unwrap();
    let b = f
        .login("佐藤 美咲", &code(&secret, at(30)), at(30))
        .await
        .unwrap();
    assert!(a.csrf.matches(a.token.csrf().expose()));
    assert!(!a.csrf.matches(b.csrf.expose()));
    assert!(!a.csrf.matches(""));
    assert!(
        a.token
            .set_cookie()
            .ends_with("; Path=/; Secure; HttpOnly; SameSite=Strict")
    );
    assert_eq!(format!("{:?}", a.token), "SessionToken(…)");
    f.accounts.logout(&a.token).await.unwrap();
    assert!(f.accounts.validate(&a.token, at(40)).await.is_err());
    f.accounts.validate(&b.token, at(40)).await.unwrap();
}

#[tokio::test]
async fn disabling_ends_live_sessions_and_a_disabled_account_is_told_so() {
    let f = Fixture::new().await;
    let (admin, _, _) = f.add("管理 太郎", StaffRole::Administrator).await;
    let (nurse, secret, _) = f.add("佐藤 美咲", StaffRole::Midwife).await;
    let s = f
        .login("佐藤 美咲", &code(&secret, at(0)), at(0))
        .await
        .unwrap();
    f.accounts
        .disable(Actor::Staff(&admin), nurse.id, at(MIN))
        .await
        .unwrap();
    let ended = f.accounts.touch(&s.token, at(MIN + 1)).await;
    assert!(matches!(ended, Err(SessionEnded::Unknown)), "{ended:?}");
    let now = at(2 * MIN);
    let refused = f.login("佐藤 美咲", &code(&secret, now), now).await;
    assert!(matches!(refused, Err(LoginError::Disabled)), "{refused:?}");
    // A wrong password does not learn that the account is disabled.
    let wrong = f
        .accounts
        .login(
            "佐藤 美咲",
            "春の空に燕が低く飛ぶ日のこと",
            "000000",
            ADDRESS,
            now,
        )
        .await;
    assert!(
        matches!(wrong, Err(LoginError::InvalidCredentials)),
        "{wrong:?}"
    );

    f.accounts
        .enable(Actor::NodeConsole, nurse.id, at(3 * MIN))
        .await
        .unwrap();
    let now = at(4 * MIN);
    f.login("佐藤 美咲", &code(&secret, now), now)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_last_administrator_cannot_be_disabled_and_only_administrators_manage() {
    let f = Fixture::new().await;
    let (admin, _, _) = f.add("管理 太郎", StaffRole::Administrator).await;
    let (nurse, _, _) = f.add("佐藤 美咲", StaffRole::Midwife).await;
    let last = f
        .accounts
        .disable(Actor::NodeConsole, admin.id, at(MIN))
        .await;
    assert!(
        matches!(last, Err(StaffError::LastAdministrator)),
        "{last:?}"
    );
    let not_admin = f
        .accounts
        .disable(Actor::Staff(&nurse), admin.id, at(MIN))
        .await;
    assert!(
        matches!(not_admin, Err(StaffError::NotAdministrator)),
        "{not_admin:?}"
    );
    let log = f
        .accounts
        .access_log(Actor::Staff(&nurse), None, None, at(MIN))
        .await;
    assert!(matches!(log, Err(StaffError::NotAdministrator)), "{log:?}");

    let (second, _, _) = f.add("管理 次郎", StaffRole::Administrator).await;
    // Not oneself, even with another administrator left.
    let own = f
        .accounts
        .disable(Actor::Staff(&second), second.id, at(MIN))
        .await;
    assert!(matches!(own, Err(StaffError::OwnAccount)), "{own:?}");
    f.accounts
        .disable(Actor::Staff(&second), admin.id, at(MIN))
        .await
        .unwrap();
    let missing = f
        .accounts
        .disable(Actor::NodeConsole, StaffId::new(), at(MIN))
        .await;
    assert!(
        matches!(missing, Err(StaffError::NotFound(_))),
        "{missing:?}"
    );
}

#[tokio::test]
async fn a_new_account_is_refused_a_weak_password_a_taken_name_and_a_bad_name() {
    let f = Fixture::new().await;
    f.add("佐藤 美咲", StaffRole::Midwife).await;
    let new = |name, password| NewStaff {
        name,
        role: StaffRole::Clerk,
        contact: "",
        password,
    };
    let weak = f
        .accounts
        .add(Actor::NodeConsole, new("鈴木 花子", "password1234"), at(0))
        .await;
    assert!(
        matches!(weak, Err(StaffError::WeakPassword(WeakPassword::Common))),
        "{weak:?}"
    );
    let taken = f
        .accounts
        .add(Actor::NodeConsole, new(" 佐藤 美咲 ", PASSWORD), at(0))
        .await;
    assert!(
        matches!(&taken, Err(StaffError::NameTaken(n)) if n == "佐藤 美咲"),
        "{taken:?}"
    );
    let colon = f
        .accounts
        .add(Actor::NodeConsole, new("a:b", PASSWORD), at(0))
        .await;
    assert!(matches!(colon, Err(StaffError::InvalidName)), "{colon:?}");
    assert_eq!(f.accounts.list().await.unwrap().len(), 1);
}

#[tokio::test]
async fn resets_end_sessions_and_replace_what_they_reset() {
    let f = Fixture::new().await;
    let (nurse, secret, codes) = f.add("佐藤 美咲", StaffRole::Midwife).await;
    let s = f
        .login("佐藤 美咲", &code(&secret, at(0)), at(0))
        .await
        .unwrap();
    let new_password = "夏の海に白い帆が三つ見える";
    f.accounts
        .reset_password(Actor::NodeConsole, nurse.id, new_password, at(MIN))
        .await
        .unwrap();
    assert!(f.accounts.validate(&s.token, at(MIN + 1)).await.is_err());
    let now = at(2 * MIN);
    let old = f.login("佐藤 美咲", &code(&secret, now), now).await;
    assert!(
        matches!(old, Err(LoginError::InvalidCredentials)),
        "{old:?}"
    );
    let s = f
        .accounts
        .login("佐藤 美咲", new_password, &code(&secret, now), ADDRESS, now)
        .await
        .unwrap();

    let enrolment = f
        .accounts
        .reset_second_factor(Actor::NodeConsole, nurse.id, at(3 * MIN))
        .await
        .unwrap();
    assert!(
        f.accounts
            .validate(&s.token, at(3 * MIN + 1))
            .await
            .is_err()
    );
    let now = at(4 * MIN);
    let stale = f
        .accounts
        .login("佐藤 美咲", new_password, &codes[0], ADDRESS, now)
        .await;
    assert!(
        matches!(stale, Err(LoginError::InvalidCredentials)),
        "{stale:?}"
    );
    let fresh = TotpSecret::from_base32(&enrolment.secret_base32).unwrap();
    f.accounts
        .login("佐藤 美咲", new_password, &code(&fresh, now), ADDRESS, now)
        .await
        .unwrap();
}

#[tokio::test]
async fn end_all_for_ends_every_session_of_one_person_only() {
    let f = Fixture::new().await;
    let (nurse, secret, _) = f.add("佐藤 美咲", StaffRole::Midwife).await;
    let (_, other_secret, _) = f.add("鈴木 花子", StaffRole::Clerk).await;
    f.login("佐藤 美咲", &code(&secret, at(0)), at(0))
        .await
        .unwrap();
    f.login("佐藤 美咲", &code(&secret, at(30)), at(30))
        .await
        .unwrap();
    let other = f
        .login("鈴木 花子", &code(&other_secret, at(0)), at(0))
        .await
        .unwrap();
    assert_eq!(f.accounts.end_all_for(nurse.id).await.unwrap(), 2);
    f.accounts.validate(&other.token, at(MIN)).await.unwrap();
}

#[tokio::test]
async fn views_are_logged_read_by_range_exported_and_never_rewritten() {
    let f = Fixture::new().await;
    let (admin, _, _) = f.add("管理 太郎", StaffRole::Administrator).await;
    let (nurse, _, _) = f.add("=佐藤 美咲", StaffRole::Midwife).await;
    let envelope = crate::protocol::EnvelopeId::new().to_string();
    f.accounts
        .record_view(&nurse, Viewed::Envelope, &envelope, at(MIN))
        .await
        .unwrap();
    f.accounts
        .record_view(&nurse, Viewed::Case, "case-3fa2c81b09d4", at(3 * MIN))
        .await
        .unwrap();
    let all = f
        .accounts
        .access_log(Actor::Staff(&admin), None, None, at(4 * MIN))
        .await
        .unwrap();
    assert_eq!(all.len(), 3, "{all:?}");
    assert_eq!(
        (all[2].what, all[2].staff_id),
        (Viewed::AccessLog, admin.id)
    );
    assert_eq!(
        (
            all[0].staff_id,
            all[0].staff_role,
            all[0].what,
            all[0].record_id.as_str()
        ),
        (
            nurse.id,
            StaffRole::Midwife,
            Viewed::Envelope,
            envelope.as_str()
        )
    );
    let range = f
        .accounts
        .access_log(
            Actor::NodeConsole,
            Some(at(2 * MIN)),
            Some(at(4 * MIN)),
            at(5 * MIN),
        )
        .await
        .unwrap();
    assert_eq!(range.len(), 1);
    assert_eq!(range[0].what, Viewed::Case);
    let everything = f
        .accounts
        .access_log(Actor::NodeConsole, None, None, at(5 * MIN))
        .await
        .unwrap();
    assert_eq!(everything.last().unwrap().what, Viewed::AccessLog);
    assert_eq!(everything.last().unwrap().staff_id, admin.id);

    let mut csv = Vec::new();
    write_csv(&range, &mut csv).unwrap();
    let text = String::from_utf8(csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "\u{feff}seq,at,staff_id,staff_name,staff_role,what,record_id"
    );
    assert!(
        lines[1].contains(",'=佐藤 美咲,midwife,case,case-3fa2c81b09d4"),
        "{}",
        lines[1]
    );

    let pool = sqlx::SqlitePool::connect(&f.url).await.unwrap();
    for sql in [
        "UPDATE access_log SET record_id = 'x'",
        "DELETE FROM access_log",
    ] {
        let refused = sqlx::query(sql).execute(&pool).await;
        assert!(refused.is_err(), "{sql} was allowed");
    }
}
