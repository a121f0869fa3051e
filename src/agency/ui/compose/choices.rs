//! The form's choices drawn from what the node knows: the cases it holds,
//! the directory's agencies, the consents recorded for the case, and which
//! legal bases reach each recipient.

use std::collections::BTreeSet;

use super::super::UiState;
use super::super::error::PageError;
use super::form::{self, ComposeForm};
use super::view::{Field, Kind, Layout};
use crate::agency::sharing::{self, KnownConsent, Sharing};
use crate::i18n::Lang;
use crate::protocol::basis::STATUTORY;
use crate::protocol::payload::{Body, Payload};
use crate::protocol::{CaseId, LegalBasis, Purpose, Timestamp};

/// What each recipient can be reached under, for the table beside the
/// recipients.
pub struct Reach {
    pub agency: String,
    pub kind: String,
    /// Labels of the bases that cover it for this referral.
    pub bases: Vec<String>,
}

/// The cases this node holds something about, newest first, each named by
/// the mother of its latest referral when there is one.
pub(super) async fn known_cases(state: &UiState) -> Result<Vec<(String, String)>, PageError> {
    let records = state.node.records();
    let received = records
        .inbox()
        .await?
        .into_iter()
        .map(|r| (r.case_id, r.created_at, r.kind, r.payload));
    let sent = records
        .outbox()
        .await?
        .into_iter()
        .map(|r| (r.case_id, r.created_at, r.kind, r.payload));
    let mut all: Vec<_> = received
        .chain(sent)
        .filter_map(|(c, at, k, p)| Some((c?, at, k, p)))
        .collect();
    all.sort_by_key(|(_, at, _, _)| std::cmp::Reverse(*at));
    let mut cases: Vec<(String, String)> = Vec::new();
    for (case, _, kind, payload) in all {
        let name = (kind == "referral")
            .then(|| serde_json::from_str::<Payload>(&payload).ok())
            .flatten()
            .and_then(|p| match p.body {
                Body::Referral(r) => Some(r.mother.name),
                _ => None,
            });
        match cases.iter_mut().find(|(c, _)| *c == case) {
            Some((_, label)) if label.is_empty() => *label = name.unwrap_or_default(),
            Some(_) => {}
            None => cases.push((case, name.unwrap_or_default())),
        }
    }
    Ok(cases)
}

pub(super) fn case_field(layout: &Layout, cases: Vec<(String, String)>) -> Field {
    let lang = layout.lang;
    let mut options = vec![(
        "new".to_owned(),
        lang.pick(
            "新しいケースを開く（IDはハブが発行）",
            "Open a new case (the hub issues its id)",
        )
        .to_owned(),
    )];
    options.extend(cases.into_iter().map(|(id, name)| {
        let label = match name.is_empty() {
            true => id.clone(),
            false => aside(&name, &id, lang),
        };
        (id, label)
    }));
    layout.choices(
        layout.required("case", lang.pick("ケース", "Case").to_owned(), Kind::Select),
        options,
        &[],
    )
}

pub(super) fn recipients_field(state: &UiState, layout: &Layout) -> Field {
    let lang = layout.lang;
    let options = others(state)
        .map(|a| (a.id.to_string(), aside(&a.name, a.kind.label(lang), lang)))
        .collect();
    layout.choices(
        layout.required(
            "recipients",
            lang.pick("宛先（1つ以上）", "Recipients (one or more)")
                .to_owned(),
            Kind::Checks,
        ),
        options,
        &layout.form.recipients,
    )
}

/// Every agency in the directory but this one.
fn others(state: &UiState) -> impl Iterator<Item = &crate::protocol::Agency> {
    let me = state.node.id().clone();
    state
        .node
        .directory()
        .agencies()
        .iter()
        .filter(move |a| a.id != me)
}

