//! Every change the hub makes, each in its savepoint of a group commit
//! (`group`). The group is the only writer, in every hub process, until it
//! commits: what a write reads cannot change before the write it allows,
//! with no row locks.

use std::collections::HashMap;

use sqlx::ColumnIndex;
use sqlx::{Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};

use super::{Backend, Sql};
use crate::protocol::notice::ConsentEnd;
use crate::protocol::{AgencyId, CaseId, ConsentId, EnvelopeId, Notice, Seq, Timestamp};
use crate::store::model::{
    AuditEvent, CaseChange, DueReferral, Effects, Facts, FactsQuery, Policy,
};
use crate::store::rows::{
    ConsentDeliveryRow, ConsentEnding, LateRow, Undelivered, accepted_event, acked_event,
    acked_through_event, case_opened_event, end_reason, escalation_event, late_notice,
    next_audit_entry, parse, refused_event, resent, violation_event,
};
use crate::store::{
    AcceptOutcome, AckOutcome, NewEnvelope, categories_json, seq_from_db, seq_to_db,
};

type Result<T> = std::result::Result<T, sqlx::Error>;

/// Most audit entries inserted by one statement: 8 parameters each, well
/// inside SQLite's and PostgreSQL's limits on parameters per statement.
const AUDIT_ROWS_PER_STATEMENT: usize = 512;

/// Most seqs one ack statement marks (one parameter each).
const ACKS_PER_STATEMENT: usize = 1024;

