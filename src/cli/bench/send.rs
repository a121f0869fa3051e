//! Sending.

use super::*;

/// One `Node::send`: when it was due (the open loop's schedule; in the
/// closed loop, when it was called), when it was called, when it returned,
/// and the envelope id the hub accepted (or why it did not).
pub(super) struct SendRecord {
    pub(super) index: usize,
    pub(super) scheduled: Instant,
    pub(super) start: Instant,
    pub(super) end: Instant,
    pub(super) outcome: Result<Accepted, String>,
}

pub(super) struct Accepted {
    pub(super) id: EnvelopeId,
    pub(super) duplicate: bool,
}

/// Send the whole plan with `concurrency` sends in flight, noting node
/// events meanwhile; then wait until every recipient stored its deliveries.
pub(super) async fn run_phase(
    fleet: &Fleet,
    plan: &Arc<Vec<Planned>>,
    pace: Pace,
    payload: &Arc<Payload>,
    observer: &mut Observer,
) -> anyhow::Result<Vec<SendRecord>> {
    let mut sending = spawn_sends(fleet, plan, pace, payload);
    let sends = loop {
        tokio::select! {
            done = &mut sending => break done.context("the sending task panicked")??,
            Some(observed) = observer.rx.recv() => observer.note(observed),
        }
    };
    let expected = sends.iter().flat_map(|s| match &s.outcome {
        Ok(a) => plan[s.index].to.iter().map(|&r| (a.id, r)).collect(),
        Err(_) => Vec::new(),
    });
    observer.wait_stored(expected).await;
    Ok(sends)
}

/// How sends are started: `concurrency` in flight at most; with a rate,
/// also each at its scheduled time (open loop), not when a slot frees.
#[derive(Clone, Copy)]
pub(super) struct Pace {
    pub(super) concurrency: usize,
    pub(super) rate: Option<u32>,
}

impl Pace {
    /// When envelope `k` is due, counted from `t0`.
    fn due(&self, t0: Instant, k: usize) -> Instant {
        match self.rate {
            Some(rate) => t0 + Duration::from_secs_f64(k as f64 / f64::from(rate)),
            None => t0,
        }
    }
}

pub(super) fn spawn_sends(
    fleet: &Fleet,
    plan: &Arc<Vec<Planned>>,
    pace: Pace,
    payload: &Arc<Payload>,
) -> JoinHandle<anyhow::Result<Vec<SendRecord>>> {
    let nodes = fleet.nodes.clone();
    let ids: Arc<Vec<AgencyId>> = Arc::new(nodes.iter().map(|n| n.id().clone()).collect());
    let (plan, payload) = (plan.clone(), payload.clone());
    tokio::spawn(async move {
        let permits = Arc::new(Semaphore::new(pace.concurrency));
        let mut sends = super::tasks::Tasks::new();
        let t0 = Instant::now();
        for (index, planned) in plan.iter().enumerate() {
            let due = pace.due(t0, index);
            tokio::time::sleep_until(due.into()).await;
            let permit = permits.clone().acquire_owned().await?;
            // In the closed loop an envelope is due when its slot frees; in
            // the open loop it stays due at its scheduled time, so a send
            // held back by a full window counts its wait (no coordinated
            // omission).
            let scheduled = pace.rate.map_or_else(Instant::now, |_| due);
            let node = nodes[planned.sender].clone();
            let draft = draft(&ids, &planned.to, planned.case.clone(), &payload);
            sends.spawn(async move {
                let record = send_one(index, scheduled, &node, &draft).await;
                drop(permit);
                record
            })?;
        }
        sends.finish().await
    })
}

pub(super) async fn send_one(
    index: usize,
    scheduled: Instant,
    node: &Node,
    draft: &Draft,
) -> SendRecord {
    let start = Instant::now();
    let outcome = match node.send(draft).await {
        Ok(Sent::Accepted { id, duplicate }) => Ok(Accepted { id, duplicate }),
        Ok(Sent::Queued { reason, .. }) => Err(format!("queued (hub unreachable): {reason}")),
        Err(e) => Err(e.to_string()),
    };
    SendRecord {
        index,
        scheduled,
        start,
        end: Instant::now(),
        outcome,
    }
}
