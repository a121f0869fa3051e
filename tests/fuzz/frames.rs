//! Socket frames as the hub reads a node's (`ClientFrame`) and a node reads
//! the hub's (`HubFrame`): typed values round-trip, and any text is a frame
//! or a typed error. The hub's handling of the same texts over a real socket
//! is in `socket`.

use proptest::prelude::*;
use tsunagu::protocol::checkpoint::SignedCheckpoint;
use tsunagu::protocol::notice::{Notice, SignedNotice};
use tsunagu::protocol::{ClientFrame, ConsentId, ErrorBody, ErrorCode, HubFrame, Seq};

use crate::mutate::{mutated, mutations};
use crate::strategies::{agency_id, envelope_id};

pub fn seq() -> impl Strategy<Value = Seq> {
    prop_oneof![
        Just(Seq(0)),
        Just(Seq(u64::MAX)),
        any::<u64>().prop_map(Seq)
    ]
}

pub fn client_frame() -> impl Strategy<Value = ClientFrame> {
    prop_oneof![
        seq().prop_map(|resume_after| ClientFrame::Hello {
            resume_after,
            epoch: None
        }),
        seq().prop_map(|seq| ClientFrame::Ack { seq }),
    ]
}

fn error_code() -> impl Strategy<Value = ErrorCode> {
    prop::sample::select(vec![
        ErrorCode::Malformed,
        ErrorCode::UnknownFrame,
        ErrorCode::UnknownSequence,
        ErrorCode::BadSignature,
        ErrorCode::Internal,
        ErrorCode::Unknown,
    ])
}

pub fn hub_frame() -> impl Strategy<Value = HubFrame> {
    prop_oneof![
        (agency_id(), seq(), any::<u64>()).prop_map(|(agency, last_seq, directory_version)| {
            HubFrame::Welcome {
                agency,
                last_seq,
                directory_version,
                epoch: None,
            }
        }),
        // The envelope travels as a JSON string: any text must survive.
        (seq(), ".{0,200}").prop_map(|(seq, envelope)| HubFrame::Deliver { seq, envelope }),
        (
            seq(),
            envelope_id(),
            agency_id(),
            any::<u128>(),
            proptest::option::of((".{0,200}", proptest::collection::vec(any::<u8>(), 0..80)))
        )
            .prop_map(|(seq, e, r, c, signed)| HubFrame::Notice {
                seq,
                notice: Notice::DeliveryCancelled {
                    envelope_id: e,
                    recipient: r,
                    consent_id: ConsentId(uuid::Uuid::from_u128(c)),
                },
                signed: signed.map(|(notice, signature)| SignedNotice { notice, signature }),
            }),
        // A checkpoint's text and signature are carried as given.
        (".{0,200}", proptest::collection::vec(any::<u8>(), 0..80)).prop_map(
            |(checkpoint, signature)| HubFrame::Checkpoint(SignedCheckpoint {
                checkpoint,
                signature
            })
        ),
        (error_code(), ".{0,40}", ".{0,40}").prop_map(|(code, message, message_en)| {
            HubFrame::Error(ErrorBody {
                code,
                message,
                message_en,
            })
        }),
    ]
}

/// Text a peer could send: a valid frame with bytes changed, JSON of
/// nearly the right shape, or anything at all.
pub fn frame_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (client_frame(), mutations()).prop_map(|(f, m)| {
            let text = serde_json::to_vec(&f).unwrap();
            String::from_utf8_lossy(&mutated(&text, &m)).into_owned()
        }),
        1 => r#"\{"type":"(hello|ack|welcome|deliver|notice|error|[a-z]{0,8})"(,"(seq|resume_after|[a-z_]{1,12})":(-?[0-9]{1,22}|null|true|"[0-9]{0,4}"|\[\]|\{\}|1e[0-9]{1,3}|[0-9]\.[0-9])){0,3}\}"#,
        1 => ".{0,300}",
    ]
}

proptest! {
    #![proptest_config(crate::config())]

    #[test]
    fn a_client_frame_reads_back_as_written(frame in client_frame()) {
        let text = serde_json::to_string(&frame).unwrap();
        prop_assert_eq!(serde_json::from_str::<ClientFrame>(&text).unwrap(), frame);
    }

    #[test]
    fn a_hub_frame_reads_back_as_written(frame in hub_frame()) {
        let text = serde_json::to_string(&frame).unwrap();
        prop_assert_eq!(serde_json::from_str::<HubFrame>(&text).unwrap(), frame);
    }

    /// Whatever the text, reading it is a frame or an error, and a frame it
    /// reads is one it would write the same way.
    #[test]
    fn any_text_is_a_client_frame_or_an_error(text in frame_text()) {
        if let Ok(frame) = serde_json::from_str::<ClientFrame>(&text) {
            let again = serde_json::to_string(&frame).unwrap();
            prop_assert_eq!(serde_json::from_str::<ClientFrame>(&again).unwrap(), frame);
        }
    }

    #[test]
    fn any_text_is_a_hub_frame_or_an_error(
        text in prop_oneof![
            frame_text(),
            (hub_frame(), mutations()).prop_map(|(f, m)| {
                let text = serde_json::to_vec(&f).unwrap();
                String::from_utf8_lossy(&mutated(&text, &m)).into_owned()
            }),
        ]
    ) {
        if let Ok(frame) = serde_json::from_str::<HubFrame>(&text) {
            let again = serde_json::to_string(&frame).unwrap();
            prop_assert_eq!(serde_json::from_str::<HubFrame>(&again).unwrap(), frame);
        }
    }
}