// The sqlx bounds of the shared SQL, stated on each impl block: Rust does
// not yet carry a trait's where-clauses to its users (implied bounds).
impl<DB> Sql<'_, DB>
where
    DB: Backend,
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    usize: ColumnIndex<DB::Row>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> Option<&'q str>: Encode<'q, DB>,
    for<'q> Timestamp: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<Timestamp>: Encode<'q, DB>,
{
    /// Load the facts, run the policy and, if it allows, store the envelope,
    /// its deliveries, the effects and their audit entries.
    pub(in crate::store) async fn accept(
        &mut self,
        e: &NewEnvelope,
        query: &FactsQuery,
        policy: &Policy,
    ) -> Result<AcceptOutcome> {
        let meta = &e.envelope.meta();
        let id = meta.id.to_string();
        let existing: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT digest FROM envelopes WHERE id = $1")
                .bind(&id)
                .fetch_optional(&mut *self.0)
                .await?;
        if let Some((digest,)) = existing {
            return Ok(resent(&digest, e));
        }
        let facts = self.load_facts(query).await?;
        let effects = match policy(&facts) {
            Ok(effects) => effects,
            Err(refusal) => {
                self.append_audit(&refused_event(meta, &refusal)).await?;
                return Ok(AcceptOutcome::Refused(refusal));
            }
        };
        self.insert_envelope(e).await?;
        let seqs = self.queue_envelope(&id, &meta.recipients).await?;
        let case_id = meta.case_id.as_ref();
        self.apply_effects(meta.id, case_id, &meta.recipients, &effects)
            .await?;
        if let Some(change) = &effects.meeting {
            self.change_meeting(
                meta.id,
                &meta.sender,
                case_id,
                &meta.recipients,
                change,
                &Timestamp::now(),
            )
            .await?;
        }
        if let Some(version) = &effects.record_plan {
            self.record_plan(meta.id, &meta.sender, case_id, version, &Timestamp::now())
                .await?;
        }
        if let Some((subject, reminders)) = &effects.reminders {
            self.replace_reminders(subject, reminders).await?;
        }
        let mut events = vec![accepted_event(meta)];
        events.extend(effects.audit.iter().cloned());
        self.append_audits(&events).await?;
        Ok(AcceptOutcome::Stored(seqs))
    }

    /// Load the facts the policy judges by. No withdrawal, closure or state
    /// change can slip between the check and the write it permits: the
    /// group is the only writer.
    async fn load_facts(&mut self, q: &FactsQuery) -> Result<Facts> {
        let referral = match q.referral {
            Some(id) => self.referral(id).await?,
            None => None,
        };
        let case_id = q
            .case_id
            .clone()
            .or_else(|| referral.as_ref().and_then(|r| r.case_id.clone()));
        let case = match &case_id {
            Some(id) => self.case(id).await?,
            None => None,
        };
        let consent = match q.consent_id {
            Some(id) => self.consent(id).await?,
            None => None,
        };
        let concerned = match (q.consent_id, q.concerned) {
            (Some(id), true) => self.consent_concerned(id).await?,
            _ => Vec::new(),
        };
        let meeting = match q.meeting {
            Some(id) => self.meeting(id).await?,
            None => None,
        };
        let plan = match q.plan {
            Some(id) => self.latest_plan(id).await?,
            None => None,
        };
        let mut more_cases = Vec::with_capacity(q.more_cases.len());
        for id in &q.more_cases {
            more_cases.extend(self.case(id).await?);
        }
        let sender_involved = match (&case_id, &q.involvement_of) {
            (Some(case_id), Some(agency)) => self.involved(case_id, agency).await?,
            _ => false,
        };
        Ok(Facts {
            case,
            consent,
            referral,
            concerned,
            meeting,
            plan,
            more_cases,
            sender_involved,
        })
    }

    async fn insert_envelope(&mut self, e: &NewEnvelope) -> Result<()> {
        let meta = &e.envelope.meta();
        let consent_id = match &meta.basis {
            Some(crate::protocol::LegalBasis::Consent { consent_id }) => {
                Some(consent_id.to_string())
            }
            _ => None,
        };
        sqlx::query(
            "INSERT INTO envelopes (id, sender, case_id, kind, urgency, categories, created_at, \
             accepted_at, digest, body, basis, consent_id, purpose, recipients) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(meta.id.to_string())
        .bind(meta.sender.as_str())
        .bind(meta.case_id.as_ref().map(|c| c.as_str()))
        .bind(meta.kind.as_str())
        .bind(meta.urgency.as_str())
        .bind(categories_json(&e.envelope))
        .bind(meta.created_at)
        .bind(Timestamp::now())
        .bind(&e.digest[..])
        .bind(&e.body[..])
        .bind(meta.basis.as_ref().map(|b| b.as_str()))
        .bind(consent_id)
        .bind(meta.purpose.map(|p| p.as_str()))
        .bind(serde_json::to_string(&meta.recipients).unwrap_or_default())
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// Queue the envelope for every recipient, in the envelope's order: one
    /// statement takes each recipient's next sequence number, one inserts
    /// the deliveries. The recipients are distinct (the hub refuses an
    /// envelope that lists one twice).
    async fn queue_envelope(
        &mut self,
        id: &str,
        recipients: &[AgencyId],
    ) -> Result<Vec<(AgencyId, Seq)>> {
        if recipients.is_empty() {
            return Ok(Vec::new());
        }
        let mut next = QueryBuilder::<DB>::new("INSERT INTO agency_cursors (agency, last_seq) ");
        next.push_values(recipients, |mut row, r| {
            row.push_bind(r.as_str()).push("1");
        });
        next.push(
            " ON CONFLICT (agency) DO UPDATE SET last_seq = agency_cursors.last_seq + 1 \
             RETURNING agency, last_seq",
        );
        let assigned: HashMap<String, i64> = next
            .build_query_as()
            .fetch_all(&mut *self.0)
            .await?
            .into_iter()
            .collect();
        let seqs = recipients
            .iter()
            .map(|r| {
                let seq = assigned.get(r.as_str()).ok_or(sqlx::Error::RowNotFound)?;
                Ok((r, *seq))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut insert =
            QueryBuilder::<DB>::new("INSERT INTO deliveries (recipient, seq, envelope_id) ");
        insert.push_values(&seqs, |mut row, (r, seq)| {
            row.push_bind(r.as_str()).push_bind(*seq).push_bind(id);
        });
        insert.build().execute(&mut *self.0).await?;
        Ok(seqs
            .into_iter()
            .map(|(r, seq)| (r.clone(), seq_from_db(seq)))
            .collect())
    }

    /// Give `recipient` its next sequence number for a notice.
    async fn queue(&mut self, recipient: &AgencyId, notice: &Notice) -> Result<Seq> {
        let (seq,): (i64,) = sqlx::query_as(
            "INSERT INTO agency_cursors (agency, last_seq) VALUES ($1, 1) \
             ON CONFLICT (agency) DO UPDATE SET last_seq = agency_cursors.last_seq + 1 \
             RETURNING last_seq",
        )
        .bind(recipient.as_str())
        .fetch_one(&mut *self.0)
        .await?;
        sqlx::query("INSERT INTO deliveries (recipient, seq, notice) VALUES ($1, $2, $3)")
            .bind(recipient.as_str())
            .bind(seq)
            .bind(serde_json::to_string(notice).unwrap_or_default())
            .execute(&mut *self.0)
            .await?;
        Ok(seq_from_db(seq))
    }

    /// Queue notices, each recipient's in the order given.
    pub(in crate::store) async fn queue_notices(
        &mut self,
        notices: &[(AgencyId, Notice)],
    ) -> Result<()> {
        for (to, notice) in notices {
            self.queue(to, notice).await?;
        }
        Ok(())
    }

    async fn apply_effects(
        &mut self,
        envelope: EnvelopeId,
        case_id: Option<&CaseId>,
        recipients: &[AgencyId],
        fx: &Effects,
    ) -> Result<()> {
        let now = Timestamp::now();
        if let Some(scope) = &fx.record_consent {
            let valid_until = scope.valid_until.as_ref();
            sqlx::query(
                "INSERT INTO consents \
                 (consent_id, case_id, recorded_by, scope, valid_until, recorded_at) \
                 SELECT $1, $2, sender, $3, $4, $5 FROM envelopes WHERE id = $6",
            )
            .bind(scope.consent_id.to_string())
            .bind(scope.case_id.as_str())
            .bind(serde_json::to_string(scope).unwrap_or_default())
            .bind(valid_until.copied())
            .bind(now)
            .bind(envelope.to_string())
            .execute(&mut *self.0)
            .await?;
        }
        if let Some((consent, reason)) = fx.end_consent {
            // Only a withdrawal envelope ends a consent here (expiry runs
            // from the deadline check): it is the withdrawal the notices name.
            self.end_consent(consent, reason, &now, Some(envelope))
                .await?;
        }
        if let Some(deadline) = &fx.open_referral {
            self.open_referral(envelope, recipients, deadline, &now)
                .await?;
        }
        if let Some((referral, states)) = &fx.update_referral {
            for (recipient, state) in states {
                sqlx::query(
                    "UPDATE referral_states SET state = $1, updated_at = $2, deadline_at = NULL \
                     WHERE referral = $3 AND recipient = $4",
                )
                .bind(state.as_str())
                .bind(now)
                .bind(referral.to_string())
                .bind(recipient.as_str())
                .execute(&mut *self.0)
                .await?;
            }
        }
        if let (Some(change), Some(case_id)) = (&fx.case_change, case_id) {
            self.change_case(case_id, change, &now).await?;
        }
        Ok(())
    }

    async fn open_referral(
        &mut self,
        envelope: EnvelopeId,
        recipients: &[AgencyId],
        deadline: &Timestamp,
        now: &Timestamp,
    ) -> Result<()> {
        if recipients.is_empty() {
            return Ok(());
        }
        let mut insert = QueryBuilder::<DB>::new(
            "INSERT INTO referral_states (referral, recipient, state, updated_at, deadline_at) ",
        );
        insert.push_values(recipients, |mut row, r| {
            row.push_bind(envelope.to_string())
                .push_bind(r.as_str())
                .push("'sent'")
                .push_bind(*now)
                .push_bind(*deadline);
        });
        insert.build().execute(&mut *self.0).await?;
        Ok(())
    }

    async fn change_case(
        &mut self,
        case_id: &CaseId,
        change: &CaseChange,
        now: &Timestamp,
    ) -> Result<()> {
        let query = match change {
            CaseChange::Register(r) => sqlx::query(
                "UPDATE cases SET classification = $1, lead = $2, members = $3, \
                 registered_at = $4, closed_at = NULL WHERE case_id = $5",
            )
            .bind(r.classification.as_str())
            .bind(r.lead.as_str())
            .bind(serde_json::to_string(&r.members).unwrap_or_default())
            .bind(*now),
            CaseChange::Reclassify(class) => {
                sqlx::query("UPDATE cases SET classification = $1 WHERE case_id = $2")
                    .bind(class.as_str())
            }
            CaseChange::Close => {
                sqlx::query("UPDATE cases SET closed_at = $1 WHERE case_id = $2").bind(*now)
            }
        };
        query.bind(case_id.as_str()).execute(&mut *self.0).await?;
        Ok(())
    }

    /// End a consent: cancel what is queued but not delivered (telling each
    /// sender), and tell every agency concerned — each holder, each sender
    /// and the recorder — naming the case, what it affects and (for a
    /// withdrawal) the envelope carrying her words.
    /// Returns false if it had already ended.
    pub(in crate::store) async fn end_consent(
        &mut self,
        consent: ConsentId,
        reason: ConsentEnd,
        now: &Timestamp,
        withdrawal: Option<EnvelopeId>,
    ) -> Result<bool> {
        let ended: Option<(String, String)> = sqlx::query_as(
            "UPDATE consents SET ended_at = $1, end_reason = $2 \
             WHERE consent_id = $3 AND ended_at IS NULL RETURNING case_id, recorded_by",
        )
        .bind(*now)
        .bind(end_reason(reason))
        .bind(consent.to_string())
        .fetch_optional(&mut *self.0)
        .await?;
        let Some((case_id, recorded_by)) = ended else {
            return Ok(false);
        };
        let case_id: CaseId = parse(&case_id, "case id")?;
        let recorded_by: AgencyId = parse(&recorded_by, "agency id")?;
        let withdrawal = match withdrawal {
            Some(id) => {
                let (sender,): (String,) =
                    sqlx::query_as("SELECT sender FROM envelopes WHERE id = $1")
                        .bind(id.to_string())
                        .fetch_one(&mut *self.0)
                        .await?;
                Some((id, parse::<AgencyId>(&sender, "agency id")?))
            }
            None => None,
        };
        let rows: Vec<ConsentDeliveryRow> = sqlx::query_as(
            "SELECT d.recipient, d.seq, d.envelope_id, e.sender, d.acked_at FROM deliveries d \
             JOIN envelopes e ON e.id = d.envelope_id \
             WHERE e.consent_id = $1 AND d.cancelled_at IS NULL ORDER BY d.recipient, d.seq",
        )
        .bind(consent.to_string())
        .fetch_all(&mut *self.0)
        .await?;
        let ending = ConsentEnding::from_rows(rows)?;
        let mut notices = Vec::with_capacity(ending.undelivered.len());
        for undelivered in &ending.undelivered {
            self.cancel_delivery(undelivered, now).await?;
            notices.push(undelivered.notice(consent));
        }
        let concerned = ending.concerned(&recorded_by);
        notices.extend(ending.ended_notices(
            consent,
            &case_id,
            reason,
            &concerned,
            withdrawal.as_ref(),
        ));
        self.queue_notices(&notices).await?;
        let ended_by = withdrawal.as_ref().map(|(_, by)| by);
        self.append_audit(&ending.event(consent, reason, ended_by, concerned.len()))
            .await?;
        Ok(true)
    }

    /// A revoked agency's queue: cancel each envelope not yet acknowledged
    /// (telling its sender) and each notice (nobody to tell), then audit.
    pub(in crate::store) async fn cancel_for_revoked(
        &mut self,
        agency: &AgencyId,
        now: &Timestamp,
    ) -> Result<Vec<(EnvelopeId, AgencyId)>> {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT d.seq, d.envelope_id, e.sender FROM deliveries d \
             JOIN envelopes e ON e.id = d.envelope_id \
             WHERE d.recipient = $1 AND d.acked_at IS NULL AND d.cancelled_at IS NULL \
             ORDER BY d.seq",
        )
        .bind(agency.as_str())
        .fetch_all(&mut *self.0)
        .await?;
        let mut cancelled = Vec::with_capacity(rows.len());
        let mut notices = Vec::with_capacity(rows.len());
        for (seq, envelope_id, sender) in rows {
            let undelivered = Undelivered {
                recipient: agency.clone(),
                seq,
                envelope_id: parse(&envelope_id, "envelope id")?,
                sender: parse(&sender, "agency id")?,
            };
            self.cancel_delivery(&undelivered, now).await?;
            let notice = Notice::RecipientRevoked {
                envelope_id: undelivered.envelope_id,
                recipient: agency.clone(),
            };
            notices.push((undelivered.sender.clone(), notice));
            cancelled.push((undelivered.envelope_id, undelivered.sender));
        }
        let notices_dropped = DB::rows_affected(
            &sqlx::query(
                "UPDATE deliveries SET cancelled_at = $1 \
                 WHERE recipient = $2 AND acked_at IS NULL AND cancelled_at IS NULL",
            )
            .bind(*now)
            .bind(agency.as_str())
            .execute(&mut *self.0)
            .await?,
        );
        self.queue_notices(&notices).await?;
        let envelopes: Vec<String> = cancelled.iter().map(|(id, _)| id.to_string()).collect();
        let event = AuditEvent::new(
            "deliveries_cancelled_revoked",
            Some(agency),
            None,
            serde_json::json!({ "envelopes": envelopes, "notices": notices_dropped }),
        );
        self.append_audit(&event).await?;
        Ok(cancelled)
    }

    async fn cancel_delivery(&mut self, d: &Undelivered, now: &Timestamp) -> Result<()> {
        sqlx::query("UPDATE deliveries SET cancelled_at = $1 WHERE recipient = $2 AND seq = $3")
            .bind(*now)
            .bind(d.recipient.as_str())
            .bind(d.seq)
            .execute(&mut *self.0)
            .await?;
        // A referral that never reached the recipient has no 受理 to wait for.
        sqlx::query(
            "UPDATE referral_states SET state = 'cancelled', updated_at = $1, deadline_at = NULL \
             WHERE referral = $2 AND recipient = $3 AND state = 'sent'",
        )
        .bind(*now)
        .bind(d.envelope_id.to_string())
        .bind(d.recipient.as_str())
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// Record one escalation of a referral still due at `due.escalations`.
    pub(in crate::store) async fn escalate(
        &mut self,
        due: &DueReferral,
        next: &Timestamp,
        notices: &[(AgencyId, Notice)],
    ) -> Result<bool> {
        let changed = sqlx::query(
            "UPDATE referral_states SET escalations = escalations + 1, deadline_at = $1 \
             WHERE referral = $2 AND recipient = $3 AND state = 'sent' AND escalations = $4",
        )
        .bind(*next)
        .bind(due.referral.to_string())
        .bind(due.recipient.as_str())
        .bind(i64::from(due.escalations))
        .execute(&mut *self.0)
        .await?;
        if DB::rows_affected(&changed) == 0 {
            return Ok(false);
        }
        self.queue_notices(notices).await?;
        self.append_audit(&escalation_event(due, notices)).await?;
        Ok(true)
    }

    /// Mark each delivery in `seqs` acknowledged, in order, and answer for
    /// each. An unknown seq changes nothing and does not stop the others.
    /// The usual burst is one `UPDATE … RETURNING` for all its seqs and one
    /// `INSERT` of their audit entries (one per ack, as `delivery_acked`
    /// promises); only an unknown or repeated seq reads its row to say which.
    pub(in crate::store) async fn acks(
        &mut self,
        agency: &AgencyId,
        seqs: &[Seq],
    ) -> Result<Vec<AckOutcome>> {
        let now = Timestamp::now();
        let mut marked = HashMap::with_capacity(seqs.len());
        for chunk in seqs.chunks(ACKS_PER_STATEMENT) {
            let mut update = QueryBuilder::<DB>::new("UPDATE deliveries SET acked_at = ");
            update.push_bind(now);
            update.push(" WHERE recipient = ");
            update.push_bind(agency.as_str());
            update.push(" AND acked_at IS NULL AND seq IN (");
            let mut list = update.separated(", ");
            for &seq in chunk {
                list.push_bind(seq_to_db(seq));
            }
            update.push(") RETURNING seq, envelope_id, cancelled_at");
            let rows: Vec<(i64, Option<String>, Option<Timestamp>)> =
                update.build_query_as().fetch_all(&mut *self.0).await?;
            marked.extend(rows.into_iter().map(|(seq, e, c)| (seq, (e, c))));
        }
        let mut outcomes = Vec::with_capacity(seqs.len());
        let mut events = Vec::with_capacity(seqs.len());
        for &seq in seqs {
            // Taken once: the same seq twice in a burst is acked, then repeated.
            let Some((envelope, cancelled)) = marked.remove(&seq_to_db(seq)) else {
                outcomes.push(self.not_acked(agency, seq).await?);
                continue;
            };
            let late = cancelled.is_some();
            if late {
                self.stored_after_cancel(agency, seq, envelope.as_deref())
                    .await?;
            }
            outcomes.push(match late {
                true => AckOutcome::AckedAfterCancel,
                false => AckOutcome::Acked,
            });
            events.push(acked_event(agency, seq, envelope, late));
        }
        self.append_audits(&events).await?;
        Ok(outcomes)
    }

    /// Why an ack marked nothing: no such delivery, or acked before.
    async fn not_acked(&mut self, agency: &AgencyId, seq: Seq) -> Result<AckOutcome> {
        let (known,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM deliveries WHERE recipient = $1 AND seq = $2")
                .bind(agency.as_str())
                .bind(seq_to_db(seq))
                .fetch_one(&mut *self.0)
                .await?;
        Ok(match known {
            0 => AckOutcome::Unknown,
            _ => AckOutcome::AlreadyAcked,
        })
    }

    /// A delivery cancelled after it was pushed was stored after all: it is
    /// no longer cancelled, and the node learns the consent ended.
    async fn stored_after_cancel(
        &mut self,
        agency: &AgencyId,
        seq: Seq,
        envelope: Option<&str>,
    ) -> Result<()> {
        sqlx::query("UPDATE deliveries SET cancelled_at = NULL WHERE recipient = $1 AND seq = $2")
            .bind(agency.as_str())
            .bind(seq_to_db(seq))
            .execute(&mut *self.0)
            .await?;
        match envelope {
            Some(envelope) => self.late_delivery(agency, envelope).await,
            None => Ok(()),
        }
    }

    /// The node stored a delivery that was cancelled after it was pushed: it
    /// holds the data after all, so its records must show the consent ended.
    async fn late_delivery(&mut self, agency: &AgencyId, envelope: &str) -> Result<()> {
        let row: Option<LateRow> = sqlx::query_as(
            "SELECT c.consent_id, c.case_id, c.end_reason FROM envelopes e \
             JOIN consents c ON c.consent_id = e.consent_id WHERE e.id = $1",
        )
        .bind(envelope)
        .fetch_optional(&mut *self.0)
        .await?;
        let Some(row) = row else {
            return Ok(());
        };
        let notice = late_notice(row, envelope)?;
        self.queue(agency, &notice).await.map(|_| ())
    }

    /// Mark every delivery up to `seq` acknowledged.
    pub(in crate::store) async fn ack_through(
        &mut self,
        agency: &AgencyId,
        seq: Seq,
    ) -> Result<u64> {
        // A cancelled delivery was never sent: the node's cursor passing it
        // does not mean it holds it, and the disclosure record must not say so.
        let n = sqlx::query(
            "UPDATE deliveries SET acked_at = $1 \
             WHERE recipient = $2 AND seq <= $3 AND acked_at IS NULL AND cancelled_at IS NULL",
        )
        .bind(Timestamp::now())
        .bind(agency.as_str())
        .bind(seq_to_db(seq))
        .execute(&mut *self.0)
        .await?;
        let n = DB::rows_affected(&n);
        if n > 0 {
            self.append_audit(&acked_through_event(agency, seq, n))
                .await?;
        }
        Ok(n)
    }

    /// Record a new case.
    pub(in crate::store) async fn open_case(
        &mut self,
        case_id: &CaseId,
        agency: &AgencyId,
    ) -> Result<()> {
        sqlx::query("INSERT INTO cases (case_id, opened_by, opened_at) VALUES ($1, $2, $3)")
            .bind(case_id.as_str())
            .bind(agency.as_str())
            .bind(Timestamp::now())
            .execute(&mut *self.0)
            .await?;
        self.append_audit(&case_opened_event(case_id, agency)).await
    }

    /// Record a category mismatch a node reported.
    pub(in crate::store) async fn record_violation(
        &mut self,
        envelope: EnvelopeId,
        by: &AgencyId,
        detail: &serde_json::Value,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO violations (envelope_id, reported_by, detail, reported_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(envelope.to_string())
        .bind(by.as_str())
        .bind(detail.to_string())
        .bind(Timestamp::now())
        .execute(&mut *self.0)
        .await?;
        self.append_audit(&violation_event(envelope, by, detail))
            .await
    }

    /// Append to the audit chain, linked to the last entry.
    pub(in crate::store) async fn append_audit(&mut self, e: &AuditEvent) -> Result<()> {
        self.append_audits(std::slice::from_ref(e)).await
    }

    /// Append entries to the audit chain in order, the first linked to the
    /// last entry. The group being the only writer, the tail is the chain's:
    /// no two entries share a parent. In a batch, the tail is read by the
    /// first append only ([`super::ChainTail`]).
    pub(in crate::store) async fn append_audits(&mut self, events: &[AuditEvent]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut last = match self.1.as_deref().and_then(|tail| tail.0.clone()) {
            Some(known) => known,
            None => {
                sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&mut *self.0)
                    .await?
            }
        };
        let mut entries = Vec::with_capacity(events.len());
        for e in events {
            let entry = next_audit_entry(last.take(), e);
            last = Some((entry.seq, entry.hash.clone()));
            entries.push(entry);
        }
        // One statement for a burst (an ack batch appends one entry per ack).
        let mut entries = entries.into_iter().peekable();
        while entries.peek().is_some() {
            let mut insert = QueryBuilder::<DB>::new(
                "INSERT INTO audit_log (seq, at, event, agency, subject, detail, prev_hash, hash) ",
            );
            insert.push_values(
                entries.by_ref().take(AUDIT_ROWS_PER_STATEMENT),
                |mut row, e| {
                    row.push_bind(e.seq)
                        .push_bind(e.at)
                        .push_bind(e.event)
                        .push_bind(e.agency)
                        .push_bind(e.subject)
                        .push_bind(e.detail)
                        .push_bind(e.prev_hash)
                        .push_bind(e.hash);
                },
            );
            insert.build().execute(&mut *self.0).await?;
        }
        if let Some(tail) = self.1.as_deref_mut() {
            tail.0 = Some(last);
        }
        Ok(())
    }
}
