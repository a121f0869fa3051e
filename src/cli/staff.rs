//! `tsunagu agency staff add | list | disable | enable | reset-password |
//! reset-2fa` and `tsunagu agency access-log`: the node's staff accounts
//! from its own machine. `staff add` creates the first administrator;
//! after that, administrators manage staff in the web UI.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde::Serialize;

use super::labels::Labeled;
use super::output::{self, say};
use super::table::Table;
use crate::agency::AgencyConfig;
use crate::agency::staff::{
    AccessEntry, Actor, Enrolment, NewStaff, StaffAccounts, StaffError, StaffMember, StaffRole,
    write_csv,
};
use crate::i18n::Lang;
use crate::protocol::Timestamp;

#[derive(Subcommand)]
pub enum StaffCommand {
    /// 職員を登録し、二要素認証の QR コードとリカバリーコードを一度だけ表示 / add a staff member; shows their TOTP QR code and recovery codes once
    Add(AddArgs),
    /// 職員の一覧 / list staff
    List(ConfigArgs),
    /// 職員を無効にする（ログイン中の画面も終了） / disable a staff member (ends their sessions)
    Disable(NameArgs),
    /// 無効にした職員を有効に戻す / enable a disabled staff member again
    Enable(NameArgs),
    /// パスワードを再設定（ログイン中の画面は終了） / reset a password (ends their sessions)
    ResetPassword(PasswordArgs),
    /// 二要素認証を再登録（スマートフォン紛失時など） / re-enrol the second factor (e.g. a lost phone)
    #[command(name = "reset-2fa")]
    Reset2fa(NameArgs),
}

#[derive(Args)]
pub struct ConfigArgs {
    /// 機関ノードの設定ファイル / agency node config
    #[arg(long, default_value = "agency.toml")]
    config: PathBuf,
    /// JSON で出力する / print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct AddArgs {
    #[command(flatten)]
    node: ConfigArgs,
    /// 氏名（ログイン名、署名の記入者名） / name (login name, signed author name)
    #[arg(long)]
    name: String,
    /// 職種 / role
    #[arg(long, value_enum)]
    role: StaffRole,
    /// 連絡先（電話・内線） / contact (phone or extension)
    #[arg(long, default_value = "")]
    contact: String,
    /// パスワードを標準入力の1行目から読む（スクリプト用） / read the password from the first line of stdin, for scripts
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Args)]
pub struct NameArgs {
    #[command(flatten)]
    node: ConfigArgs,
    /// 職員の氏名 / the staff member's name
    name: String,
}

#[derive(Args)]
pub struct PasswordArgs {
    #[command(flatten)]
    node: ConfigArgs,
    /// 職員の氏名 / the staff member's name
    name: String,
    /// 新しいパスワードを標準入力の1行目から読む / read the new password from the first line of stdin
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Args)]
pub struct AccessLogArgs {
    #[command(flatten)]
    node: ConfigArgs,
    /// この時刻以降（RFC 3339 UTC） / from (inclusive)
    #[arg(long)]
    from: Option<Timestamp>,
    /// この時刻より前 / to (exclusive)
    #[arg(long)]
    to: Option<Timestamp>,
    /// CSV で出力（Excel で開ける UTF-8 BOM 付き） / print CSV (UTF-8 with BOM, for Excel)
    #[arg(long, conflicts_with = "json")]
    csv: bool,
}

/// One staff member for `--json`.
#[derive(Serialize)]
struct MemberJson {
    id: String,
    name: String,
    role: Labeled,
    contact: String,
    enabled: bool,
    created_at: Timestamp,
    disabled_at: Option<Timestamp>,
}

fn member_json(m: &StaffMember, lang: Lang) -> MemberJson {
    MemberJson {
        id: m.id.to_string(),
        name: m.name.clone(),
        role: Labeled::new(m.role.as_str(), m.role.label(lang)),
        contact: m.contact.clone(),
        enabled: m.is_enabled(),
        created_at: m.created_at,
        disabled_at: m.disabled_at,
    }
}

