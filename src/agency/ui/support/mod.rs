//! The 支援台帳 on the center's node: the morning list (`GET /support`,
//! filters that survive a reload, a contact recorded in two clicks from
//! the row, the referrals not yet on the ledger, the plans due for review),
//! the row form (`/support/new`, `/support/{id}/edit`) and one row with its
//! computed dates, contacts, tier history and linked cases (`/support/{id}`).
//! Every handler starts with `center_only`: any other node answers 403,
//! saying whose ledger it is. The import, the export and the indicators
//! pages are their own modules; this one links to them.

mod form;
mod row;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::UiState;
use super::auth::SignedIn;
use super::error::{PageError, center_only};
use super::inbox::local_time;
use super::lang::{Chrome, PageLang};
use crate::agency::support_ledger::morning::{self, Candidate};
use crate::agency::support_ledger::{
    self, ContactKind, Ledger, MorningFilter, Progress, SubjectKind, SubjectView,
    SupportLedgerError, Tier,
};
use crate::i18n::Lang;
use crate::protocol::Timestamp;
use crate::protocol::day::Day;
use crate::protocol::referral::ReferralTiming;

/// The 支援台帳's routes.
pub fn routes() -> Router<UiState> {
    Router::new()
        .route("/support", get(list))
        .route("/support/new", get(form::new_form).post(form::create))
        .route("/support/{id}", get(row::page))
        .route("/support/{id}/edit", get(form::edit_form).post(form::save))
        .route("/support/{id}/contact", post(row::contact))
        .route("/support/{id}/link", post(row::link))
}

/// How far ahead the plans panel looks for a review day.
const PLAN_DAYS: i64 = 7;

/// The morning filters, as the query carries them (and as the contact
/// form carries them back, so the list comes back as it was).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct MorningQuery {
    /// `today`, `week`, or blank (every row).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    due: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    tier: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    district: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    staff: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    closed: String,
}

impl MorningQuery {
    fn filter(&self, today: Day) -> MorningFilter {
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        MorningFilter {
            due_by: match self.due.as_str() {
                "today" => Some(today),
                "week" => Some(today.plus_days(7)),
                _ => None,
            },
            tier: Tier::parse(&self.tier),
            district: text(&self.district),
            staff: text(&self.staff),
            closed: !self.closed.is_empty(),
        }
    }

    /// The query string that brings the list back as it is.
    fn encoded(&self) -> String {
        serde_urlencoded::to_string(self).unwrap_or_default()
    }

    /// A query string posted back by a form, re-read so that nothing but
    /// the filters reaches the redirect.
    fn from_posted(text: &str) -> Self {
        serde_urlencoded::from_str(text).unwrap_or_default()
    }
}

/// Why a ledger read failed: never the staff's to fix.
fn ledger_failed(e: SupportLedgerError) -> PageError {
    match e {
        SupportLedgerError::Store(e) => PageError::Store(e),
        SupportLedgerError::UnknownSubject(_) => PageError::NotFound,
        other => PageError::Store(crate::store::StoreError::Corrupt(other.to_string())),
    }
}

/// The ledger as it stands today.
async fn ledger(state: &UiState, today: Day) -> Result<Ledger, PageError> {
    support_ledger::load(state.node.records(), today)
        .await
        .map_err(ledger_failed)
}

/// 月齢 (a row with a birth date) or 妊娠週数 (a pregnant woman's row, from
/// 分娩予定日), as staff write them.
fn age(v: &SubjectView, today: Day, lang: Lang) -> String {
    match (v.subject.kind, v.computed.age_months, v.subject.due_date) {
        (SubjectKind::Child, Some(m), _) => match lang {
            Lang::Ja => format!("{m}か月"),
            Lang::En => format!("{m} months"),
        },
        (SubjectKind::Pregnant, _, Some(due)) => {
            let days = 280 - today.days_until(due);
            if (0..=44 * 7).contains(&days) {
                match lang {
                    Lang::Ja => format!("妊娠{}週{}日", days / 7, days % 7),
                    Lang::En => format!("{} weeks {} days pregnant", days / 7, days % 7),
                }
            } else {
                "—".into()
            }
        }
        _ => "—".into(),
    }
}

