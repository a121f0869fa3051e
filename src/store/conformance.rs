//! The behaviour every hub store backend must show, run against SQLite and
//! PostgreSQL alike so the backends cannot drift.

#[cfg(test)]
mod suite {
    use std::sync::Arc;

    use crate::protocol::{
        AgencyId, Envelope, EnvelopeId, InfoCategory, MessageKind, Metadata, Seq, Timestamp,
        Urgency,
    };
    use crate::store::{AcceptOutcome, AckOutcome, HubStore, NewEnvelope};

    fn agency(id: &str) -> AgencyId {
        id.parse().unwrap()
    }

    fn envelope(recipients: &[&str], ciphertext: &[u8]) -> NewEnvelope {
        let envelope = Envelope {
            version: 1,
            meta: Metadata {
                id: EnvelopeId::new(),
                sender: agency("clinic"),
                recipients: recipients.iter().map(|r| agency(r)).collect(),
                case_id: None,
                kind: MessageKind::Referral,
                categories: vec![InfoCategory::Basic],
                urgency: Urgency::Early,
                created_at: Timestamp::now(),
            },
            ciphertext: ciphertext.to_vec(),
            signature: vec![0; 64],
        };
        NewEnvelope {
            digest: envelope.digest(),
            body: serde_json::to_vec(&envelope).unwrap(),
            envelope,
        }
    }

    fn seqs(outcome: &AcceptOutcome) -> Vec<(String, u64)> {
        match outcome {
            AcceptOutcome::Stored(s) => {
                let mut v: Vec<_> = s.iter().map(|(a, q)| (a.to_string(), q.0)).collect();
                v.sort();
                v
            }
            other => panic!("expected Stored, got {other:?}"),
        }
    }

    pub async fn each_recipient_gets_its_own_increasing_sequence(store: Arc<dyn HubStore>) {
        let first = store
            .accept(envelope(&["center", "welfare"], b"1"))
            .await
            .unwrap();
        assert_eq!(seqs(&first), [("center".into(), 1), ("welfare".into(), 1)]);
        let second = store.accept(envelope(&["center"], b"2")).await.unwrap();
        assert_eq!(seqs(&second), [("center".into(), 2)]);
        assert_eq!(store.last_seq(&agency("center")).await.unwrap(), Seq(2));
        assert_eq!(store.last_seq(&agency("welfare")).await.unwrap(), Seq(1));
        assert_eq!(store.last_seq(&agency("nursery")).await.unwrap(), Seq(0));
    }

    pub async fn resending_the_same_bytes_changes_nothing(store: Arc<dyn HubStore>) {
        let e = envelope(&["center"], b"x");
        store.accept(e.clone()).await.unwrap();
        assert_eq!(store.accept(e).await.unwrap(), AcceptOutcome::Duplicate);
        assert_eq!(store.last_seq(&agency("center")).await.unwrap(), Seq(1));
        assert_eq!(
            store
                .pending(&agency("center"), Seq(0), 10)
                .await
                .unwrap()
                .len(),
            1
        );
    }

