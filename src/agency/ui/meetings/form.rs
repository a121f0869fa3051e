//! What the meeting, minutes and plan forms share: the submitted fields
//! (checkbox groups repeat a name, so a form is read as its pairs), the
//! problems shown at each field, the legal basis as the CLI's `BasisArgs`
//! take it, and a send the hub refused, in the staff's words.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};

use crate::agency::ui::UiState;
use crate::agency::ui::auth::SignedIn;
use crate::agency::ui::lang::PageLang;
use crate::agency::{Node, NodeError, Sent};
use crate::i18n::Lang;
use crate::protocol::{AgencyId, ConsentId, InfoCategory, LegalBasis};

/// A submitted form, as its `name=value` pairs in order.
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, trimmed ("" when absent).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// Whether `name` holds `value` (a selected option).
    pub fn is(&self, name: &str, value: &str) -> bool {
        self.get(name) == value
    }

    /// Every non-empty value of `name` (a checkbox group).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
            .collect()
    }

    /// The lines of a textarea, blank ones dropped.
    pub fn lines(&self, name: &str) -> Vec<String> {
        self.get(name)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// A form posted by a signed-in member, its CSRF token checked: what
/// every state change on these screens starts from.
pub struct Posted {
    pub signed: SignedIn,
    pub lang: Lang,
    pub f: Fields,
}

impl FromRequest<UiState> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, state: &UiState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let signed = SignedIn::from_request_parts(&mut parts, state).await?;
        let Ok(PageLang(lang)) = PageLang::from_request_parts(&mut parts, state).await;
        let req = Request::from_parts(parts, body);
        let axum::Form(pairs) = axum::Form::<Vec<(String, String)>>::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let f = Fields(pairs);
        signed
            .check_csrf(f.get("csrf"))
            .map_err(IntoResponse::into_response)?;
        Ok(Posted { signed, lang, f })
    }
}

