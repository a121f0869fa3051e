//! `tsunagu audit verify | export`: check the hash chain and write it out,
//! on the hub's machine, straight from its database. `verify --checkpoints`
//! also checks the chain against checkpoints the hub signed earlier and a
//! node kept, which catches what the chain alone cannot: a deleted tail, or
//! a chain recomputed after an edit.

use crate::cli::output::say;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::crypto::hub_signed;
use crate::directory::Directory;
use crate::hub::HubConfig;
use crate::i18n::Lang;
use crate::protocol::Timestamp;
use crate::protocol::checkpoint::CheckpointFile;
use crate::protocol::keys::SigningPublicKey;
use crate::store::audit::{self, AuditEntry};
use crate::store::model::AuditEvent;
use anyhow::{Context, bail};
use clap::{Args, Subcommand};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// 監査ログのハッシュ連鎖を検証 / verify the audit hash chain
    Verify {
        #[command(flatten)]
        db: DbArgs,
        /// 機関ノードが書き出したチェックポイント（`tsunagu agency checkpoints export`） / checkpoints exported from a node
        #[arg(long)]
        checkpoints: Option<PathBuf>,
        /// ハブの署名鍵を記載したディレクトリ（省略時は設定ファイルのもの） / the directory naming the hub's signing key (default: the config's)
        #[arg(long)]
        directory: Option<PathBuf>,
    },
    /// 監査ログを書き出す（JSON Lines または CSV） / export the audit log (JSON lines or CSV)
    Export {
        #[command(flatten)]
        db: DbArgs,
        /// この時刻以降（RFC 3339 UTC） / from (inclusive)
        #[arg(long)]
        from: Option<Timestamp>,
        /// この時刻より前 / to (exclusive)
        #[arg(long)]
        to: Option<Timestamp>,
        /// 形式 / format
        #[arg(long, value_enum, default_value = "jsonl")]
        format: Format,
        /// 出力先（省略時は標準出力） / output file (default stdout)
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Args)]
pub struct DbArgs {
    /// ハブの設定ファイル / hub config file
    #[arg(long)]
    config: Option<PathBuf>,
    /// データベース URL / database URL
    #[arg(long, env = "TSUNAGU_DATABASE_URL")]
    database_url: Option<String>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// JSON Lines
    Jsonl,
    /// CSV
    Csv,
}

impl DbArgs {
    fn url(&self) -> anyhow::Result<String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        Ok(match &self.config {
            Some(path) => HubConfig::load(path)?.database_url,
            None => HubConfig::default().database_url,
        })
    }
}

pub fn run(cmd: AuditCommand, lang: Lang) -> anyhow::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(async move {
        match cmd {
            AuditCommand::Verify {
                db,
                checkpoints,
                directory,
            } => verify(&db, checkpoints.as_deref(), directory, lang).await,
            AuditCommand::Export {
                db,
                from,
                to,
                format,
                out,
            } => export(&db, from, to, format, out, lang).await,
        }
    })
}

async fn entries(
    db: &DbArgs,
    from: Option<&Timestamp>,
    to: Option<&Timestamp>,
    lang: Lang,
) -> anyhow::Result<Vec<AuditEntry>> {
    let url = db.url()?;
    let store = crate::store::open(&url).await.with_context(|| {
        lang.pick(
            "ハブのデータベースを開けません",
            "cannot open the hub database",
        )
    })?;
    let entries = store.audit_entries(from, to).await;
    store.close().await;
    Ok(entries?)
}

/// Exporting the log is itself an administrative action: it goes into the
/// chain, with who ran it (the OS user) and what period.
async fn record_export(
    db: &DbArgs,
    entries: &[AuditEntry],
    from: Option<&Timestamp>,
    to: Option<&Timestamp>,
) -> anyhow::Result<()> {
    let store = crate::store::open(&db.url()?).await?;
    let operator = super::operator::operator();
    let detail = serde_json::json!({ "operator": operator, "from": from, "to": to, "entries": entries.len() });
    let result = store
        .audit(AuditEvent::new("audit_exported", None, None, detail))
        .await;
    store.close().await;
    Ok(result?)
}

