//! The behaviour every hub store backend must show, run against SQLite and
//! PostgreSQL alike so the backends cannot drift.

#[cfg(test)]
mod audit_head;
#[cfg(test)]
mod cluster;
#[cfg(test)]
mod concurrency;
#[cfg(test)]
mod delivery;
#[cfg(test)]
mod epoch;
#[cfg(test)]
mod instants;
#[cfg(test)]
mod operations;
#[cfg(test)]
mod policy;
#[cfg(test)]
mod referral;
#[cfg(test)]
mod reminders;
#[cfg(test)]
pub(crate) mod retention;
#[cfg(test)]
mod revoked;
#[cfg(test)]
pub(crate) mod support;

/// One test per backend for each `module::test` named.
#[cfg(test)]
macro_rules! conformance {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                let dir = tempfile::tempdir().unwrap();
                let url = crate::store::testing::sqlite_url(dir.path(), "hub.db");
                let store = crate::store::open(&url).await.unwrap();
                super::$module::$name(store.clone()).await;
                store.close().await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            #[cfg_attr(
                not(tsunagu_pg),
                ignore = "PostgreSQL not installed: install Debian's postgresql package or set TSUNAGU_TEST_PG_URL"
            )]
            async fn $name() {
                let url = crate::store::testing::fresh_pg_url().await;
                let store = crate::store::open(&url).await.unwrap();
                super::$module::$name(store.clone()).await;
                store.close().await;
            })*
        }
    };
}

#[cfg(test)]
conformance!(
    delivery::each_recipient_gets_its_own_increasing_sequence,
    delivery::resending_the_same_bytes_changes_nothing,
    delivery::reusing_an_id_for_other_bytes_is_refused,
    delivery::pending_lists_unacked_deliveries_in_order,
    delivery::acks_are_checked_against_what_was_delivered,
    delivery::a_burst_of_acks_commits_each_known_one_and_answers_each,
    delivery::ack_through_marks_everything_up_to_the_cursor,
    delivery::notices_wake_listeners_like_envelopes,
    policy::a_refused_envelope_stores_nothing_but_is_audited,
    policy::the_policy_sees_the_facts_it_asked_for,
    policy::cases_know_who_is_involved,
    policy::ending_a_consent_cancels_what_is_queued_and_tells_holders,
    policy::expired_consents_end_like_withdrawals,
    policy::disclosures_and_statutory_uses_record_who_got_what,
    policy::violations_are_listed_newest_first,
    policy::a_cancelled_delivery_acked_anyway_is_delivered_and_marked,
    referral::open_referrals_wait_for_receipt_until_their_deadline,
    referral::a_missed_deadline_escalates_once,
    concurrency::concurrent_senders_get_distinct_gapless_sequences,
    concurrency::concurrent_writers_keep_one_audit_chain,
    concurrency::concurrent_bursts_of_acks_and_accepts_keep_one_gapless_chain,
    concurrency::nothing_slips_past_a_concurrent_withdrawal,
    instants::audit_export_from_a_whole_second_keeps_that_second,
    audit_head::the_audit_head_is_the_last_entry_of_the_chain,
    instants::deadlines_and_expiry_fall_due_at_the_instant,
    reminders::a_reminder_fires_once_however_many_try,
    reminders::a_new_set_of_reminders_replaces_the_unfired_ones,
    cluster::delivery_heads_are_each_agencys_last_sequence,
    cluster::a_lease_is_its_holders_until_it_expires_or_is_released,
    cluster::hubs_racing_for_a_free_lease_agree_on_one_holder,
    epoch::the_epoch_is_made_once_and_renewed_only_by_hand,
    revoked::revoking_an_agency_cancels_its_queue_and_tells_each_sender,
    operations::the_backlog_counts_what_waits_per_agency_and_drains_with_acks,
    operations::a_migrated_store_is_ready,
    retention::a_purge_empties_acknowledged_bodies_and_a_resend_is_still_refused,
    retention::an_unacknowledged_delivery_keeps_the_body,
    retention::each_kind_is_purged_on_its_own,
    retention::a_purge_runs_in_batches_of_the_size_asked,
    retention::a_held_case_is_kept_until_its_hold_is_released,
    retention::the_referral_loop_and_withdrawals_work_after_a_purge,
    retention::acknowledged_notices_are_deleted_and_pending_ones_kept,
);
