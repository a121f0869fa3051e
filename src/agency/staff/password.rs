//! Passwords: the policy a new one must meet, and argon2id hashing with the
//! `argon2` crate's recommended parameters (Argon2id v19, 19 MiB, t=2, p=1).

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// The fewest characters a password may have.
pub const MIN_CHARS: usize = 12;
/// The most: hashing is paid per byte, and no one types more.
pub const MAX_CHARS: usize = 256;

/// Why a new password is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("a password needs at least {MIN_CHARS} characters")]
    TooShort,
    #[error("a password may have at most {MAX_CHARS} characters")]
    TooLong,
    #[error("the password contains the account's name")]
    ContainsName,
    #[error("the password is too easy to guess (repeated characters or a sequence)")]
    Repetitive,
    #[error("the password is one of the commonly used ones")]
    Common,
}

impl WeakPassword {
    /// What to do instead, for staff (the CLI and the web UI say the same).
    pub fn advice(&self, lang: crate::i18n::Lang) -> &'static str {
        match self {
            WeakPassword::TooShort => {
                lang.pick("12文字以上にしてください", "use 12 characters or more")
            }
            WeakPassword::TooLong => {
                lang.pick("256文字以内にしてください", "use 256 characters or fewer")
            }
            WeakPassword::ContainsName => {
                lang.pick("氏名を含めないでください", "do not include the name")
            }
            WeakPassword::Repetitive => lang.pick(
                "同じ文字の繰り返しや連続した文字（123456…、abcdef…）は避けてください",
                "avoid repeated or sequential characters (123456…, abcdef…)",
            ),
            WeakPassword::Common => lang.pick(
                "よく使われるパスワードです。推測されにくい語句を組み合わせてください",
                "it is a commonly used password; combine words that are hard to guess",
            ),
        }
    }
}

/// Passwords and stems people choose first; compared ignoring case, digits
/// and symbols at the ends ("Password2026!" is "password").
const COMMON: &[&str] = &[
    "password",
    "passw0rd",
    "qwerty",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "letmein",
    "welcome",
    "iloveyou",
    "admin",
    "administrator",
    "changeme",
    "tsunagu",
    "abc",
    "abcdef",
    "abcdefg",
    "secret",
    "monkey",
    "dragon",
    "sunshine",
];

/// Check a new password against the policy: at least [`MIN_CHARS`]
/// characters, not containing the account name, not one character or a
/// simple run repeated, not a common password with digits stuck on.
pub fn check_policy(password: &str, name: &str) -> Result<(), WeakPassword> {
    let chars: Vec<char> = password.chars().collect();
    if chars.len() < MIN_CHARS {
        return Err(WeakPassword::TooShort);
    }
    if chars.len() > MAX_CHARS {
        return Err(WeakPassword::TooLong);
    }
    let lower = password.to_lowercase();
    let compact_name: String = name.split_whitespace().collect::<String>().to_lowercase();
    if !compact_name.is_empty()
        && lower
            .replace(char::is_whitespace, "")
            .contains(&compact_name)
    {
        return Err(WeakPassword::ContainsName);
    }
    if is_repetitive(&chars) {
        return Err(WeakPassword::Repetitive);
    }
    let stem = lower.trim_matches(|c: char| !c.is_alphabetic());
    if COMMON.contains(&stem) {
        return Err(WeakPassword::Common);
    }
    Ok(())
}

/// Few distinct characters ("aaaaaaaaaaaa", "abababababab"), or a run where
/// every step is the same ("123456789012", "abcdefghijkl", "987654321098"
/// with digits wrapping).
fn is_repetitive(chars: &[char]) -> bool {
    let mut distinct = chars.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 4 {
        return true;
    }
    let steps: Vec<i64> = chars
        .windows(2)
        .map(|w| {
            let d = i64::from(u32::from(w[1])) - i64::from(u32::from(w[0]));
            if w[0].is_ascii_digit() && w[1].is_ascii_digit() {
                d.rem_euclid(10)
            } else {
                d
            }
        })
        .collect();
    steps.windows(2).all(|w| w[0] == w[1])
}

/// A hashing failure (the parameters are fixed, so only an internal error).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// The argon2id PHC string of `password`, with a fresh random salt.
pub fn hash(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches the stored PHC string. A string that does
/// not parse matches nothing.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A PHC string that no password matches, hashed with the same
/// parameters, so that a login for an unknown name costs as much as one
/// for a real account (no timing tells which names exist).
pub fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let mut random = [0u8; 32];
        // No decoy only costs the timing equality, never a wrong answer.
        let _ = getrandom::fill(&mut random);
        hash(&hex::encode(random)).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_argon2id_salted_and_verifies_only_its_password() {
        let a = hash("correct horse battery").unwrap();
        let b = hash("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify("correct horse battery", &a));
        assert!(!verify("correct horse batterY", &a));
        assert!(!verify("anything", "not a phc string"));
    }

    #[test]
    fn the_policy_refuses_the_obvious_and_accepts_a_passphrase() {
        let name = "佐藤 美咲";
        assert_eq!(check_policy("short1!", name), Err(WeakPassword::TooShort));
        assert_eq!(
            check_policy(&"x".repeat(300), name),
            Err(WeakPassword::TooLong)
        );
        assert_eq!(
            check_policy("佐藤美咲のパスワードです", name),
            Err(WeakPassword::ContainsName)
        );
        for weak in [
            "aaaaaaaaaaaa",
            "abababababab",
            "123456789012",
            "abcdefghijkl",
        ] {
            assert_eq!(
                check_policy(weak, name),
                Err(WeakPassword::Repetitive),
                "{weak}"
            );
        }
        for common in [
            "Password2026!",
            "qwertyuiop12",
            "tsunagu12345",
            "123456password",
        ] {
            assert_eq!(
                check_policy(common, name),
                Err(WeakPassword::Common),
                "{common}"
            );
        }
        assert_eq!(
            check_policy("はるの そらに つばめ", name),
            Err(WeakPassword::TooShort)
        );
        assert_eq!(check_policy("春の空に燕が高く飛ぶ日のこと", name), Ok(()));
        assert_eq!(check_policy("blue kettle river 7", name), Ok(()));
    }
}
