//! The SES SMTP password (SigV4 derivation) of a secret access key, as AWS
//! documents it: HMAC-SHA256 chained over the date "11111111", the region, "ses",
//! "aws4_request" and "SendRawEmail", prefixed with version byte 0x04, base64.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::framework::{Function, FunctionError, Parameter};
use crate::secret::Secret;
use crate::value::{Type, Value};

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

/// `provider::iamkey::ses_smtp_password_v4(secret, region)`.
pub struct SesSmtpPasswordFunction {
    parameters: [Parameter; 2],
}

impl Default for SesSmtpPasswordFunction {
    fn default() -> Self {
        SesSmtpPasswordFunction {
            parameters: [
                Parameter { name: "secret", ty: Type::String, description: "A secret access key (for example `iamkey_access_key.x.secret`)." },
                Parameter { name: "region", ty: Type::String, description: "The SES region the password is for, like `eu-west-1`." },
            ],
        }
    }
}

impl Function for SesSmtpPasswordFunction {
    fn name(&self) -> &'static str {
        "ses_smtp_password_v4"
    }

    fn summary(&self) -> &'static str {
        "The SES SMTP password (SigV4) of a secret access key for a region."
    }

    fn description(&self) -> &'static str {
        "Derives the Amazon SES SMTP password from a secret access key for one region, as AWS documents it. The result is as secret as the key: Terraform keeps it sensitive when the argument is."
    }

    fn parameters(&self) -> &[Parameter] {
        &self.parameters
    }

    fn return_type(&self) -> Type {
        Type::String
    }

    fn call(&self, arguments: &[Value]) -> Result<Value, FunctionError> {
        let (secret, region) = (arguments[0].as_str().unwrap_or_default(), arguments[1].as_str().unwrap_or_default());
        if secret.is_empty() {
            return Err(FunctionError { text: "The secret access key is empty.".into(), argument: Some(0) });
        }
        check_region(region).map_err(|text| FunctionError { text, argument: Some(1) })?;
        Ok(Value::string(ses_smtp_password_v4(&Secret::new(secret), region).expose()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_function_matches_the_vectors_and_names_a_bad_region() {
        let f = SesSmtpPasswordFunction::default();
        let call = |secret: &str, region: &str| f.call(&[Value::string(secret), Value::string(region)]);
        assert_eq!(call("some+secret+key", "us-west-1"), Ok(Value::string("BH+jbMzper5WwlwUar9E1ySBqHa9whi0GPo+sJ0mVYJj")));
        let err = call("some+secret+key", "eu_west_1").unwrap_err();
        assert_eq!(err.argument, Some(1));
        assert!(!err.text.contains("some+secret+key"));
        assert_eq!(call("", "us-west-1").unwrap_err().argument, Some(0));
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
