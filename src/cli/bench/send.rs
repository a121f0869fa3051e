//! Sending.

use super::*;

/// One `Node::send`: when it was called, when it returned, and the envelope
/// id the hub accepted (or why it did not).
pub(super) struct SendRecord {
    pub(super) index: usize,
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
    concurrency: usize,
    payload: &Arc<Payload>,
    observer: &mut Observer,
) -> anyhow::Result<Vec<SendRecord>> {
    let mut sending = spawn_sends(fleet, plan, concurrency, payload);
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

pub(super) fn spawn_sends(
    fleet: &Fleet,
    plan: &Arc<Vec<Planned>>,
    concurrency: usize,
    payload: &Arc<Payload>,
) -> JoinHandle<anyhow::Result<Vec<SendRecord>>> {
    let nodes = fleet.nodes.clone();
    let ids: Arc<Vec<AgencyId>> = Arc::new(nodes.iter().map(|n| n.id().clone()).collect());
    let (plan, payload) = (plan.clone(), payload.clone());
    tokio::spawn(async move {
        let permits = Arc::new(Semaphore::new(concurrency));
        let mut sends = JoinSet::new();
        for (index, planned) in plan.iter().enumerate() {
            let permit = permits.clone().acquire_owned().await?;
            let node = nodes[planned.sender].clone();
            let draft = draft(&ids, &planned.to, planned.case.clone(), &payload);
            sends.spawn(async move {
                let record = send_one(index, &node, &draft).await;
                drop(permit);
                record
            });
        }
        Ok(sends.join_all().await)
    })
}

pub(super) async fn send_one(index: usize, node: &Node, draft: &Draft) -> SendRecord {
    let start = Instant::now();
    let outcome = match node.send(draft).await {
        Ok(Sent::Accepted { id, duplicate }) => Ok(Accepted { id, duplicate }),
        Ok(Sent::Queued { reason, .. }) => Err(format!("queued (hub unreachable): {reason}")),
        Err(e) => Err(e.to_string()),
    };
    SendRecord {
        index,
        start,
        end: Instant::now(),
        outcome,
    }
}
