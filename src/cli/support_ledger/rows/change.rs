//! `support-ledger set | contact | link`: a change to a row that exists,
//! each through the core's one function for it.

use super::fields::{self, Changes};
use super::refusals::{self, refused};
use super::{ContactArgs, LinkArgs, SetArgs, done, row};
use crate::agency::Node;
use crate::agency::support_ledger::{self as core, Contact};
use crate::cli::operator::person;
use crate::cli::output::{self, say};
use crate::i18n::Lang;
use crate::protocol::Timestamp;
use crate::protocol::day::Day;

pub(super) async fn set(
    node: &Node,
    a: &SetArgs,
    changes: &Changes,
    now: Timestamp,
    lang: Lang,
) -> anyhow::Result<()> {
    let v = row(node, &a.row, now, lang).await?;
    let subject = fields::apply(&v.subject, changes, lang)?;
    let number = subject.number.clone();
    if number != v.subject.number {
        mother_of_none(node, &v.subject.number, now, lang).await?;
    }
    core::update(
        node.records(),
        &v.id,
        v.version,
        subject,
        a.reason.as_deref(),
        &person(),
        now,
    )
    .await
    .map_err(|e| refused(e, lang))?;
    done(
        node,
        &number,
        ("行を変更しました:", "row changed:"),
        now,
        a.json,
        lang,
    )
    .await
}

pub(super) async fn contact(
    node: &Node,
    a: &ContactArgs,
    day: Option<Day>,
    now: Timestamp,
    lang: Lang,
) -> anyhow::Result<()> {
    let v = row(node, &a.number, now, lang).await?;
    let by = person();
    let contact = Contact {
        day: day.unwrap_or(Day::of(now)),
        kind: a.kind,
        staff: a.staff.clone().unwrap_or_else(|| by.clone()),
        summary: a.summary.clone(),
        point: a.point,
        recorded_by: by,
        recorded_at: now,
    };
    core::record_contact(node.records(), &v.id, contact)
        .await
        .map_err(|e| refused(e, lang))?;
    done(
        node,
        &v.subject.number,
        ("接触を記録しました:", "contact recorded:"),
        now,
        a.json,
        lang,
    )
    .await
}

pub(super) async fn link(
    node: &Node,
    a: &LinkArgs,
    now: Timestamp,
    lang: Lang,
) -> anyhow::Result<()> {
    let v = row(node, &a.number, now, lang).await?;
    if !node.records().holds_case(&a.case).await? {
        return Err(refusals::unknown_case(&a.case, lang));
    }
    // Linking again what is already linked here changes nothing.
    if !v.cases.iter().any(|l| l.case == a.case) {
        core::link_case(node.records(), &v.id, &a.case, &person(), now)
            .await
            .map_err(|e| refused(e, lang))?;
    }
    if a.json {
        return output::json(&serde_json::json!({
            "number": v.subject.number,
            "case_id": a.case,
        }));
    }
    say!(
        "{} {} → {}",
        lang.pick("ケースを結び付けました:", "case linked:"),
        a.case,
        v.subject.number
    );
    Ok(())
}

/// A mother's row keeps its number: her children's rows name her by it.
async fn mother_of_none(
    node: &Node,
    number: &str,
    now: Timestamp,
    lang: Lang,
) -> anyhow::Result<()> {
    let ledger = core::load(node.records(), Day::of(now)).await?;
    let children: Vec<&str> = ledger
        .subjects
        .iter()
        .filter(|c| c.subject.mother.as_deref() == Some(number))
        .map(|c| c.subject.number.as_str())
        .collect();
    if children.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "{} {number}（{} {}）\n{}{}",
        lang.pick(
            "子どもの行が母として指している台帳番号は変えられません:",
            "children's rows name this ledger number as their mother:"
        ),
        lang.pick("子どもの行:", "children:"),
        children.join("、"),
        lang.pick(
            "次の手順: 番号はそのままにしてください（子どもの行の --mother を先に直すこともできます）。",
            "next: keep the number (or first change the children's --mother).",
        ),
        refusals::nothing(lang)
    )
}
