//! `tsunagu admin directory sign|verify|diff`: the CA signs the exact bytes
//! of `directory.toml` (offline, where the CA key is kept); anyone verifies
//! with the CA certificate; `diff` shows what an operator must check before
//! signing.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;

use crate::crypto::files;
use crate::crypto::pki::CaBundle;
use crate::directory::{self, Directory, DirectoryDiff, SignedDirectory};
use crate::i18n::Lang;

#[derive(Subcommand)]
pub enum DirectoryCommand {
    /// CA の鍵で directory.toml に署名し FILE.sig を書き出す / sign FILE with the CA key, writing FILE.sig
    Sign {
        /// CA 証明書 / CA certificate (PEM)
        #[arg(long)]
        ca_cert: PathBuf,
        /// CA 秘密鍵 / CA private key (PEM)
        #[arg(long)]
        ca_key: PathBuf,
        /// 置き換える署名より版が新しくなくても署名する / sign even if the version is not higher than the signature it replaces
        #[arg(long)]
        allow_same_or_older: bool,
        /// 署名するディレクトリ / the directory to sign
        file: PathBuf,
    },
    /// FILE と FILE.sig を CA 証明書で検証 / verify FILE and FILE.sig with the CA certificate
    Verify {
        /// CA 証明書 / CA certificate (PEM)
        #[arg(long)]
        ca_cert: PathBuf,
        /// 検証するディレクトリ / the directory to verify
        file: PathBuf,
    },
    /// 2 つのディレクトリの差分（署名前の確認用）/ what changed between two directories (check before signing)
    Diff {
        /// 現在のディレクトリ / the directory in use
        old: PathBuf,
        /// 署名しようとしているディレクトリ / the directory about to be signed
        new: PathBuf,
    },
}

pub fn run(cmd: DirectoryCommand, lang: Lang) -> anyhow::Result<()> {
    match cmd {
        DirectoryCommand::Sign {
            ca_cert,
            ca_key,
            allow_same_or_older,
            file,
        } => sign(&ca_cert, &ca_key, &file, allow_same_or_older, lang),
        DirectoryCommand::Verify { ca_cert, file } => verify(&ca_cert, &file, lang),
        DirectoryCommand::Diff { old, new } => diff(&old, &new, lang),
    }
}

fn sign(
    ca_cert: &Path,
    ca_key: &Path,
    file: &Path,
    allow_older: bool,
    lang: Lang,
) -> anyhow::Result<()> {
    let ca = CaBundle::load(ca_cert, ca_key).context(lang.pick(
        "CA の証明書または秘密鍵を読み込めません。--ca-cert と --ca-key が同じ CA の ca.pem と ca-key.pem か確認してください",
        "cannot load the CA; check that --ca-cert and --ca-key are ca.pem and ca-key.pem of the same CA",
    ))?;
    let text = files::read(file)?;
    let version = Directory::parse(&text)
        .with_context(|| {
            format!(
                "{} {}",
                lang.pick("ディレクトリを読めません:", "cannot parse the directory"),
                file.display()
            )
        })?
        .version();
    let sig_path = directory::signature_path(file);
    if let Ok(previous) = std::fs::read_to_string(&sig_path)
        && let Ok(previous) = directory::signed_version(&previous)
        && version <= previous
        && !allow_older
    {
        bail!(
            "{}",
            match lang {
                Lang::Ja => format!(
                    "版 {version} は置き換える署名の版 {previous} より新しくありません。ディレクトリの version を上げてから署名してください（古い版を意図して署名する場合は --allow-same-or-older）"
                ),
                Lang::En => format!(
                    "version {version} is not higher than version {previous} of the signature it replaces; raise `version` in the directory, then sign (pass --allow-same-or-older to sign it anyway)"
                ),
            }
        );
    }
    let signature = directory::sign(&text, &ca)
        .context(lang.pick("ディレクトリに署名できません", "cannot sign the directory"))?;
    files::write_public(&sig_path, &signature)?;
    eprintln!(
        "{} {} (version {version})",
        lang.pick("署名を書き出しました:", "wrote the signature"),
        sig_path.display()
    );
    Ok(())
}

fn verify(ca_cert: &Path, file: &Path, lang: Lang) -> anyhow::Result<()> {
    let signed = SignedDirectory::load(file, ca_cert).with_context(|| {
        format!(
            "{} {}",
            lang.pick(
                "✗ ディレクトリの署名を確認できません。使わないでください:",
                "✗ the directory's signature does not verify; do not use it:"
            ),
            file.display()
        )
    })?;
    println!(
        "{} {} (version {}, {} {})",
        lang.pick(
            "✓ CA の署名を確認しました:",
            "✓ the CA's signature verifies:"
        ),
        file.display(),
        signed.version(),
        signed.directory().agencies().len(),
        lang.pick("機関", "agencies")
    );
    Ok(())
}

fn diff(old: &Path, new: &Path, lang: Lang) -> anyhow::Result<()> {
    let load = |path: &Path| {
        Directory::load(path).with_context(|| {
            format!(
                "{} {}",
                lang.pick("ディレクトリを読めません:", "cannot load the directory"),
                path.display()
            )
        })
    };
    let (old, new) = (load(old)?, load(new)?);
    print!("{}", render(&directory::diff(&old, &new), &old, &new, lang));
    Ok(())
}

/// The diff as an operator reads it: every line names what to check.
pub(super) fn render(diff: &DirectoryDiff, old: &Directory, new: &Directory, lang: Lang) -> String {
    let mut out = format!(
        "{} {} → {}\n",
        lang.pick("版", "version"),
        diff.old_version,
        diff.new_version
    );
    if diff.new_version <= diff.old_version {
        out.push_str(lang.pick(
            "⚠ 版が上がっていません。ノードは新しくない版を拒否します\n",
            "⚠ the version is not higher: nodes refuse a directory that is not newer\n",
        ));
    }
    if let Some((from, to)) = &diff.hub_key {
        out.push_str(&format!("~ [hub] signing_key: {from} → {to}\n"));
    }
    for id in &diff.added {
        let name = new.name_of(id.as_str());
        out.push_str(&format!("+ {id} ({name})\n"));
    }
    for id in &diff.removed {
        let name = old.name_of(id.as_str());
        out.push_str(&format!("- {id} ({name})\n"));
    }
    for (id, changes) in &diff.changed {
        for change in changes {
            out.push_str(&format!(
                "~ {id} {}: {} → {}\n",
                change.field, change.old, change.new
            ));
        }
    }
    if diff.is_empty() {
        out.push_str(lang.pick("機関の変更はありません\n", "no agency changed\n"));
    }
    out
}
