//! Figures.

use super::*;

/// p50, p99 (nearest rank) and max of a set of durations.
#[derive(Clone, Copy)]
pub(super) struct Spread {
    pub(super) p50: Duration,
    pub(super) p99: Duration,
    pub(super) max: Duration,
}

impl Spread {
    pub(super) fn of(mut samples: Vec<Duration>) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        let rank = |p: f64| {
            let n = samples.len() as f64;
            samples[((p * n).ceil() as usize).clamp(1, samples.len()) - 1]
        };
        Some(Self {
            p50: rank(0.50),
            p99: rank(0.99),
            max: samples[samples.len() - 1],
        })
    }

    pub(super) fn show(spread: Option<Self>) -> String {
        match spread {
            Some(s) => format!(
                "p50 {:>8.2} ms   p99 {:>8.2} ms   max {:>8.2} ms",
                ms(s.p50),
                ms(s.p99),
                ms(s.max)
            ),
            None => "no samples".into(),
        }
    }
}

/// VmRSS and VmHWM of a process, in KiB.
#[derive(Clone, Copy)]
pub(super) struct Memory {
    pub(super) rss: Option<u64>,
    pub(super) peak: Option<u64>,
}

impl Memory {
    pub(super) fn now() -> Self {
        Self::of("/proc/self/status")
    }

    /// From a process's `/proc/PID/status`; `None` fields if unreadable.
    pub(super) fn of(path: &str) -> Self {
        let status = std::fs::read_to_string(path).unwrap_or_default();
        let field = |name: &str| {
            status.lines().find_map(|line| {
                let value = line.strip_prefix(name)?.strip_prefix(':')?;
                value.trim().strip_suffix("kB")?.trim().parse().ok()
            })
        };
        Self {
            rss: field("VmRSS"),
            peak: field("VmHWM"),
        }
    }
}