/// What is wrong with a form, field by field: shown at the field, and
/// nothing is sent while any is left.
#[derive(Default)]
pub struct Problems(pub Vec<(&'static str, String)>);

impl Problems {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push((field, message.into()));
    }

    /// The message for `field`, if it has one.
    pub fn at(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The bases staff may choose, wire name and label.
pub fn bases(lang: Lang) -> Vec<(&'static str, &'static str)> {
    let consent = LegalBasis::Consent {
        consent_id: ConsentId::new(),
    };
    [
        consent,
        LegalBasis::YotaikyoSharing,
        LegalBasis::ProvisionToMunicipality,
        LegalBasis::AbuseNotification,
        LegalBasis::VitalInterest,
    ]
    .iter()
    .map(|b| (b.as_str(), b.label(lang)))
    .collect()
}

/// A category's wire name (`pregnancy_medical`).
pub fn category_name(c: InfoCategory) -> String {
    match serde_json::to_value(c) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Every category, wire name and label.
pub fn categories(lang: Lang) -> Vec<(String, &'static str)> {
    InfoCategory::ALL
        .iter()
        .map(|c| (category_name(*c), c.label(lang)))
        .collect()
}

/// The categories ticked in `name`; a problem at `name` when none is.
pub fn chosen_categories(
    f: &Fields,
    name: &'static str,
    lang: Lang,
    problems: &mut Problems,
) -> Vec<InfoCategory> {
    let chosen: Vec<InfoCategory> = f
        .all(name)
        .into_iter()
        .filter_map(|v| {
            InfoCategory::ALL
                .into_iter()
                .find(|c| category_name(*c) == v)
        })
        .collect();
    if chosen.is_empty() {
        problems.add(
            name,
            lang.pick(
                "含まれる本人の情報区分を1つ以上選んでください。",
                "Choose at least one category of her information it discloses.",
            ),
        );
    }
    chosen
}

/// The basis fields (`basis`, `consent_id`, `justification`), checked as
/// the CLI checks `--basis`, `--consent-id` and `--justification`.
pub fn basis(
    f: &Fields,
    lang: Lang,
    problems: &mut Problems,
) -> Option<(LegalBasis, Option<String>)> {
    let justification = Some(f.get("justification").to_owned()).filter(|j| !j.is_empty());
    let basis = match f.get("basis") {
        "consent" => match f.get("consent_id").parse::<ConsentId>() {
            Ok(consent_id) => LegalBasis::Consent { consent_id },
            Err(_) => {
                problems.add(
                    "consent_id",
                    lang.pick(
                        "同意IDを入力してください（同意を記録したときに表示された ID）。",
                        "Enter the consent id (shown when the consent was recorded).",
                    ),
                );
                return None;
            }
        },
        other => match LegalBasis::statutory(other) {
            Some(b) => b,
            None => {
                problems.add(
                    "basis",
                    lang.pick("提供の根拠を選んでください。", "Choose the legal basis."),
                );
                return None;
            }
        },
    };
    if basis.is_statutory() && justification.is_none() {
        problems.add(
            "justification",
            lang.pick(
                "法令上の例外を用いるときは、その理由を書いてください。",
                "A statutory basis needs the reason it applies.",
            ),
        );
        return None;
    }
    Some((basis, justification))
}

/// The agencies ticked in `name`, each one in the directory.
pub fn agencies(node: &Node, f: &Fields, name: &str) -> Vec<AgencyId> {
    f.all(name)
        .into_iter()
        .filter_map(|v| v.parse::<AgencyId>().ok())
        .filter(|a| node.directory().get(a).is_some() && a != node.id())
        .collect()
}

/// Every other agency in the directory, id and name, for a checkbox group.
pub fn others(node: &Node) -> Vec<(String, String)> {
    node.directory()
        .agencies()
        .iter()
        .filter(|a| &a.id != node.id())
        .map(|a| (a.id.to_string(), a.name.clone()))
        .collect()
}

/// A send's outcome as staff read it: `Ok(true)` when the hub stored it,
/// `Ok(false)` when it waits for the hub, the hub's reason (agencies by
/// name) and the next step when refused.
pub fn outcome(node: &Node, sent: Result<Sent, NodeError>, lang: Lang) -> Result<bool, String> {
    match sent {
        Ok(Sent::Accepted { .. }) => Ok(true),
        Ok(Sent::Queued { .. }) => Ok(false),
        Err(e) => Err(refusal(node, e, lang)),
    }
}

/// A node error in the staff's words: the hub's reason with agencies named,
/// then what to do next on these screens.
pub fn refusal(node: &Node, e: NodeError, lang: Lang) -> String {
    use crate::protocol::ErrorCode;
    match e {
        NodeError::Refused(body) => {
            let why = node
                .directory()
                .named(lang.pick(&body.message, &body.message_en));
            let next = match body.code {
                ErrorCode::StalePlanVersion => lang.pick(
                    "次の手順: ほかの機関がその間にこのプランを改訂しました。ページを開き直して最新の版を確認し、あなたの変更をその版に入れてから、もう一度記録してください。",
                    "Next: someone revised this plan meanwhile. Reload the page, look at the latest version, merge your changes into it and record again.",
                ),
                ErrorCode::RecipientNotCovered
                | ErrorCode::CategoryNotCovered
                | ErrorCode::PurposeNotCovered => lang.pick(
                    "次の手順: 宛先・情報区分を根拠の範囲に合わせるか、本人に説明して範囲を広げた同意を記録し直してください。登録ケースで構成機関同士なら、要対協での共有（理由を記入）も使えます。",
                    "Next: keep the recipients and categories within the basis, or record a wider consent after explaining it to her. Between council members on a registered case, council sharing (with a reason) is possible.",
                ),
                ErrorCode::NotAttended => lang.pick(
                    "次の手順: その機関には全文ではなく抜粋を送ってください。出席したのなら、その機関が出欠を回答し直してから送ってください。",
                    "Next: send that agency an excerpt instead. If it did attend, it answers again first.",
                ),
                ErrorCode::MeetingCancelled => lang.pick(
                    "次の手順: 中止された会議には回答・変更・会議録はできません。必要なら新しい会議を開いてください。",
                    "Next: a cancelled meeting takes no answer, change or minutes; schedule a new meeting if needed.",
                ),
                _ => lang.pick(
                    "次の手順: 入力を確かめて直してから、もう一度送ってください。解決しないときは、相手の機関またはシステム管理者に連絡してください。",
                    "Next: check and correct the form, then send again. If that does not help, contact the other agency or the system administrator.",
                ),
            };
            format!("{why}\n{next}")
        }
        other => {
            tracing::warn!(error = ?anyhow::Error::from(other), "send failed");
            lang.pick(
                "送信できませんでした。何も送られていません。しばらくしてからもう一度送ってください。続く場合はシステム管理者に連絡してください。",
                "It could not be sent; nothing was sent. Try again later; if it persists, tell the system administrator.",
            )
            .to_owned()
        }
    }
}