/// An enrolment for `--json`: shown once, like the printed one.
#[derive(Serialize)]
struct EnrolmentJson<'a> {
    staff: MemberJson,
    otpauth_uri: &'a str,
    secret: &'a str,
    recovery_codes: &'a [String],
}

pub async fn run(cmd: StaffCommand, lang: Lang) -> anyhow::Result<()> {
    match cmd {
        StaffCommand::Add(a) => add(a, lang).await,
        StaffCommand::List(a) => list(a, lang).await,
        StaffCommand::Disable(a) => set_enabled(a, false, lang).await,
        StaffCommand::Enable(a) => set_enabled(a, true, lang).await,
        StaffCommand::ResetPassword(a) => reset_password(a, lang).await,
        StaffCommand::Reset2fa(a) => reset_2fa(a, lang).await,
    }
}

async fn open(path: &Path, lang: Lang) -> anyhow::Result<StaffAccounts> {
    let config = AgencyConfig::load(path).with_context(|| {
        lang.pick(
            "機関ノードの設定を読み込めません。--config でファイルを指定してください",
            "cannot load the agency config; name it with --config",
        )
    })?;
    let records = crate::agency::node::open_records(&config)
        .await
        .with_context(|| {
            lang.pick(
                "ノードの記録（データベース）を開けません。設定の database を確認してください",
                "cannot open the node's records; check database in the config",
            )
        })?;
    StaffAccounts::from_config(&config, records).with_context(|| {
        lang.pick(
            "ノードの鍵（keys.age_identity）を読めません。設定を確認してください",
            "cannot read the node's key (keys.age_identity); check the config",
        )
    })
}

/// A password from stdin's first line, or typed twice at a prompt.
fn read_password(from_stdin: bool, lang: Lang) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\n', '\r']).to_owned());
    }
    let first = rpassword::prompt_password(lang.pick(
        "パスワード（12文字以上）: ",
        "password (12 characters or more): ",
    ))
    .with_context(|| {
        lang.pick(
            "パスワードを入力できません。スクリプトでは --password-stdin を使ってください",
            "cannot prompt for the password; scripts use --password-stdin",
        )
    })?;
    let again = rpassword::prompt_password(lang.pick("もう一度: ", "again: "))?;
    if first != again {
        bail!(
            "{}",
            lang.pick(
                "2回の入力が一致しません。もう一度実行してください",
                "the two entries differ; run the command again"
            )
        );
    }
    Ok(first)
}

async fn add(a: AddArgs, lang: Lang) -> anyhow::Result<()> {
    let accounts = open(&a.node.config, lang).await?;
    let password = read_password(a.password_stdin, lang)?;
    let new = NewStaff {
        name: &a.name,
        role: a.role,
        contact: &a.contact,
        password: &password,
    };
    let added = accounts
        .add(Actor::NodeConsole, new, Timestamp::now())
        .await;
    accounts.records().close().await;
    let (member, enrolment) = added.map_err(|e| explain(e, lang))?;
    if a.node.json {
        return print_enrolment_json(&member, &enrolment, lang);
    }
    match lang {
        Lang::Ja => say!(
            "職員を登録しました: {}（{}）",
            member.name,
            member.role.label(lang)
        ),
        Lang::En => say!(
            "staff member added: {} ({})",
            member.name,
            member.role.label(lang)
        ),
    }
    print_enrolment(&enrolment, lang)
}

fn print_enrolment_json(
    member: &StaffMember,
    enrolment: &Enrolment,
    lang: Lang,
) -> anyhow::Result<()> {
    output::json(&EnrolmentJson {
        staff: member_json(member, lang),
        otpauth_uri: &enrolment.uri,
        secret: &enrolment.secret_base32,
        recovery_codes: &enrolment.recovery_codes,
    })
}

