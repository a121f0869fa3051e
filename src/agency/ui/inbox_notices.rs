//! The hub's notices (`agency notices`) as the inbox shows them, in the
//! staff's words: a missed 受理 deadline (緊急, in red), a meeting coming
//! up, a plan review due or overdue, a consent that ended, a delivery
//! cancelled. Each names agencies by name, links what it is about, and
//! carries its deadline with the time left (rendered here; live.js updates
//! it each minute).

use super::UiState;
use super::error::PageError;
use super::inbox::local_time;
use super::inbox_filter::remaining;
use crate::i18n::Lang;
use crate::protocol::notice::ConsentEnd;
use crate::protocol::{Notice, Timestamp};

/// How many notices the inbox shows, newest first.
const SHOWN: usize = 10;

/// A deadline and the time left, for a `<time>` that live.js counts down.
pub struct Deadline {
    /// RFC 3339, for the `datetime` attribute.
    pub iso: String,
    /// Japan time, to the minute.
    pub at: String,
    /// 「あと42分」「12分超過」.
    pub left: String,
    pub overdue: bool,
}

impl Deadline {
    pub fn new(at: Timestamp, now: Timestamp, lang: Lang) -> Self {
        Deadline {
            iso: at.to_string(),
            at: local_time(at),
            left: remaining(at, now, lang),
            overdue: at <= now,
        }
    }
}

/// One notice as shown.
pub struct NoticeView {
    /// 緊急: shown in red, first.
    pub urgent: bool,
    pub title: String,
    pub text: String,
    /// Where what it is about opens, and the link's words.
    pub link: Option<(String, String)>,
    /// What the deadline is (期限, 開始, 見直し日) and when.
    pub deadline: Option<(String, Deadline)>,
}

/// The newest notices, urgent ones first.
pub async fn load(state: &UiState, lang: Lang) -> Result<Vec<NoticeView>, PageError> {
    let now = Timestamp::now();
    let mut shown: Vec<NoticeView> = state
        .node
        .records()
        .notices()
        .await?
        .into_iter()
        .take(SHOWN)
        .map(|(_, n)| view(state, &n, now, lang))
        .collect();
    shown.sort_by_key(|n| !n.urgent);
    Ok(shown)
}

