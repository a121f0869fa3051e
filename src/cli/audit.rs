//! `tsunagu audit verify | export`: check the hash chain and write it out,
//! on the hub's machine, straight from its database.

use crate::cli::output::say;
use std::io::Write;
use std::path::PathBuf;

use crate::hub::HubConfig;
use crate::i18n::Lang;
use crate::protocol::Timestamp;
use crate::store::audit::{self, AuditEntry};
use crate::store::model::AuditEvent;
use anyhow::{Context, bail};
use clap::{Args, Subcommand};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// 監査ログのハッシュ連鎖を検証 / verify the audit hash chain
    Verify(DbArgs),
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
            AuditCommand::Verify(db) => verify(&db, lang).await,
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
    let operator = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let detail = serde_json::json!({ "operator": operator, "from": from, "to": to, "entries": entries.len() });
    let result = store
        .audit(AuditEvent::new("audit_exported", None, None, detail))
        .await;
    store.close().await;
    Ok(result?)
}

async fn verify(db: &DbArgs, lang: Lang) -> anyhow::Result<()> {
    let entries = entries(db, None, None, lang).await?;
    let last = entries
        .last()
        .map(|e| hex::encode(&e.hash))
        .unwrap_or_default();
    match audit::verify(entries) {
        Ok(n) => {
            say!(
                "{} {n}（{} {last}）",
                lang.pick(
                    "監査ログの連鎖を検証しました。改ざんはありません。件数:",
                    "audit chain verified, intact. entries:"
                ),
                lang.pick("最新のハッシュ", "last hash")
            );
            Ok(())
        }
        Err(broken) => bail!(
            "{} #{}: {broken}",
            lang.pick(
                "監査ログの連鎖が壊れています。最初の不整合は項目",
                "the audit chain is broken; first bad entry"
            ),
            broken.seq()
        ),
    }
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
