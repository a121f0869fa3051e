//! `tsunagu certs …`: the example PKI, a real CA, and agency key sets.

use std::path::PathBuf;

use crate::crypto::pki::CaBundle;
use crate::directory::Directory;
use crate::i18n::Lang;
use crate::protocol::{AgencyId, AgencyKind};
use crate::provision;
use anyhow::Context;
use clap::Subcommand;
use serde::Deserialize;
use serde::de::value::{Error as ValueError, StrDeserializer};

#[derive(Subcommand)]
pub enum CertsCommand {
    /// 例示用の証明書と鍵の一式を生成（本番では使用禁止）/ generate the example PKI (never for production)
    Example {
        /// 出力先 / output directory
        #[arg(long, default_value = "certs-example")]
        out: PathBuf,
        /// 空でない出力先を上書きする / overwrite a non-empty output directory
        #[arg(long)]
        force: bool,
    },
    /// 本番用の CA とハブのサーバー証明書を作成 / create a real CA and the hub's server certificate
    Ca {
        /// 出力先（空か存在しないこと）/ output directory (empty or absent)
        #[arg(long)]
        out: PathBuf,
        /// ハブの DNS 名または IP アドレス（複数可）/ the hub's DNS name or IP address (repeatable)
        #[arg(long = "hub-name", required = true)]
        hub_names: Vec<String>,
        /// CA の名前 / the CA's common name
        #[arg(long, default_value = "tsunagu CA")]
        common_name: String,
    },
    /// 機関の証明書と鍵を発行し、directory.toml 用の項目を表示 / issue an agency's certificate and keys, print its directory entry
    Issue {
        /// CA 証明書 / CA certificate (PEM)
        #[arg(long)]
        ca_cert: PathBuf,
        /// CA 秘密鍵 / CA private key (PEM)
        #[arg(long)]
        ca_key: PathBuf,
        /// 機関 ID（英小文字・数字・-）/ agency id (a-z, 0-9, '-')
        #[arg(long)]
        id: AgencyId,
        /// 機関の種別 / agency kind (center, obstetric_clinic, child_welfare, nursery, yotaikyo, public_health, other)
        #[arg(long, value_parser = parse_kind)]
        kind: AgencyKind,
        /// 機関の名称 / agency display name
        #[arg(long)]
        name: String,
        /// 出力先（空か存在しないこと）/ output directory (empty or absent)
        #[arg(long)]
        out: PathBuf,
        /// 要対協の構成機関 / a member of the 要対協
        #[arg(long)]
        yotaikyo_member: bool,
    },
    /// 機関の暗号鍵と署名鍵を更新し、新しい directory.toml の項目を表示 / rotate an agency's age and signing keys, print its new directory fields
    Rotate {
        /// 機関の鍵のディレクトリ（certs issue の --out）/ the agency's key directory (`certs issue --out`)
        #[arg(long)]
        dir: PathBuf,
        /// 旧署名鍵で署名された封筒を受け付ける日数 / days envelopes signed with the old key are still accepted
        #[arg(long, default_value_t = 30)]
        grace_days: u32,
        /// 鍵が漏えいした: 旧署名鍵を一切信頼しない / the key was compromised: trust the old signing key no longer
        #[arg(long)]
        compromised: bool,
    },
}

/// Parse a kind by its directory.toml spelling, so the two cannot drift.
pub(crate) fn parse_kind(s: &str) -> Result<AgencyKind, String> {
    AgencyKind::deserialize(StrDeserializer::<ValueError>::new(s)).map_err(|e| e.to_string())
}

pub fn run(cmd: CertsCommand, lang: Lang) -> anyhow::Result<()> {
    match cmd {
        CertsCommand::Example { out, force } => example(&out, force, lang),
        CertsCommand::Ca {
            out,
            hub_names,
            common_name,
        } => ca(&out, &hub_names, &common_name, lang),
        CertsCommand::Issue {
            ca_cert,
            ca_key,
            id,
            kind,
            name,
            out,
            yotaikyo_member,
        } => {
            let ca = CaBundle::load(&ca_cert, &ca_key).context(lang.pick(
                "CA の証明書または秘密鍵を読み込めません。--ca-cert と --ca-key が `tsunagu certs ca` で作った同じ CA の ca.pem と ca-key.pem か確認してください",
                "cannot load the CA; check that --ca-cert and --ca-key are ca.pem and ca-key.pem of the same CA made by `tsunagu certs ca`",
            ))?;
            issue(&ca, &id, (kind, yotaikyo_member), &name, &out, lang)
        }
        CertsCommand::Rotate {
            dir,
            grace_days,
            compromised,
        } => rotate(&dir, (!compromised).then_some(grace_days), lang),
    }
}

