//! The files an operator writes: the hub's and a node's configuration and
//! the directory. Changed text parses to a value or a typed error naming
//! what is wrong; what parses is usable (a hub computes its deadlines from
//! any configuration it accepted); what a node's config and the directory
//! write, they read back.

use proptest::prelude::*;
use tsunagu::agency::AgencyConfig;
use tsunagu::directory::{Directory, DirectoryError};
use tsunagu::hub::HubConfig;
use tsunagu::hub::config::LONGEST_DEADLINE;
use tsunagu::protocol::keys::{AgeRecipient, CertFingerprint, SigningPublicKey};
use tsunagu::protocol::{Agency, AgencyKind, Urgency};

use crate::helpers::certs;
use crate::mutate::{edited, json_edits, mutated, mutations};
use crate::strategies::agency_id;

fn read(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// The text a mutated file would hold (an editor saves valid UTF-8; a
/// damaged file is read as text only after that check).
fn mutated_text(text: &str) -> impl Strategy<Value = String> + use<> {
    let bytes = text.as_bytes().to_vec();
    mutations().prop_map(move |m| String::from_utf8_lossy(&mutated(&bytes, &m)).into_owned())
}

/// A file's TOML turned into JSON, changed in a few places: the same
/// typed fields refuse or accept it, past the TOML syntax.
fn edited_toml(text: &str) -> impl Strategy<Value = serde_json::Value> + use<> {
    edited_json(toml_json(text))
}

fn toml_json(text: &str) -> serde_json::Value {
    let value: toml::Value = toml::from_str(text).unwrap();
    serde_json::to_value(value).unwrap()
}

fn edited_json(json: serde_json::Value) -> impl Strategy<Value = serde_json::Value> {
    json_edits().prop_map(move |e| edited(&json, &e))
}

/// The deployed hub configuration with every deadline field set, the
/// reminder lists included.
fn hub_json() -> serde_json::Value {
    let mut json = toml_json(&read("deploy/hub.toml"));
    json["deadlines"]["meeting_reminder_minutes"] = serde_json::json!([1440, 60]);
    json["deadlines"]["review_reminder_days"] = serde_json::json!([7, 1]);
    json
}

/// A hub accepted this configuration: it must be able to use it. Every
/// deadline and reminder lead is bounded, so the instants the hub derives
/// from them (now + deadline; the earliest meeting − lead) exist.
fn usable(config: &HubConfig) -> Result<(), TestCaseError> {
    let d = &config.deadlines;
    let now = time::OffsetDateTime::now_utc();
    for urgency in [Urgency::Emergency, Urgency::Early, Urgency::Normal] {
        let deadline = d.for_urgency(urgency);
        prop_assert!(!deadline.is_negative() && deadline <= LONGEST_DEADLINE);
        prop_assert!(now.checked_add(deadline).is_some());
    }
    let earliest = time::macros::datetime!(0000-01-01 00:00 UTC);
    for lead in d.meeting_reminders() {
        prop_assert!(!lead.is_negative() && lead <= LONGEST_DEADLINE);
        prop_assert!(earliest.checked_sub(lead).is_some());
    }
    for days in d.review_reminders() {
        prop_assert!((0..=LONGEST_DEADLINE.whole_days()).contains(&days));
    }
    Ok(())
}

fn kind() -> impl Strategy<Value = AgencyKind> {
    use AgencyKind::*;
    prop::sample::select(vec![
        Center,
        ObstetricClinic,
        ChildWelfare,
        Nursery,
        Yotaikyo,
        PublicHealth,
        Other,
    ])
}

/// An agency with well-formed keys (fresh ones: any key is a key).
fn agency_entry() -> impl Strategy<Value = Agency> {
    (
        agency_id(),
        kind(),
        ".{0,20}",
        any::<[u8; 32]>(),
        any::<bool>(),
    )
        .prop_map(|(id, kind, name, fingerprint, yotaikyo_member)| {
            let fingerprint = format!("sha256:{}", hex::encode(fingerprint));
            let signing = tsunagu::crypto::keys::generate_signing_key();
            let age = age::x25519::Identity::generate().to_public().to_string();
            Agency {
                id,
                kind,
                name,
                cert_fingerprint: CertFingerprint::try_from(fingerprint).unwrap(),
                age_recipient: age.parse::<AgeRecipient>().unwrap(),
                signing_key: SigningPublicKey(signing.verifying_key()),
                yotaikyo_member,
                retired_signing_keys: Vec::new(),
            }
        })
}

proptest! {
    #![proptest_config(crate::config())]

    #[test]
    fn a_changed_hub_config_is_a_usable_config_or_an_error(
        text in mutated_text(&read("deploy/hub.toml")),
    ) {
        if let Ok(config) = toml::from_str::<HubConfig>(&text) {
            usable(&config)?;
        }
    }

    #[test]
    fn a_hub_config_with_changed_values_is_a_usable_config_or_an_error(
        value in edited_json(hub_json()),
    ) {
        if let Ok(config) = serde_json::from_value::<HubConfig>(value) {
            usable(&config)?;
        }
    }

    #[test]
    fn a_changed_node_config_reads_back_as_written_or_is_an_error(
        text in prop_oneof![
            mutated_text(&read("deploy/agency.toml")).prop_map(|t| toml::from_str::<AgencyConfig>(&t).ok()),
            edited_toml(&read("deploy/agency.toml")).prop_map(|v| serde_json::from_value::<AgencyConfig>(v).ok()),
        ],
    ) {
        if let Some(config) = text {
            let written = toml::to_string(&config).unwrap();
            prop_assert_eq!(toml::from_str::<AgencyConfig>(&written).unwrap(), config);
        }
    }

    /// A damaged directory is refused with its reason, or is a directory
    /// that writes itself back the same.
    #[test]
    fn a_changed_directory_is_a_directory_or_a_typed_error(
        text in mutated_text(&read("certs-example/directory.toml")),
    ) {
        match Directory::parse(&text) {
            Ok(d) => {
                let again = Directory::parse(&d.to_toml()).unwrap();
                prop_assert_eq!(again.agencies(), d.agencies());
            }
            // Any variant: the type is the contract; it must say why.
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    /// Any list of agencies with distinct ids and certificates is a
    /// directory that reads back as written; a repeated id is refused.
    #[test]
    fn a_directory_reads_back_as_written(
        agencies in prop::collection::vec(agency_entry(), 0..5),
        repeat in any::<prop::sample::Index>(),
    ) {
        match Directory::new(agencies.clone()) {
            Ok(d) => {
                let again = Directory::parse(&d.to_toml()).unwrap();
                prop_assert_eq!(again.agencies(), agencies.as_slice());
                if !agencies.is_empty() {
                    let mut twice = agencies.clone();
                    twice.push(agencies[repeat.index(agencies.len())].clone());
                    let refused = matches!(
                        Directory::new(twice),
                        Err(DirectoryError::DuplicateId(_))
                    );
                    prop_assert!(refused);
                }
            }
            Err(DirectoryError::DuplicateId(id)) => {
                prop_assert!(agencies.iter().filter(|a| a.id == id).count() > 1);
            }
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
    }
}

/// Found by the property above: a deadline of 307 445 734 561 825 861
/// hours overflowed the multiplication to minutes (a panic in a debug
/// build, a wrapped, wrong deadline in a release build); values that fit
/// overflowed the `time` arithmetic the hub then does with them.
#[test]
fn deadlines_and_reminders_of_any_length_are_usable() {
    let mut json = hub_json();
    for field in ["emergency_minutes", "early_hours", "normal_days"] {
        json["deadlines"][field] = serde_json::json!(u64::MAX);
    }
    json["deadlines"]["meeting_reminder_minutes"] = serde_json::json!([u64::MAX, i64::MAX]);
    json["deadlines"]["review_reminder_days"] = serde_json::json!([u64::MAX, 0]);
    let config: HubConfig = serde_json::from_value(json).unwrap();
    usable(&config).unwrap();
    assert_eq!(
        config.deadlines.for_urgency(Urgency::Normal),
        LONGEST_DEADLINE
    );
}

/// The files the properties start from are valid, so the properties start
/// from something that parses.
#[test]
fn the_seed_files_parse() {
    toml::from_str::<HubConfig>(&read("deploy/hub.toml")).unwrap();
    toml::from_str::<AgencyConfig>(&read("deploy/agency.toml")).unwrap();
    Directory::load(&certs().join("directory.toml")).unwrap();
}