    pub async fn reusing_an_id_for_other_bytes_is_refused(store: Arc<dyn HubStore>) {
        let e = envelope(&["center"], b"original");
        store.accept(e.clone()).await.unwrap();
        let mut forged = envelope(&["center"], b"forged");
        forged.envelope.meta.id = e.envelope.meta.id;
        forged.digest = forged.envelope.digest();
        assert_eq!(store.accept(forged).await.unwrap(), AcceptOutcome::IdReused);
        let pending = store.pending(&agency("center"), Seq(0), 10).await.unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].body, e.body);
        let kept = store.envelope_body(e.envelope.meta.id).await.unwrap();
        assert_eq!(kept, Some(e.body));
        assert_eq!(store.envelope_body(EnvelopeId::new()).await.unwrap(), None);
    }

    pub async fn pending_lists_unacked_deliveries_in_order(store: Arc<dyn HubStore>) {
        let bodies: Vec<_> = (0..5u8).map(|i| envelope(&["center"], &[i])).collect();
        for b in &bodies {
            store.accept(b.clone()).await.unwrap();
        }
        let center = agency("center");
        assert_eq!(store.ack(&center, Seq(2)).await.unwrap(), AckOutcome::Acked);
        let pending = store.pending(&center, Seq(0), 10).await.unwrap();
        let got: Vec<u64> = pending.iter().map(|d| d.seq.0).collect();
        assert_eq!(got, [1, 3, 4, 5]);
        assert_eq!(pending[2].envelope_id, bodies[3].envelope.meta.id);
        assert_eq!(pending[2].body, bodies[3].body);
        let later: Vec<u64> = store
            .pending(&center, Seq(3), 1)
            .await
            .unwrap()
            .iter()
            .map(|d| d.seq.0)
            .collect();
        assert_eq!(later, [4]);
    }

    pub async fn acks_are_checked_against_what_was_delivered(store: Arc<dyn HubStore>) {
        store.accept(envelope(&["center"], b"a")).await.unwrap();
        let center = agency("center");
        assert_eq!(store.ack(&center, Seq(1)).await.unwrap(), AckOutcome::Acked);
        assert_eq!(
            store.ack(&center, Seq(1)).await.unwrap(),
            AckOutcome::AlreadyAcked
        );
        assert_eq!(
            store.ack(&center, Seq(2)).await.unwrap(),
            AckOutcome::Unknown
        );
        assert_eq!(
            store.ack(&agency("welfare"), Seq(1)).await.unwrap(),
            AckOutcome::Unknown
        );
    }

    pub async fn ack_through_marks_everything_up_to_the_cursor(store: Arc<dyn HubStore>) {
        for i in 0..4u8 {
            store.accept(envelope(&["center"], &[i])).await.unwrap();
        }
        let center = agency("center");
        assert_eq!(store.ack_through(&center, Seq(3)).await.unwrap(), 3);
        let left: Vec<u64> = store
            .pending(&center, Seq(0), 10)
            .await
            .unwrap()
            .iter()
            .map(|d| d.seq.0)
            .collect();
        assert_eq!(left, [4]);
    }

    pub async fn concurrent_senders_get_distinct_gapless_sequences(store: Arc<dyn HubStore>) {
        let tasks: Vec<_> = (0..64u8)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(
                    async move { store.accept(envelope(&["center", "welfare"], &[i])).await },
                )
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        for who in ["center", "welfare"] {
            let got: Vec<u64> = store
                .pending(&agency(who), Seq(0), 100)
                .await
                .unwrap()
                .iter()
                .map(|d| d.seq.0)
                .collect();
            assert_eq!(got, (1..=64).collect::<Vec<_>>(), "{who}");
        }
    }

    macro_rules! conformance {
        ($($name:ident),* $(,)?) => {
            mod sqlite {
                $(#[tokio::test]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let url = crate::store::testing::sqlite_url(dir.path(), "hub.db");
                    let store = crate::store::open(&url).await.unwrap();
                    super::$name(store.clone()).await;
                    store.close().await;
                })*
            }
            mod postgres {
                $(#[tokio::test]
                async fn $name() {
                    let Some(url) = crate::store::testing::fresh_pg_url(stringify!($name)).await else {
                        return;
                    };
                    let store = crate::store::open(&url).await.unwrap();
                    super::$name(store.clone()).await;
                    store.close().await;
                })*
            }
        };
    }

    conformance!(
        each_recipient_gets_its_own_increasing_sequence,
        resending_the_same_bytes_changes_nothing,
        reusing_an_id_for_other_bytes_is_refused,
        pending_lists_unacked_deliveries_in_order,
        acks_are_checked_against_what_was_delivered,
        ack_through_marks_everything_up_to_the_cursor,
        concurrent_senders_get_distinct_gapless_sequences,
    );
}
