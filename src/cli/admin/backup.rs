//! `tsunagu admin backup`: an online, consistent copy of the hub's
//! database, written owner-only and atomically (a temporary file beside
//! `--out`, linked into place only when complete, never over an existing
//! file), with a `backup_taken` entry in the live hub's audit chain. The
//! copy holds no database epoch, so the hub that starts on it makes a new
//! one and every node notices the restore by itself.
//!
//! `tsunagu admin new-epoch`: for a database restored by other means (a
//! hand-run `pg_dump`, a base backup with point-in-time recovery), begin a
//! new epoch before any hub serves it.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;

use crate::cli::operator::operator;
use crate::cli::output::say;
use crate::i18n::Lang;
use crate::store::{HubStore, model::AuditEvent, postgres::dump};

#[derive(Args)]
pub struct BackupArgs {
    /// ハブの設定ファイル / hub config file
    #[arg(long)]
    config: PathBuf,
    /// バックアップの出力先（既存のファイルは上書きしません） / where to write the backup (never over an existing file)
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
pub struct NewEpochArgs {
    /// ハブの設定ファイル / hub config file
    #[arg(long)]
    config: PathBuf,
}

pub fn backup(args: BackupArgs, lang: Lang) -> anyhow::Result<()> {
    let config = super::hub_config(&args.config, lang)?;
    check_out(&args.out, lang)?;
    let postgres = !config.database_url.starts_with("sqlite:");
    if postgres && !dump::pg_dump_available() {
        bail!(
            "{}",
            lang.pick(
                "PostgreSQL のバックアップには pg_dump が必要ですが、見つかりません。PostgreSQL のクライアント（Debian: postgresql-client、サーバーと同じ版以上）を入れて PATH を通してから、もう一度実行してください。何も変更していません。",
                "backing up PostgreSQL needs pg_dump, which was not found: install the PostgreSQL client (Debian: postgresql-client, the server's version or newer), put it on PATH and run again. Nothing was changed."
            )
        );
    }
    tokio::runtime::Runtime::new()?.block_on(async {
        let store = super::hub_store(&config, lang).await?;
        let taken = take(&*store, &args.out, lang).await;
        store.close().await;
        let (size, count, elapsed) = taken?;
        say!(
            "{} {}（{} {} bytes、{} {count}、{} {} ms）",
            lang.pick("バックアップを書き出しました:", "backup written:"),
            args.out.display(),
            lang.pick("大きさ", "size"),
            size,
            lang.pick("監査ログ", "audit entries"),
            lang.pick("所要", "took"),
            elapsed,
        );
        say!(
            "{}",
            lang.pick(
                "復元するときは docs/operations.md §6 の手順に従ってください（復元したハブは新しいエポックで起動し、各ノードは自動で再開します）。",
                "to restore, follow docs/operations.md §6 (the restored hub starts in a new epoch; every node resumes by itself)."
            )
        );
        Ok(())
    })
}

/// Write the copy beside `out`, then link it into place; audit it.
async fn take(store: &dyn HubStore, out: &Path, lang: Lang) -> anyhow::Result<(u64, u64, u128)> {
    let dir = parent(out);
    let name = out.file_name().unwrap_or_default().to_string_lossy();
    // tempfile creates it 0600 and empty, as `VACUUM INTO` wants it.
    let partial = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".partial")
        .tempfile_in(dir)
        .with_context(|| unwritable(out, lang))?;
    let started = Instant::now();
    let head = store.backup(partial.path()).await.with_context(|| {
        lang.pick(
            "バックアップを取れませんでした（出力先には何も書いていません）",
            "the backup failed (nothing was written to the output file)",
        )
    })?;
    partial.as_file().sync_all()?;
    let written = partial
        .persist_noclobber(out)
        .map_err(|e| e.error)
        .with_context(|| exists(out, lang))?;
    written.sync_all()?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    let elapsed = started.elapsed().as_millis();
    let size = written.metadata()?.len();
    let (count, hash) = head.map_or((0, String::new()), |(n, h)| (n, hex::encode(h)));
    let event = AuditEvent::new(
        "backup_taken",
        None,
        None,
        serde_json::json!({
            "operator": operator(),
            "size": size,
            "audit_count": count,
            "audit_head": hash,
            "elapsed_ms": elapsed,
        }),
    );
    store.audit(event).await.with_context(|| {
        lang.pick(
            "バックアップは書き出しましたが、監査ログに記録できませんでした",
            "the backup was written but could not be recorded in the audit log",
        )
    })?;
    tracing::info!(
        size,
        audit_count = count,
        elapsed_ms = elapsed as u64,
        "backup taken"
    );
    Ok((size, count, elapsed))
}

pub fn new_epoch(args: NewEpochArgs, lang: Lang) -> anyhow::Result<()> {
    let config = super::hub_config(&args.config, lang)?;
    tokio::runtime::Runtime::new()?.block_on(async {
        let store = super::hub_store(&config, lang).await?;
        let renewed = async {
            let epoch = store.renew_epoch().await?;
            let event = AuditEvent::new(
                "epoch_renewed",
                None,
                None,
                serde_json::json!({
                    "operator": operator(),
                    "epoch": epoch.id,
                    "since": epoch.since,
                }),
            );
            store.audit(event).await?;
            anyhow::Ok(epoch)
        }
        .await;
        store.close().await;
        let epoch = renewed?;
        say!(
            "{} {}（{} {}）",
            lang.pick("新しいエポックを始めました:", "began a new epoch:"),
            epoch.id,
            lang.pick("起点", "since"),
            epoch.since
        );
        Ok(())
    })
}

/// Refuse before touching anything: an existing file, or a directory that
/// is not there or cannot be written.
fn check_out(out: &Path, lang: Lang) -> anyhow::Result<()> {
    if out.symlink_metadata().is_ok() {
        bail!("{}", exists(out, lang));
    }
    let dir = parent(out);
    let writable = dir.is_dir()
        && tempfile::Builder::new()
            .prefix(".tsunagu-backup-check.")
            .tempfile_in(dir)
            .is_ok();
    if !writable || out.file_name().is_none() {
        bail!("{}", unwritable(out, lang));
    }
    Ok(())
}

fn parent(out: &Path) -> &Path {
    match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn exists(out: &Path, lang: Lang) -> String {
    format!(
        "{} {}",
        out.display(),
        lang.pick(
            "はすでにあります。バックアップは既存のファイルを上書きしません。別の名前を指定してください。何も変更していません。",
            "already exists: a backup never overwrites a file. Name another one. Nothing was changed."
        )
    )
}

fn unwritable(out: &Path, lang: Lang) -> String {
    format!(
        "{} {}",
        out.display(),
        lang.pick(
            "に書き込めません。出力先のディレクトリがあり、この OS アカウントで書き込めるか確認してください。何も変更していません。",
            "cannot be written: check that its directory exists and this OS account can write to it. Nothing was changed."
        )
    )
}
