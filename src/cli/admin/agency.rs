//! `tsunagu admin agency add|update|revoke|list`: change `directory.toml`
//! one agency at a time, on the CA machine. Keys come from the files
//! `certs issue` / `certs rotate` wrote, never typed by hand; the file keeps
//! the operator's comments; each change raises `version`, prints what
//! changed, and is signed at once (`--ca-cert`/`--ca-key`) or names the
//! exact next command. The file is replaced whole or not at all.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};

use super::directory::render;
use crate::cli::operator::operator;
use crate::cli::output::{self, say};
use crate::crypto::pki::{self, CaBundle};
use crate::crypto::{files, keys};
use crate::directory::{
    self, AgencyKeys, Directory, DirectoryEdit, EditError, Edited, OldSigningKey, Update,
};
use crate::i18n::Lang;
use crate::protocol::{Agency, AgencyId, AgencyKind, Timestamp};

#[derive(Subcommand)]
pub enum AgencyCommand {
    /// 機関をディレクトリに追加（鍵は certs issue の出力から）/ add an agency (keys from `certs issue`'s output)
    Add {
        #[command(flatten)]
        target: Target,
        /// 機関 ID / agency id
        #[arg(long)]
        id: AgencyId,
        /// certs issue --out の鍵ディレクトリ / the key directory `certs issue --out` wrote
        #[arg(long = "from")]
        from: PathBuf,
        /// 機関の種別 / agency kind (center, obstetric_clinic, child_welfare, nursery, yotaikyo, public_health, other)
        #[arg(long, value_parser = crate::cli::certs::parse_kind)]
        kind: AgencyKind,
        /// 機関の名称 / agency display name
        #[arg(long)]
        name: String,
        /// 要対協の構成機関 / a member of the 要対協
        #[arg(long)]
        yotaikyo_member: bool,
    },
    /// 機関の名称・種別・要対協・鍵を変更 / change an agency's name, kind, 要対協 membership or keys
    Update {
        #[command(flatten)]
        target: Target,
        /// 機関 ID / agency id
        #[arg(long)]
        id: AgencyId,
        /// 新しい名称 / new display name
        #[arg(long)]
        name: Option<String>,
        /// 新しい種別 / new kind
        #[arg(long, value_parser = crate::cli::certs::parse_kind)]
        kind: Option<AgencyKind>,
        /// 要対協の構成機関か（true|false）/ a member of the 要対協 (true|false)
        #[arg(long, num_args = 0..=1, default_missing_value = "true")]
        yotaikyo_member: Option<bool>,
        /// 新しい鍵・証明書（certs rotate 後または再発行後の鍵ディレクトリ）/ new keys and certificate (the key directory after `certs rotate` or a re-issue)
        #[arg(long = "from")]
        from: Option<PathBuf>,
        /// 旧署名鍵で署名された封筒を受け付ける日数 / days envelopes signed with the old key are still accepted
        #[arg(long, default_value_t = 30, requires = "from")]
        grace_days: u32,
        /// 鍵が漏えいした（ノードの盗難など）: 旧署名鍵を一切信頼しない / compromised (a stolen node): trust no old signing key
        #[arg(long, requires = "from")]
        compromised: bool,
    },
    /// 機関をディレクトリから取り消す（ID は再利用不可）/ revoke an agency (its id is never reused)
    Revoke {
        #[command(flatten)]
        target: Target,
        /// 機関 ID / agency id
        #[arg(long)]
        id: AgencyId,
    },
    /// ディレクトリの機関一覧 / list the directory's agencies
    List {
        /// ディレクトリ / the directory
        #[arg(long)]
        directory: PathBuf,
        /// JSON で出力 / print JSON
        #[arg(long)]
        json: bool,
    },
}

/// The directory to change and, optionally, the CA to sign it with.
#[derive(Args)]
pub struct Target {
    /// 変更する directory.toml / the directory.toml to change
    #[arg(long)]
    directory: PathBuf,
    /// CA 証明書（指定すると署名まで行う）/ CA certificate (sign at once)
    #[arg(long, requires = "ca_key")]
    ca_cert: Option<PathBuf>,
    /// CA 秘密鍵 / CA private key
    #[arg(long, requires = "ca_cert")]
    ca_key: Option<PathBuf>,
}

