//! Reminders: written with the envelope that sets them, due by the clock,
//! fired once however many hub processes try, replaced as a whole.

use std::sync::Arc;

use super::support::{agency, at, case_id, envelope, notices, with};
use crate::protocol::meeting::MeetingKind;
use crate::protocol::{MeetingId, Notice};
use crate::store::HubStore;
use crate::store::model::{Effects, FactsQuery, Reminder};

fn reminder(due: &str, to: &[&str], meeting_id: MeetingId) -> Reminder {
    Reminder {
        due_at: at(due),
        recipients: to.iter().map(|a| agency(a)).collect(),
        notice: Notice::MeetingReminder {
            meeting_id,
            kind: MeetingKind::IndividualCase,
            case_id: case_id("case-1"),
            starts_at: at("2026-12-03T05:00:00.000Z"),
        },
    }
}

async fn set(store: &Arc<dyn HubStore>, body: &[u8], subject: &str, reminders: Vec<Reminder>) {
    let effects = Effects {
        reminders: Some((subject.to_owned(), reminders)),
        ..Effects::default()
    };
    store
        .accept(
            envelope(&["center"], body),
            FactsQuery::default(),
            with(effects),
        )
        .await
        .unwrap();
}

pub async fn a_reminder_fires_once_however_many_try(store: Arc<dyn HubStore>) {
    let m = MeetingId::new();
    let subject = format!("meeting:{m}");
    set(
        &store,
        b"invitation",
        &subject,
        vec![
            reminder("2026-12-02T05:00:00.000Z", &["center", "welfare"], m),
            reminder("2026-12-03T04:00:00.000Z", &["center", "welfare"], m),
        ],
    )
    .await;
    let early = store
        .due_reminders(&at("2026-12-02T04:59:59.999Z"))
        .await
        .unwrap();
    assert!(early.is_empty(), "not due before its time");
    let due = store
        .due_reminders(&at("2026-12-02T05:00:00.000Z"))
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    let now = at("2026-12-02T05:00:01.000Z");
    let tries: Vec<_> = (0..8)
        .map(|_| {
            let (store, due) = (store.clone(), due[0].clone());
            tokio::spawn(async move { store.fire_reminder(&due, &now).await.unwrap() })
        })
        .collect();
    let mut fired = 0;
    for t in tries {
        fired += usize::from(t.await.unwrap());
    }
    assert_eq!(fired, 1, "exactly one process fires it");
    for who in ["center", "welfare"] {
        let got = notices(&store, who).await;
        assert_eq!(got.len(), 1, "{who}: one reminder: {got:?}");
        assert!(matches!(&got[0], Notice::MeetingReminder { meeting_id, .. } if *meeting_id == m));
    }
    assert!(store.due_reminders(&now).await.unwrap().is_empty());
}

pub async fn a_new_set_of_reminders_replaces_the_unfired_ones(store: Arc<dyn HubStore>) {
    let m = MeetingId::new();
    let subject = format!("meeting:{m}");
    set(
        &store,
        b"invitation",
        &subject,
        vec![reminder("2026-12-02T05:00:00.000Z", &["welfare"], m)],
    )
    .await;
    // Moved: the old reminder goes, the new one comes.
    set(
        &store,
        b"moved",
        &subject,
        vec![reminder("2026-12-09T05:00:00.000Z", &["welfare"], m)],
    )
    .await;
    let far = at("2026-12-31T00:00:00.000Z");
    let due = store.due_reminders(&far).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].recipients, [agency("welfare")]);
    // Cancelled: none left. Another subject is untouched.
    set(
        &store,
        b"other",
        "meeting:other",
        vec![reminder("2026-12-05T00:00:00.000Z", &["center"], m)],
    )
    .await;
    set(&store, b"cancelled", &subject, vec![]).await;
    let due = store.due_reminders(&far).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].recipients, [agency("center")]);
}
