//! `tsunagu bench delivery`, tiny and in the debug build: not a measurement,
//! only that each mode runs to the end and counts every delivery once, and
//! that a workload it cannot run is refused before anything starts.

use crate::helpers::run_tsunagu;

/// `bench delivery --database sqlite` with `extra`, a handful of envelopes.
fn bench_delivery(extra: &[&str]) -> (bool, String) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().display().to_string();
    let base = [
        "bench",
        "delivery",
        "--database",
        "sqlite",
        "--micro-runs",
        "1",
        "--envelopes",
        "6",
        "--concurrency",
        "4",
        "--tmp-dir",
        &dir,
    ];
    run_tsunagu(&[&base[..], extra].concat())
}

fn assert_every_delivery_once(out: &str, deliveries: usize) {
    assert!(out.contains("accepted envelopes            6 / 6"), "{out}");
    let stored =
        format!("deliveries stored             {deliveries} / {deliveries} (stored twice 0)");
    assert!(out.contains(&stored), "{out}");
    assert!(out.contains("problems seen                 none"), "{out}");
}

#[test]
fn bench_delivery_with_three_recipients_and_4_kib_counts_every_delivery_once() {
    let (ok, out) = bench_delivery(&[
        "--agencies",
        "5",
        "--senders",
        "2",
        "--recipients",
        "3",
        "--payload-bytes",
        "4096",
    ]);
    assert!(ok, "{out}");
    assert!(out.contains("4096 B of JSON"), "{out}");
    assert_every_delivery_once(&out, 18);
}

#[test]
fn bench_delivery_open_loop_reports_the_offered_and_achieved_rate() {
    let (ok, out) = bench_delivery(&["--agencies", "4", "--rate", "200"]);
    assert!(ok, "{out}");
    assert!(out.contains("offered 200/s, achieved"), "{out}");
    assert_every_delivery_once(&out, 12);
}

#[test]
fn bench_delivery_refuses_more_recipients_than_receiving_agencies() {
    let (ok, out) = bench_delivery(&["--agencies", "4", "--senders", "2", "--recipients", "3"]);
    assert!(!ok);
    assert!(out.contains("--recipients 3 は受信機関の数 2"), "{out}");
    assert!(!out.contains("SQLite …"), "nothing should start: {out}");
}

#[test]
fn bench_delivery_refuses_senders_that_leave_no_receiver() {
    let (ok, out) = bench_delivery(&["--agencies", "3", "--senders", "3"]);
    assert!(!ok);
    assert!(out.contains("受信する機関が残りません"), "{out}");
}

#[test]
fn bench_delivery_refuses_a_payload_smaller_than_the_referral() {
    let (ok, out) = bench_delivery(&["--agencies", "4", "--payload-bytes", "100", "--lang", "en"]);
    assert!(!ok);
    assert!(
        out.contains("--payload-bytes 100 is smaller than the demo referral"),
        "{out}"
    );
}

#[test]
fn bench_delivery_refuses_a_zero_rate() {
    let (ok, out) = bench_delivery(&["--agencies", "4", "--rate", "0"]);
    assert!(!ok);
    assert!(out.contains("--rate"), "{out}");
}

#[test]
fn bench_delivery_hub_only_counts_every_delivery_once_by_envelope_and_recipient() {
    let (ok, out) = bench_delivery(&["--hub-only", "--agencies", "4", "--payload-bytes", "4096"]);
    assert!(ok, "{out}");
    assert!(out.contains("sealed and signed, not counted"), "{out}");
    assert_every_delivery_once(&out, 12);
}

/// The operator reads the hub's memory apart from everything else's.
#[test]
fn bench_delivery_with_the_hub_as_a_child_reports_the_hubs_own_rss() {
    for mode in [&[][..], &["--hub-only"][..]] {
        let (ok, out) = bench_delivery(&[&["--agencies", "4", "--hub-process"][..], mode].concat());
        assert!(ok, "{out}");
        assert!(
            out.contains("hub process    a child `tsunagu serve`"),
            "{out}"
        );
        let line = out
            .lines()
            .find(|l| l.contains("hub RSS (its own process)"))
            .unwrap_or_else(|| panic!("{out}"));
        // Four readings (start, connected, end, peak), each a number of MiB.
        let readings = line.matches(" MiB").count();
        assert_eq!(readings, 4, "{line}");
        assert!(!line.contains('?'), "{line}");
        assert_every_delivery_once(&out, 12);
    }
}

#[test]
fn bench_delivery_refuses_hub_only_with_a_rate() {
    let (ok, out) = bench_delivery(&["--hub-only", "--rate", "100"]);
    assert!(!ok);
    assert!(out.contains("--rate と同時には指定できません"), "{out}");
}

/// `tsunagu bench sockets` with `args`, its temporary files under a test
/// directory.
fn bench_sockets(args: &[&str]) -> (bool, String) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().display().to_string();
    let base = ["bench", "sockets", "--tmp-dir", &dir];
    run_tsunagu(&[&base[..], args].concat())
}

#[test]
fn bench_sockets_holds_every_socket_and_resumes_them_all_after_a_hub_restart() {
    let (ok, out) = bench_sockets(&["--count", "20", "--concurrency", "8"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("sockets welcomed              20 / 20"),
        "{out}"
    );
    assert!(out.contains("hub RSS with 20 sockets"), "{out}");
    assert!(
        out.contains("sockets resumed               20 / 20"),
        "{out}"
    );
    assert!(out.contains("deliveries                    0 "), "{out}");
    assert!(out.contains("| SQLite | 20 |"), "{out}");
}

#[test]
fn bench_sockets_refuses_a_count_of_zero() {
    let (ok, out) = bench_sockets(&["--count", "0"]);
    assert!(!ok);
    assert!(
        out.contains("--count 0 ではソケットを1本も開きません"),
        "{out}"
    );
    assert!(!out.contains("PKI"), "nothing should start: {out}");
}

#[test]
fn bench_sockets_refuses_a_count_the_file_limit_cannot_hold() {
    // A hard file limit of 256 in the shell that runs it: the hub could
    // not hold 1 000 sockets, so the bench refuses before generating keys.
    let out = std::process::Command::new("bash")
        .args([
            "-c",
            "ulimit -Sn 256 && ulimit -Hn 256 && exec \"$0\" \"$@\"",
        ])
        .arg(env!("CARGO_BIN_EXE_tsunagu"))
        .args(["--lang", "en", "bench", "sockets", "--count", "1000"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        text.contains("--count 1000 needs 1384 open files in the hub process, but the file limit (RLIMIT_NOFILE, hard) is 256"),
        "{text}"
    );
}

#[test]
fn bench_sockets_refuses_postgres_without_a_server() {
    let out = crate::cli::tsunagu()
        .args(["bench", "sockets", "--count", "2", "--db", "postgres"])
        .env_remove("TSUNAGU_TEST_PG_URL")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        text.contains("--db postgres にはサーバが必要です"),
        "{text}"
    );
}