pub fn run(cmd: AgencyCommand, lang: Lang) -> anyhow::Result<()> {
    match cmd {
        AgencyCommand::Add {
            target,
            id,
            from,
            kind,
            name,
            yotaikyo_member,
        } => {
            let keys = read_keys(&from, lang)?;
            let agency = Agency {
                id,
                kind,
                name,
                cert_fingerprint: keys.cert_fingerprint,
                age_recipient: keys.age_recipient,
                signing_key: keys.signing_key,
                yotaikyo_member,
                retired_signing_keys: Vec::new(),
            };
            change(&target, lang, |edit| edit.add(&agency))
        }
        AgencyCommand::Update {
            target,
            id,
            name,
            kind,
            yotaikyo_member,
            from,
            grace_days,
            compromised,
        } => {
            let keys = match from {
                Some(dir) => Some((read_keys(&dir, lang)?, old_key(grace_days, compromised))),
                None => None,
            };
            let update = Update {
                name,
                kind,
                yotaikyo_member,
                keys,
            };
            change(&target, lang, |edit| edit.update(&id, update))
        }
        AgencyCommand::Revoke { target, id } => change(&target, lang, |edit| edit.revoke(&id)),
        AgencyCommand::List { directory, json } => list(&directory, json, lang),
    }
}

fn old_key(grace_days: u32, compromised: bool) -> OldSigningKey {
    if compromised {
        return OldSigningKey::Distrusted;
    }
    let grace = time::Duration::days(i64::from(grace_days));
    OldSigningKey::TrustedUntil(Timestamp::from_datetime(
        Timestamp::now().datetime() + grace,
    ))
}

/// Edit, check, then sign (if asked) and replace the file; nothing is
/// written unless every step before succeeded.
fn change(
    target: &Target,
    lang: Lang,
    edit: impl FnOnce(&mut DirectoryEdit) -> Result<(), EditError>,
) -> anyhow::Result<()> {
    // The CA first: a wrong key must not leave an edited, unsigned file.
    let ca = match (&target.ca_cert, &target.ca_key) {
        (Some(cert), Some(key)) => Some(CaBundle::load(cert, key).context(lang.pick(
            "CA の証明書または秘密鍵を読み込めません。--ca-cert と --ca-key が同じ CA の ca.pem と ca-key.pem か確認してください（ファイルは変更していません）",
            "cannot load the CA; check that --ca-cert and --ca-key are ca.pem and ca-key.pem of the same CA (nothing was changed)",
        ))?),
        _ => None,
    };
    let path = &target.directory;
    let text = files::read(path).with_context(|| {
        format!(
            "{} {}",
            lang.pick("ディレクトリを読めません:", "cannot read the directory"),
            path.display()
        )
    })?;
    let refused = |e: EditError| anyhow::anyhow!("{}", message(&e, lang));
    let mut editing =
        DirectoryEdit::parse(&text, Timestamp::now(), &operator()).map_err(refused)?;
    edit(&mut editing).map_err(refused)?;
    let before = editing.before().clone();
    let Edited {
        text,
        directory,
        diff,
    } = editing.finish().map_err(refused)?;
    let signature = ca
        .map(|ca| directory::sign(&text, &ca))
        .transpose()
        .context(lang.pick("ディレクトリに署名できません", "cannot sign the directory"))?;
    replace(path, &text)?;
    print!("{}", render(&diff, &before, &directory, lang));
    match signature {
        Some(signature) => {
            replace(&directory::signature_path(path), &signature)?;
            eprintln!(
                "{}",
                match lang {
                    Lang::Ja => format!(
                        "{} と署名（版 {}）を書き出しました。ハブに置き、`systemctl reload tsunagu-hub`（SIGHUP）で反映してください。",
                        path.display(),
                        directory.version()
                    ),
                    Lang::En => format!(
                        "wrote {} and its signature (version {}); put both on the hub and run `systemctl reload tsunagu-hub` (SIGHUP)",
                        path.display(),
                        directory.version()
                    ),
                }
            );
        }
        None => eprintln!(
            "{}\n  tsunagu admin directory sign --ca-cert ca.pem --ca-key ca-key.pem {}",
            lang.pick(
                "ディレクトリを書き換えました（未署名）。CA の鍵がある端末で次のコマンドで署名し、ハブに置いて `systemctl reload tsunagu-hub`（SIGHUP）で反映してください:",
                "changed the directory (not signed yet); sign it where the CA key is kept, put it on the hub and run `systemctl reload tsunagu-hub` (SIGHUP):"
            ),
            path.display()
        ),
    }
    Ok(())
}

