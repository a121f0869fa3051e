//! What staff see instead of wire names, and the same facts for `--json`:
//! every field a script reads carries the stable wire name (`name`) and the
//! label in the chosen language (`label`), so neither has to be scraped.

use serde::Serialize;

use crate::agency::Node;
use crate::directory::Directory;
use crate::i18n::Lang;
use crate::protocol::envelope::Metadata;
use crate::protocol::{
    Action, AgencyId, ConsentId, ErrorBody, ErrorCode, InfoCategory, LegalBasis, MessageKind,
    ReferralState, Urgency,
};

/// A wire name with its label.
#[derive(Serialize)]
pub struct Labeled {
    pub name: String,
    pub label: String,
}

impl Labeled {
    pub fn new(name: &str, label: &str) -> Self {
        Self {
            name: name.to_owned(),
            label: label.to_owned(),
        }
    }
}

/// An agency as the directory names it.
#[derive(Serialize)]
pub struct AgencyRef {
    pub id: String,
    pub name: String,
}

pub fn agency(node: &Node, id: &str) -> AgencyRef {
    let name = id
        .parse::<AgencyId>()
        .ok()
        .and_then(|id| node.directory().get(&id).map(|a| a.name.clone()))
        .unwrap_or_else(|| id.to_owned());
    AgencyRef {
        id: id.to_owned(),
        name,
    }
}

/// The agency staff name on the command line: its id, its name in the
/// directory, or its kind (`center`, `child-welfare`) when the directory
/// has exactly one of that kind.
pub fn resolve(directory: &Directory, text: &str) -> Option<AgencyId> {
    let text = text.trim();
    if let Some(a) = directory
        .agencies()
        .iter()
        .find(|a| a.id.as_str() == text || a.name == text)
    {
        return Some(a.id.clone());
    }
    let wire = text.replace('-', "_");
    let kind: crate::protocol::AgencyKind =
        serde_json::from_value(serde_json::Value::String(wire)).ok()?;
    let mut of_kind = directory.of_kind(kind);
    match (of_kind.next(), of_kind.next()) {
        (Some(only), None) => Some(only.id.clone()),
        _ => None,
    }
}

pub fn kind(kind: &str, lang: Lang) -> Labeled {
    let label = MessageKind::parse(kind).map_or(kind, |k| k.label(lang));
    Labeled::new(kind, label)
}

pub fn urgency(urgency: &str, lang: Lang) -> Labeled {
    let label = Urgency::parse(urgency).map_or(urgency, |u| u.label(lang));
    Labeled::new(urgency, label)
}

pub fn state(state: ReferralState, lang: Lang) -> Labeled {
    Labeled::new(state.as_str(), state.label(lang))
}

pub fn category(c: InfoCategory, lang: Lang) -> Labeled {
    let name = serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    Labeled::new(&name, c.label(lang))
}

/// Categories joined for a table cell; 「なし」 rather than `[]`.
pub fn categories_cell(cs: &[InfoCategory], lang: Lang) -> String {
    if cs.is_empty() {
        return lang.pick("なし", "none").to_owned();
    }
    cs.iter()
        .map(|c| c.label(lang))
        .collect::<Vec<_>>()
        .join("・")
}

/// The legal basis of a record, with the consent it names.
#[derive(Serialize)]
pub struct Basis {
    pub name: String,
    pub label: String,
    pub consent_id: Option<ConsentId>,
}

pub fn basis(b: &LegalBasis, lang: Lang) -> Basis {
    Basis {
        name: b.as_str().to_owned(),
        label: b.label(lang).to_owned(),
        consent_id: match b {
            LegalBasis::Consent { consent_id } => Some(*consent_id),
            _ => None,
        },
    }
}

/// A basis the hub reports by wire name.
pub fn basis_name(name: &str, lang: Lang) -> Labeled {
    Labeled::new(name, LegalBasis::label_of(name, lang).unwrap_or(name))
}

/// What a record's envelope says beyond the row: basis, consent, categories,
/// and for a reply the referral it answers and the state it reports.
#[derive(Serialize)]
pub struct Facts {
    pub case_id: Option<String>,
    pub basis: Option<Basis>,
    pub categories: Vec<Labeled>,
    pub referral_update: Option<ReplyFacts>,
}

/// A referral update: which referral, and its new state.
#[derive(Serialize)]
pub struct ReplyFacts {
    pub referral: String,
    pub state: Labeled,
}

pub fn facts(meta: &Metadata, lang: Lang) -> Facts {
    Facts {
        case_id: meta.case_id.as_ref().map(|c| c.to_string()),
        basis: meta.basis.as_ref().map(|b| basis(b, lang)),
        categories: meta.categories.iter().map(|c| category(*c, lang)).collect(),
        referral_update: match &meta.action {
            Some(Action::UpdateReferral { referral, state: s }) => Some(ReplyFacts {
                referral: referral.to_string(),
                state: state(*s, lang),
            }),
            _ => None,
        },
    }
}

