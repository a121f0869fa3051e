//! `support-ledger list`: the morning list — the rows the filters let
//! through, most urgent first; the referrals received about cases on no
//! row (with the rows they may be); the plans on linked cases due for
//! review.

use serde::Serialize;

use super::json::{
    PlanDueJson, RowJson, UnlinkedJson, next_json, plan_due_json, pregnancy_weeks, row_json,
    unlinked_json,
};
use crate::agency::Node;
use crate::agency::support_ledger::{self as core, MorningFilter, SubjectView, morning};
use crate::cli::labels;
use crate::cli::output::{self, say};
use crate::cli::table::Table;
use crate::i18n::Lang;
use crate::protocol::Timestamp;
use crate::protocol::day::{Day, show_local};

/// The whole morning list for `--json`.
#[derive(Serialize)]
struct MorningJson {
    today: Day,
    due_by: Option<Day>,
    rows: Vec<RowJson>,
    unlinked: Vec<UnlinkedJson>,
    plans_due: Vec<PlanDueJson>,
}

pub async fn run(
    node: &Node,
    filter: &MorningFilter,
    now: Timestamp,
    json: bool,
    lang: Lang,
) -> anyhow::Result<()> {
    let today = Day::of(now);
    let records = node.records();
    let ledger = core::load(records, today).await?;
    let rows = filter.apply(&ledger);
    let unlinked = morning::unlinked(records, &ledger).await?;
    let plans =
        morning::plans_due(records, node.id(), &ledger, filter.due_by.unwrap_or(today)).await?;
    let name_of = |number: &str| {
        ledger
            .by_number(number)
            .map(|v| v.subject.name.clone())
            .unwrap_or_default()
    };
    if json {
        return output::json(&MorningJson {
            today,
            due_by: filter.due_by,
            rows: rows.iter().map(|v| row_json(v, today, lang)).collect(),
            unlinked: unlinked
                .iter()
                .map(|u| unlinked_json(node, u, lang))
                .collect(),
            plans_due: plans
                .iter()
                .map(|p| plan_due_json(p, &name_of(&p.number)))
                .collect(),
        });
    }
    print_rows(&rows, today, lang);
    print_unlinked(node, &unlinked, lang);
    say!();
    say!(
        "■ {}",
        lang.pick("見直し時期の支援プラン", "support plans due for review")
    );
    if plans.is_empty() {
        say!("{}", lang.pick("ありません", "none"));
        return Ok(());
    }
    let mut table = Table::new(&[
        lang.pick("見直し日", "review on"),
        lang.pick("台帳番号", "number"),
        lang.pick("氏名", "name"),
        lang.pick("版", "version"),
        lang.pick("ケースID", "case id"),
    ]);
    for p in &plans {
        table.row(vec![
            p.review_on.to_string(),
            p.number.clone(),
            name_of(&p.number),
            p.version.to_string(),
            p.case.to_string(),
        ]);
    }
    table.print();
    Ok(())
}

fn print_rows(rows: &[&SubjectView], today: Day, lang: Lang) {
    say!(
        "■ {}",
        lang.pick(
            "支援台帳（次回接触の近い順）",
            "support ledger (next contact first)"
        )
    );
    if rows.is_empty() {
        say!("{}", lang.pick("該当する行はありません", "no rows match"));
        return;
    }
    let mut table = Table::new(&[
        lang.pick("台帳番号", "number"),
        lang.pick("氏名", "name"),
        lang.pick("対象", "kind"),
        lang.pick("月齢/週数", "age/weeks"),
        lang.pick("支援区分", "tier"),
        lang.pick("次回接触", "next contact"),
        lang.pick("担当", "in charge"),
    ]);
    for v in rows {
        let c = &v.computed;
        let tier = match c.tier_rule {
            Some(rule) => format!("{}（{}）", c.tier.label(lang), rule.label(lang)),
            None => c.tier.label(lang).to_owned(),
        };
        let staff = [v.subject.district.as_str(), v.subject.staff.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        table.row(vec![
            v.subject.number.clone(),
            v.subject.name.clone(),
            v.subject.kind.label(lang).to_owned(),
            age_cell(v, today, lang),
            tier,
            next_cell(v, today, lang),
            if staff.is_empty() { "-".into() } else { staff },
        ]);
    }
    table.print();
}

/// 月齢 for a child, 妊娠週数 for a pregnant woman.
fn age_cell(v: &SubjectView, today: Day, lang: Lang) -> String {
    if let Some(weeks) = pregnancy_weeks(v, today) {
        return match lang {
            Lang::Ja => format!("妊娠{weeks}週"),
            Lang::En => format!("{weeks} weeks pregnant"),
        };
    }
    match (v.subject.kind, v.computed.age_months) {
        (core::SubjectKind::Child, Some(m)) => match lang {
            Lang::Ja => format!("{m}か月"),
            Lang::En => format!("{m} months"),
        },
        _ => "-".into(),
    }
}

/// The next contact: its day, how late, and the rule in words.
fn next_cell(v: &SubjectView, today: Day, lang: Lang) -> String {
    let Some(d) = v.computed.next_contact else {
        return "-".into();
    };
    let n = next_json(d, today, lang);
    let late = match (n.overdue_days, lang) {
        (0, _) => String::new(),
        (days, Lang::Ja) => format!(" ⚠{days}日超過"),
        (days, Lang::En) => format!(" ⚠{days} days overdue"),
    };
    format!("{}{late} {}", d.day, d.rule.label(lang))
}

/// One line for after a change: the row's next contact and why.
pub fn next_contact_line(v: &SubjectView, today: Day, lang: Lang) -> String {
    format!(
        "{} {}",
        lang.pick("次回接触:", "next contact:"),
        next_cell(v, today, lang)
    )
}

fn print_unlinked(node: &Node, unlinked: &[morning::Unlinked], lang: Lang) {
    say!();
    say!(
        "■ {}",
        lang.pick("台帳にない連絡票", "referrals not on the ledger")
    );
    if unlinked.is_empty() {
        say!("{}", lang.pick("ありません", "none"));
        return;
    }
    let mut table = Table::new(&[
        lang.pick("受信", "received"),
        lang.pick("送信元", "from"),
        lang.pick("氏名", "name"),
        lang.pick("生年月日", "born"),
        lang.pick("時期", "timing"),
        lang.pick("候補の行", "candidate rows"),
        lang.pick("ケースID", "case id"),
    ]);
    for u in unlinked {
        let candidates = u
            .candidates
            .iter()
            .map(|c| format!("{} {}", c.number, c.name))
            .collect::<Vec<_>>()
            .join("、");
        table.row(vec![
            show_local(u.received_at),
            labels::agency(node, u.sender.as_str()).name,
            u.name.clone(),
            u.birth_date.to_string(),
            u.timing.label(lang).to_owned(),
            if candidates.is_empty() {
                "-".into()
            } else {
                candidates
            },
            u.case.to_string(),
        ]);
    }
    table.print();
    say!(
        "{}",
        lang.pick(
            "同じ人の行があれば: agency support-ledger link 台帳番号 --case ケースID／なければ: agency support-ledger add --from-case ケースID --number 台帳番号",
            "same person on a row: agency support-ledger link NUMBER --case CASE; otherwise: agency support-ledger add --from-case CASE --number NUMBER",
        )
    );
}