/// The next contact: the day, how late it is, the rule behind it.
pub struct Next {
    pub day: String,
    /// 「3日超過」, 「今日」; empty when it is still ahead.
    pub late: String,
    pub overdue: bool,
    pub rule: &'static str,
}

fn next(v: &SubjectView, today: Day, lang: Lang) -> Option<Next> {
    let next = v.computed.next_contact?;
    let late = next.day.days_until(today);
    Some(Next {
        day: next.day.to_string(),
        late: match (late, lang) {
            (0, _) => lang.pick("今日", "today").into(),
            (n, Lang::Ja) if n > 0 => format!("{n}日超過"),
            (n, Lang::En) if n > 0 => format!("{n} days overdue"),
            _ => String::new(),
        },
        overdue: late > 0,
        rule: next.rule.label(lang),
    })
}

/// The 伴走型 contact point that comes next for a pregnant woman's row.
fn next_point(v: &SubjectView, lang: Lang) -> String {
    if v.subject.kind != SubjectKind::Pregnant {
        return "—".into();
    }
    let open = v.computed.points.iter().find(|(_, p)| {
        matches!(
            p,
            Progress::Missed { .. } | Progress::Due { .. } | Progress::Upcoming { .. }
        )
    });
    let state = |p: &Progress| match p {
        Progress::Due { due, .. } | Progress::Upcoming { due, .. } => {
            format!("{} {due}", p.label(lang))
        }
        _ => p.label(lang).to_owned(),
    };
    match open {
        Some((point, p)) => match lang {
            Lang::Ja => format!("{}（{}）", point.label(lang), state(p)),
            Lang::En => format!("{} ({})", point.label(lang), state(p)),
        },
        None if v
            .computed
            .points
            .iter()
            .all(|(_, p)| matches!(p, Progress::Done { .. })) =>
        {
            lang.pick("すべて実施済", "all done").into()
        }
        None => lang
            .pick("未設定（妊娠届出日・分娩予定日なし）", "unscheduled")
            .into(),
    }
}

/// A row of the morning list.
pub struct ListRow {
    pub id: String,
    pub number: String,
    pub name: String,
    pub kind: &'static str,
    pub age: String,
    pub tier: &'static str,
    /// The rule that raised the tier, if one did.
    pub tier_rule: Option<&'static str>,
    pub next: Option<Next>,
    pub district: String,
    pub staff: String,
    pub point: String,
    pub closed: bool,
}

fn list_row(v: &SubjectView, today: Day, lang: Lang) -> ListRow {
    ListRow {
        id: v.id.clone(),
        number: v.subject.number.clone(),
        name: v.subject.name.clone(),
        kind: v.subject.kind.label(lang),
        age: age(v, today, lang),
        tier: v.computed.tier.label(lang),
        tier_rule: v.computed.tier_rule.map(|r| r.label(lang)),
        next: next(v, today, lang),
        district: v.subject.district.clone(),
        staff: v.subject.staff.clone(),
        point: next_point(v, lang),
        closed: v.subject.closed_on.is_some(),
    }
}

/// A referral received about a case on no row.
pub struct UnlinkedItem {
    pub case: String,
    pub sender: String,
    pub timing: &'static str,
    pub name: String,
    pub birth_date: String,
    pub received: String,
    pub candidates: Vec<Candidate>,
}

/// A plan due for review on one of the ledger's cases.
pub struct PlanItem {
    pub subject_id: String,
    pub number: String,
    pub plan_id: String,
    pub version: u32,
    pub review_on: String,
    pub overdue: bool,
}

fn timing(t: ReferralTiming, lang: Lang) -> &'static str {
    match t {
        ReferralTiming::Pregnancy => lang.pick("妊娠中", "during pregnancy"),
        ReferralTiming::Postpartum => lang.pick("出産後（出生連絡）", "after the birth"),
    }
}

