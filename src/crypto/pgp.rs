//! Encrypting a secret to a user's OpenPGP public key (`pgp_key`), with rPGP.
//!
//! Accepted forms: an ASCII-armored key (what `gpg --armor --export` prints) and
//! base64 of the binary key (what hashicorp/aws accepts, `gpg --export | base64`,
//! line-wrapped or not). `keybase:` is refused: fetching a key at apply time can
//! fail after the access key exists, which loses its secret.

use base64::Engine;
use pgp::composed::{Deserializable, MessageBuilder, SignedPublicKey};
use pgp::crypto::sym::SymmetricKeyAlgorithm;
use pgp::types::{KeyDetails, PublicKeyTrait};

use crate::secret::Secret;

const ACCEPTED_FORMS: &str = "Give the key ASCII-armored (`gpg --armor --export KEYID`) or as base64 of the binary key (`gpg --export KEYID | base64`).";

/// A parsed recipient key that can encrypt.
pub struct RecipientKey {
    key: SignedPublicKey,
}

impl RecipientKey {
    pub fn parse(text: &str) -> Result<RecipientKey, String> {
        let text = text.trim();
        if text.starts_with("keybase:") {
            return Err(format!(
                "keybase: keys are not supported: fetching a key from Keybase at apply time can fail after the \
                 access key is created, which would lose its secret. {ACCEPTED_FORMS}"
            ));
        }
        let parsed = if text.contains("-----BEGIN PGP PUBLIC KEY BLOCK-----") {
            SignedPublicKey::from_armor_single(text.as_bytes()).map(|(key, _headers)| key)
        } else {
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            let binary = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|_| format!("pgp_key is neither an armored key nor base64. {ACCEPTED_FORMS}"))?;
            SignedPublicKey::from_bytes(binary.as_slice())
        };
        let key = parsed.map_err(|e| format!("pgp_key is not an OpenPGP public key ({e}). {ACCEPTED_FORMS}"))?;
        let recipient = RecipientKey { key };
        if !recipient.can_encrypt() {
            return Err("pgp_key has no key that can encrypt (no encryption subkey, and the primary key is for signing only).".into());
        }
        Ok(recipient)
    }

    fn can_encrypt(&self) -> bool {
        self.key.public_subkeys.iter().any(|s| s.key.is_encryption_key()) || self.key.primary_key.is_encryption_key()
    }

    /// Lowercase hex of the primary key's fingerprint, as hashicorp/aws writes it.
    pub fn fingerprint(&self) -> String {
        self.key.primary_key.fingerprint().as_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A binary OpenPGP message to this key, base64 (standard, padded).
    pub fn encrypt(&self, secret: &Secret) -> Result<String, String> {
        let mut rng = rand::thread_rng();
        let mut builder = MessageBuilder::from_bytes("", secret.expose().as_bytes().to_vec()).seipd_v1(&mut rng, SymmetricKeyAlgorithm::AES256);
        let subkey = self.key.public_subkeys.iter().find(|s| s.key.is_encryption_key());
        let result = match subkey {
            Some(subkey) => builder.encrypt_to_key(&mut rng, &subkey.key),
            None => builder.encrypt_to_key(&mut rng, &self.key.primary_key),
        };
        result.map_err(|e| format!("OpenPGP encryption failed: {e}"))?;
        let message = builder.to_vec(&mut rng).map_err(|e| format!("OpenPGP encryption failed: {e}"))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keybase_is_refused_with_the_reason() {
        let err = RecipientKey::parse("keybase:someone").err().unwrap();
        assert!(err.contains("keybase: keys are not supported"), "{err}");
        assert!(err.contains("gpg --armor --export"));
    }

    #[test]
    fn garbage_is_refused_with_the_accepted_forms() {
        for text in ["not a key!", "aGVsbG8=", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n-----END PGP PUBLIC KEY BLOCK-----"] {
            let err = RecipientKey::parse(text).err().unwrap();
            assert!(err.contains(ACCEPTED_FORMS), "{text}: {err}");
        }
    }
}
