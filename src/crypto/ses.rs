//! The SES SMTP password (SigV4 derivation) of a secret access key, as AWS
//! documents it: HMAC-SHA256 chained over the date "11111111", the region, "ses",
//! "aws4_request" and "SendRawEmail", prefixed with version byte 0x04, base64.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::secret::Secret;

fn sign(key: &[u8], message: &str) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

pub fn ses_smtp_password_v4(secret: &Secret, region: &str) -> Secret {
    let mut signature = sign(format!("AWS4{}", secret.expose()).as_bytes(), "11111111");
    for message in [region, "ses", "aws4_request", "SendRawEmail"] {
        signature = sign(&signature, message);
    }
    let mut versioned = Vec::with_capacity(1 + signature.len());
    versioned.push(0x04);
    versioned.extend_from_slice(&signature);
    Secret::new(base64::engine::general_purpose::STANDARD.encode(versioned))
}

/// An AWS region name: two letters, one or more words, a number (`us-east-1`,
/// `us-gov-west-1`). The derivation accepts any string, so a typo would silently
/// give a password that never works.
pub fn check_region(region: &str) -> Result<(), String> {
    let parts: Vec<&str> = region.split('-').collect();
    let well_formed = parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().take(parts.len() - 1).all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts.last().is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if well_formed {
        Ok(())
    } else {
        Err(format!("{region:?} is not an AWS region name (like \"eu-west-1\")."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names_are_checked() {
        for ok in ["us-east-1", "us-gov-west-1", "cn-north-1", "ap-southeast-2", "il-central-1"] {
            assert!(check_region(ok).is_ok(), "{ok}");
        }
        for bad in ["", "us", "US-EAST-1", "us-east", "us-east-1a", "useast1", "u-east-1"] {
            assert!(check_region(bad).is_err(), "{bad}");
        }
    }

    /// The reference provider's vectors (TestSESSMTPPasswordFromSecretKeySigV4).
    #[test]
    fn matches_the_reference_vectors() {
        let cases = [
            ("eu-central-1", "some+secret+key", "BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ2"),
            ("eu-central-1", "another+secret+key", "BBbphbrQmrKMx42d1N6+C7VINYEBGI5v9VsZeTxwskfh"),
            ("us-west-1", "some+secret+key", "BH+jbMzper5WwlwUar9E1ySBqHa9whi0GPo+sJ0mVYJj"),
            ("us-west-1", "another+secret+key", "BKVmjjMDFk/qqw8EROW99bjCS65PF8WKvK5bSr4Y6EqF"),
        ];
        for (region, secret, expected) in cases {
            assert_eq!(ses_smtp_password_v4(&Secret::new(secret), region).expose(), expected, "{region} {secret}");
        }
    }
}