/// The consent's scope in a line: who may receive, what, for what.
fn consent_label(state: &UiState, c: &KnownConsent, lang: Lang) -> String {
    use crate::protocol::consent::ConsentRecipient;
    let s = &c.scope;
    let to: Vec<String> = s
        .recipients
        .iter()
        .map(|r| match r {
            ConsentRecipient::Agency(id) => state.node.directory().name_of(id.as_str()),
            ConsentRecipient::Kind(k) => k.label(lang).to_owned(),
        })
        .collect();
    let what: Vec<&str> = s.categories.iter().map(|c| c.label(lang)).collect();
    let why: Vec<&str> = s.purposes.iter().map(|p| p.label(lang)).collect();
    let sep = lang.pick("、", ", ");
    let ended = match c.ended {
        Some(_) => lang.pick("【撤回・終了済み】", "[ended] "),
        None => "",
    };
    match lang {
        Lang::Ja => format!(
            "{ended}本人同意（{}・{}）提供先: {} ／ 情報: {} ／ 目的: {}",
            s.given_by.label(lang),
            s.method.label(lang),
            to.join(sep),
            what.join(sep),
            why.join(sep)
        ),
        Lang::En => format!(
            "{ended}Consent ({}, {}): to {}; information: {}; purposes: {}",
            s.given_by.label(lang),
            s.method.label(lang),
            to.join(sep),
            what.join(sep),
            why.join(sep)
        ),
    }
}

pub(super) fn basis_field(state: &UiState, layout: &Layout, consents: &[KnownConsent]) -> Field {
    let lang = layout.lang;
    let mut options: Vec<(String, String)> = consents
        .iter()
        .map(|c| {
            (
                format!("consent:{}", c.scope.consent_id),
                consent_label(state, c, lang),
            )
        })
        .collect();
    options.extend(
        STATUTORY
            .iter()
            .map(|b| (b.as_str().to_owned(), b.label(lang).to_owned())),
    );
    let mut field = layout.choices(
        layout.required(
            "basis",
            lang.pick("提供の根拠", "Legal basis").to_owned(),
            Kind::Radios,
        ),
        options,
        &[],
    );
    let consent_help = sharing::explain(
        &LegalBasis::Consent {
            consent_id: Default::default(),
        },
        lang,
    );
    for choice in &mut field.choices {
        let basis = LegalBasis::statutory(&choice.value);
        choice.hint = Some(
            basis
                .map_or(consent_help, |b| sharing::explain(&b, lang))
                .to_owned(),
        );
    }
    field.hint = Some(match consents.is_empty() {
        true => lang.pick(
            "このケースについてこの機関が知っている同意はありません。同意に基づいて送るには、先に同意を記録してください。",
            "No consent about this case is known here; to send under consent, record it first.",
        ),
        false => lang.pick(
            "同意は、選んだケースについて記録されたものだけが表示されます。",
            "Only consents recorded for the chosen case are listed.",
        ),
    }.to_owned());
    field
}

/// For each other agency, the bases that would cover it for this referral
/// as typed so far.
pub(super) fn reach(
    state: &UiState,
    form: &ComposeForm,
    consents: &[KnownConsent],
    lang: Lang,
) -> Vec<Reach> {
    let (referral, _) = form::read(form, crate::protocol::day::Day::today().into());
    let categories: BTreeSet<_> = referral.categories();
    let urgency = form.urgency().unwrap_or(crate::protocol::Urgency::Normal);
    others(state)
        .map(|a| {
            let to = [a.id.clone()];
            let check = Sharing {
                directory: state.node.directory(),
                sender: state.node.id(),
                recipients: &to,
                categories: &categories,
                purpose: Purpose::Referral,
                urgency,
                now: Timestamp::now(),
                new_case: form.case.parse::<CaseId>().is_err(),
            };
            let by_consent = consents
                .iter()
                .filter(|c| check.check(&consent_basis(c), Some(c)).is_ok())
                .map(|_| lang.pick("本人同意", "consent").to_owned());
            let by_law = STATUTORY
                .iter()
                .filter(|b| check.check(b, None).is_ok())
                .map(|b| b.label(lang).to_owned());
            Reach {
                agency: a.name.clone(),
                kind: a.kind.label(lang).to_owned(),
                bases: by_consent.chain(by_law).collect(),
            }
        })
        .collect()
}

fn consent_basis(c: &KnownConsent) -> LegalBasis {
    LegalBasis::Consent {
        consent_id: c.scope.consent_id,
    }
}

/// `main（note）` in Japanese, `main (note)` in English.
fn aside(main: &str, note: &str, lang: Lang) -> String {
    match lang {
        Lang::Ja => format!("{main}（{note}）"),
        Lang::En => format!("{main} ({note})"),
    }
}
