//! age encryption of payloads to a set of recipients.

use std::io::{Read, Write};

use super::CryptoError;
use crate::protocol::keys::AgeRecipient;

/// Encrypt `plaintext` as a binary age file readable by every recipient.
pub fn seal(plaintext: &[u8], recipients: &[&AgeRecipient]) -> Result<Vec<u8>, CryptoError> {
    let err = |e: &dyn std::fmt::Display| CryptoError::Encrypt(e.to_string());
    let encryptor = age::Encryptor::with_recipients(
        recipients.iter().map(|r| r.inner() as &dyn age::Recipient),
    )
    .map_err(|e| err(&e))?;
    let mut out = Vec::with_capacity(plaintext.len() + 256 + 200 * recipients.len());
    let mut writer = encryptor.wrap_output(&mut out).map_err(|e| err(&e))?;
    writer.write_all(plaintext).map_err(|e| err(&e))?;
    writer.finish().map_err(|e| err(&e))?;
    Ok(out)
}

/// Decrypt a binary age file with this agency's identity.
pub fn open(ciphertext: &[u8], identity: &age::x25519::Identity) -> Result<Vec<u8>, CryptoError> {
    let err = |e: &dyn std::fmt::Display| CryptoError::Decrypt(e.to_string());
    let decryptor = age::Decryptor::new_buffered(ciphertext).map_err(|e| err(&e))?;
    let mut reader = decryptor
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .map_err(|e| err(&e))?;
    let mut out = Vec::with_capacity(ciphertext.len());
    reader.read_to_end(&mut out).map_err(|e| err(&e))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_recipient_can_open_and_no_one_else() {
        let a = age::x25519::Identity::generate();
        let b = age::x25519::Identity::generate();
        let outsider = age::x25519::Identity::generate();
        let (ra, rb) = (a.to_public().into(), b.to_public().into());
        let ct = seal(b"referral", &[&ra, &rb]).unwrap();
        assert_eq!(open(&ct, &a).unwrap(), b"referral");
        assert_eq!(open(&ct, &b).unwrap(), b"referral");
        assert!(open(&ct, &outsider).is_err());
        assert!(!ct.windows(8).any(|w| w == b"referral"));
    }
}
