//! `support-ledger add`: a row from flags or a file, or started from the
//! latest referral about a case (and the baby's from a 出生連絡), linked.

use anyhow::bail;

use super::fields::{self, Changes};
use super::refusals::{self, nothing, refused};
use super::{AddArgs, Checked, done};
use crate::agency::Node;
use crate::agency::support_ledger::{self as core, prefill};
use crate::cli::operator::person;
use crate::i18n::Lang;
use crate::protocol::day::Day;
use crate::protocol::{CaseId, Timestamp};

pub(super) async fn run(
    node: &Node,
    a: &AddArgs,
    checked: Checked,
    now: Timestamp,
    lang: Lang,
) -> anyhow::Result<()> {
    let by = person();
    if let Some(subject) = checked.subject {
        let reason = a.reason.as_deref().unwrap_or_default().trim();
        let number = subject.number.clone();
        core::add(node.records(), vec![subject], reason, &by, now)
            .await
            .map_err(|e| refused(e, lang))?;
        return done(
            node,
            &number,
            ("行を追加しました:", "row added:"),
            now,
            a.json,
            lang,
        )
        .await;
    }
    let Some(case) = &a.from_case else {
        bail!("internal: add without a row or a case");
    };
    from_case(node, a, case, &checked.changes, &by, now, lang).await
}

/// A row started from the latest referral about `case`: the mother's, and
/// with `--child-number` her baby's from a 出生連絡. When the case is on
/// the ledger already, only the baby's row is new.
async fn from_case(
    node: &Node,
    a: &AddArgs,
    case: &CaseId,
    changes: &Changes,
    by: &str,
    now: Timestamp,
    lang: Lang,
) -> anyhow::Result<()> {
    let records = node.records();
    let Some(referral) = prefill::latest_referral(records, case).await? else {
        return Err(refusals::no_referral(case, lang));
    };
    let reason = a
        .reason
        .clone()
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| {
            format!(
                "{} {case}",
                lang.pick("連絡票から作成: ケース", "from the referral of case")
            )
        });
    let ledger = core::load(records, Day::of(now)).await?;
    let linked = ledger.by_case(case).map(|v| v.subject.number.clone());
    let given = changes
        .get("number")
        .and_then(|n| n.as_str())
        .map(str::to_owned);
    let mother_number = match (&linked, given) {
        (Some(n), None) => n.clone(),
        (Some(n), Some(_)) => bail!(
            "{} {case} → {n}\n{}{}",
            lang.pick("このケースは既に行に結び付いています:", "the case is already on row"),
            lang.pick(
                "次の手順: 子どもの行だけなら --number を外して --child-number を指定してください。",
                "next: for the baby's row alone, drop --number and give --child-number.",
            ),
            nothing(lang)
        ),
        (None, Some(n)) => n,
        (None, None) => bail!(
            "{}{}",
            lang.pick(
                "新しい行の台帳番号が必要です。次の手順: --number に台帳番号（例: R8-0012）を指定してください。",
                "the new row needs a ledger number. next: give it with --number.",
            ),
            nothing(lang)
        ),
    };
    let child = match &a.child_number {
        None => None,
        Some(m) => Some(prefill::child(&referral, m, &mother_number).ok_or_else(|| {
            anyhow::anyhow!(
                "{} {case}\n{}{}",
                lang.pick(
                    "このケースの最新の連絡票は出生連絡（出産後・子どもの記載あり）ではありません:",
                    "the latest referral about the case is not a 出生連絡 (after birth, with the baby):"
                ),
                lang.pick(
                    "次の手順: 出生連絡を受け取ってから実行するか、子どもの行を項目を指定して add で作ってください。",
                    "next: wait for the 出生連絡, or add the baby's row with its flags.",
                ),
                nothing(lang)
            )
        })?),
    };
    let result = match (&linked, child) {
        (Some(_), Some(child)) => {
            let number = child.number.clone();
            core::add(records, vec![child], &reason, by, now)
                .await
                .map(|_| number)
        }
        (Some(n), None) => bail!(
            "{} {case} → {n}\n{}{}",
            lang.pick("このケースは既に行に結び付いています:", "the case is already on row"),
            lang.pick(
                "次の手順: agency support-ledger show で確認してください。出生連絡なら --child-number で子どもの行を作れます。",
                "next: see it with agency support-ledger show; for a 出生連絡, --child-number adds the baby's row.",
            ),
            nothing(lang)
        ),
        (None, child) => {
            let mother = fields::apply(&prefill::mother(&referral, &mother_number), changes, lang)?;
            core::add_linked_with(records, mother, case, child.into_iter().collect(), &reason, by, now)
                .await
                .map(|_| mother_number.clone())
        }
    };
    let number = result.map_err(|e| refused(e, lang))?;
    done(
        node,
        &number,
        ("行を追加しました:", "row added:"),
        now,
        a.json,
        lang,
    )
    .await
}
