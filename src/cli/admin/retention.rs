//! `tsunagu admin hold add|release|list` and `tsunagu admin purge`: legal
//! holds per case and on-demand retention purges, on the hub's machine,
//! straight on its database (the hub may keep running). Each change is an
//! audit entry naming the operator's OS account.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::bail;
use clap::Subcommand;

use crate::cli::operator::operator;
use crate::cli::output::{json, say};
use crate::hub::retention::{PurgeRun, purge};
use crate::i18n::Lang;
use crate::protocol::CaseId;
use crate::store::HubStore;
use crate::store::retention::{HoldOutcome, ReleaseOutcome};

#[derive(Subcommand)]
pub enum HoldCommand {
    /// 事例を法的保全にする（保全中はその事例のエンベロープを削除しない） / place a case under legal hold (none of its envelopes is purged)
    Add {
        /// ハブの設定ファイル / hub config file
        #[arg(long)]
        config: PathBuf,
        /// 事例ID / case id
        #[arg(long)]
        case: String,
        /// 理由（保全の記録にのみ残り、監査ログには残りません） / why (kept with the hold only, never in the audit chain)
        #[arg(long)]
        reason: String,
        /// JSON で出力する / print JSON
        #[arg(long)]
        json: bool,
    },
    /// 法的保全を解除する / release a case's legal hold
    Release {
        /// ハブの設定ファイル / hub config file
        #[arg(long)]
        config: PathBuf,
        /// 事例ID / case id
        #[arg(long)]
        case: String,
        /// JSON で出力する / print JSON
        #[arg(long)]
        json: bool,
    },
    /// 保全中の事例の一覧 / list the cases under legal hold
    List {
        /// ハブの設定ファイル / hub config file
        #[arg(long)]
        config: PathBuf,
        /// JSON で出力する / print JSON
        #[arg(long)]
        json: bool,
    },
}

pub fn hold(cmd: HoldCommand, lang: Lang) -> anyhow::Result<()> {
    runtime()?.block_on(async move {
        match cmd {
            HoldCommand::Add {
                config,
                case,
                reason,
                json,
            } => add(&config, &case, &reason, json, lang).await,
            HoldCommand::Release { config, case, json } => {
                release(&config, &case, json, lang).await
            }
            HoldCommand::List { config, json } => list(&config, json, lang).await,
        }
    })
}

/// `tsunagu admin purge`.
pub fn purge_now(config: &Path, dry_run: bool, json_out: bool, lang: Lang) -> anyhow::Result<()> {
    runtime()?.block_on(async move {
        let config = super::hub_config(config, lang)?;
        let store = super::hub_store(&config, lang).await?;
        let retention = config.retention;
        let run = PurgeRun {
            dry_run,
            operator: Some(operator()),
        };
        let now = time::OffsetDateTime::now_utc();
        let report = purge(&*store, &retention, now, &run).await;
        store.close().await;
        let report = report?;
        if json_out {
            return json(&report);
        }
        let head = match (dry_run, report.total()) {
            (_, 0) => lang.pick("削除の対象はありません。", "nothing to purge."),
            (true, _) => lang.pick(
                "削除の対象（試行のため何も変更していません）:",
                "would purge (dry run: nothing changed):",
            ),
            (false, _) => lang.pick(
                "削除しました（監査ログに記録済み）:",
                "purged (recorded in the audit chain):",
            ),
        };
        say!("{head}");
        for (kind, n) in &report.counts {
            say!("  {kind}: {n}  (<= {})", report.cutoffs[kind]);
        }
        Ok(())
    })
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Runtime::new()?)
}

async fn open(config: &Path, lang: Lang) -> anyhow::Result<Arc<dyn HubStore>> {
    super::hub_store(&super::hub_config(config, lang)?, lang).await
}

/// A case id as the hub issued it; a malformed one is refused before the
/// database is opened.
fn case_id(text: &str, lang: Lang) -> anyhow::Result<CaseId> {
    text.parse().map_err(|_| {
        anyhow::anyhow!(
            "{} {text:?}",
            lang.pick(
                "事例IDの形式が正しくありません（英小文字・数字・'-' の 1〜64 文字）:",
                "not a case id (1-64 characters of a-z, 0-9 and '-'):",
            )
        )
    })
}

async fn add(
    config: &Path,
    case: &str,
    reason: &str,
    json_out: bool,
    lang: Lang,
) -> anyhow::Result<()> {
    let case_id = case_id(case, lang)?;
    if reason.trim().is_empty() {
        bail!(
            "{}",
            lang.pick(
                "保全の理由が空です。--reason に理由（例: 裁判所からの保全要請）を書いてください。何も変更していません。",
                "the reason is empty: say why with --reason (e.g. a court's preservation request). Nothing was changed.",
            )
        );
    }
    let store = open(config, lang).await?;
    let outcome = store.add_hold(&case_id, reason.trim(), &operator()).await;
    store.close().await;
    match outcome? {
        HoldOutcome::Held => done(json_out, "held", &case_id, lang.pick(
            "法的保全にしました。解除するまで、この事例のエンベロープは削除されません:",
            "placed under legal hold; none of this case's envelopes is purged until it is released:",
        )),
        HoldOutcome::AlreadyHeld => bail!(
            "{} {case_id}",
            lang.pick(
                "この事例はすでに法的保全中です（何も変更していません）。一覧は tsunagu admin hold list:",
                "this case is already under legal hold (nothing changed; see tsunagu admin hold list):",
            )
        ),
        HoldOutcome::UnknownCase => bail!(
            "{} {case_id}",
            lang.pick(
                "ハブはこの事例IDを知りません（何も変更していません）。事例IDを確認してください:",
                "the hub knows no such case (nothing changed); check the case id:",
            )
        ),
    }
}

async fn release(config: &Path, case: &str, json_out: bool, lang: Lang) -> anyhow::Result<()> {
    let case_id = case_id(case, lang)?;
    let store = open(config, lang).await?;
    let outcome = store.release_hold(&case_id, &operator()).await;
    store.close().await;
    match outcome? {
        ReleaseOutcome::Released => done(json_out, "released", &case_id, lang.pick(
            "法的保全を解除しました。この事例のエンベロープは保存期間に従って削除されます:",
            "legal hold released; this case's envelopes are purged by the retention periods again:",
        )),
        ReleaseOutcome::NotHeld => bail!(
            "{} {case_id}",
            lang.pick(
                "この事例は法的保全中ではありません（何も変更していません）。一覧は tsunagu admin hold list:",
                "this case is not under legal hold (nothing changed; see tsunagu admin hold list):",
            )
        ),
    }
}

fn done(json_out: bool, status: &str, case_id: &CaseId, text: &str) -> anyhow::Result<()> {
    if json_out {
        return json(&serde_json::json!({ "status": status, "case_id": case_id }));
    }
    say!("{text} {case_id}");
    Ok(())
}

async fn list(config: &Path, json_out: bool, lang: Lang) -> anyhow::Result<()> {
    let store = open(config, lang).await?;
    let holds = store.holds().await;
    store.close().await;
    let holds = holds?;
    if json_out {
        return json(&holds);
    }
    if holds.is_empty() {
        say!(
            "{}",
            lang.pick(
                "法的保全中の事例はありません。",
                "no case is under legal hold."
            )
        );
    }
    for h in &holds {
        say!("{}  {}  {}  {}", h.case_id, h.held_at, h.held_by, h.reason);
    }
    Ok(())
}
