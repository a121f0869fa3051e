//! `tsunagu bench ledger-import --rows N`: a synthetic N-row 支援台帳 (rows
//! and a contact each) exported to .xlsx, then read, planned and imported
//! into a fresh node's records, each step timed. A benchmark, not a test.

use std::time::Instant;

use clap::Args;

use crate::agency::support_ledger::exchange::{self, export, plan, read};
use crate::agency::support_ledger::{self, ContactKind, Subject, SubjectKind, Tier};
use crate::cli::output::say;
use crate::i18n::Lang;
use crate::protocol::Timestamp;
use crate::protocol::day::Day;
use crate::store::records::{ContactRow, Records, SupportBatch};

#[derive(Args)]
pub struct LedgerImportArgs {
    /// 行数 / rows
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    rows: u32,
    /// 暗号化しない記録に取り込む（暗号化の費用の比較用） / import into unencrypted records, to compare what encryption at rest costs
    #[arg(long)]
    plain: bool,
}

fn subject(i: u32) -> Subject {
    let tiers = Tier::ALL;
    let born = Day::from(time::macros::date!(1990 - 01 - 01)).plus_days(i64::from(i % 5000));
    Subject {
        number: format!("B-{i:06}"),
        kind: SubjectKind::Pregnant,
        name: format!("見本 花子{i}"),
        furigana: format!("みほん はなこ{i}"),
        birth_date: Some(born),
        district: ["港北", "港南", "港西"][(i % 3) as usize].into(),
        staff: "山本 さくら".into(),
        household: "夫・本人".into(),
        tier: tiers[(i as usize) % tiers.len()],
        ..Subject::default()
    }
}

pub async fn run(args: LedgerImportArgs, lang: Lang) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let now = Timestamp::now();
    let today = Day::of(now);
    // The workbook: rows written through the ledger, exported as staff would.
    let source = Records::open(&format!(
        "sqlite:{}",
        dir.path().join("source.db").display()
    ))
    .await?;
    let subjects: Vec<Subject> = (0..args.rows).map(subject).collect();
    let ids = support_ledger::add(&source, subjects, "bench", "bench", now).await?;
    // One contact a row, in one batch.
    let contacts = ids
        .iter()
        .map(|id| ContactRow {
            subject_id: id.clone(),
            day: today.to_string(),
            kind: ContactKind::Phone.as_str().into(),
            staff: "山本 さくら".into(),
            summary: "体調の確認".into(),
            point: None,
            recorded_by: "bench".into(),
            recorded_at: now,
        })
        .collect();
    let batch = SupportBatch {
        contacts,
        ..SupportBatch::default()
    };
    source.write_support(&batch).await?;
    let workbook = export::xlsx(&support_ledger::load(&source, today).await?)?;
    source.close().await;

    // The node's records are encrypted at rest (SQLCipher): so is the
    // target, unless asked to measure without.
    let url = format!("sqlite:{}", dir.path().join("target.db").display());
    let target = if args.plain {
        Records::open(&url).await?
    } else {
        Records::open_encrypted(&url, crate::crypto::keys::RecordsKey::generate().expose()).await?
    };
    let started = Instant::now();
    let book = read::read(&workbook)?;
    let read_at = started.elapsed();
    let ledger = support_ledger::load(&target, today).await?;
    let planned = plan::plan(&book, &[], &ledger, today, &mut || {});
    let plan_at = started.elapsed();
    let done = exchange::import(&target, &planned, "bench", now).await?;
    let total = started.elapsed();
    target.close().await;
    say!(
        "{} {} {} ({} {} KB), {} {}",
        lang.pick("支援台帳の取り込み:", "support ledger import:"),
        done.added,
        lang.pick("行", "rows"),
        "xlsx",
        workbook.len() / 1024,
        done.contacts,
        lang.pick("件の接触記録", "contacts")
    );
    say!(
        "  {} {:.2} s  {} {:.2} s  {} {:.2} s  {} {:.2} s",
        lang.pick("読み込み", "read"),
        read_at.as_secs_f64(),
        lang.pick("計画", "plan"),
        (plan_at - read_at).as_secs_f64(),
        lang.pick("書き込み", "write"),
        (total - plan_at).as_secs_f64(),
        lang.pick("合計", "total"),
        total.as_secs_f64()
    );
    Ok(())
}