fn view(state: &UiState, notice: &Notice, now: Timestamp, lang: Lang) -> NoticeView {
    let directory = state.node.directory();
    match notice {
        Notice::DeadlineMissed {
            referral,
            recipient,
            urgency,
            level,
            deadline,
        } => NoticeView {
            urgent: true,
            title: format!(
                "{}（{}{level}{}）",
                lang.pick("受理期限超過", "Receipt overdue"),
                lang.pick("督促", "escalation "),
                lang.pick("回目", ""),
            ),
            text: match lang {
                Lang::Ja => format!(
                    "{}宛の紹介（{}）が、期限までに受理されていません。",
                    directory.name_of(recipient.as_str()),
                    urgency.label(lang)
                ),
                Lang::En => format!(
                    "The referral to {} ({}) was not acknowledged in time.",
                    directory.name_of(recipient.as_str()),
                    urgency.label(lang)
                ),
            },
            link: Some((
                format!("/envelopes/{referral}"),
                lang.pick("紹介を開く", "Open the referral").to_owned(),
            )),
            deadline: Some((
                lang.pick("期限", "Deadline").to_owned(),
                Deadline::new(*deadline, now, lang),
            )),
        },
        Notice::MeetingReminder {
            kind,
            case_id,
            starts_at,
            ..
        } => NoticeView {
            urgent: false,
            title: lang.pick("会議のお知らせ", "Meeting reminder").to_owned(),
            text: format!(
                "{}（{} {case_id}）",
                kind.label(lang),
                lang.pick("ケース", "case")
            ),
            link: Some((
                "/meetings".into(),
                lang.pick("会議を開く", "Open meetings").to_owned(),
            )),
            deadline: Some((
                lang.pick("開始", "Starts").to_owned(),
                Deadline::new(*starts_at, now, lang),
            )),
        },
        Notice::PlanReviewDue {
            version,
            case_id,
            review_on,
            ..
        }
        | Notice::PlanReviewOverdue {
            version,
            case_id,
            review_on,
            ..
        } => {
            let overdue = matches!(notice, Notice::PlanReviewOverdue { .. });
            NoticeView {
                urgent: overdue,
                title: match overdue {
                    true => lang.pick("支援計画の見直し日を過ぎています", "Plan review overdue"),
                    false => lang.pick("支援計画の見直し日が近づいています", "Plan review due"),
                }
                .to_owned(),
                text: format!(
                    "{} {case_id}、{} {version}",
                    lang.pick("ケース", "case"),
                    lang.pick("版", "version"),
                ),
                link: Some((
                    "/plans".into(),
                    lang.pick("支援計画を開く", "Open plans").to_owned(),
                )),
                deadline: Some((
                    lang.pick("見直し日", "Review").to_owned(),
                    Deadline::new(review_on.start(), now, lang),
                )),
            }
        }
        Notice::ConsentEnded {
            case_id,
            reason,
            envelopes,
            sent,
            ended_by,
            withdrawal,
            ..
        } => {
            let withdrawn = *reason == ConsentEnd::Withdrawn;
            let at = ended_by
                .as_ref()
                .map(|a| directory.name_of(a.as_str()))
                .unwrap_or_default();
            let text = match lang {
                Lang::Ja => format!(
                    "ケース {case_id} の本人同意が{}{}。この同意に基づいて受け取った記録{}件・送った記録{}件には「同意終了」と表示されます。以後、この同意に基づく共有はできません。",
                    if withdrawn {
                        "撤回されました"
                    } else {
                        "期間満了で終了しました"
                    },
                    if at.is_empty() {
                        String::new()
                    } else {
                        format!("（撤回を受けた機関: {at}）")
                    },
                    envelopes.len(),
                    sent.len(),
                ),
                Lang::En => format!(
                    "Her consent on case {case_id} {}{}. The {} records received and {} sent under it are marked 'consent ended'; nothing more may be shared under it.",
                    if withdrawn {
                        "was withdrawn"
                    } else {
                        "expired"
                    },
                    if at.is_empty() {
                        String::new()
                    } else {
                        format!(" (at {at})")
                    },
                    envelopes.len(),
                    sent.len(),
                ),
            };
            NoticeView {
                urgent: false,
                title: match withdrawn {
                    true => lang.pick("同意の撤回", "Consent withdrawn"),
                    false => lang.pick("同意の期間満了", "Consent expired"),
                }
                .to_owned(),
                text,
                link: withdrawal.map(|w| {
                    (
                        format!("/envelopes/{w}"),
                        lang.pick(
                            "撤回の記録（本人の申し出）を開く",
                            "Open the withdrawal (what she said)",
                        )
                        .to_owned(),
                    )
                }),
                deadline: None,
            }
        }
        Notice::DeliveryCancelled {
            envelope_id,
            recipient,
            ..
        } => {
            let name = directory.name_of(recipient.as_str());
            let text = match lang {
                Lang::Ja => format!(
                    "同意が終了したため、{name}へはまだ届いていなかった記録の配信を取り消しました。"
                ),
                Lang::En => {
                    format!(
                        "The consent ended, so a record not yet delivered to {name} was cancelled."
                    )
                }
            };
            let title = lang.pick("配信の取消", "Delivery cancelled");
            cancelled(title, text, envelope_id, false, lang)
        }
        // The directory the node holds may no longer list the recipient:
        // its id is shown as it is then.
        Notice::RecipientRevoked {
            envelope_id,
            recipient,
        } => {
            let name = directory.name_of(recipient.as_str());
            let text = match lang {
                Lang::Ja => format!(
                    "{name}はディレクトリから取り消されたため、まだ届いていなかった記録の配信を取り消しました。引き継ぐ機関に改めて送ってください。"
                ),
                Lang::En => format!(
                    "{name} was revoked from the directory, so a record not yet delivered to it was cancelled; send it again to the agency taking over."
                ),
            };
            let title = lang.pick(
                "配信の取消（宛先機関の取消）",
                "Delivery cancelled: recipient revoked",
            );
            cancelled(title, text, envelope_id, true, lang)
        }
    }
}

/// A delivery cancelled before it arrived, with a link to the record.
fn cancelled(
    title: &str,
    text: String,
    envelope_id: &crate::protocol::EnvelopeId,
    urgent: bool,
    lang: Lang,
) -> NoticeView {
    NoticeView {
        urgent,
        title: title.to_owned(),
        text,
        link: Some((
            format!("/envelopes/{envelope_id}"),
            lang.pick("取り消した記録を開く", "Open the record")
                .to_owned(),
        )),
        deadline: None,
    }
}
