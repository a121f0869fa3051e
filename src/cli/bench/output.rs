//! Output.

use super::*;

pub(super) fn print_settings(
    args: &DeliveryArgs,
    pki: &Pki,
    payload: &Payload,
    tmp: &Path,
    lang: Lang,
) -> anyhow::Result<()> {
    let per_envelope = pki.per_envelope;
    say!(
        "{}",
        lang.pick("配送ベンチマーク", "tsunagu delivery benchmark")
    );
    say!("  machine        {}", machine());
    say!(
        "  agencies       {} ({} sending clinics, {} recipients: centers / child welfare)",
        pki.ids.len(),
        pki.senders.len(),
        pki.recipients.len()
    );
    say!(
        "  envelopes      {} × {} recipients = {} deliveries, after a warm-up of {} (not counted)",
        args.envelopes,
        per_envelope,
        args.envelopes as usize * per_envelope,
        pki.senders.len()
    );
    say!("  concurrency    {} sends in flight", args.concurrency);
    say!(
        "  payload        demo referral, {} B of JSON before encryption",
        workload::json_len(payload)
    );
    if args.hub_only {
        say!(
            "  hub only       sealed before timing; light receivers ack on receipt (no verify, decrypt or store)"
        );
    }
    if args.hub_process {
        say!(
            "  hub process    a child `tsunagu serve` (its RSS apart from the nodes' and the load generator's)"
        );
    }
    if let Some(rate) = args.rate {
        say!("  open loop      {rate} envelopes/s offered, latency from each scheduled send");
    }
    say!(
        "  files          {} (hub SQLite, every node's SQLite records, PKI)",
        tmp.display()
    );
    Ok(())
}

/// `nproc`, CPU model and kernel.
pub(super) fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!(
        "{cpus} CPUs (nproc), {model}, Linux {}, load average {} before the run",
        kernel.trim(),
        load.join(" ")
    )
}

/// One Markdown row per database, ready for docs/benchmarks.md.
pub(super) fn print_summary(
    args: &DeliveryArgs,
    shape: Shape,
    payload_bytes: usize,
    rows: &[Figures],
) {
    say!(
        "\n| database | agencies | recipients | payload | envelopes | in flight | offered/s | accepted/s | accept p50 | accept p99 \
         | ack p50 | ack p99 | ack max | all stored | all acked at hub | RSS end |"
    );
    say!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for f in rows {
        let (send, ack) = (f.send, f.ack);
        let cells = [
            cell(send.map(|s| s.p50)),
            cell(send.map(|s| s.p99)),
            cell(ack.map(|a| a.p50)),
            cell(ack.map(|a| a.p99)),
            cell(ack.map(|a| a.max)),
            secs(f.all_stored),
            secs(f.hub_acked),
            mib(f.memory[2].rss),
        ];
        say!(
            "| {} | {} | {} | {} B | {} | {} | {} | {:.0} | {} |",
            f.database,
            args.agencies,
            shape.recipients,
            payload_bytes,
            args.envelopes,
            args.concurrency,
            args.rate.map_or("closed loop".into(), |r| r.to_string()),
            f.throughput(),
            cells.join(" | ")
        );
    }
}

pub(super) fn secs(d: Option<Duration>) -> String {
    d.map_or("?".into(), |d| format!("{:.2} s", d.as_secs_f64()))
}

pub(super) fn cell(d: Option<Duration>) -> String {
    d.map_or("–".into(), |d| format!("{:.1} ms", ms(d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let samples = (1..=100).map(Duration::from_millis).collect();
        let s = Spread::of(samples).unwrap();
        let ms = Duration::from_millis;
        assert_eq!((s.p50, s.p99, s.max), (ms(50), ms(99), ms(100)));
    }
}