pub(super) fn mib(kib: Option<u64>) -> String {
    kib.map_or("?".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

pub(super) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub(super) struct Figures {
    pub(super) database: String,
    pub(super) first_send: Option<Instant>,
    pub(super) attempted: usize,
    pub(super) accepted: usize,
    pub(super) duplicates: usize,
    pub(super) failures: Vec<String>,
    pub(super) wall: Duration,
    pub(super) send: Option<Spread>,
    pub(super) ack: Option<Spread>,
    pub(super) delivered: usize,
    pub(super) expected: usize,
    /// Deliveries a node reported stored more than once.
    pub(super) stored_twice: usize,
    /// How late the latest send started against its schedule.
    pub(super) behind: Duration,
    /// The open loop's offered rate, envelopes/s.
    pub(super) offered: Option<u32>,
    pub(super) all_stored: Option<Duration>,
    pub(super) hub_acked: Option<Duration>,
    pub(super) memory: [Memory; 3],
    /// The hub's own, at the same three moments, when it ran as a child
    /// (`--hub-process`).
    pub(super) hub_memory: [Option<Memory>; 3],
    pub(super) troubles: Vec<String>,
}

impl Figures {
    pub(super) fn new(
        database: &str,
        plan: &[Planned],
        sends: &[SendRecord],
        observer: &Observer,
        memory: [Memory; 3],
    ) -> Self {
        let first = sends.iter().map(|s| s.scheduled).min();
        let accepted: Vec<(&SendRecord, &Accepted)> = sends
            .iter()
            .filter_map(|s| s.outcome.as_ref().ok().map(|a| (s, a)))
            .collect();
        let last_accept = accepted.iter().map(|(s, _)| s.end).max();
        let (mut acks, mut expected, mut last_stored) = (Vec::new(), 0, None);
        for (send, a) in &accepted {
            for &r in &plan[send.index].to {
                expected += 1;
                if let Some(&at) = observer.stored.get(&(a.id, r)) {
                    acks.push(at.saturating_duration_since(send.scheduled));
                    last_stored = last_stored.max(Some(at));
                }
            }
        }
        let since_first = |t: Option<Instant>| Some(t?.saturating_duration_since(first?));
        Self {
            database: database.to_owned(),
            first_send: first,
            attempted: sends.len(),
            accepted: accepted.len(),
            duplicates: accepted.iter().filter(|(_, a)| a.duplicate).count(),
            failures: sends
                .iter()
                .filter_map(|s| s.outcome.as_ref().err().cloned())
                .collect(),
            wall: since_first(last_accept).unwrap_or_default(),
            send: Spread::of(
                accepted
                    .iter()
                    .map(|(s, _)| s.end.saturating_duration_since(s.scheduled))
                    .collect(),
            ),
            delivered: acks.len(),
            stored_twice: observer.stored_twice,
            behind: sends
                .iter()
                .map(|s| s.start.saturating_duration_since(s.scheduled))
                .max()
                .unwrap_or_default(),
            offered: None,
            ack: Spread::of(acks),
            expected,
            all_stored: since_first(last_stored).filter(|_| expected > 0),
            hub_acked: None,
            memory,
            hub_memory: [None; 3],
            troubles: observer.troubles.clone(),
        }
    }

    /// How long after the first send `t` was.
    pub(super) fn since_first(&self, t: Option<Instant>) -> Option<Duration> {
        Some(t?.saturating_duration_since(self.first_send?))
    }

    pub(super) fn throughput(&self) -> f64 {
        self.accepted as f64 / self.wall.as_secs_f64().max(f64::EPSILON)
    }

    pub(super) fn print(&self) {
        let [start, connected, end] = self.memory;
        say!("── {} ──", self.database);
        say!(
            "  accepted envelopes            {} / {} (duplicates {})",
            self.accepted,
            self.attempted,
            self.duplicates
        );
        say!(
            "  throughput                    {:.0} envelopes/s ({:.2} s from the first send to the last accept)",
            self.throughput(),
            self.wall.as_secs_f64()
        );
        say!(
            "  send → hub accept             {}",
            Spread::show(self.send)
        );
        say!("  send → recipient stored+ack   {}", Spread::show(self.ack));
        if let Some(offered) = self.offered {
            say!(
                "  open loop                     offered {offered}/s, achieved {:.0}/s, worst start {:.2} ms behind schedule",
                self.throughput(),
                ms(self.behind)
            );
        }
        say!(
            "  deliveries stored             {} / {} (stored twice {}), the last {} after the first send",
            self.delivered,
            self.expected,
            self.stored_twice,
            secs(self.all_stored)
        );
        let after_last_accept = self.hub_acked.map(|a| a.saturating_sub(self.wall));
        say!(
            "  every ack committed at hub    {} after the first send, {} after the last accept (polled every 20 ms)",
            secs(self.hub_acked),
            secs(after_last_accept)
        );
        let whose = match self.hub_memory[0] {
            Some(_) => "RSS (this process, no hub)   ",
            None => "RSS (hub + all nodes)        ",
        };
        say!(
            "  {whose} start {} → connected {} → end {} (peak {})",
            mib(start.rss),
            mib(connected.rss),
            mib(end.rss),
            mib(end.peak)
        );
        if let [Some(start), Some(connected), Some(end)] = self.hub_memory {
            say!(
                "  hub RSS (its own process)     start {} → connected {} → end {} (peak {})",
                mib(start.rss),
                mib(connected.rss),
                mib(end.rss),
                mib(end.peak)
            );
        }
        self.print_problems();
    }

    pub(super) fn print_problems(&self) {
        let mut problems: Vec<String> = self
            .failures
            .iter()
            .chain(&self.troubles)
            .cloned()
            .collect();
        if self.delivered != self.expected || self.stored_twice > 0 {
            problems.push(format!(
                "NOT EXACTLY ONCE: {} missing, {} stored twice",
                self.expected - self.delivered,
                self.stored_twice
            ));
        }
        if problems.is_empty() {
            say!("  problems seen                 none");
            return;
        }
        say!(
            "  problems seen                 {} failed sends, {} node events:",
            self.failures.len(),
            self.troubles.len()
        );
        for problem in problems.iter().take(8) {
            say!("    - {problem}");
        }
    }
}