async fn verify(
    db: &DbArgs,
    checkpoints: Option<&Path>,
    directory: Option<PathBuf>,
    lang: Lang,
) -> anyhow::Result<()> {
    // The file and the key first: a mistyped path is reported before the
    // database is read.
    let signed = match checkpoints {
        Some(path) => Some((read_checkpoints(path, lang)?, hub_key(db, directory, lang)?)),
        None => None,
    };
    let entries = entries(db, None, None, lang).await?;
    let last = entries
        .last()
        .map(|e| hex::encode(&e.hash))
        .unwrap_or_default();
    let chain = audit::verify(entries.iter().cloned());
    let contradicted = match &signed {
        Some((file, key)) => check_checkpoints(&entries, file, key, lang),
        None => 0,
    };
    match chain {
        Ok(n) => say!(
            "{} {n}（{} {last}）",
            lang.pick(
                "監査ログの連鎖を検証しました。改ざんはありません。件数:",
                "audit chain verified, intact. entries:"
            ),
            lang.pick("最新のハッシュ", "last hash")
        ),
        Err(broken) => bail!(
            "{} #{}: {broken}",
            lang.pick(
                "監査ログの連鎖が壊れています。最初の不整合は項目",
                "the audit chain is broken; first bad entry"
            ),
            broken.seq()
        ),
    }
    if contradicted > 0 {
        bail!(
            "{} {contradicted}",
            lang.pick(
                "監査ログがチェックポイントと一致しません（末尾の削除、または改ざん後の再計算）。矛盾するチェックポイント:",
                "the audit chain contradicts checkpoints the hub signed (a deleted tail, or a chain recomputed after an edit). contradicted checkpoints:"
            )
        );
    }
    let Some((file, _)) = &signed else {
        eprintln!(
            "{}",
            lang.pick(
                "（末尾の削除や改ざん後の再計算は、連鎖だけでは分かりません。機関ノードのチェックポイントと照合するには --checkpoints を指定してください）",
                "(a deleted tail or a chain recomputed after an edit cannot be seen in the chain alone: check it against a node's checkpoints with --checkpoints)"
            )
        );
        return Ok(());
    };
    {
        say!(
            "{} {}（{} {}）",
            lang.pick(
                "チェックポイントと一致しました。改ざんはありません。確認した件数:",
                "the chain holds every checkpoint, intact. checkpoints checked:"
            ),
            file.checkpoints.len(),
            lang.pick("保持していた機関", "held by"),
            file.agency
        );
    }
    Ok(())
}

fn read_checkpoints(path: &Path, lang: Lang) -> anyhow::Result<CheckpointFile> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "{} {}",
            lang.pick(
                "チェックポイントのファイルを読めません:",
                "cannot read the checkpoint file"
            ),
            path.display()
        )
    })?;
    let file: CheckpointFile = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} {}",
            lang.pick(
                "チェックポイントのファイルの形式が違います（`tsunagu agency checkpoints export` で書き出したものを指定してください）:",
                "not a checkpoint file (give one written by `tsunagu agency checkpoints export`):"
            ),
            path.display()
        )
    })?;
    if file.checkpoints.is_empty() {
        bail!(
            "{} {}",
            lang.pick(
                "チェックポイントが1件もありません。ノードがハブに接続した後に書き出してください:",
                "the file holds no checkpoint: export it after the node has been connected to the hub:"
            ),
            path.display()
        );
    }
    Ok(file)
}

/// The hub's public key as the directory names it: the key nodes checked
/// each checkpoint with when they stored it.
fn hub_key(
    db: &DbArgs,
    directory: Option<PathBuf>,
    lang: Lang,
) -> anyhow::Result<SigningPublicKey> {
    let path = match directory {
        Some(path) => path,
        None => match &db.config {
            Some(config) => HubConfig::load(config)?.directory,
            None => HubConfig::default().directory,
        },
    };
    let directory = Directory::load(&path)?;
    match directory.hub_signing_key() {
        Some(key) => Ok(*key),
        None => bail!(
            "{} {}",
            lang.pick(
                "ディレクトリにハブの署名鍵（[hub] signing_key）がありません:",
                "the directory names no hub signing key ([hub] signing_key):"
            ),
            path.display()
        ),
    }
}

/// Print each checkpoint the chain contradicts; returns how many.
fn check_checkpoints(
    entries: &[AuditEntry],
    file: &CheckpointFile,
    key: &SigningPublicKey,
    lang: Lang,
) -> usize {
    let mut contradicted = 0;
    for (n, signed) in (1..).zip(&file.checkpoints) {
        let problem = match hub_signed::verify_checkpoint(signed, Some(key)) {
            Err(e) => format!(
                "{}: {e}",
                lang.pick(
                    "ハブの署名を検証できません（別のハブのもの、または偽造）",
                    "the hub's signature does not verify (another hub's, or forged)"
                )
            ),
            Ok(checkpoint) => match audit::check_checkpoint(entries, &checkpoint) {
                Ok(()) => continue,
                Err(c) => format!(
                    "{} {}, {} {}: {c}",
                    lang.pick("件数", "entries"),
                    checkpoint.count,
                    lang.pick("署名時刻", "signed at"),
                    checkpoint.at
                ),
            },
        };
        contradicted += 1;
        eprintln!(
            "{} {n}/{} ({}): {problem}",
            lang.pick("チェックポイント", "checkpoint"),
            file.checkpoints.len(),
            file.agency
        );
    }
    contradicted
}

async fn export(
    db: &DbArgs,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    format: Format,
    out: Option<PathBuf>,
    lang: Lang,
) -> anyhow::Result<()> {
    let entries = entries(db, from.as_ref(), to.as_ref(), lang).await?;
    record_export(db, &entries, from.as_ref(), to.as_ref()).await?;
    let mut sink: Box<dyn Write> = match &out {
        Some(path) => {
            Box::new(std::fs::File::create(path).with_context(|| path.display().to_string())?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    match format {
        Format::Jsonl => {
            for e in &entries {
                serde_json::to_writer(&mut sink, e)?;
                sink.write_all(b"\n")?;
            }
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(sink);
            for e in &entries {
                w.serialize(e)?;
            }
            w.flush()?;
        }
    }
    eprintln!(
        "{} {}",
        lang.pick("書き出した件数:", "entries exported:"),
        entries.len()
    );
    Ok(())
}
