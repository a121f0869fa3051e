//! The second factor: TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps,
//! one step of skew either way), enrolled from an `otpauth://` URI shown as
//! a QR code, and ten one-time recovery codes.
//!
//! The TOTP secret must be read back in the clear to check a code, so it
//! cannot be hashed: it is sealed (age) to the node's own X25519 identity,
//! the key that already guards every record this node receives. Whoever
//! holds the identity file can read the records anyway; whoever holds only
//! a copy of the database cannot compute codes. If the node's identity is
//! ever replaced, staff re-enrol (`staff reset-2fa`).

use std::fmt;

use qrcode::QrCode;
use qrcode::render::{svg, unicode};
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Builder, Totp};

use crate::crypto::{CryptoError, seal};
use crate::protocol::Timestamp;
use crate::protocol::keys::AgeRecipient;

/// Digits of a TOTP code.
const DIGITS: u8 = 6;
/// Seconds per TOTP step.
const STEP_SECS: u64 = 30;
/// Bytes of a TOTP secret: 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
/// How many recovery codes an enrolment gives.
pub const RECOVERY_CODES: usize = 10;
/// Letters of a recovery code: no 0/o, 1/i/l to misread.
const RECOVERY_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
/// Characters of a recovery code (16 of 31: 79 bits).
const RECOVERY_LEN: usize = 16;

/// A TOTP secret in the clear. `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(…)")
    }
}

impl TotpSecret {
    /// A fresh random secret.
    pub fn generate() -> Self {
        Self(random_bytes(SECRET_BYTES))
    }

    /// A secret from its base32 form (as in the `otpauth://` URI).
    pub fn from_base32(text: &str) -> Option<Self> {
        totp_rs::Secret::try_from_base32(text.trim())
            .ok()
            .map(|s| Self(s.as_ref().to_vec()))
    }

    /// Its base32 form, for staff who type it instead of scanning.
    pub fn to_base32(&self) -> String {
        totp_rs::Secret::from(self.0.clone()).to_base32()
    }

    fn totp(&self, digits: u8, account: &str, issuer: &str) -> Totp {
        // The parameters are constants RFC 6238 allows and the name was
        // checked: `build` cannot refuse them, so no fallback is needed.
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(digits)
            .with_skew(1)
            .with_step_duration(STEP_SECS)
            .with_secret(self.0.clone())
            .with_account_name(account)
            .with_issuer(Some(issuer))
            .build_noncompliant()
    }

    /// The code for the instant `unix_secs`.
    pub fn code_at(&self, unix_secs: u64) -> String {
        self.totp(DIGITS, "", "tsunagu")
            .generate(unix_secs)
            .to_string()
    }

    /// The step (`unix time / 30`) `code` is valid for at `now`, within one
    /// step either way; `None` if it matches none.
    pub fn matching_step(&self, code: &str, now: Timestamp) -> Option<i64> {
        let secs = u64::try_from(now.unix_millis() / 1000).unwrap_or(0);
        self.totp(DIGITS, "", "tsunagu")
            .check(code.trim(), secs)
            .and_then(|step| i64::try_from(step).ok())
    }

    /// The `otpauth://totp/…` URI authenticator apps read.
    pub fn uri(&self, account: &str, issuer: &str) -> String {
        self.totp(DIGITS, account, issuer)
            .to_url()
            .unwrap_or_default()
    }
}

/// What staff need once to set up their second factor: the URI (shown as a
/// QR code), the secret in base32, and the recovery codes. Shown once and
/// never stored in the clear. `Debug` prints none of it.
#[derive(Clone)]
pub struct Enrolment {
    /// `otpauth://totp/ISSUER:NAME?secret=…&issuer=…`.
    pub uri: String,
    /// The secret in base32, to type in by hand.
    pub secret_base32: String,
    /// Ten single-use recovery codes, `xxxx-xxxx-xxxx-xxxx`.
    pub recovery_codes: Vec<String>,
}

impl fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Enrolment(…)")
    }
}

impl Enrolment {
    /// The URI as an SVG QR code, for a page to embed inline (no XML
    /// prolog).
    pub fn qr_svg(&self) -> Result<String, qrcode::types::QrError> {
        let svg = QrCode::new(self.uri.as_bytes())?
            .render::<svg::Color>()
            .min_dimensions(200, 200)
            .build();
        Ok(match svg.find("<svg") {
            Some(start) => svg[start..].to_owned(),
            None => svg,
        })
    }

    /// The URI as a QR code of half-block characters for a terminal (light
    /// modules drawn, as on a dark background).
    pub fn qr_text(&self) -> Result<String, qrcode::types::QrError> {
        Ok(QrCode::new(self.uri.as_bytes())?
            .render::<unicode::Dense1x2>()
            .dark_color(unicode::Dense1x2::Light)
            .light_color(unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build())
    }
}

/// Fresh recovery codes.
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES).map(|_| recovery_code()).collect()
}