/// The enrolment, shown this once: a QR code for the authenticator app,
/// the URI and secret to type instead, and the recovery codes.
fn print_enrolment(enrolment: &Enrolment, lang: Lang) -> anyhow::Result<()> {
    say!(
        "{}",
        lang.pick(
            "認証アプリ（Google Authenticator など）で次の QR コードを読み取ってください:",
            "scan this QR code with an authenticator app:"
        )
    );
    say!("{}", enrolment.qr_text()?);
    say!("URI: {}", enrolment.uri);
    say!(
        "{} {}",
        lang.pick("手入力する場合のキー:", "or type this key:"),
        enrolment.secret_base32
    );
    say!();
    say!(
        "{}",
        lang.pick(
            "リカバリーコード（各1回だけ使えます。今回しか表示しません。印刷して鍵のかかる場所に保管してください）:",
            "recovery codes (each works once; shown only now: print them and lock them away):"
        )
    );
    for code in &enrolment.recovery_codes {
        say!("  {code}");
    }
    Ok(())
}

async fn list(a: ConfigArgs, lang: Lang) -> anyhow::Result<()> {
    let accounts = open(&a.config, lang).await?;
    let members = accounts.list().await;
    accounts.records().close().await;
    let members = members.map_err(|e| explain(e, lang))?;
    if a.json {
        let all: Vec<_> = members.iter().map(|m| member_json(m, lang)).collect();
        return output::json(&all);
    }
    if members.is_empty() {
        say!(
            "{}",
            lang.pick(
                "職員は登録されていません（staff add --role administrator で最初の管理者を登録）",
                "no staff yet (add the first administrator with staff add --role administrator)"
            )
        );
        return Ok(());
    }
    let mut table = Table::new(&[
        lang.pick("氏名", "name"),
        lang.pick("職種", "role"),
        lang.pick("連絡先", "contact"),
        lang.pick("状態", "state"),
    ]);
    for m in &members {
        let state = match m.is_enabled() {
            true => lang.pick("有効", "enabled"),
            false => lang.pick("無効", "disabled"),
        };
        table.row(vec![
            m.name.clone(),
            m.role.label(lang).to_owned(),
            m.contact.clone(),
            state.to_owned(),
        ]);
    }
    table.print();
    Ok(())
}

async fn set_enabled(a: NameArgs, enabled: bool, lang: Lang) -> anyhow::Result<()> {
    let accounts = open(&a.node.config, lang).await?;
    let result = async {
        let member = accounts.find(&a.name).await?;
        let now = Timestamp::now();
        match enabled {
            true => accounts.enable(Actor::NodeConsole, member.id, now).await?,
            false => accounts.disable(Actor::NodeConsole, member.id, now).await?,
        }
        Ok::<_, StaffError>(member)
    }
    .await;
    accounts.records().close().await;
    let member = result.map_err(|e| explain(e, lang))?;
    if a.node.json {
        return output::json(&serde_json::json!({ "id": member.id, "enabled": enabled }));
    }
    let done = match enabled {
        true => lang.pick("有効にしました:", "enabled:"),
        false => lang.pick(
            "無効にしました（ログイン中の画面も終了しました）:",
            "disabled (their sessions have ended):",
        ),
    };
    say!("{done} {}", member.name);
    Ok(())
}

async fn reset_password(a: PasswordArgs, lang: Lang) -> anyhow::Result<()> {
    let accounts = open(&a.node.config, lang).await?;
    let result = async {
        let member = accounts.find(&a.name).await?;
        let password = read_password(a.password_stdin, lang).map_err(Failure::Other)?;
        accounts
            .reset_password(Actor::NodeConsole, member.id, &password, Timestamp::now())
            .await?;
        Ok::<_, Failure>(member)
    }
    .await;
    accounts.records().close().await;
    let member = match result {
        Ok(m) => m,
        Err(Failure::Staff(e)) => return Err(explain(e, lang)),
        Err(Failure::Other(e)) => return Err(e),
    };
    if a.node.json {
        return output::json(&serde_json::json!({ "id": member.id }));
    }
    say!(
        "{} {}",
        lang.pick(
            "パスワードを再設定しました（ログイン中の画面は終了しました）:",
            "password reset (their sessions have ended):"
        ),
        member.name
    );
    Ok(())
}

/// A staff error to explain, or an error already explained.
enum Failure {
    Staff(StaffError),
    Other(anyhow::Error),
}

