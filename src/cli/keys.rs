//! `tsunagu agency keys …`: protect the node's secret keys with a passphrase,
//! in place, or take the protection off again.

use std::path::PathBuf;

use age::secrecy::{ExposeSecret, SecretString};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use super::output::{self, say};
use crate::agency::AgencyConfig;
use crate::crypto::passphrase::{self, Change, Source};
use crate::i18n::Lang;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// 鍵ファイル（age 復号鍵・署名鍵・記録キー）をパスフレーズで暗号化 / encrypt the node's key files (age identity, signing key, records key) with a passphrase
    Protect(KeysArgs),
    /// パスフレーズによる保護を外す / take the passphrase protection off the key files
    Unprotect(KeysArgs),
}

#[derive(Args)]
pub struct KeysArgs {
    /// 機関ノードの設定ファイル / agency node config
    #[arg(long, default_value = "agency.toml")]
    config: PathBuf,
    /// JSON で出力する / print JSON
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
struct FileChange {
    file: PathBuf,
    change: Change,
}

pub async fn run(cmd: KeysCommand, lang: Lang) -> anyhow::Result<()> {
    let (args, protect) = match &cmd {
        KeysCommand::Protect(args) => (args, true),
        KeysCommand::Unprotect(args) => (args, false),
    };
    let config = AgencyConfig::load(&args.config).with_context(|| {
        lang.pick(
            "機関ノードの設定を読み込めません。--config でファイルを指定してください",
            "cannot load the agency config; name it with --config",
        )
    })?;
    // A node that has not started since records were encrypted has no
    // records key yet: make it now so that it is protected too.
    crate::agency::node::ensure_records_key(&config)?;
    let files = config.keys.files().to_vec();
    let passphrase = obtain(protect, &files[0], lang)?;
    let changes = if protect {
        passphrase::protect_in_place(&files, &passphrase)?
    } else {
        passphrase::unprotect_in_place(&files, &passphrase)?
    };
    let report: Vec<FileChange> = files
        .into_iter()
        .zip(changes)
        .map(|(file, change)| FileChange { file, change })
        .collect();
    if args.json {
        return output::json(&report);
    }
    for FileChange { file, change } in &report {
        let what = match (change, protect) {
            (Change::Rewritten, true) => lang.pick("保護しました", "protected"),
            (Change::Rewritten, false) => lang.pick("保護を外しました", "unprotected"),
            (Change::Unchanged, true) => lang.pick("保護済み", "already protected"),
            (Change::Unchanged, false) => lang.pick("保護されていません", "not protected"),
        };
        say!("{what}: {}", file.display());
    }
    Ok(())
}

/// The passphrase from the process's source; a new one typed on a terminal
/// is asked twice, so a typo cannot lock the keys away.
fn obtain(new: bool, key: &std::path::Path, lang: Lang) -> anyhow::Result<SecretString> {
    let Some(source) = Source::from_env() else {
        bail!(
            "{}",
            lang.pick(
                "パスフレーズがありません: TSUNAGU_PASSPHRASE_FILE でファイルを指定するか、端末から実行してください",
                "no passphrase: name a file with TSUNAGU_PASSPHRASE_FILE or run on a terminal",
            )
        );
    };
    let first = source.read(key)?;
    if new && source == Source::Terminal {
        let again = source.read(key)?;
        if again.expose_secret() != first.expose_secret() {
            bail!(
                "{}",
                lang.pick(
                    "パスフレーズが一致しません（鍵は変更していません）",
                    "the passphrases differ (no key was changed)",
                )
            );
        }
    }
    Ok(first)
}
