use super::*;
use crate::protocol::InfoCategory;

fn meta() -> Metadata {
    Metadata {
        id: EnvelopeId::new(),
        sender: "clinic".parse().unwrap(),
        recipients: vec!["center".parse().unwrap()],
        case_id: None,
        kind: MessageKind::Referral,
        categories: vec![InfoCategory::Basic],
        urgency: Urgency::Early,
        created_at: Timestamp::now(),
        basis: None,
        purpose: None,
        action: None,
    }
}

/// A stand-in signer: the test is about which bytes get signed.
fn fake_sign(message: &[u8]) -> Vec<u8> {
    Sha256::digest(message).to_vec()
}

fn sealed() -> Envelope {
    Envelope::seal(meta(), b"age file".to_vec(), fake_sign)
}

fn wire(e: &Envelope) -> serde_json::Value {
    serde_json::from_slice(e.bytes()).unwrap()
}

#[test]
fn parsing_the_sealed_bytes_gives_back_the_same_envelope() {
    let e = sealed();
    let parsed = Envelope::parse(e.bytes().to_vec()).unwrap();
    assert_eq!(parsed, e);
    assert_eq!(parsed.meta(), e.meta());
    assert_eq!(parsed.signature(), fake_sign(&e.signed_bytes()));
}

#[test]
fn the_signed_bytes_are_the_domain_the_metadata_json_and_the_payload_digest() {
    let e = sealed();
    let mut expected = b"tsunagu/envelope/v2\0".to_vec();
    expected.extend_from_slice(e.meta_json());
    expected.extend_from_slice(&Sha256::digest(b"age file"));
    assert_eq!(e.signed_bytes(), expected);
    assert_eq!(
        Envelope::signing_bytes(e.meta_json(), e.ciphertext()),
        expected
    );
    let v = wire(&e);
    assert_eq!(v["version"], 2);
    assert_eq!(
        STANDARD.decode(v["meta"].as_str().unwrap()).unwrap(),
        e.meta_json()
    );
}

#[test]
fn metadata_bytes_are_signed_as_received_not_as_re_encoded() {
    let e = sealed();
    // The same metadata with a space added: a verifier that re-encoded the
    // parsed struct would not notice; this one signs other bytes.
    let mut spaced = e.meta_json().to_vec();
    spaced.insert(1, b' ');
    let other =
        Envelope::assemble(spaced, e.ciphertext().to_vec(), e.signature().to_vec()).unwrap();
    assert_eq!(other.meta(), e.meta());
    assert_ne!(other.signed_bytes(), e.signed_bytes());
    assert_ne!(other.digest(), e.digest());
}

#[test]
fn whitespace_around_the_object_is_not_part_of_the_envelope() {
    let e = sealed();
    let mut padded = b" \n".to_vec();
    padded.extend_from_slice(e.bytes());
    padded.extend_from_slice(b"\r\n");
    let parsed = Envelope::parse(padded).unwrap();
    assert_eq!(parsed.bytes(), e.bytes());
}

#[test]
fn a_version_1_envelope_is_refused_naming_both_versions() {
    let v1 = br#"{"version":1,"meta":{"id":"x"},"ciphertext":"","signature":""}"#;
    let err = Envelope::parse(v1.to_vec()).unwrap_err();
    assert_eq!(err, EnvelopeError::Retired(1));
    assert_eq!(
        err.to_string(),
        "envelope version 1 is no longer accepted; this build speaks version 2"
    );
    let v3 = br#"{"version":3,"meta":"","ciphertext":"","signature":""}"#;
    assert_eq!(
        Envelope::parse(v3.to_vec()).unwrap_err(),
        EnvelopeError::Unknown(3)
    );
}

#[test]
fn bad_shapes_and_encodings_are_malformed() {
    let e = sealed();
    let mut v = wire(&e);
    v["signature"] = "not base64!".into();
    let bad_b64 = serde_json::to_vec(&v).unwrap();
    let mut v = wire(&e);
    v["extra"] = 1.into();
    let extra = serde_json::to_vec(&v).unwrap();
    let mut v = wire(&e);
    v["meta"] = STANDARD.encode(b"{\"id\":1}").into();
    let bad_meta = serde_json::to_vec(&v).unwrap();
    for bad in [
        b"{not json".to_vec(),
        br#"{"version":2}"#.to_vec(),
        bad_b64,
        extra,
        bad_meta,
    ] {
        let err = Envelope::parse(bad.clone()).unwrap_err();
        assert!(
            matches!(err, EnvelopeError::Malformed(_)),
            "{}: {err:?}",
            String::from_utf8_lossy(&bad)
        );
    }
}

#[test]
fn a_repeated_field_is_refused_rather_than_read_one_way() {
    let e = sealed();
    let text = String::from_utf8(e.bytes().to_vec()).unwrap();
    let twice = text.replacen('{', r#"{"version":2,"#, 1);
    assert!(matches!(
        Envelope::parse(twice.into_bytes()),
        Err(EnvelopeError::Malformed(_))
    ));
}
