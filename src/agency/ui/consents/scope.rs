//! A consent as people read it: its scope in plain sentences, its state in
//! the staff's words, agencies by name. Shared by the list, the record page,
//! the printable summary and the case timeline.

use crate::agency::Node;
use crate::agency::consents::{ConsentState, HeldConsent};
use crate::i18n::Lang;
use crate::protocol::consent::{ConsentDecision, ConsentRecipient};
use crate::protocol::day::Day;
use crate::protocol::notice::ConsentEnd;
use crate::protocol::{AgencyId, Timestamp};

use super::super::inbox::local_time;

/// One consent as shown.
pub struct Shown {
    pub id: String,
    pub case_id: String,
    pub envelope_id: String,
    pub state: String,
    /// Sharing may rely on it now.
    pub valid: bool,
    pub recorded_at: String,
    /// The agency that recorded it.
    pub recorded_by: String,
    /// The member of staff who recorded it, with role and contact.
    pub author: String,
    pub author_name: String,
    pub author_contact: String,
    /// 本人 or 保護者.
    pub giver: String,
    /// Their name (personal: shown only on logged pages).
    pub giver_name: String,
    pub method: String,
    pub decision: String,
    /// Who may share: the recording agency and the recipients.
    pub parties: Vec<String>,
    pub categories: Vec<String>,
    pub purposes: Vec<String>,
    /// 「2027年3月31日まで」 or 「撤回されるまで」.
    pub until: String,
    /// The scope as one sentence.
    pub sentence: String,
    /// How it ended, as a sentence.
    pub ended: Option<String>,
    /// Her words when she withdrew, if this node holds them (untrusted).
    pub withdrawal_note: Option<String>,
    pub withdrawal_id: Option<String>,
    pub note: String,
    /// The scan's file name, if there is one.
    pub scan: Option<String>,
    /// Staff may withdraw it here.
    pub withdrawable: bool,
}

/// An agency's name from the directory (its id if unknown).
pub fn agency_name(node: &Node, id: &AgencyId) -> String {
    node.directory()
        .get(id)
        .map_or_else(|| id.to_string(), |a| a.name.clone())
}

/// A day as the person reads it: 「2027年3月31日」.
pub fn long_day(t: Timestamp, lang: Lang) -> String {
    let day = Day::of(t).to_string();
    let mut parts = day.split('-').map(|p| p.trim_start_matches('0'));
    let (y, m, d) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    match lang {
        Lang::Ja => format!("{y}年{m}月{d}日"),
        Lang::En => day,
    }
}

/// `a`, `a と b`, `a、b と c`.
fn joined(items: &[String], lang: Lang) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => match lang {
            Lang::Ja => format!("{}と{last}", rest.join("、")),
            Lang::En => format!("{} and {last}", rest.join(", ")),
        },
    }
}