/// The envelope metadata of a record this node holds, if readable.
pub async fn record_meta(node: &Node, id: &str) -> Option<Metadata> {
    let id = id.parse().ok()?;
    let bytes = node.records().envelope_bytes(id).await.ok()??;
    let envelope = crate::protocol::Envelope::parse(bytes).ok()?;
    Some(envelope.meta().clone())
}

/// The kind of a record as staff read it: a reply names its new state.
pub fn kind_cell(kind_name: &str, facts: Option<&Facts>, lang: Lang) -> String {
    let label = kind(kind_name, lang).label;
    match facts.and_then(|f| f.referral_update.as_ref()) {
        Some(r) => format!("{label}: {}", r.state.label),
        None => label,
    }
}

/// A refusal from the hub in the staff's language, agencies named as the
/// directory names them, and what to do next.
pub fn refusal(directory: &Directory, body: &ErrorBody, lang: Lang) -> String {
    let message = named(directory, lang.pick(&body.message, &body.message_en));
    match next_step(body.code, lang) {
        Some(step) => format!("{message}\n{step}"),
        None => message,
    }
}

/// A hub's sentence with every agency id preceded by the name staff know it
/// by: 「ひかり保育園（hikari-nursery）」.
pub fn named(directory: &Directory, text: &str) -> String {
    directory.named(text)
}

/// The CLI's own next step, in its flags.
fn next_step(code: ErrorCode, lang: Lang) -> Option<&'static str> {
    use ErrorCode::*;
    Some(match code {
        RecipientNotCovered | CategoryNotCovered | PurposeNotCovered | ConsentNotGranted
        | ConsentExpired | ConsentWithdrawn | ConsentNotFound => lang.pick(
            "次の手順: 本人に説明して同意の範囲を広げる（agency consent-record で記録し、新しい同意IDを --consent-id に指定して再送）か、法令上の例外に当たるときは --basis でその根拠を選び --justification に理由を書いて再送してください。",
            "next: explain to the person and widen the consent (record it with agency consent-record and send again with the new --consent-id), or, if a statutory exception applies, choose it with --basis and give the reason in --justification.",
        ),
        CaseNotRegistered => lang.pick(
            "次の手順: 調整機関にケースの要対協登録を依頼してください（agency case --classification …）。",
            "next: ask the 調整機関 to register the case with the council (agency case --classification …).",
        ),
        SenderNotCovered => lang.pick(
            "次の手順: この根拠で送れる機関か確認し、同意に基づいて送るか、センター・調整機関に相談してください。",
            "next: check that this basis allows your agency to send; send under a consent, or ask the center or 調整機関.",
        ),
        NotUrgent => lang.pick(
            "次の手順: 生命・身体の保護は --urgency emergency のときだけ使えます。急を要しないなら同意を得てください。",
            "next: protection of life or body needs --urgency emergency; if it is not urgent, obtain consent.",
        ),
        NotAttended => lang.pick(
            "次の手順: 欠席した機関には --excerpt-to で抜粋を送ってください（全文は --full-to の出席機関だけ）。",
            "next: send absent agencies an excerpt with --excerpt-to (the full minutes go to attendees only, --full-to).",
        ),
        StalePlanVersion => lang.pick(
            "次の手順: agency plan show --plan … で最新版を確認し、agency plan revise --plan … で最新版から改訂し直してください。",
            "next: read the latest version with agency plan show --plan …, then revise it with agency plan revise --plan ….",
        ),
        UnknownCase => lang.pick(
            "次の手順: agency case-open でケースを開設し、表示されたケースIDを --case に指定してください。",
            "next: open a case with agency case-open and pass its id with --case.",
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_name_an_agency_by_id_name_or_its_only_kind() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("certs-example")
            .join("directory.toml");
        let d = Directory::load(&path).unwrap();
        let id = |s: &str| resolve(&d, s).map(|a| a.to_string());
        assert_eq!(id("hikari-nursery").as_deref(), Some("hikari-nursery"));
        assert_eq!(id("ひかり保育園").as_deref(), Some("hikari-nursery"));
        assert_eq!(id("child-welfare").as_deref(), Some("minato-child-welfare"));
        assert_eq!(id("center").as_deref(), Some("minato-center"));
        assert_eq!(id("public-health"), None, "none of that kind");
        assert_eq!(id("nowhere"), None);
    }

    #[test]
    fn wire_names_become_labels_in_either_language() {
        let b = basis_name("abuse_notification", Lang::Ja);
        assert_eq!(b.name, "abuse_notification");
        assert!(b.label.starts_with("虐待通告"), "{}", b.label);
        assert!(
            basis_name("abuse_notification", Lang::En)
                .label
                .starts_with("abuse")
        );
        assert_eq!(basis_name("consent", Lang::Ja).label, "本人同意");
        assert_eq!(categories_cell(&[], Lang::Ja), "なし");
        let c = category(InfoCategory::MentalHealth, Lang::Ja);
        assert_eq!(
            (c.name.as_str(), c.label.as_str()),
            ("mental_health", "精神保健")
        );
    }
}
