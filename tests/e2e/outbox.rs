//! The outbox: whatever a sending command could not get the hub to take,
//! the running node (`agency run`) sends by itself while it stays
//! connected — no reconnect needed — in order, and exactly once.

use std::sync::{Arc, OnceLock};

use tsunagu::agency::client::ClientError;
use tsunagu::agency::outbox::HubAnswer;
use tsunagu::agency::{AgencyConfig, NodeEvent, Sent};
use tsunagu::protocol::ErrorCode;
use tsunagu::protocol::api::{BatchResult, MAX_BATCH_ENVELOPES};
use tsunagu::store::HubStore;

use crate::faulty::{Fault, FaultyStore};
use crate::helpers::*;

both_backends!(
    a_referral_whose_sending_command_died_after_the_outbox_write_is_delivered_while_connected,
    a_server_error_with_the_socket_up_is_retried_by_the_running_node,
    a_submission_that_timed_out_after_the_hub_committed_it_is_settled_and_delivered_once,
    a_backlog_of_a_thousand_queued_while_the_hub_was_down_arrives_in_order_after_it_returns,
    a_batch_is_taken_in_order_and_a_bad_envelope_in_it_is_refused_alone,
    concurrent_sends_from_one_node_are_each_accepted_at_once_not_queued_behind_each_other,
);

/// A hub whose first `count` accepts meet `fault`.
async fn faulty_hub(db: &Db, fault: Fault, count: u32) -> (TestHub, Arc<FaultyStore>) {
    let faulty = OnceLock::new();
    let hub = TestHub::start_wrapped(db, &|store| {
        faulty
            .get_or_init(|| FaultyStore::new(store, fault, count))
            .clone() as Arc<dyn HubStore>
    })
    .await;
    (hub, faulty.get().unwrap().clone())
}

async fn outbox_status(node: &TestNode, id: tsunagu::protocol::EnvelopeId) -> (String, i64) {
    let row = node.node.records().outbox_item(id).await.unwrap().unwrap();
    (row.status, row.attempts)
}

async fn wait_answered(node: &mut TestNode, id: tsunagu::protocol::EnvelopeId) -> HubAnswer {
    match node
        .wait_for(|e| matches!(e, NodeEvent::Answered { id: a, .. } if *a == id))
        .await
    {
        NodeEvent::Answered { answer, .. } => answer,
        _ => unreachable!(),
    }
}

/// Wait until the hub's answer for `id` is recorded in the outbox, reading
/// the records after every event (or burst of missed events).
async fn wait_settled(node: &mut TestNode, id: tsunagu::protocol::EnvelopeId) {
    tokio::time::timeout(PATIENCE, async {
        while outbox_status(node, id).await.0 == "pending" {
            if let Err(tokio::sync::broadcast::error::RecvError::Closed) = node.events.recv().await
            {
                panic!("node event stream ended");
            }
        }
    })
    .await
    .expect("timed out waiting for the hub's answer");
}

async fn a_referral_whose_sending_command_died_after_the_outbox_write_is_delivered_while_connected(
    db: Db,
) {
    let hub = TestHub::start(&db).await;
    let data = tempfile::tempdir().unwrap();
    let mut clinic = TestNode::connect(&hub.url, CLINIC, data.path()).await; // agency run
    let mut center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();

    // `agency send`, a process of its own on the same records, dies right
    // after writing the outbox: it never submits and never wakes the node.
    let command = TestNode::open(&hub.url, CLINIC, data.path()).await;
    let id = command
        .node
        .enqueue(&referral_draft(&case, &[CENTER]))
        .await
        .unwrap();
    command.stop().await;

    center.wait_stored(id).await;
    assert_eq!(
        wait_answered(&mut clinic, id).await,
        HubAnswer::Accepted { duplicate: false }
    );
    assert_eq!(outbox_status(&clinic, id).await.0, "accepted");
    clinic.stop().await;
    center.stop().await;
    hub.stop().await;
}

async fn a_server_error_with_the_socket_up_is_retried_by_the_running_node(db: Db) {
    let (hub, faulty) = faulty_hub(&db, Fault::Fail, 2).await;
    let data = tempfile::tempdir().unwrap();
    let mut clinic = TestNode::connect(&hub.url, CLINIC, data.path()).await;
    let mut center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();

    // The command gets a 500: the envelope stays queued and the command
    // wakes the running node, which retries (failing once more, then
    // getting through) without any reconnect.
    let command = TestNode::open(&hub.url, CLINIC, data.path()).await;
    let Sent::Queued { id, reason } = command
        .node
        .send(&referral_draft(&case, &[CENTER]))
        .await
        .unwrap()
    else {
        panic!("expected the envelope to stay queued after a 500")
    };
    assert!(reason.contains("internal hub error"), "{reason}");
    command.stop().await;

    center.wait_stored(id).await;
    assert_eq!(
        wait_answered(&mut clinic, id).await,
        HubAnswer::Accepted { duplicate: false }
    );
    assert_eq!(faulty.remaining(), 0);
    let (status, attempts) = outbox_status(&clinic, id).await;
    assert_eq!((status.as_str(), attempts), ("accepted", 2));
    assert_eq!(center.node.records().inbox().await.unwrap().len(), 1);
    clinic.stop().await;
    center.stop().await;
    hub.stop().await;
}