pub fn show(node: &Node, c: &HeldConsent, lang: Lang) -> Shown {
    let scope = &c.scope;
    let state = c.state(Timestamp::now());
    let recorder = c.recorded_by.clone().unwrap_or_else(|| node.id().clone());
    let mut parties = vec![agency_name(node, &recorder)];
    parties.extend(scope.recipients.iter().filter_map(|r| match r {
        ConsentRecipient::Agency(a) if *a == recorder => None,
        ConsentRecipient::Agency(a) => Some(agency_name(node, a)),
        ConsentRecipient::Kind(k) => Some(match lang {
            Lang::Ja => format!("すべての{}", k.label(lang)),
            Lang::En => format!("every {}", k.label(lang)),
        }),
    }));
    let categories: Vec<String> = scope
        .categories
        .iter()
        .map(|c| c.label(lang).to_owned())
        .collect();
    let purposes: Vec<String> = scope
        .purposes
        .iter()
        .map(|p| p.label(lang).to_owned())
        .collect();
    let until = match scope.valid_until {
        Some(t) => match lang {
            Lang::Ja => format!("{}まで", long_day(t, lang)),
            Lang::En => format!("until {}", long_day(t, lang)),
        },
        None => lang.pick("撤回されるまで", "until withdrawn").to_owned(),
    };
    let giver = scope.given_by.label(lang).to_owned();
    let sentence = sentence(c, &parties, &categories, &purposes, &until, &giver, lang);
    let ended = c.ended.as_ref().map(|e| match (e.reason, e.at) {
        (ConsentEnd::Withdrawn, Some(at)) => match lang {
            Lang::Ja => format!(
                "{}に撤回されました。これ以降、この同意に基づいて情報を共有することはできません。",
                long_day(at, lang)
            ),
            Lang::En => format!(
                "Withdrawn on {}. Nothing may be shared under it from then on.",
                long_day(at, lang)
            ),
        },
        (ConsentEnd::Withdrawn, None) => lang
            .pick(
                "撤回されました。これ以降、この同意に基づいて情報を共有することはできません。",
                "Withdrawn. Nothing may be shared under it from then on.",
            )
            .to_owned(),
        (ConsentEnd::Expired, _) => lang
            .pick(
                "有効期限が過ぎました。これ以降、この同意に基づいて情報を共有することはできません。",
                "Its period has ended. Nothing may be shared under it from then on.",
            )
            .to_owned(),
    });
    let a = &c.author;
    Shown {
        id: scope.consent_id.to_string(),
        case_id: scope.case_id.to_string(),
        envelope_id: c.envelope_id.to_string(),
        state: state.label(lang).to_owned(),
        valid: state == ConsentState::Valid,
        recorded_at: local_time(scope.valid_from),
        recorded_by: agency_name(node, &recorder),
        author: format!("{}（{}）", a.name, a.role),
        author_name: a.name.clone(),
        author_contact: a.contact.clone(),
        giver,
        giver_name: c.details.given_by_name.clone(),
        method: scope.method.label(lang).to_owned(),
        decision: scope.decision.label(lang).to_owned(),
        parties,
        categories,
        purposes,
        until,
        sentence,
        ended,
        withdrawal_note: c.ended.as_ref().and_then(|e| e.note.clone()),
        withdrawal_id: c
            .ended
            .as_ref()
            .and_then(|e| e.withdrawal.map(|w| w.to_string())),
        note: c.details.note.clone(),
        scan: c.details.scan.as_ref().map(|s| s.file_name.clone()),
        withdrawable: state == ConsentState::Valid,
    }
}

fn sentence(
    c: &HeldConsent,
    parties: &[String],
    categories: &[String],
    purposes: &[String],
    until: &str,
    giver: &str,
    lang: Lang,
) -> String {
    match (c.scope.decision, lang) {
        (ConsentDecision::Granted, Lang::Ja) => format!(
            "{}は、{}の情報を、{}のために、{}共有できます。",
            joined(parties, lang),
            categories.join("・"),
            purposes.join("・"),
            until
        ),
        (ConsentDecision::Granted, Lang::En) => format!(
            "{} may share {} information for {}, {}.",
            joined(parties, lang),
            categories.join(", "),
            purposes.join(", "),
            until
        ),
        (ConsentDecision::Refused, Lang::Ja) => format!(
            "{giver}は情報の共有に同意しませんでした（拒否）。この記録に基づいて情報を共有することはできません。"
        ),
        (ConsentDecision::Refused, Lang::En) => format!(
            "Refused by {giver}. Nothing may be shared under this record."
        ),
        (ConsentDecision::NotTold, _) => lang
            .pick(
                "本人には説明していません（未説明）。この記録に基づいて情報を共有することはできません。",
                "The person was not told. Nothing may be shared under this record.",
            )
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parties_read_as_a_japanese_list() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(joined(&v(&["A"]), Lang::Ja), "A");
        assert_eq!(joined(&v(&["A", "B"]), Lang::Ja), "AとB");
        assert_eq!(joined(&v(&["A", "B", "C"]), Lang::Ja), "A、BとC");
        assert_eq!(joined(&v(&["A", "B"]), Lang::En), "A and B");
    }

    #[test]
    fn a_day_reads_as_the_person_writes_it() {
        let t = crate::protocol::day::parse_local("2027-03-31 23:59").unwrap();
        assert_eq!(long_day(t, Lang::Ja), "2027年3月31日");
        assert_eq!(long_day(t, Lang::En), "2027-03-31");
    }
}