impl From<StaffError> for Failure {
    fn from(e: StaffError) -> Self {
        Failure::Staff(e)
    }
}

async fn reset_2fa(a: NameArgs, lang: Lang) -> anyhow::Result<()> {
    let accounts = open(&a.node.config, lang).await?;
    let result = async {
        let member = accounts.find(&a.name).await?;
        let enrolment = accounts
            .reset_second_factor(Actor::NodeConsole, member.id, Timestamp::now())
            .await?;
        Ok::<_, StaffError>((member, enrolment))
    }
    .await;
    accounts.records().close().await;
    let (member, enrolment) = result.map_err(|e| explain(e, lang))?;
    if a.node.json {
        return print_enrolment_json(&member, &enrolment, lang);
    }
    say!(
        "{} {}",
        lang.pick(
            "二要素認証を再登録しました。以前のコードとリカバリーコードは使えません:",
            "second factor re-enrolled; the old codes and recovery codes no longer work:"
        ),
        member.name
    );
    print_enrolment(&enrolment, lang)
}

/// `tsunagu agency access-log`: who viewed which record, when.
pub async fn access_log(a: AccessLogArgs, lang: Lang) -> anyhow::Result<()> {
    let accounts = open(&a.node.config, lang).await?;
    let entries = accounts
        .access_log(Actor::NodeConsole, a.from, a.to, Timestamp::now())
        .await;
    accounts.records().close().await;
    let entries = entries.map_err(|e| explain(e, lang))?;
    if a.csv {
        let mut bytes = Vec::new();
        write_csv(&entries, &mut bytes)?;
        say!("{}", String::from_utf8_lossy(&bytes).trim_end());
        return Ok(());
    }
    if a.node.json {
        return output::json(&entries);
    }
    print_access(&entries, lang);
    Ok(())
}

fn print_access(entries: &[AccessEntry], lang: Lang) {
    if entries.is_empty() {
        say!("{}", lang.pick("閲覧記録はありません", "no views recorded"));
        return;
    }
    let mut table = Table::new(&[
        lang.pick("日時", "at"),
        lang.pick("氏名", "name"),
        lang.pick("職種", "role"),
        lang.pick("種類", "record"),
        lang.pick("記録ID", "record id"),
    ]);
    for e in entries {
        table.row(vec![
            e.at.to_string(),
            e.staff_name.clone(),
            e.staff_role.label(lang).to_owned(),
            e.what.label(lang).to_owned(),
            e.record_id.clone(),
        ]);
    }
    table.print();
}

/// A staff error with what to do next.
fn explain(e: StaffError, lang: Lang) -> anyhow::Error {
    let text = match &e {
        StaffError::WeakPassword(w) => format!(
            "{}: {}",
            lang.pick("このパスワードは使えません", "this password cannot be used"),
            w.advice(lang)
        ),
        StaffError::InvalidName => lang
            .pick(
                "氏名は1〜64文字で、「:」や制御文字は使えません",
                "a name has 1–64 characters, without ':' or control characters",
            )
            .to_owned(),
        StaffError::NameTaken(name) => match lang {
            Lang::Ja => format!(
                "「{name}」という職員はすでに登録されています。staff list で確認してください"
            ),
            Lang::En => format!("a staff member named {name:?} already exists; check with staff list"),
        },
        StaffError::NotFound(name) => match lang {
            Lang::Ja => format!(
                "職員「{name}」は登録されていません。staff list で氏名を確認してください"
            ),
            Lang::En => format!("no staff member {name:?}; check the name with staff list"),
        },
        StaffError::LastAdministrator => lang
            .pick(
                "最後の有効な管理者は無効にできません。先に別の管理者を staff add --role administrator で登録してください",
                "the last enabled administrator cannot be disabled; first add another with staff add --role administrator",
            )
            .to_owned(),
        _ => {
            return anyhow::Error::new(e).context(lang.pick(
                "職員アカウントを変更できません（ノードの記録と鍵を確認してください）",
                "cannot change staff accounts (check the node's records and keys)",
            ));
        }
    };
    anyhow::anyhow!(text)
}
