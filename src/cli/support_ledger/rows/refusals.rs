//! What `agency support-ledger` says when it refuses: what is wrong, and
//! what to do next, in the staff's language. Nothing was recorded.

use anyhow::anyhow;

use crate::agency::support_ledger::SupportLedgerError;
use crate::i18n::Lang;
use crate::protocol::CaseId;

pub fn nothing(lang: Lang) -> &'static str {
    // Japanese sentences run on without a space.
    lang.pick("何も記録していません。", " Nothing was recorded.")
}

/// No row has this 台帳番号.
pub fn unknown_number(number: &str, lang: Lang) -> anyhow::Error {
    anyhow!(
        "{} {number}\n{}{}",
        lang.pick("この台帳番号の行はありません:", "no row has ledger number"),
        lang.pick(
            "次の手順: agency support-ledger list --closed で台帳番号を確認してください。",
            "next: check the number with agency support-ledger list --closed.",
        ),
        nothing(lang)
    )
}

/// The node holds nothing about the case.
pub fn unknown_case(case: &CaseId, lang: Lang) -> anyhow::Error {
    anyhow!(
        "{} {case}\n{}{}",
        lang.pick(
            "このノードにはこのケースの記録がありません:",
            "this node holds nothing about case"
        ),
        lang.pick(
            "次の手順: ケースIDを確認してください（agency inbox と support-ledger list の「台帳にない連絡票」に表示）。",
            "next: check the case id (agency inbox and the unlinked referrals of support-ledger list show it).",
        ),
        nothing(lang)
    )
}

/// The case carries no referral to start a row from.
pub fn no_referral(case: &CaseId, lang: Lang) -> anyhow::Error {
    anyhow!(
        "{} {case}\n{}{}",
        lang.pick(
            "このケースの連絡票を受け取っていません:",
            "no referral received about case"
        ),
        lang.pick(
            "次の手順: 項目を指定して agency support-ledger add で行を作り、link で結び付けてください。",
            "next: make the row with agency support-ledger add and its flags, then link the case.",
        ),
        nothing(lang)
    )
}

/// What the core refused, in staff's words.
pub fn refused(e: SupportLedgerError, lang: Lang) -> anyhow::Error {
    let message = match &e {
        SupportLedgerError::Store(_) => return e.into(),
        SupportLedgerError::Invalid(problems) => {
            let lines: Vec<String> = problems.iter().map(|p| p.text(lang)).collect();
            format!(
                "{}\n{}",
                lines.join("\n"),
                lang.pick(
                    "次の手順: 該当する項目を直して、もう一度実行してください。",
                    "next: correct those items and run it again.",
                )
            )
        }
        SupportLedgerError::NumberTaken(n) => format!(
            "{} {n}\n{}",
            lang.pick("台帳番号は既に使われています:", "ledger number already used:"),
            lang.pick(
                "次の手順: 別の台帳番号を指定してください。",
                "next: give another ledger number.",
            )
        ),
        SupportLedgerError::Stale => lang
            .pick(
                "読み込んだ後に別の人がこの行を変更しました。次の手順: もう一度実行してください。",
                "someone changed the row meanwhile. next: run it again.",
            )
            .to_owned(),
        SupportLedgerError::UnknownSubject(n) => return unknown_number(n, lang),
        SupportLedgerError::CaseLinked(case) => format!(
            "{} {case}\n{}",
            lang.pick(
                "このケースは既に別の行に結び付いています:",
                "the case already belongs to another row:"
            ),
            lang.pick(
                "次の手順: agency support-ledger show で結び付いた行を確認してください。同じ人なら結び付けは不要です。",
                "next: find its row with agency support-ledger show; if it is the same person, nothing needs linking.",
            )
        ),
        SupportLedgerError::TierReasonMissing => tier_reason(lang).to_owned(),
        SupportLedgerError::BadContact(_) => lang
            .pick(
                "接触記録を残せません（日付が未来か、担当者が空です）。次の手順: --day と --staff を確認してください。",
                "the contact cannot be kept (a future day, or no staff). next: check --day and --staff.",
            )
            .to_owned(),
    };
    anyhow!("{message}{}", nothing(lang))
}

/// A tier change without its reason.
pub fn tier_reason(lang: Lang) -> &'static str {
    lang.pick(
        "支援区分を変えるには理由が必要です（変更の履歴に残ります）。次の手順: --reason に理由（例: DV の訴えがあったため）を書いてください。",
        "a tier change needs a reason (it is kept in the history). next: write it in --reason.",
    )
}
