//! Sealing micro-measure.

use super::*;

pub(super) struct MicroFigures {
    pub(super) runs: u32,
    pub(super) plaintext_bytes: usize,
    pub(super) ciphertext_bytes: usize,
    pub(super) age_recipients: usize,
    pub(super) seal: Duration,
    pub(super) open: Duration,
    pub(super) record_commit: Duration,
}

/// Seal (age to the sender and its recipients, Ed25519 signature) and open
/// (verify, decrypt) a payload padded to 4 KiB of JSON, `runs` times each.
pub(super) fn measure_seal(pki: &Pki, runs: u32) -> anyhow::Result<MicroFigures> {
    let sender = pki.senders[0];
    let to: Vec<usize> = pki
        .recipients
        .iter()
        .take(pki.per_envelope)
        .copied()
        .collect();
    let payload = workload::payload(Some(SEAL_PAYLOAD_BYTES as u32))?;
    let draft = draft(&pki.ids, &to, None, &payload);
    let signing = &pki.materials[sender].signing_key;
    let seal = || seal_draft(&pki.ids[sender], signing, &pki.directory, &draft);
    let mut envelope = seal()?;
    let started = Instant::now();
    for _ in 0..runs {
        envelope = seal()?;
    }
    let sealed = started.elapsed() / runs;
    let (reader, identity) = (&pki.ids[to[0]], &pki.materials[to[0]].age_identity);
    let started = Instant::now();
    for _ in 0..runs {
        open_envelope(&envelope, reader, identity, &pki.directory)?;
    }
    Ok(MicroFigures {
        runs,
        plaintext_bytes: serde_json::to_vec(&payload)?.len(),
        ciphertext_bytes: envelope.ciphertext().len(),
        age_recipients: to.len() + 1,
        seal: sealed,
        open: started.elapsed() / runs,
        record_commit: Duration::ZERO,
    })
}

/// One `store_delivery` commit in a node's own records (SQLite, WAL,
/// `synchronous=FULL`): the fsync every recipient pays per delivery before
/// it acknowledges.
pub(super) async fn measure_record_commit(
    pki: &Pki,
    tmp: &Path,
    runs: u32,
) -> anyhow::Result<Duration> {
    let dir = tempfile::tempdir_in(tmp)?;
    let records = Records::open(&store::testing::sqlite_url(dir.path(), "probe.db")).await?;
    let to: Vec<usize> = pki
        .recipients
        .iter()
        .take(pki.per_envelope)
        .copied()
        .collect();
    let draft = draft(&pki.ids, &to, None, &demo_payload());
    let sender = pki.senders[0];
    let envelope = seal_draft(
        &pki.ids[sender],
        &pki.materials[sender].signing_key,
        &pki.directory,
        &draft,
    )?;
    let json = envelope.bytes().to_vec();
    let payload = serde_json::to_string(&draft.payload)?;
    let started = Instant::now();
    for seq in 1..=u64::from(runs) {
        // The same envelope each time: the row is kept once, but every call
        // still advances the cursor and commits.
        records
            .store_delivery(Seq(seq), &envelope, &json, &payload)
            .await?;
    }
    let elapsed = started.elapsed() / runs;
    records.close().await;
    Ok(elapsed)
}

impl MicroFigures {
    pub(super) fn print(&self) {
        say!(
            "\nMicro-measures (one task, mean of {} runs):\n  \
             seal {} B of JSON → {} B ciphertext (age to {} recipients + Ed25519 sign): {:.3} ms\n  \
             open (verify + decrypt as one recipient):                                {:.3} ms\n  \
             node records: one store_delivery commit (SQLite WAL, synchronous=FULL):   {:.3} ms",
            self.runs,
            self.plaintext_bytes,
            self.ciphertext_bytes,
            self.age_recipients,
            ms(self.seal),
            ms(self.open),
            ms(self.record_commit),
        );
    }
}

/// A referral from a clinic to the municipality under the statutory basis
/// (no consent record needed), about `case`.
pub(super) fn draft(
    ids: &[AgencyId],
    to: &[usize],
    case: Option<CaseId>,
    payload: &Payload,
) -> Draft {
    Draft {
        recipients: to.iter().map(|&i| ids[i].clone()).collect(),
        case_id: case,
        urgency: Urgency::Early,
        basis: Some(crate::protocol::LegalBasis::ProvisionToMunicipality),
        purpose: Some(crate::protocol::Purpose::Referral),
        action: None,
        payload: payload.clone(),
    }
}