fn rotate(dir: &std::path::Path, grace_days: Option<u32>, lang: Lang) -> anyhow::Result<()> {
    let grace = grace_days.map(|days| time::Duration::days(i64::from(days)));
    let rotation = provision::rotate_agency(dir, grace).context(lang.pick(
        "鍵を更新できません。--dir が機関の鍵のディレクトリ（age-identity.txt と signing-key.txt があるところ）か確認してください",
        "cannot rotate the keys; check that --dir is the agency's key directory (with age-identity.txt and signing-key.txt)",
    ))?;
    println!("age_recipient = \"{}\"", rotation.age_recipient);
    println!("signing_key = \"{}\"", rotation.signing_key);
    if let Some(retired) = &rotation.retired {
        println!(
            "retired_signing_keys = [{{ key = \"{}\", until = \"{}\" }}]",
            retired.key, retired.until
        );
    }
    eprintln!(
        "{}",
        lang.pick(
            "新しい鍵を書き出しました（旧い暗号鍵は age-identity.txt に残し、旧い受信分も開けます）。上の行で directory.toml のこの機関の項目を置き換え、version を上げて `tsunagu admin directory sign` で署名し、ハブに配置してからノードを再起動してください。",
            "wrote the new keys (the old age identity stays in age-identity.txt, so what was sent to it still opens); replace these fields of the agency's entry in directory.toml, raise `version`, sign it with `tsunagu admin directory sign`, put it on the hub, then restart the node",
        )
    );
    if rotation.retired.is_none() {
        eprintln!(
            "{}",
            lang.pick(
                "鍵の漏えい: 旧署名鍵は信頼されなくなります（retired_signing_keys から外してください）。TLS 証明書も `tsunagu certs issue` で再発行し、cert_fingerprint を置き換えてください。",
                "compromised key: the old signing key is no longer trusted (remove it from retired_signing_keys); re-issue the TLS certificate with `tsunagu certs issue` and replace cert_fingerprint too",
            )
        );
    }
    Ok(())
}

fn example(out: &std::path::Path, force: bool, lang: Lang) -> anyhow::Result<()> {
    provision::write_example(out, force).context(lang.pick(
        "例示用の証明書を書き出せません。出力先が空でなければ、別の --out を指定するか --force で上書きしてください",
        "cannot write the example PKI; if the output directory is not empty, choose another --out or pass --force",
    ))?;
    eprintln!(
        "{} {}",
        lang.pick(
            "例示用の証明書と鍵（本番では使用禁止）を書き出しました:",
            "wrote the example PKI (never for production) to"
        ),
        out.display()
    );
    Ok(())
}

fn ca(out: &std::path::Path, names: &[String], cn: &str, lang: Lang) -> anyhow::Result<()> {
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    provision::write_hub_pki(out, cn, &names).context(lang.pick(
        "CA を作成できません。--out には空のディレクトリか新しいパスを、--hub-name にはハブの DNS 名か IP アドレスを指定してください",
        "cannot create the CA; give --out an empty or new directory and --hub-name the hub's DNS name or IP address",
    ))?;
    eprintln!(
        "{} {}",
        lang.pick(
            "CA とハブの証明書を書き出しました。ca-key.pem はオフラインで保管し、ハブには置かないでください:",
            "wrote the CA and hub certificate; keep ca-key.pem offline, not on the hub:"
        ),
        out.display()
    );
    Ok(())
}

fn issue(
    ca: &CaBundle,
    id: &AgencyId,
    (kind, yotaikyo_member): (AgencyKind, bool),
    name: &str,
    out: &std::path::Path,
    lang: Lang,
) -> anyhow::Result<()> {
    let mut agency = provision::issue_agency(ca, id, kind, name, out).context(lang.pick(
        "機関の証明書と鍵を書き出せません。--out には空のディレクトリか新しいパスを指定してください（既存の鍵は上書きしません）",
        "cannot write the agency's certificate and keys; give --out an empty or new directory (existing keys are never overwritten)",
    ))?;
    agency.yotaikyo_member = yotaikyo_member;
    print!("{}", Directory::new(vec![agency])?.to_toml());
    let summary = match lang {
        Lang::Ja => format!(
            "機関 {id} の証明書と鍵を {} に書き出しました。`tsunagu admin agency add --directory directory.toml --id {id} --from {} --kind … --name …`（要対協の構成機関なら --yotaikyo-member）でディレクトリに追加してください。ファイルは安全な方法で機関に渡してください。",
            out.display(),
            out.display()
        ),
        Lang::En => format!(
            "wrote the certificate and keys of agency {id} to {}; add it to the directory with `tsunagu admin agency add --directory directory.toml --id {id} --from {} --kind … --name …` (--yotaikyo-member for a 要対協 member); hand the files to the agency securely",
            out.display(),
            out.display()
        ),
    };
    eprintln!("{summary}");
    Ok(())
}
