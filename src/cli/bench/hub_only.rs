//! `--hub-only`: what the hub alone does. Every envelope is sealed and
//! signed before the clock starts; senders POST the pre-sealed bytes over
//! HTTPS with their own client certificates; receivers are light clients
//! (mutually authenticated websockets that ack each delivery on receipt,
//! without verifying, decrypting or storing it). So the figures are the
//! hub's: TLS, parsing, its checks, its commits, its fan-out.

use super::*;
use crate::agency::client::{HubClient, HubSocket};
use crate::protocol::Envelope;
use crate::protocol::api::CaseOpened;
use crate::protocol::frame::{ClientFrame, HubFrame, SubmitStatus};
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

/// Every agency's HTTPS client, with its own certificate.
pub(super) fn clients(pki: &Pki, hub_url: &str) -> anyhow::Result<Vec<Arc<HubClient>>> {
    (0..pki.ids.len())
        .map(|index| {
            let own = pki.dir.join("agencies").join(pki.ids[index].as_str());
            let tls = crate::crypto::tls::client_config_from_files(
                &pki.dir.join("ca.pem"),
                &own.join("cert.pem"),
                &own.join("key.pem"),
            )?;
            Ok(Arc::new(HubClient::new(hub_url, tls)?))
        })
        .collect()
}

/// A light receiver: hello from the start, then ack every frame that has a
/// sequence number the moment it arrives; each delivery's envelope id is
/// reported (parsed from the frame, nothing verified or decrypted).
/// `on_welcome` runs at each `welcome`, before it is reported.
pub(super) async fn light_receiver(
    index: usize,
    client: Arc<HubClient>,
    out: mpsc::UnboundedSender<Observed>,
    mut on_welcome: impl FnMut(),
) -> anyhow::Result<()> {
    let mut socket: HubSocket = client.connect_socket().await?;
    let hello = ClientFrame::Hello {
        resume_after: Seq(0),
        epoch: None,
    };
    send_frame(&mut socket, &hello).await?;
    while let Some(message) = socket.next().await {
        let Message::Text(text) = message? else {
            continue;
        };
        let (seq, observed) = match serde_json::from_str::<HubFrame>(&text)? {
            HubFrame::Welcome { .. } => {
                on_welcome();
                (None, Some(Observed::Connected(index)))
            }
            HubFrame::Deliver { seq, envelope } => {
                let id = Envelope::parse(envelope.into_bytes())?.meta().id;
                let at = Instant::now();
                (
                    Some(seq),
                    Some(Observed::Stored {
                        node: index,
                        id,
                        at,
                    }),
                )
            }
            HubFrame::Notice { seq, .. } => (Some(seq), None),
            _ => (None, None),
        };
        if let Some(seq) = seq {
            send_frame(&mut socket, &ClientFrame::Ack { seq }).await?;
        }
        if let Some(observed) = observed
            && out.send(observed).is_err()
        {
            return Ok(());
        }
    }
    Ok(())
}

async fn send_frame(socket: &mut HubSocket, frame: &ClientFrame) -> anyhow::Result<()> {
    let text = serde_json::to_string(frame)?;
    socket.send(Message::Text(text.into())).await?;
    Ok(())
}

/// Open one case per envelope at the hub, by its sender (not timed).
async fn open_cases(clients: &[Arc<HubClient>], plan: &mut [Planned]) -> anyhow::Result<()> {
    for planned in plan.iter_mut() {
        let opened: CaseOpened = clients[planned.sender]
            .post("/v1/cases", &serde_json::json!({}))
            .await
            .context("opening a case at the hub")?;
        planned.case = Some(opened.case_id);
    }
    Ok(())
}

/// Seal and sign every planned envelope (not timed).
fn seal_all(pki: &Pki, plan: &[Planned], payload: &Payload) -> anyhow::Result<Vec<Envelope>> {
    plan.iter()
        .map(|planned| {
            let draft = draft(&pki.ids, &planned.to, planned.case.clone(), payload);
            let sender = planned.sender;
            let signing = &pki.materials[sender].signing_key;
            Ok(seal_draft(
                &pki.ids[sender],
                signing,
                &pki.directory,
                &draft,
            )?)
        })
        .collect()
}

/// POST every sealed envelope, `concurrency` in flight.
async fn post_all(
    clients: &[Arc<HubClient>],
    plan: &[Planned],
    sealed: Vec<Envelope>,
    concurrency: usize,
) -> anyhow::Result<Vec<SendRecord>> {
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut posts = super::tasks::Tasks::new();
    for (index, envelope) in sealed.into_iter().enumerate() {
        let permit = permits.clone().acquire_owned().await?;
        let client = clients[plan[index].sender].clone();
        posts.spawn(async move {
            let start = Instant::now();
            let outcome = match client.submit_envelope(&envelope).await {
                Ok(r) => Ok(Accepted {
                    id: r.id,
                    duplicate: r.status == SubmitStatus::Duplicate,
                }),
                Err(e) => Err(e.to_string()),
            };
            drop(permit);
            SendRecord {
                index,
                scheduled: start,
                start,
                end: Instant::now(),
                outcome,
            }
        })?;
    }
    posts.finish().await
}

/// Hub, light receivers, pre-sealed envelopes, the timed POSTs, and the
/// count of every delivery by envelope id and recipient.
pub(super) async fn measure(
    label: &str,
    url: &str,
    args: &DeliveryArgs,
    pki: &Arc<Pki>,
    payload: &Arc<Payload>,
    dir: &Path,
) -> anyhow::Result<Figures> {
    let rss_start = Memory::now();
    let hub = BenchHub::start(pki, url, dir, args.hub_process).await?;
    let hub_start = hub.memory();
    let clients = clients(pki, hub.url())?;
    let (events, rx) = mpsc::unbounded_channel();
    let mut observer = Observer::new(rx);
    let mut receivers = JoinSet::new();
    for &index in &pki.recipients {
        receivers.spawn(light_receiver(
            index,
            clients[index].clone(),
            events.clone(),
            || {},
        ));
    }
    observer.wait_connected(pki.recipients.len()).await?;
    let (rss_connected, hub_connected) = (Memory::now(), hub.memory());
    let mut plan = pki.plan(args.envelopes as usize);
    open_cases(&clients, &mut plan).await?;
    let sealed = seal_all(pki, &plan, payload)?;
    say!(
        "  ({} envelopes sealed and signed, not counted)",
        sealed.len()
    );
    let sends = post_all(&clients, &plan, sealed, args.concurrency as usize).await?;
    let expected = sends.iter().flat_map(|s| match &s.outcome {
        Ok(a) => plan[s.index].to.iter().map(|&r| (a.id, r)).collect(),
        Err(_) => Vec::new(),
    });
    observer.wait_stored(expected).await;
    let recipients: Vec<AgencyId> = pki.recipients.iter().map(|&i| pki.ids[i].clone()).collect();
    let acked = wait_acked(&hub, &recipients).await?;
    // A straggling duplicate would arrive now: give the receivers their
    // queued frames before counting.
    while let Ok(observed) = observer.rx.try_recv() {
        observer.note(observed);
    }
    let (rss_end, hub_end) = (Memory::now(), hub.memory());
    receivers.abort_all();
    hub.stop().await?;
    let mut figures = Figures::new(
        label,
        &plan,
        &sends,
        &observer,
        [rss_start, rss_connected, rss_end],
    );
    figures.hub_acked = figures.since_first(acked);
    figures.hub_memory = [hub_start, hub_connected, hub_end];
    Ok(figures)
}
