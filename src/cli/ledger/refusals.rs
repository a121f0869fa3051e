//! What `agency ledger` says when it refuses: what is wrong, and what to do
//! next, in the staff's language.

use anyhow::bail;

use crate::agency::Node;
use crate::agency::ledger::{ChangeError, LedgerError};
use crate::i18n::Lang;
use crate::protocol::AgencyKind;

/// Refuse on any node but the 調整機関's: the ledger is the council's.
pub(super) fn coordinator(node: &Node, lang: Lang) -> anyhow::Result<()> {
    let me = node.directory().get(node.id());
    if me.is_some_and(|a| a.kind == AgencyKind::Yotaikyo) {
        return Ok(());
    }
    let name = me.map_or(node.id().to_string(), |a| a.name.clone());
    bail!(
        "{}（{} {name}）\n{}",
        lang.pick(
            "進行管理台帳は要対協の調整機関のノードだけが扱います",
            "the progress ledger is kept on the council's 調整機関 node only"
        ),
        lang.pick("このノード:", "this node:"),
        lang.pick(
            "次の手順: 調整機関の担当者に依頼するか、調整機関のノードの設定ファイルを --config に指定してください。何も記録していません。",
            "next: ask the 調整機関's staff, or name the 調整機関 node's config with --config. Nothing was recorded.",
        )
    )
}

pub(super) fn set_error(e: LedgerError, lang: Lang) -> anyhow::Error {
    // Japanese sentences run on without a space.
    let nothing = lang.pick("何も記録していません。", " Nothing was recorded.");
    let message = match &e {
        LedgerError::UnknownCase(case) => format!(
            "{} {case}\n{}{nothing}",
            lang.pick(
                "このノードにはこのケースの記録がありません:",
                "this node holds nothing about case"
            ),
            lang.pick(
                "次の手順: ケースIDを確認してください（agency inbox・outbox に表示）。",
                "next: check the case id (agency inbox and outbox show it).",
            )
        ),
        LedgerError::NotRegistered(case) => format!(
            "{} {case}\n{}{nothing}",
            lang.pick(
                "このケースは要対協に登録されていません:",
                "this case is not registered with the council:"
            ),
            match lang {
                Lang::Ja => format!(
                    "次の手順: agency case --case {case} --classification … --lead … で先に登録してください。"
                ),
                Lang::En => format!(
                    "next: register it first with agency case --case {case} --classification … --lead …."
                ),
            }
        ),
        LedgerError::Change(c) => format!("{}{nothing}", change_message(c, lang)),
        LedgerError::NumberTaken(t) => format!(
            "{} {}（{} {}）\n{}{nothing}",
            lang.pick(
                "ケース番号は既に使われています:",
                "case number already used:"
            ),
            t.number,
            lang.pick("ケース", "case"),
            t.case_id,
            lang.pick(
                "次の手順: 別のケース番号を --number に指定してください。",
                "next: give another case number with --number.",
            )
        ),
        LedgerError::Store(_) => return e.into(),
    };
    anyhow::anyhow!(message)
}

fn change_message(c: &ChangeError, lang: Lang) -> String {
    match c {
        ChangeError::Empty => lang
            .pick(
                "変更する項目がありません。次の手順: --number・--received-on・--route・--status などを指定してください。",
                "nothing to change. next: name --number, --received-on, --route, --status or another field.",
            )
            .to_owned(),
        ChangeError::FutureReceipt(day) => format!(
            "{} {day}\n{}",
            lang.pick("受理日が未来の日付です:", "the day received is in the future:"),
            lang.pick(
                "次の手順: 受理した日を --received-on に指定してください。",
                "next: give the day the case was received with --received-on.",
            )
        ),
        ChangeError::ReasonMissing(status) => format!(
            "{}「{}」{}\n{}",
            lang.pick("状態", "status"),
            status.label(lang),
            lang.pick("には理由が必要です。", " needs a reason."),
            lang.pick(
                "次の手順: --reason に理由（例: 転出のため移管）を書いてください。",
                "next: write the reason in --reason.",
            )
        ),
        ChangeError::BlankNumber => lang
            .pick(
                "ケース番号が空です。次の手順: --number に番号（例: 2026-012）を指定してください。",
                "the case number is blank. next: give one with --number, e.g. 2026-012.",
            )
            .to_owned(),
    }
}