/// Every kind, stable name and label.
fn kinds(lang: Lang) -> Vec<(&'static str, &'static str)> {
    ContactKind::ALL
        .iter()
        .map(|k| (k.as_str(), k.label(lang)))
        .collect()
}

#[derive(Template)]
#[template(path = "ui/support.html")]
struct MorningPage {
    chrome: Chrome,
    q: MorningQuery,
    /// The filters as a query string, carried back by each contact form.
    back: String,
    notice: Option<String>,
    rows: Vec<ListRow>,
    total: usize,
    tiers: Vec<(&'static str, &'static str)>,
    districts: Vec<String>,
    staffs: Vec<String>,
    kinds: Vec<(&'static str, &'static str)>,
    unlinked: Vec<UnlinkedItem>,
    plans: Vec<PlanItem>,
    today: String,
    me: String,
}

/// What a `done=` in the query reports.
#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
    #[serde(default)]
    row: String,
}

impl Done {
    /// The notice, naming the row by its number and name.
    fn notice(&self, ledger: &Ledger, lang: Lang) -> Option<String> {
        let who = ledger
            .get(&self.row)
            .map(|v| format!("{} {}", v.subject.number, v.subject.name))
            .unwrap_or_default();
        let text = match (self.done.as_str(), lang) {
            ("contact", Lang::Ja) => {
                format!("{who} の接触を記録しました。次回接触予定日を計算し直しました。")
            }
            ("contact", Lang::En) => {
                format!("The contact with {who} was recorded; the next contact day was recomputed.")
            }
            ("linked", Lang::Ja) => format!("連絡票のケースを {who} の行に紐付けました。"),
            ("linked", Lang::En) => format!("The referral's case was linked to {who}."),
            _ => return None,
        };
        Some(text)
    }
}

/// The morning list: the rows the filters let through, most urgent first,
/// and the two panels.
#[tracing::instrument(skip_all)]
pub async fn list(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Query(q): Query<MorningQuery>,
    Query(done): Query<Done>,
) -> Result<Html<String>, PageError> {
    let node = &state.node;
    center_only(node)?;
    let today = Day::of(Timestamp::now());
    let ledger = ledger(&state, today).await?;
    let rows: Vec<ListRow> = q
        .filter(today)
        .apply(&ledger)
        .into_iter()
        .map(|v| list_row(v, today, lang))
        .collect();
    let choices = |pick: fn(&SubjectView) -> &String| {
        let mut all: Vec<String> = ledger
            .subjects
            .iter()
            .map(pick)
            .filter(|s| !s.is_empty())
            .cloned()
            .collect();
        all.sort();
        all.dedup();
        all
    };
    let unlinked = morning::unlinked(node.records(), &ledger)
        .await?
        .into_iter()
        .map(|u| UnlinkedItem {
            case: u.case.to_string(),
            sender: node.directory().name_of(u.sender.as_str()),
            timing: timing(u.timing, lang),
            name: u.name,
            birth_date: u.birth_date.to_string(),
            received: local_time(u.received_at),
            candidates: u.candidates,
        })
        .collect();
    let plans = morning::plans_due(
        node.records(),
        node.id(),
        &ledger,
        today.plus_days(PLAN_DAYS),
    )
    .await?
    .into_iter()
    .map(|p| PlanItem {
        subject_id: p.subject_id,
        number: p.number,
        plan_id: p.plan_id.to_string(),
        version: p.version,
        review_on: p.review_on.to_string(),
        overdue: p.review_on < today,
    })
    .collect();
    let page = MorningPage {
        chrome: signed.chrome(lang),
        back: q.encoded(),
        notice: done.notice(&ledger, lang),
        total: ledger.subjects.len(),
        rows,
        tiers: Tier::ALL
            .iter()
            .map(|t| (t.as_str(), t.label(lang)))
            .collect(),
        districts: choices(|v| &v.subject.district),
        staffs: choices(|v| &v.subject.staff),
        kinds: kinds(lang),
        unlinked,
        plans,
        today: today.to_string(),
        me: signed.member.name.clone(),
        q,
    };
    Ok(Html(page.render()?))
}
