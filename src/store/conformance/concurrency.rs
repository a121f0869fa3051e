//! Several writers at once (several hub processes, for PostgreSQL).

use std::sync::Arc;

use super::support::{
    agency, allow, audit_chain, case_id, envelope, meta, notices, pending_envelopes, pending_seqs,
    record_consent, refusal, sealed, under_consent, with,
};
use crate::protocol::notice::ConsentEnd;
use crate::protocol::{MessageKind, Metadata, Seq};
use crate::store::model::{AuditEvent, Effects, Facts, FactsQuery, Policy};
use crate::store::{AcceptOutcome, AckOutcome, HubStore};

pub async fn concurrent_senders_get_distinct_gapless_sequences(store: Arc<dyn HubStore>) {
    let tasks: Vec<_> = (0..64u8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .accept(
                        envelope(&["center", "welfare"], &[i]),
                        FactsQuery::default(),
                        allow(),
                    )
                    .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    for who in ["center", "welfare"] {
        let got = pending_seqs(&store, who).await;
        assert_eq!(got, (1..=64).collect::<Vec<_>>(), "{who}");
    }
}

pub async fn concurrent_writers_keep_one_audit_chain(store: Arc<dyn HubStore>) {
    let mut tasks = Vec::new();
    for i in 0..24u8 {
        let sender = store.clone();
        tasks.push(tokio::spawn(async move {
            sender
                .accept(envelope(&["center"], &[i]), FactsQuery::default(), allow())
                .await
                .map(|_| ())
        }));
        let auditor = store.clone();
        tasks.push(tokio::spawn(async move {
            auditor
                .audit(AuditEvent::new(
                    "connected",
                    Some(&agency("welfare")),
                    None,
                    serde_json::json!({ "i": i }),
                ))
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let acks: Vec<_> = (1..=24u64)
        .map(|seq| {
            let store = store.clone();
            tokio::spawn(async move { store.ack(&agency("center"), Seq(seq)).await })
        })
        .collect();
    for t in acks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(audit_chain(&store).await.len(), 72);
}

/// Referrals relying on a consent race its withdrawal: each is either
/// refused (the withdrawal came first) or stored and then cancelled (it
/// came first). None may be stored and still delivered.
/// Several agencies' sockets ack in bursts while senders keep sending: the
/// chain links every entry once, and every ack is counted.
pub async fn concurrent_bursts_of_acks_and_accepts_keep_one_gapless_chain(
    store: Arc<dyn HubStore>,
) {
    const AGENCIES: [&str; 4] = ["center", "welfare", "nursery", "yotaikyo"];
    for i in 0..16u8 {
        store
            .accept(envelope(&AGENCIES, &[i]), FactsQuery::default(), allow())
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for who in AGENCIES {
        for burst in [1..=8u64, 9..=16] {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let seqs = burst.map(Seq).collect();
                let outcomes = store.ack_burst(&agency(who), seqs).await.unwrap();
                assert!(outcomes.iter().all(|o| *o == AckOutcome::Acked), "{who}");
            }));
        }
    }
    for i in 16..32u8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .accept(envelope(&["center"], &[i]), FactsQuery::default(), allow())
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let chain = audit_chain(&store).await;
    let acked = chain.iter().filter(|e| e.event == "delivery_acked").count();
    assert_eq!(acked, AGENCIES.len() * 16);
    assert_eq!(chain.len(), 32 + AGENCIES.len() * 16);
    let left = store.pending(&agency("center"), Seq(0), 100).await.unwrap();
    assert_eq!(
        left.iter().map(|d| d.seq.0).collect::<Vec<_>>(),
        (17..=32).collect::<Vec<_>>()
    );
}

pub async fn nothing_slips_past_a_concurrent_withdrawal(store: Arc<dyn HubStore>) {
    let case = case_id("case-1");
    store.open_case(&case, &agency("center")).await.unwrap();
    let consent = record_consent(&store, &case, None).await;
    let query = FactsQuery {
        consent_id: Some(consent),
        ..FactsQuery::default()
    };
    let in_force: Policy = Arc::new(|facts: &Facts| match &facts.consent {
        Some(c) if c.ended.is_none() => Ok(Effects::default()),
        _ => Err(refusal()),
    });
    let mut tasks = Vec::new();
    for i in 0..40u8 {
        let (sender, q, policy) = (store.clone(), query.clone(), in_force.clone());
        let e = sealed(under_consent("clinic", &["welfare"], &case, consent), &[i]);
        tasks.push(tokio::spawn(
            async move { sender.accept(e, q, policy).await },
        ));
        if i == 20 {
            let store = store.clone();
            let e = sealed(
                Metadata {
                    kind: MessageKind::ConsentWithdrawal,
                    ..meta("clinic", &["center"])
                },
                b"w",
            );
            let effects = Effects {
                end_consent: Some((consent, ConsentEnd::Withdrawn)),
                ..Effects::default()
            };
            let query = query.clone();
            tasks.push(tokio::spawn(async move {
                store.accept(e, query, with(effects)).await
            }));
        }
    }
    let mut stored = 0;
    for t in tasks {
        match t.await.unwrap().unwrap() {
            AcceptOutcome::Stored(seqs) if seqs[0].0 == agency("welfare") => stored += 1,
            AcceptOutcome::Stored(_) | AcceptOutcome::Refused(_) => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(
        pending_envelopes(&store, "welfare").await.is_empty(),
        "everything stored was cancelled"
    );
    assert_eq!(
        notices(&store, "clinic").await.len(),
        stored + 1,
        "and its sender told of each, and (as the recorder) of the ending"
    );
}

/// Two hub processes on one database (PostgreSQL's scale-out; on SQLite, an
/// `admin` command beside the running hub) write at once: their groups take
/// turns, so every write lands, sequences stay gapless and the chain is one.
async fn two_processes_write_one_history(a: Arc<dyn HubStore>, b: Arc<dyn HubStore>) {
    let tasks: Vec<_> = (0..64u8)
        .map(|i| {
            let (one, other) = if i % 2 == 0 {
                (a.clone(), b.clone())
            } else {
                (b.clone(), a.clone())
            };
            tokio::spawn(async move {
                let e = envelope(&["center", "welfare"], &[i]);
                let stored = one.accept(e, FactsQuery::default(), allow()).await;
                assert!(matches!(stored, Ok(AcceptOutcome::Stored(_))), "{stored:?}");
                let event = AuditEvent::new("connected", Some(&agency("welfare")), None, i.into());
                other.audit(event).await.unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    for (store, who) in [(&a, "center"), (&b, "welfare")] {
        let seqs = pending_seqs(store, who).await;
        assert_eq!(seqs, (1..=64).collect::<Vec<_>>(), "{who}");
    }
    assert_eq!(audit_chain(&b).await.len(), 128);
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn sqlite_two_processes_write_one_history() {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::store::testing::sqlite_url(dir.path(), "hub.db");
    let a = crate::store::open(&url).await.unwrap();
    let b = crate::store::open(&url).await.unwrap();
    two_processes_write_one_history(a, b).await;
}

#[tokio::test]
#[cfg_attr(
    not(tsunagu_pg),
    ignore = "PostgreSQL not installed: install Debian's postgresql package or set TSUNAGU_TEST_PG_URL"
)]
async fn postgres_two_processes_write_one_history() {
    let url = crate::store::testing::fresh_pg_url().await;
    let a = crate::store::open(&url).await.unwrap();
    let b = crate::store::open(&url).await.unwrap();
    two_processes_write_one_history(a, b).await;
}