fn recovery_code() -> String {
    let mut letters = Vec::with_capacity(RECOVERY_LEN);
    while letters.len() < RECOVERY_LEN {
        for b in random_bytes(32) {
            // Rejection sampling: 248 = 8 × 31 keeps every letter equally likely.
            if b < 248 && letters.len() < RECOVERY_LEN {
                letters.push(RECOVERY_ALPHABET[usize::from(b % 31)]);
            }
        }
    }
    letters
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// The SHA-256 of a recovery code as typed, ignoring case, spaces and
/// hyphens. A fast hash suffices: the code is 79 random bits, not a
/// password a person chose.
pub fn recovery_hash(code: &str) -> [u8; 32] {
    let normal: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    Sha256::digest(normal.as_bytes()).into()
}

/// Whether what staff typed as their second factor is a TOTP code (six
/// digits) rather than a recovery code.
pub fn is_totp_code(text: &str) -> bool {
    let t = text.trim();
    t.len() == usize::from(DIGITS) && t.bytes().all(|b| b.is_ascii_digit())
}

/// Seals TOTP secrets to the node's own age identity, and opens them.
pub struct NodeSeal {
    identity: age::x25519::Identity,
}

impl NodeSeal {
    /// Seal with this identity (the node's `keys.age_identity`).
    pub fn new(identity: age::x25519::Identity) -> Self {
        Self { identity }
    }

    /// Seal a secret so only this node can open it.
    pub fn seal(&self, secret: &TotpSecret) -> Result<Vec<u8>, CryptoError> {
        let own: AgeRecipient = self.identity.to_public().into();
        seal::seal(&secret.0, &[&own])
    }

    /// Open a sealed secret.
    pub fn open(&self, sealed: &[u8]) -> Result<TotpSecret, CryptoError> {
        seal::open(sealed, &self.identity).map(TotpSecret)
    }
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    // Without the OS random source no secret can be made: unrecoverable,
    // as for key generation (`crypto::keys::generate_signing_key`).
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc_secret() -> TotpSecret {
        TotpSecret(b"12345678901234567890".to_vec())
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_unix_millis(secs * 1000).unwrap()
    }

    #[test]
    fn codes_match_the_rfc_6238_sha1_test_vectors() {
        // RFC 6238 Appendix B, SHA-1, 8 digits.
        let vectors = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        let totp = rfc_secret().totp(8, "", "tsunagu");
        for (secs, code) in vectors {
            assert_eq!(totp.generate(secs).to_string(), code, "t = {secs}");
            // Six digits are the same value's last six.
            assert_eq!(rfc_secret().code_at(secs), code[2..], "t = {secs}");
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_way_and_not_two() {
        let secret = rfc_secret();
        let code = secret.code_at(1_111_111_111); // step 37037037
        let step = 1_111_111_111 / 30;
        assert_eq!(secret.matching_step(&code, at(1_111_111_111)), Some(step));
        assert_eq!(
            secret.matching_step(&code, at(1_111_111_111 - 30)),
            Some(step)
        );
        assert_eq!(
            secret.matching_step(&code, at(1_111_111_111 + 30)),
            Some(step)
        );
        assert_eq!(secret.matching_step(&code, at(1_111_111_111 + 60)), None);
        assert_eq!(secret.matching_step(&code, at(1_111_111_111 - 60)), None);
        assert_eq!(secret.matching_step("12345", at(1_111_111_111)), None);
    }

    #[test]
    fn the_uri_names_issuer_and_account_and_the_secret_round_trips() {
        let secret = TotpSecret::generate();
        let uri = secret.uri("佐藤 美咲", "tsunagu (minato-center)");
        assert!(
            uri.starts_with("otpauth://totp/tsunagu%20%28minato-center%29:"),
            "{uri}"
        );
        assert!(
            uri.contains(&format!("secret={}", secret.to_base32())),
            "{uri}"
        );
        assert_eq!(TotpSecret::from_base32(&secret.to_base32()), Some(secret));
    }

    #[test]
    fn the_qr_codes_render_as_svg_and_as_text() {
        let secret = TotpSecret::generate();
        let enrolment = Enrolment {
            uri: secret.uri("佐藤 美咲", "tsunagu"),
            secret_base32: secret.to_base32(),
            recovery_codes: new_recovery_codes(),
        };
        let svg = enrolment.qr_svg().unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
        assert!(enrolment.qr_text().unwrap().contains('█'));
        assert_eq!(format!("{enrolment:?}"), "Enrolment(…)");
    }

    #[test]
    fn recovery_codes_are_distinct_and_hash_the_same_however_typed() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 10);
        let code = &codes[0];
        assert_eq!(code.len(), 19);
        let typed = code.replace('-', " ").to_uppercase();
        assert_eq!(recovery_hash(code), recovery_hash(&typed));
        assert!(!is_totp_code(code));
        assert!(is_totp_code(" 123456 "));
    }

    #[test]
    fn a_sealed_secret_opens_only_with_the_node_identity() {
        let node = NodeSeal::new(age::x25519::Identity::generate());
        let other = NodeSeal::new(age::x25519::Identity::generate());
        let secret = TotpSecret::generate();
        let sealed = node.seal(&secret).unwrap();
        assert_eq!(node.open(&sealed).unwrap(), secret);
        assert!(other.open(&sealed).is_err());
        assert!(!sealed.windows(20).any(|w| w == secret.0.as_slice()));
    }
}
