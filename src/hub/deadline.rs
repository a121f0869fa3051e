//! Missed 受理 deadlines, expired consents and due meeting and plan
//! reminders, judged by the hub clock. They live in the database, so a
//! restart loses none.

use super::Hub;
use crate::protocol::AgencyKind;
use crate::protocol::{AgencyId, Notice, Timestamp};
use crate::store::StoreError;
use crate::store::model::DueReferral;

/// What one check did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Escalations recorded.
    pub escalations: usize,
    /// Consents that expired.
    pub expired_consents: usize,
    /// Meeting and plan reminders sent.
    pub reminders: usize,
    /// Whether this hub held the deadline lease and so ran the checks
    /// (false: another hub on the same database holds it and runs them).
    pub checked: bool,
}

impl Hub {
    /// Escalate every missed 受理 deadline, end every expired consent and
    /// send every due reminder, as of the hub clock, then purge what
    /// retention no longer keeps when a purge is due — if this hub holds the
    /// deadline lease (see `lease`); with several hub processes on one
    /// database, only the holder does the work.
    pub async fn tick(&self) -> Result<TickReport, StoreError> {
        if !self.hold_deadline_lease().await? {
            return Ok(TickReport::default());
        }
        let now = Timestamp::from_datetime(self.clock.now());
        let mut report = TickReport {
            checked: true,
            ..TickReport::default()
        };
        for due in self.store.due_referrals(&now).await? {
            if self.escalate(&due).await? {
                report.escalations += 1;
            }
        }
        for consent in self.store.due_consents(&now).await? {
            if self.store.expire_consent(consent, &now).await? {
                report.expired_consents += 1;
                self.wake.notify_all();
            }
        }
        for mut due in self.store.due_reminders(&now).await? {
            // A hub that was down past a meeting's start does not remind of
            // it afterwards: the reminder is retired unsent.
            if let Notice::MeetingReminder { starts_at, .. } = &due.notice
                && *starts_at <= now
            {
                due.recipients.clear();
                self.store.fire_reminder(&due, &now).await?;
                continue;
            }
            if self.store.fire_reminder(&due, &now).await? {
                report.reminders += 1;
                tracing::info!(
                    notice = due.notice.kind_name(),
                    recipients = due.recipients.len(),
                    "reminder sent"
                );
                for a in &due.recipients {
                    self.wake.notify(a);
                }
            }
        }
        self.metrics.ticked(&report);
        self.purge_if_due().await?;
        Ok(report)
    }

    /// First miss: the sender, the recipient again and the center. Second
    /// miss: the same, and the 要対協 調整機関 when the case is registered.
    async fn escalate(&self, due: &DueReferral) -> Result<bool, StoreError> {
        let level = due.escalations + 1;
        if level > 2 {
            return Ok(false);
        }
        let mut to = vec![due.sender.clone(), due.recipient.clone()];
        to.extend(self.agencies_of(AgencyKind::Center));
        let next = if level == 1 {
            Timestamp::from_datetime(self.clock.now() + self.deadlines.for_urgency(due.urgency))
        } else {
            if self.registered(due).await? {
                to.extend(self.agencies_of(AgencyKind::Yotaikyo));
            }
            // After the second escalation there is no further deadline.
            Timestamp::LATEST
        };
        let mut seen = std::collections::HashSet::new();
        to.retain(|a| seen.insert(a.clone()));
        let notice = Notice::DeadlineMissed {
            referral: due.referral,
            recipient: due.recipient.clone(),
            urgency: due.urgency,
            level,
            deadline: due.deadline,
        };
        let notices = to.iter().map(|a| (a.clone(), notice.clone())).collect();
        let escalated = self.store.escalate(due, &next, notices).await?;
        if escalated {
            tracing::warn!(referral = %due.referral, recipient = %due.recipient, level, "受理 deadline missed; escalated");
            for a in &to {
                self.wake.notify(a);
            }
        }
        Ok(escalated)
    }

    fn agencies_of(&self, kind: AgencyKind) -> Vec<AgencyId> {
        self.directory()
            .of_kind(kind)
            .map(|a| a.id.clone())
            .collect()
    }

    async fn registered(&self, due: &DueReferral) -> Result<bool, StoreError> {
        let Some(case_id) = &due.case_id else {
            return Ok(false);
        };
        Ok(self
            .store
            .case(case_id)
            .await?
            .is_some_and(|c| c.registration.is_some() && c.closed_at.is_none()))
    }
}

/// Check every `check_interval_secs` until shutdown (0: never; something
/// else calls [`Hub::tick`], as tests do).
pub(crate) fn spawn_ticker(hub: Hub) {
    if hub.deadlines.check_interval_secs == 0 {
        return;
    }
    let every = std::time::Duration::from_secs(hub.deadlines.check_interval_secs);
    // Tracked with the sessions: the graceful stop waits for a check in
    // flight before it releases the lease, which that check could renew.
    hub.sessions.clone().spawn(async move {
        let mut interval = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = interval.tick() => {
                    if let Err(e) = hub.tick().await {
                        tracing::error!(error = %e, "deadline check failed");
                    }
                }
                _ = hub.shutdown.cancelled() => return,
            }
        }
    });
}
