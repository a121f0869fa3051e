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
    },
}

/// Parse a kind by its directory.toml spelling, so the two cannot drift.
fn parse_kind(s: &str) -> Result<AgencyKind, String> {
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
        } => {
            let ca = CaBundle::load(&ca_cert, &ca_key).context(lang.pick(
                "CA の証明書または秘密鍵を読み込めません。--ca-cert と --ca-key が `tsunagu certs ca` で作った同じ CA の ca.pem と ca-key.pem か確認してください",
                "cannot load the CA; check that --ca-cert and --ca-key are ca.pem and ca-key.pem of the same CA made by `tsunagu certs ca`",
            ))?;
            issue(&ca, &id, kind, &name, &out, lang)
        }
    }
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
    kind: AgencyKind,
    name: &str,
    out: &std::path::Path,
    lang: Lang,
) -> anyhow::Result<()> {
    let agency = provision::issue_agency(ca, id, kind, name, out).context(lang.pick(
        "機関の証明書と鍵を書き出せません。--out には空のディレクトリか新しいパスを指定してください（既存の鍵は上書きしません）",
        "cannot write the agency's certificate and keys; give --out an empty or new directory (existing keys are never overwritten)",
    ))?;
    print!("{}", Directory::new(vec![agency])?.to_toml());
    let summary = match lang {
        Lang::Ja => format!(
            "機関 {id} の証明書と鍵を {} に書き出しました。上の [[agency]] をハブの directory.toml に追加し、ファイルは安全な方法で機関に渡してください。",
            out.display()
        ),
        Lang::En => format!(
            "wrote the certificate and keys of agency {id} to {}; add the [[agency]] block above to the hub's directory.toml and hand the files to the agency securely",
            out.display()
        ),
    };
    eprintln!("{summary}");
    Ok(())
}
