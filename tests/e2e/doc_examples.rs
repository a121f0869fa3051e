//! The command examples in the README and docs/, run: each `tsunagu agency …`
//! example of a document runs, in document order, as the agency its block
//! names (see `markdown`), against a real hub over TLS with every agency's
//! node running, so the docs cannot drift from the CLI. The ids the docs
//! write (CASE-ID, case-3fa2c81b09d4, MEETING-ID, …) become the ids the
//! earlier examples of the same document produced.
//!
//! Dates: the docs are written as of [`EXAMPLE_DATE`]. Every `YYYY-MM-DD` in
//! a command, and in the example files (`examples/*.toml`) the commands
//! read, moves by the days from that date to the hub clock's today, so a
//! meeting written for "2026-12-03 14:00" is still to come when the example
//! runs. A block annotated `hub clock: 2026-12-03 16:00` first moves the
//! hub's clock to that time (moved the same way) and lets the hub do what
//! falls due by then (reminders, overdue flags).

mod markdown;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::broadcast;
use tsunagu::hub::clock::ManualClock;
use tsunagu::protocol::Seq;
use tsunagu::protocol::referral::Referral;

use crate::helpers::*;
use markdown::Block;

both_backends!(
    the_readme_examples_run_against_a_real_hub,
    the_consent_guide_examples_run_against_a_real_hub,
    the_operations_guide_examples_run_against_a_real_hub,
    the_meetings_and_plans_guide_examples_run_against_a_real_hub,
    the_support_ledger_guide_examples_run_against_a_real_hub,
);

/// The documents whose examples run; every other one must hold none.
const RUN: [&str; 5] = [
    "README.md",
    "docs/consent.md",
    "docs/operations.md",
    "docs/meetings-and-plans.md",
    "docs/support-ledger.md",
];

const AGENCIES: [&str; 5] = [CLINIC, CENTER, WELFARE, NURSERY, "minato-yotaikyo"];

/// The day the docs' examples are written as of: `examples/referral.toml`
/// (its weeks, due date and EPDS date agree on that day), and the dates the
/// commands write, which the runner moves by the days from this one to
/// today.
const EXAMPLE_DATE: time::Date = time::macros::date!(2026 - 11 - 23);

async fn the_readme_examples_run_against_a_real_hub(db: Db) {
    run_doc("README.md", db).await
}

async fn the_consent_guide_examples_run_against_a_real_hub(db: Db) {
    run_doc("docs/consent.md", db).await
}

async fn the_operations_guide_examples_run_against_a_real_hub(db: Db) {
    run_doc("docs/operations.md", db).await
}

async fn the_meetings_and_plans_guide_examples_run_against_a_real_hub(db: Db) {
    run_doc("docs/meetings-and-plans.md", db).await
}

