//! Ed25519 signatures over envelopes.

use ed25519_dalek::{Signature, Signer, SigningKey};

use super::CryptoError;
use crate::protocol::keys::SigningPublicKey;

/// Sign `message`.
pub fn sign(key: &SigningKey, message: &[u8]) -> Vec<u8> {
    key.sign(message).to_bytes().to_vec()
}

/// Verify a signature strictly (no malleable or small-order forms).
pub fn verify(key: &SigningPublicKey, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
    let sig = Signature::from_slice(signature).map_err(|_| CryptoError::BadSignature)?;
    key.0
        .verify_strict(message, &sig)
        .map_err(|_| CryptoError::BadSignature)
}

/// Verify a signature made with any one of `keys` (an agency's current key
/// and the retired ones still in their grace period).
pub fn verify_any<'a>(
    keys: impl IntoIterator<Item = &'a SigningPublicKey>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    keys.into_iter()
        .any(|key| verify(key, message, signature).is_ok())
        .then_some(())
        .ok_or(CryptoError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::generate_signing_key;

    #[test]
    fn a_changed_message_or_other_key_fails() {
        let key = generate_signing_key();
        let public = SigningPublicKey(key.verifying_key());
        let sig = sign(&key, b"meta+ciphertext");
        assert!(verify(&public, b"meta+ciphertext", &sig).is_ok());
        assert!(verify(&public, b"meta+ciphertexT", &sig).is_err());
        let other = SigningPublicKey(generate_signing_key().verifying_key());
        assert!(verify(&other, b"meta+ciphertext", &sig).is_err());
        assert!(verify(&public, b"meta+ciphertext", &sig[..10]).is_err());
    }
}
