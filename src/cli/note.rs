//! `tsunagu agency note send | list`: case notes (経過記録・情報共有) — a
//! short note about a case under any legal basis, with no 連絡票 fields.

use clap::{Args, Subcommand};

use std::path::PathBuf;

use anyhow::bail;
use serde::Serialize;

use super::agency::{known_recipients, open_config};
use super::exchange::{self, AuthorArgs, SharingArgs};
use super::labels;
use super::output::{self, say};
use crate::agency::Node;
use crate::agency::notes::{CaseNoteEntry, Direction, case_notes, note_draft};
use crate::i18n::Lang;
use crate::protocol::payload::{Author, Note};
use crate::protocol::{AgencyId, CaseId, EnvelopeId, InfoCategory, LegalBasis, Purpose, Timestamp};

#[derive(Subcommand)]
pub enum NoteCommand {
    /// ケースについて経過記録・情報共有を送る / send a note about a case
    Send(Box<SendArgs>),
    /// ケースの経過記録（送受信とも） / a case's notes, sent and received
    List(ListArgs),
}

#[derive(Args)]
pub struct SendArgs {
    /// 機関ノードの設定ファイル / agency node config
    #[arg(long, default_value = "agency.toml")]
    config: PathBuf,
    /// ケースID / case id
    #[arg(long)]
    case: CaseId,
    /// 宛先の機関ID（カンマ区切り） / recipient agency ids, comma-separated
    #[arg(long, value_delimiter = ',', required = true)]
    to: Vec<AgencyId>,
    /// 本文 / the note
    #[arg(long)]
    text: String,
    /// 本文に含まれる情報区分（カンマ区切り） / information categories in the text
    #[arg(long = "category", value_delimiter = ',', value_enum, required = true)]
    categories: Vec<InfoCategory>,
    #[command(flatten)]
    sharing: SharingArgs,
    #[command(flatten)]
    author: AuthorArgs,
    /// JSON で出力する / print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ListArgs {
    /// 機関ノードの設定ファイル / agency node config
    #[arg(long, default_value = "agency.toml")]
    config: PathBuf,
    /// ケースID / case id
    #[arg(long)]
    case: CaseId,
    /// JSON で出力する / print JSON
    #[arg(long)]
    json: bool,
}

/// One note for `--json`.
#[derive(Serialize)]
struct NoteJson {
    envelope_id: EnvelopeId,
    created_at: Timestamp,
    from: Option<labels::AgencyRef>,
    to: Vec<labels::AgencyRef>,
    author: Author,
    categories: Vec<labels::Labeled>,
    text: String,
    consent_ended: Option<String>,
}

pub async fn run(cmd: NoteCommand, lang: Lang) -> anyhow::Result<()> {
    match cmd {
        NoteCommand::Send(args) => send(*args, lang).await,
        NoteCommand::List(args) => list(args, lang).await,
    }
}

async fn send(args: SendArgs, lang: Lang) -> anyhow::Result<()> {
    let json = args.json;
    if args.text.trim().is_empty() {
        bail!(
            "{}",
            lang.pick("--text に本文を書いてください", "write the note in --text")
        );
    }
    let (basis, justification) = args.sharing.basis.resolve(lang)?;
    let purpose = args.sharing.purpose;
    // A note informs; unless staff chose otherwise, that is its purpose.
    let purpose = if purpose == Purpose::Referral {
        Purpose::InformationSharing
    } else {
        purpose
    };
    let node = open_config(&args.config, lang).await?;
    known_recipients(&node, &args.to, lang).await?;
    let draft = note_draft(
        args.case,
        args.to,
        basis,
        purpose,
        args.text,
        args.categories,
        args.author.author(),
        justification,
    );
    let consent_id = match &draft.basis {
        Some(LegalBasis::Consent { consent_id }) => Some(*consent_id),
        _ => None,
    };
    let case = draft.case_id.clone();
    let result = node.send(&draft).await;
    let shown = exchange::Out { lang, json }.sent(&node, result, case, consent_id);
    node.records().close().await;
    shown
}

async fn list(args: ListArgs, lang: Lang) -> anyhow::Result<()> {
    let node = open_config(&args.config, lang).await?;
    let notes = case_notes(node.records(), &args.case).await;
    let notes = match notes {
        Ok(notes) => notes,
        Err(e) => {
            node.records().close().await;
            return Err(e.into());
        }
    };
    if args.json {
        let listed: Vec<NoteJson> = notes.iter().map(|n| note_json(&node, n, lang)).collect();
        node.records().close().await;
        return output::json(&listed);
    }
    if notes.is_empty() {
        say!(
            "{} {}",
            lang.pick("経過記録はありません:", "no notes on case"),
            args.case
        );
    }
    for n in notes {
        let who = match &n.direction {
            Direction::From(sender) => {
                format!(
                    "{} {}",
                    lang.pick("←", "from"),
                    labels::agency(&node, sender).name
                )
            }
            Direction::To(to) => format!(
                "{} {}",
                lang.pick("→", "to"),
                to.iter()
                    .map(|id| labels::agency(&node, id).name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let ended = if n.consent_end_reason.is_some() {
            lang.pick("  ⚠同意終了", "  ⚠consent ended")
        } else {
            ""
        };
        say!(
            "{}  {who}  {}（{}）  {}{ended}",
            n.created_at,
            n.author.name,
            n.author.role,
            n.envelope_id
        );
        for line in render(&n.note, lang).lines() {
            say!("    {line}");
        }
    }
    node.records().close().await;
    Ok(())
}

fn note_json(node: &Node, n: &CaseNoteEntry, lang: Lang) -> NoteJson {
    let (from, to) = match &n.direction {
        Direction::From(sender) => (Some(labels::agency(node, sender)), Vec::new()),
        Direction::To(to) => (None, to.iter().map(|id| labels::agency(node, id)).collect()),
    };
    NoteJson {
        envelope_id: n.envelope_id,
        created_at: n.created_at,
        from,
        to,
        author: n.author.clone(),
        categories: n
            .note
            .categories
            .iter()
            .map(|c| labels::category(*c, lang))
            .collect(),
        text: n.note.text.clone(),
        consent_ended: n.consent_end_reason.clone(),
    }
}

/// A note as staff read it: its categories, then the text.
pub fn render(note: &Note, lang: Lang) -> String {
    let categories: Vec<&str> = note.categories.iter().map(|c| c.label(lang)).collect();
    format!(
        "{} {}\n{}",
        lang.pick("情報区分:", "categories:"),
        if categories.is_empty() {
            lang.pick("なし", "none").to_owned()
        } else {
            categories.join("・")
        },
        note.text
    )
}
