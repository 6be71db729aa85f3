//! `provider::iamkey::ses_smtp_password_v4(secret, region)`: the SES SMTP password
//! of a secret access key, for configurations that hold the secret elsewhere.

use crate::crypto::ses::{check_region, ses_smtp_password_v4};
use crate::framework::{Function, FunctionError, Parameter};
use crate::secret::Secret;
use crate::value::{Type, Value};

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
    }
}
