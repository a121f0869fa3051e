//! What `support-ledger import` prints: what each column became, then the
//! plan (new / changed / unchanged / refused with reasons), and what was
//! written; `--json` for scripts.

use serde::Serialize;

use crate::agency::support_ledger::exchange::{
    ContactOutcome, Counts, Imported, Outcome, Plan, Target,
};
use crate::agency::support_ledger::subject::field_label;
use crate::cli::output::{self, say};
use crate::i18n::Lang;

#[derive(Serialize)]
struct ColumnJson<'a> {
    column: &'a str,
    /// The field's serde name; `null` when the column is not imported.
    field: Option<&'a str>,
    /// `field`, `computed` or `ignored`.
    target: &'static str,
    shown: String,
    chosen: bool,
}

#[derive(Serialize)]
struct RowJson<'a> {
    line: usize,
    number: &'a str,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    problems: Vec<String>,
}

#[derive(Serialize)]
struct PlanJson<'a> {
    dry_run: bool,
    importable: bool,
    counts: Counts,
    columns: Vec<ColumnJson<'a>>,
    rows: Vec<RowJson<'a>>,
    contacts: Vec<RowJson<'a>>,
    refusals: Vec<String>,
    /// What was written; `null` on a dry run or a refusal.
    imported: Option<Imported>,
}

/// How a column's target reads.
pub fn target_text(target: Target, lang: Lang) -> String {
    match target {
        Target::Field(f) => field_label(f, lang).to_owned(),
        Target::Computed => lang
            .pick("計算列（取り込みません）", "computed (not imported)")
            .into(),
        Target::Ignored => lang.pick("無視", "ignored").into(),
    }
}

fn outcome_name(o: &Outcome) -> &'static str {
    match o {
        Outcome::New => "new",
        Outcome::Unchanged => "unchanged",
        Outcome::Changed(_) => "changed",
        Outcome::Refused(_) => "refused",
    }
}

/// Print the plan (and what was written, if it was).
pub fn plan(plan: &Plan, json: bool, imported: Option<Imported>, lang: Lang) -> anyhow::Result<()> {
    if json {
        return output::json(&plan_json(plan, imported, lang));
    }
    say!("{}", lang.pick("列の対応:", "columns:"));
    for c in &plan.mapping.columns {
        let chosen = if c.chosen {
            lang.pick("（指定）", " (chosen)")
        } else {
            ""
        };
        say!("  {} → {}{chosen}", c.heading, target_text(c.target, lang));
    }
    let n = plan.counts();
    say!(
        "{} {}  {} {}  {} {}  {} {}",
        lang.pick("新規", "new"),
        n.new,
        lang.pick("変更", "changed"),
        n.changed,
        lang.pick("変更なし", "unchanged"),
        n.unchanged,
        lang.pick("拒否", "refused"),
        n.refused
    );
    if !plan.contacts.is_empty() {
        say!(
            "{} {} {}  {} {}  {} {}",
            lang.pick("接触記録:", "contacts:"),
            lang.pick("新規", "new"),
            n.contacts_new,
            lang.pick("登録済み", "already kept"),
            n.contacts_kept,
            lang.pick("拒否", "refused"),
            n.contacts_refused
        );
    }
    for r in &plan.rows {
        if let Outcome::Changed(fields) = &r.outcome {
            let names: Vec<&str> = fields.iter().map(|f| field_label(f, lang)).collect();
            say!(
                "  {} {}: {}",
                r.number,
                lang.pick("の変更", "changes"),
                names.join(lang.pick("、", ", "))
            );
        }
    }
    let refusals = plan.refusals(lang);
    if !refusals.is_empty() {
        say!("{}", lang.pick("取り込めない理由:", "refused:"));
        for line in refusals {
            say!("  {line}");
        }
    }
    match imported {
        Some(done) => say!(
            "{} {} {}、{} {}、{} {}",
            lang.pick("取り込みました:", "imported:"),
            lang.pick("新規", "new"),
            done.added,
            lang.pick("変更", "changed"),
            done.changed,
            lang.pick("接触記録", "contacts"),
            done.contacts
        ),
        None if plan.importable() => say!(
            "{}",
            lang.pick(
                "ドライラン: 何も書き込んでいません。取り込むには --dry-run を外して実行してください。",
                "dry run: nothing was written. Run it without --dry-run to import."
            )
        ),
        None => {}
    }
    Ok(())
}

fn plan_json(plan: &Plan, imported: Option<Imported>, lang: Lang) -> PlanJson<'_> {
    PlanJson {
        dry_run: imported.is_none(),
        importable: plan.importable(),
        counts: plan.counts(),
        columns: plan
            .mapping
            .columns
            .iter()
            .map(|c| ColumnJson {
                column: &c.heading,
                field: match c.target {
                    Target::Field(f) => Some(f),
                    _ => None,
                },
                target: match c.target {
                    Target::Field(_) => "field",
                    Target::Computed => "computed",
                    Target::Ignored => "ignored",
                },
                shown: target_text(c.target, lang),
                chosen: c.chosen,
            })
            .collect(),
        rows: plan
            .rows
            .iter()
            .map(|r| RowJson {
                line: r.line,
                number: &r.number,
                outcome: outcome_name(&r.outcome),
                fields: match &r.outcome {
                    Outcome::Changed(f) => f.clone(),
                    _ => Vec::new(),
                },
                problems: match &r.outcome {
                    Outcome::Refused(p) => p.iter().map(|p| p.text(lang)).collect(),
                    _ => Vec::new(),
                },
            })
            .collect(),
        contacts: plan
            .contacts
            .iter()
            .map(|c| RowJson {
                line: c.line,
                number: &c.number,
                outcome: match c.outcome {
                    ContactOutcome::New => "new",
                    ContactOutcome::AlreadyKept => "already_kept",
                    ContactOutcome::Refused(_) => "refused",
                },
                fields: Vec::new(),
                problems: match &c.outcome {
                    ContactOutcome::Refused(p) => p.iter().map(|p| p.text(lang)).collect(),
                    _ => Vec::new(),
                },
            })
            .collect(),
        refusals: plan.refusals(lang),
        imported,
    }
}