async fn the_support_ledger_guide_examples_run_against_a_real_hub(db: Db) {
    run_doc("docs/support-ledger.md", db).await
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The README and docs/*.md.
fn documents() -> Vec<String> {
    let mut docs = vec!["README.md".to_owned()];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            docs.push(format!("docs/{name}"));
        }
    }
    docs.sort();
    docs
}

/// Cheap, no hub: every `tsunagu agency …` example is in a document the
/// tests above run, in a block that says who runs each command.
#[test]
fn every_command_example_in_the_docs_is_run() {
    let mut examples = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(root().join(&doc)).unwrap();
        for block in markdown::blocks(&text) {
            let agency = block.agency_commands().count();
            examples += agency;
            if agency == 0 {
                continue;
            }
            let runners = block.run_as.len();
            assert!(
                RUN.contains(&doc.as_str()),
                "{doc}:{}: examples in a document no test runs",
                block.line
            );
            let tsunagu = block
                .commands
                .iter()
                .filter(|c| c.starts_with("tsunagu "))
                .count();
            assert!(
                runners == 1 || runners == tsunagu,
                "{doc}:{}: say who runs the block before its ```sh line: \
                 <!-- run as: AGENCY --> (or one agency per command, {tsunagu} here)",
                block.line
            );
        }
    }
    assert!(examples >= 30, "only {examples} examples found");
}

/// Where the doc's ids come from.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Slot {
    /// The case `case-open` opened.
    Case,
    /// The consent `consent-record` recorded.
    Consent,
    /// The first referral `send` sent.
    Referral,
    /// What `send` or `note send` sent last.
    Envelope,
    /// The meeting `meeting schedule` scheduled last.
    Meeting,
    /// The plan `plan new` wrote last.
    Plan,
}

/// What the docs write for ids, and which id each stands for.
const TOKENS: [(&str, Slot); 11] = [
    ("CASE-ID", Slot::Case),
    ("case-3fa2c81b09d4", Slot::Case),
    ("case-…", Slot::Case),
    ("CONSENT-ID", Slot::Consent),
    ("0b8e4c7a-2d1f-4e3a-9c5b-7a6d8e9f0a1b", Slot::Consent),
    ("<id>", Slot::Consent),
    ("91273647-9866-4ebf-9a81-71364c792fff", Slot::Referral),
    ("ENVELOPE-ID", Slot::Envelope),
    ("<envelope-id>", Slot::Envelope),
    ("MEETING-ID", Slot::Meeting),
    ("PLAN-ID", Slot::Plan),
];

/// A hub, the five agencies' nodes, and a working directory per agency
/// holding its `agency.toml` and the files the examples name.
struct Run {
    doc: &'static str,
    hub: TestHub,
    clock: Arc<ManualClock>,
    /// How far the docs' dates move: from `EXAMPLE_DATE` to today.
    shift: time::Duration,
    dir: tempfile::TempDir,
    nodes: BTreeMap<&'static str, TestNode>,
    ids: BTreeMap<Slot, String>,
    env: Vec<(String, String)>,
}

async fn run_doc(doc: &'static str, db: Db) {
    let text = std::fs::read_to_string(root().join(doc)).unwrap();
    let mut run = Run::start(doc, &db).await;
    for block in markdown::blocks(&text) {
        run.block(&block).await;
    }
    for (_, node) in std::mem::take(&mut run.nodes) {
        node.stop().await;
    }
    run.hub.stop().await;
}

impl Run {
    async fn start(doc: &'static str, db: &Db) -> Run {
        let clock = Arc::new(ManualClock::new());
        let hub_dir = Arc::new(tempfile::tempdir().unwrap());
        let hub = TestHub::start_with_clock(db, hub_dir, None, clock.clone()).await;
        let shift = clock.now_for_test().date() - EXAMPLE_DATE;
        let dir = tempfile::tempdir().unwrap();
        let referral = todays_example_referral(shift);
        let examples = todays_examples(shift);
        let mut nodes = BTreeMap::new();
        for id in AGENCIES {
            let home = dir.path().join(id);
            std::fs::create_dir_all(home.join("examples")).unwrap();
            let config =
                tsunagu::agency::AgencyConfig::from_example(&certs(), &agency(id), &hub.url, &home);
            std::fs::write(home.join("agency.toml"), toml::to_string(&config).unwrap()).unwrap();
            std::fs::write(home.join("referral.toml"), &referral).unwrap();
            for (name, text) in &examples {
                std::fs::write(home.join("examples").join(name), text).unwrap();
            }
            std::fs::write(home.join("examples/referral.toml"), &referral).unwrap();
            std::fs::write(home.join("doui.pdf"), "%PDF-1.4\n% 同意書（例）\n").unwrap();
            nodes.insert(id, TestNode::connect(&hub.url, id, &home).await);
        }
        // The hub's config, for `tsunagu audit` on the hub's machine.
        let hub_home = dir.path().join("hub");
        std::fs::create_dir_all(&hub_home).unwrap();
        let url = db.hub_url(hub.dir.path());
        let hub_toml = toml::to_string(&BTreeMap::from([("database_url", url)])).unwrap();
        std::fs::write(hub_home.join("hub.toml"), hub_toml).unwrap();
        Run {
            doc,
            hub,
            clock,
            shift,
            dir,
            nodes,
            ids: BTreeMap::new(),
            env: Vec::new(),
        }
    }

    async fn block(&mut self, block: &Block) {
        // Not annotated: `tsunagu certs` or `serve` alone, which change
        // machines, not agencies (the test above checks agency examples are).
        if block.run_as.is_empty() {
            return;
        }
        if let Some(at) = &block.clock {
            self.move_clock(at, &format!("{}:{}", self.doc, block.line))
                .await;
        }
        let mut n = 0;
        for command in &block.commands {
            let words = markdown::words(command);
            let at = format!("{}:{}: `{command}`", self.doc, block.line);
            if words[0] == "export" {
                self.export(&words[1..]);
                continue;
            }
            let runner = block.runner(n).to_owned();
            n += 1;
            match (runner.as_str(), words[1].as_str()) {
                ("hub", "audit") => self.audit(&words, &at).await,
                (_, "agency") if words[2] == "run" => self.agency_run(&runner, &words, &at).await,
                (_, "agency") => {
                    self.agency(&runner, &words, block.refused.as_deref(), &at)
                        .await
                }
                // `tsunagu certs` and `tsunagu serve` change machines, not
                // agencies: not run here.
                _ => {}
            }
        }
    }

    /// `export TSUNAGU_AUTHOR_NAME=… …`: for the doc's later commands.
    fn export(&mut self, assignments: &[String]) {
        for a in assignments {
            let (name, value) = a.split_once('=').expect("export NAME=VALUE");
            self.env.push((name.to_owned(), value.to_owned()));
        }
    }

    fn home(&self, who: &str) -> PathBuf {
        self.dir.path().join(who)
    }

    /// Move the hub clock forward to the doc's time `when` (JST, moved
    /// like every date), then let the hub fire what fell due by then.
    async fn move_clock(&mut self, when: &str, at: &str) {
        let to = tsunagu::protocol::day::parse_local(when)
            .unwrap_or_else(|e| panic!("{at}: hub clock {when:?}: {e}"))
            .datetime()
            + self.shift;
        let by = to - self.clock.now_for_test();
        assert!(by.is_positive(), "{at}: the hub clock only moves forward");
        self.clock.advance(by);
        self.hub.hub.tick().await.unwrap();
        self.settle(at).await;
    }

    /// The words with the doc's ids, dates and paths made real.
    fn real(&self, words: &[String], at: &str) -> Vec<String> {
        words
            .iter()
            .map(|w| {
                let w = shift_dates(&w.replace("/etc/tsunagu/", ""), self.shift);
                TOKENS.iter().fold(w, |w, (token, slot)| {
                    if !w.contains(token) {
                        return w;
                    }
                    let id = self.ids.get(slot).unwrap_or_else(|| {
                        panic!("{at}: {token} before any example produced a {slot:?} id")
                    });
                    w.replace(token, id)
                })
            })
            .collect()
    }

    fn command(&self, who: &str) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_tsunagu"));
        cmd.current_dir(self.home(who))
            .env_remove("TSUNAGU_LANG")
            .env_remove("TSUNAGU_AUTHOR_NAME")
            .env_remove("TSUNAGU_AUTHOR_ROLE")
            .env_remove("TSUNAGU_AUTHOR_CONTACT")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .kill_on_drop(true);
        cmd
    }

    /// The highest sequence the hub assigned to each agency.
    async fn hub_seqs(&self) -> Vec<Seq> {
        let mut seqs = Vec::new();
        for id in AGENCIES {
            seqs.push(self.hub.store.last_seq(&agency(id)).await.unwrap());
        }
        seqs
    }

    async fn agency(&mut self, who: &str, words: &[String], refused: Option<&str>, at: &str) {
        let mut args = self.real(&words[1..], at);
        // The ids the later examples use: read from JSON, not from sentences.
        let sub = args[1].as_str();
        let capture = matches!(
            (sub, args.get(2).map(String::as_str)),
            ("case-open" | "consent-record" | "send", _)
                | ("note", Some("send"))
                | ("meeting", Some("schedule"))
                | ("plan", Some("new"))
        ) && refused.is_none();
        if capture && !args.iter().any(|a| a == "--json") {
            args.push("--json".into());
        }
        let before = self.hub_seqs().await;
        let out = self.command(who).args(&args).output().await.unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        if let Some(why) = refused {
            assert!(
                !out.status.success() && stderr.contains(why),
                "{at}: must be refused with 「{why}」:\n{stdout}{stderr}"
            );
            assert_eq!(self.hub_seqs().await, before, "{at}: nothing delivered");
            return;
        }
        assert!(
            out.status.success(),
            "{at} as {who} failed:\n{stdout}{stderr}"
        );
        if capture {
            let json: Value = serde_json::from_str(&stdout)
                .unwrap_or_else(|e| panic!("{at}: not JSON ({e}): {stdout}"));
            self.capture(&args, &json, at);
        }
        self.settle(at).await;
    }

    /// Keep the ids an example printed, for the examples after it.
    fn capture(&mut self, args: &[String], json: &Value, at: &str) {
        let field = |name: &str| {
            json[name]
                .as_str()
                .unwrap_or_else(|| panic!("{at}: no {name} in {json}"))
                .to_owned()
        };
        match args[1].as_str() {
            "case-open" => {
                self.ids.insert(Slot::Case, field("case_id"));
            }
            "consent-record" => {
                self.ids.insert(Slot::Consent, field("consent_id"));
            }
            "meeting" => {
                assert_eq!(
                    json["sent"][0]["status"], "stored",
                    "{at}: the hub stored it"
                );
                self.ids.insert(Slot::Meeting, field("meeting_id"));
            }
            "plan" => {
                assert_eq!(json["whole"]["status"], "stored", "{at}: the hub stored it");
                self.ids.insert(Slot::Plan, field("plan_id"));
            }
            sub => {
                assert_eq!(json["status"], "stored", "{at}: the hub stored it");
                let id = field("envelope_id");
                if sub == "send" {
                    self.ids.entry(Slot::Referral).or_insert_with(|| id.clone());
                }
                self.ids.insert(Slot::Envelope, id);
            }
        }
    }

    /// Wait until every node holds everything the hub queued for it, so the
    /// next example finds it in its records.
    async fn settle(&mut self, at: &str) {
        for (id, target) in AGENCIES.into_iter().zip(self.hub_seqs().await) {
            let node = self.nodes.get_mut(id).unwrap();
            caught_up(node, target)
                .await
                .unwrap_or_else(|seq| panic!("{at}: {id} stored up to {seq:?} of {target:?}"));
        }
    }

    /// `tsunagu agency run` as this agency, in place of its in-process
    /// node: it must connect, then stop cleanly on SIGTERM.
    async fn agency_run(&mut self, who: &str, words: &[String], at: &str) {
        let who: &'static str = AGENCIES.into_iter().find(|a| *a == who).unwrap();
        self.nodes.remove(who).unwrap().stop().await;
        let args = self.real(&words[1..], at);
        let mut child = self
            .command(who)
            .args(&args)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        tokio::time::timeout(PATIENCE, async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if line.contains("ハブに接続しました") {
                    return;
                }
            }
            panic!("{at}: ended before connecting");
        })
        .await
        .unwrap_or_else(|_| panic!("{at}: did not connect"));
        let pid = child.id().unwrap().to_string();
        let term = tokio::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .unwrap();
        assert!(term.success());
        let status = tokio::time::timeout(PATIENCE, child.wait())
            .await
            .unwrap_or_else(|_| panic!("{at}: did not stop on SIGTERM"))
            .unwrap();
        assert!(status.success(), "{at}: {status}");
        let node = TestNode::connect(&self.hub.url, who, &self.home(who)).await;
        self.nodes.insert(who, node);
    }

    /// `tsunagu audit …` with the test hub's config; `> FILE` writes stdout.
    async fn audit(&mut self, words: &[String], at: &str) {
        let args = self.real(&words[1..], at);
        let (args, into) = match args.iter().position(|a| a == ">") {
            Some(i) => (&args[..i], args.get(i + 1)),
            None => (&args[..], None),
        };
        let out = self.command("hub").args(args).output().await.unwrap();
        assert!(
            out.status.success(),
            "{at} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if let Some(file) = into {
            std::fs::write(self.home("hub").join(file), &out.stdout).unwrap();
        }
    }
}

/// Wait until the node's cursor reaches `target`, rereading it after every
/// event (or burst of events); on timeout, where it stopped.
async fn caught_up(node: &mut TestNode, target: Seq) -> Result<(), Seq> {
    let cursor = async |node: &TestNode| node.node.records().cursor().await.unwrap();
    let waited = tokio::time::timeout(PATIENCE, async {
        while cursor(node).await < target {
            match node.events.recv().await {
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("node event stream ended"),
            }
        }
    })
    .await;
    match waited {
        Ok(()) => Ok(()),
        Err(_) => Err(cursor(node).await),
    }
}

/// `examples/referral.toml` with its dates moved to today, so the weeks and
/// the due date still agree (the file's own dates are fixed).
fn todays_example_referral(shift: time::Duration) -> String {
    let text = std::fs::read_to_string(root().join("examples/referral.toml")).unwrap();
    let mut referral: Referral = toml::from_str(&text).unwrap();
    referral.mother.birth_date += shift;
    if let Some(p) = referral.pregnancy.as_mut() {
        p.due_date += shift;
    }
    if let Some(e) = referral.epds.as_mut() {
        e.taken_on += shift;
    }
    toml::to_string(&referral).unwrap()
}

/// The other example files (`examples/*.toml`: minutes, plans), their
/// dates moved like the commands' so the two still agree.
fn todays_examples(shift: time::Duration) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(root().join("examples")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".toml") && name != "referral.toml" {
            let text = std::fs::read_to_string(root().join("examples").join(&name)).unwrap();
            files.push((name, shift_dates(&text, shift)));
        }
    }
    files
}

/// Every `YYYY-MM-DD` in `text` moved by `shift`.
fn shift_dates(text: &str, shift: time::Duration) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let date = rest
            .get(..10)
            .filter(|d| d.as_bytes()[4] == b'-' && d.as_bytes()[7] == b'-')
            .and_then(|d| time::Date::parse(d, format).ok());
        match date {
            Some(d) => {
                out.push_str(&(d + shift).format(format).unwrap());
                rest = &rest[10..];
            }
            None => {
                let c = rest.chars().next().unwrap();
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

#[test]
fn dates_move_and_nothing_else_does() {
    let week = time::Duration::days(7);
    assert_eq!(
        shift_dates(
            "--at \"2026-12-03 14:00\" 2026-12-31T05:00:00Z case-3fa2c81b09d4",
            week
        ),
        "--at \"2026-12-10 14:00\" 2027-01-07T05:00:00Z case-3fa2c81b09d4"
    );
    assert_eq!(
        shift_dates("会議 2026-13-01 12-03", week),
        "会議 2026-13-01 12-03"
    );
}