async fn a_submission_that_timed_out_after_the_hub_committed_it_is_settled_and_delivered_once(
    db: Db,
) {
    let (hub, faulty) = faulty_hub(&db, Fault::HangAfterCommit, 1).await;
    let data = tempfile::tempdir().unwrap();
    let mut config = AgencyConfig::from_example(&certs(), &agency(CLINIC), &hub.url, data.path());
    config.request_timeout_secs = Some(1);
    let mut clinic = TestNode::open_config(&config).await;
    clinic.start();
    clinic
        .wait_for(|e| matches!(e, NodeEvent::Connected { .. }))
        .await;
    let mut center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();

    let Sent::Queued { id, .. } = clinic
        .node
        .send(&referral_draft(&case, &[CENTER]))
        .await
        .unwrap()
    else {
        panic!("expected the envelope to stay queued after the request timed out")
    };
    // The hub already holds it: the retry is a duplicate, which settles it.
    assert_eq!(
        wait_answered(&mut clinic, id).await,
        HubAnswer::Accepted { duplicate: true }
    );
    center.wait_stored(id).await;
    assert_eq!(outbox_status(&clinic, id).await.0, "accepted");
    assert_eq!(center.node.records().inbox().await.unwrap().len(), 1);
    faulty.release.cancel();
    clinic.stop().await;
    center.stop().await;
    hub.stop().await;
}

async fn a_backlog_of_a_thousand_queued_while_the_hub_was_down_arrives_in_order_after_it_returns(
    db: Db,
) {
    const BACKLOG: usize = 1000;
    let hub = TestHub::start(&db).await;
    let data = tempfile::tempdir().unwrap();
    let previous = (hub.addr, hub.dir.clone());
    let mut clinic = TestNode::open(&hub.url, CLINIC, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();
    hub.stop().await;

    let mut ids = Vec::with_capacity(BACKLOG);
    for _ in 0..BACKLOG {
        match clinic
            .node
            .send(&referral_draft(&case, &[CENTER]))
            .await
            .unwrap()
        {
            Sent::Queued { id, .. } => ids.push(id),
            other => panic!("expected queued while the hub is down, got {other:?}"),
        }
    }

    let hub = TestHub::restart(&db, previous).await;
    let mut center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    clinic.start();
    // Delivered in sequence order, so the last one stored means all are.
    center.wait_stored(*ids.last().unwrap()).await;
    let mut inbox = center.node.records().inbox().await.unwrap();
    inbox.sort_by_key(|row| row.seq);
    let received: Vec<String> = inbox.into_iter().map(|row| row.envelope_id).collect();
    let sent: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    assert_eq!(received, sent, "the backlog arrives complete and in order");
    wait_settled(&mut clinic, ids[BACKLOG - 1]).await;
    for id in [ids[0], ids[BACKLOG / 2], ids[BACKLOG - 1]] {
        assert_eq!(outbox_status(&clinic, id).await.0, "accepted");
    }
    clinic.stop().await;
    center.stop().await;
    hub.stop().await;
}

async fn a_batch_is_taken_in_order_and_a_bad_envelope_in_it_is_refused_alone(db: Db) {
    let hub = TestHub::start(&db).await;
    let data = tempfile::tempdir().unwrap();
    let clinic = TestNode::open(&hub.url, CLINIC, data.path()).await;
    let mut center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();
    let mut bodies = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let id = clinic
            .node
            .enqueue(&referral_draft(&case, &[CENTER]))
            .await
            .unwrap();
        let entry = clinic
            .node
            .records()
            .pending_entry(id)
            .await
            .unwrap()
            .unwrap();
        ids.push(id);
        bodies.push(entry.envelope);
    }
    let client = client_as(&hub, CLINIC);
    let batch: Vec<&[u8]> = vec![&bodies[0], b"{\"version\": 2}", &bodies[1]];
    let response = client.submit_batch(&batch).await.unwrap();
    assert_eq!(response.stopped, None);
    let [first, bad, last] = &response.results[..] else {
        panic!("one result per envelope: {response:?}")
    };
    assert!(
        matches!(first, BatchResult::Submitted(s) if s.id == ids[0]),
        "{first:?}"
    );
    assert!(
        matches!(bad, BatchResult::Refused(body) if body.code == ErrorCode::Malformed),
        "{bad:?}"
    );
    assert!(
        matches!(last, BatchResult::Submitted(s) if s.id == ids[1]),
        "{last:?}"
    );
    center.wait_stored(ids[1]).await;
    assert_eq!(center.node.records().inbox().await.unwrap().len(), 2);

    // A body that is not a batch, or one too long, is refused as a whole.
    for (envelopes, what) in [
        (vec![&b"not json"[..]], "malformed"),
        (vec![&bodies[0][..]; MAX_BATCH_ENVELOPES + 1], "at most"),
    ] {
        match client.submit_batch(&envelopes).await {
            Err(ClientError::Refused(body)) => {
                assert_eq!(body.code, ErrorCode::Malformed);
                assert!(body.message_en.contains(what), "{body:?}");
            }
            other => panic!("expected the batch refused, got {other:?}"),
        }
    }
    assert_eq!(center.node.records().inbox().await.unwrap().len(), 2);
    clinic.stop().await;
    center.stop().await;
    hub.stop().await;
}

async fn concurrent_sends_from_one_node_are_each_accepted_at_once_not_queued_behind_each_other(
    db: Db,
) {
    let hub = TestHub::start(&db).await;
    let data = tempfile::tempdir().unwrap();
    let clinic = TestNode::connect(&hub.url, CLINIC, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();
    let draft = referral_draft(&case, &[CENTER]);
    let sends = (0..20).map(|_| clinic.node.send(&draft));
    for sent in futures::future::join_all(sends).await {
        assert!(
            matches!(
                sent,
                Ok(Sent::Accepted {
                    duplicate: false,
                    ..
                })
            ),
            "{sent:?}"
        );
    }
    clinic.stop().await;
    hub.stop().await;
}