/// Replace `path` whole: written beside it, then renamed over it.
fn replace(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut next = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write beside {}", path.display()))?;
    std::io::Write::write_all(&mut next, text.as_bytes())?;
    next.as_file().sync_all()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Public, like the directory it replaces.
        next.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    next.persist(path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

/// The public keys in a key directory, each from its file.
fn read_keys(dir: &Path, lang: Lang) -> anyhow::Result<AgencyKeys> {
    for file in ["cert.pem", "age-identity.txt", "signing-key.txt"] {
        if !dir.join(file).is_file() {
            anyhow::bail!(
                "{}",
                match lang {
                    Lang::Ja => format!(
                        "鍵のディレクトリ {} に {file} がありません。`tsunagu certs issue --out DIR`（または certs rotate）で作ったディレクトリを --from に指定してください（ファイルは変更していません）",
                        dir.display()
                    ),
                    Lang::En => format!(
                        "the key directory {} has no {file}; give --from the directory `tsunagu certs issue --out DIR` (or certs rotate) wrote (nothing was changed)",
                        dir.display()
                    ),
                }
            );
        }
    }
    let unreadable = || {
        format!(
            "{} {}",
            lang.pick(
                "鍵のディレクトリの鍵または証明書を読めません:",
                "cannot read a key or the certificate in"
            ),
            dir.display()
        )
    };
    let cert = files::read(&dir.join("cert.pem")).with_context(unreadable)?;
    let identity =
        keys::load_age_identity(&dir.join("age-identity.txt")).with_context(unreadable)?;
    let signing = keys::load_signing_key(&dir.join("signing-key.txt")).with_context(unreadable)?;
    Ok(AgencyKeys {
        cert_fingerprint: pki::fingerprint_pem(&cert).with_context(unreadable)?,
        age_recipient: identity.to_public().into(),
        signing_key: crate::protocol::keys::SigningPublicKey(signing.verifying_key()),
    })
}

/// An edit's refusal, Japanese first.
fn message(e: &EditError, lang: Lang) -> String {
    let nothing = lang.pick("（ファイルは変更していません）", " (nothing was changed)");
    let text = match (e, lang) {
        (EditError::Toml(_) | EditError::Directory(_) | EditError::Shape, Lang::Ja) => {
            format!("ディレクトリを解釈できません: {e}。ファイルを直してから再実行してください")
        }
        (EditError::UnknownId(id), Lang::Ja) => {
            format!("機関 {id} はディレクトリにありません。`tsunagu admin agency list` で ID を確認してください")
        }
        (EditError::DuplicateId(id), Lang::Ja) => {
            format!("機関 {id} はすでにディレクトリにあります。変更は `tsunagu admin agency update` で行ってください")
        }
        (EditError::RevokedId(id), Lang::Ja) => {
            format!("機関 ID {id} は取り消し済みで、再利用できません。別の ID で発行してください")
        }
        (EditError::DuplicateCertificate { holder, .. }, Lang::Ja) => format!(
            "この証明書はすでに機関 {holder} のものとして登録されています。この機関用に `tsunagu certs issue` で発行した鍵ディレクトリを指定してください"
        ),
        (EditError::RevokedCertificate(_), Lang::Ja) => {
            "この証明書は失効済みで、再登録できません。`tsunagu certs issue` で新しい証明書を発行してください".to_owned()
        }
        (EditError::NothingToChange, Lang::Ja) => {
            "変更がありません。--name、--kind、--yotaikyo-member、--from のいずれかで新しい値を指定してください".to_owned()
        }
        (e, Lang::En) => e.to_string(),
    };
    format!("{text}{nothing}")
}

/// One agency as `list --json` prints it.
#[derive(serde::Serialize)]
struct Listed<'a> {
    id: &'a AgencyId,
    kind: AgencyKind,
    name: &'a str,
    yotaikyo_member: bool,
}

fn list(path: &Path, json: bool, lang: Lang) -> anyhow::Result<()> {
    let directory = Directory::load(path).with_context(|| {
        format!(
            "{} {}",
            lang.pick("ディレクトリを読めません:", "cannot load the directory"),
            path.display()
        )
    })?;
    let listed: Vec<Listed> = directory
        .agencies()
        .iter()
        .map(|a| Listed {
            id: &a.id,
            kind: a.kind,
            name: &a.name,
            yotaikyo_member: a.yotaikyo_member,
        })
        .collect();
    if json {
        return output::json(&serde_json::json!({
            "version": directory.version(),
            "agencies": listed,
            "revoked": directory.revoked(),
        }));
    }
    say!("{} {}", lang.pick("版", "version"), directory.version());
    for a in &listed {
        let member = if a.yotaikyo_member {
            lang.pick("要対協", "要対協 member")
        } else {
            "-"
        };
        let kind = serde_json::to_value(a.kind).unwrap_or_default();
        say!(
            "{}\t{}\t{}\t{member}",
            a.id,
            kind.as_str().unwrap_or("?"),
            a.name
        );
    }
    for r in directory.revoked() {
        let reason = serde_json::to_value(r.reason).unwrap_or_default();
        say!(
            "{}\t{}\t{}\t{}",
            lang.pick("取消", "revoked"),
            r.id,
            reason.as_str().unwrap_or("?"),
            r.at
        );
    }
    Ok(())
}
