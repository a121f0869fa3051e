//! The workload's shape: how many agencies send, how many recipients each
//! envelope has, how large its payload is. Checked once, before any key is
//! generated, so a bad combination costs nothing and says what to change.

use super::*;

/// The checked shape of a delivery run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Shape {
    pub(super) agencies: usize,
    pub(super) senders: usize,
    pub(super) recipients: usize,
}

/// A combination of options the benchmark cannot run.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(super) enum WorkloadError {
    #[error("--senders {senders} leaves no receiving agency among --agencies {agencies}")]
    NoReceivers { senders: usize, agencies: usize },
    #[error(
        "--recipients {recipients} is more than the {receivers} receiving agencies \
         (--agencies minus --senders)"
    )]
    TooManyRecipients { recipients: usize, receivers: usize },
    #[error("--hub-only measures the hub's capacity in a closed loop; it takes no --rate")]
    HubOnlyOpenLoop,
    #[error("--payload-bytes {asked} is smaller than the demo referral itself ({minimum} B)")]
    PayloadTooSmall { asked: usize, minimum: usize },
}

impl WorkloadError {
    /// The refusal for staff: Japanese first, what to change.
    pub(super) fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (Self::NoReceivers { senders, agencies }, Lang::Ja) => format!(
                "--senders {senders} では受信する機関が残りません（--agencies {agencies}）。\
                 --senders を減らすか --agencies を増やしてください。"
            ),
            (
                Self::TooManyRecipients {
                    recipients,
                    receivers,
                },
                Lang::Ja,
            ) => format!(
                "--recipients {recipients} は受信機関の数 {receivers}（--agencies − --senders）\
                 を超えています。--recipients を減らすか --agencies を増やしてください。"
            ),
            (Self::PayloadTooSmall { asked, minimum }, Lang::Ja) => format!(
                "--payload-bytes {asked} はデモの連絡票そのもの（{minimum} B）より小さいです。\
                 {minimum} 以上を指定してください。"
            ),
            (Self::HubOnlyOpenLoop, Lang::Ja) => {
                "--hub-only はハブの処理能力を閉ループで測ります。\
                 --rate と同時には指定できません。"
                    .to_owned()
            }
            (e, Lang::En) => format!("{e}: change the options and run again."),
        }
    }
}

/// Check the options against each other; `None` means the default.
pub(super) fn shape(
    agencies: u32,
    senders: Option<u32>,
    recipients: Option<u32>,
) -> Result<Shape, WorkloadError> {
    let agencies = agencies as usize;
    // Default: half the agencies send (at least one), the rest receive.
    let senders = senders.map_or((agencies / 2).max(1), |s| s as usize);
    if senders >= agencies {
        return Err(WorkloadError::NoReceivers { senders, agencies });
    }
    let receivers = agencies - senders;
    // Default: two recipients, as a referral to a center and to child
    // welfare has; one where only one agency receives.
    let recipients = recipients.map_or(receivers.min(2), |r| r as usize);
    if recipients > receivers {
        return Err(WorkloadError::TooManyRecipients {
            recipients,
            receivers,
        });
    }
    Ok(Shape {
        agencies,
        senders,
        recipients,
    })
}

/// The modes that go together.
pub(super) fn modes(hub_only: bool, rate: Option<u32>) -> Result<(), WorkloadError> {
    if hub_only && rate.is_some() {
        return Err(WorkloadError::HubOnlyOpenLoop);
    }
    Ok(())
}

/// The demo referral, its JSON padded to exactly `bytes` bytes (ASCII
/// filler in its findings, one byte a character), or as it is.
pub(super) fn payload(bytes: Option<u32>) -> Result<Payload, WorkloadError> {
    let mut payload = demo_payload();
    let Some(asked) = bytes.map(|b| b as usize) else {
        return Ok(payload);
    };
    let minimum = json_len(&payload);
    if asked < minimum {
        return Err(WorkloadError::PayloadTooSmall { asked, minimum });
    }
    let Body::Referral(referral) = &mut payload.body else {
        unreachable!("the demo payload is a referral");
    };
    referral.findings.push_str(&"x".repeat(asked - minimum));
    debug_assert_eq!(json_len(&payload), asked);
    Ok(payload)
}

pub(super) fn json_len(payload: &Payload) -> usize {
    serde_json::to_vec(payload).map_or(0, |v| v.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_split_the_agencies_in_half_with_two_recipients() {
        let s = shape(10, None, None).unwrap();
        assert_eq!((s.senders, s.recipients), (5, 2));
        let s = shape(2, None, None).unwrap();
        assert_eq!((s.senders, s.recipients), (1, 1));
    }

    #[test]
    fn more_recipients_than_receiving_agencies_is_refused() {
        let e = shape(10, Some(7), Some(4)).unwrap_err();
        assert_eq!(
            e,
            WorkloadError::TooManyRecipients {
                recipients: 4,
                receivers: 3
            }
        );
        assert!(e.message(Lang::Ja).contains("受信機関の数 3"));
    }

    #[test]
    fn senders_that_leave_no_receiver_are_refused() {
        let e = shape(4, Some(4), None).unwrap_err();
        assert!(matches!(e, WorkloadError::NoReceivers { .. }));
    }

    #[test]
    fn payload_is_padded_to_the_exact_size_and_never_shrunk() {
        assert_eq!(json_len(&payload(Some(4096)).unwrap()), 4096);
        let minimum = json_len(&demo_payload());
        let e = payload(Some(10)).unwrap_err();
        assert_eq!(e, WorkloadError::PayloadTooSmall { asked: 10, minimum });
    }
}
