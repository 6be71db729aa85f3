//! Secret stores a new key's secret can be written to instead of Terraform state:
//! AWS Secrets Manager and SSM Parameter Store (SecureString).
//!
//! Errors name the service, the operation and AWS's code; never the value written.

use aws_sdk_secretsmanager::error::ProvideErrorMetadata;

use crate::secret::Secret;

/// Where one key's secret goes.
#[derive(Clone, Debug, PartialEq)]
pub enum Destination {
    /// A Secrets Manager secret (name or ARN); created if it does not exist.
    SecretsManager { secret_id: String },
    /// An SSM parameter, written as a SecureString (overwritten if it exists).
    Ssm { name: String, kms_key_id: Option<String> },
}

/// The JSON document a new key's secret is stored as: `access_key_id`,
/// `secret_access_key`, the SES password, and the SES passwords of other regions as
/// one object by region. It holds secrets, so it has no `Debug`.
pub struct SecretDocument(serde_json::Map<String, serde_json::Value>);

impl SecretDocument {
    pub fn new(access_key_id: &str) -> Self {
        let mut document = serde_json::Map::new();
        document.insert("access_key_id".into(), serde_json::Value::String(access_key_id.to_string()));
        SecretDocument(document)
    }

    /// Adds one value; `secret` is stored under AWS's own name, `secret_access_key`.
    pub fn add(&mut self, name: &str, text: &str) {
        let name = if name == "secret" { "secret_access_key" } else { name };
        self.0.insert(name.into(), serde_json::Value::String(text.to_string()));
    }

    /// Adds values by region, as one object.
    pub fn add_by_region<'a>(&mut self, name: &str, by_region: impl IntoIterator<Item = (&'a str, &'a str)>) {
        let map = by_region.into_iter().map(|(region, text)| (region.to_string(), serde_json::Value::String(text.to_string()))).collect();
        self.0.insert(name.into(), serde_json::Value::Object(map));
    }

    /// Every value but the key ID, each a secret.
    fn secret_values(&self) -> Vec<Secret> {
        let mut values = Vec::new();
        for (name, value) in &self.0 {
            match value {
                serde_json::Value::String(text) if name != "access_key_id" => values.push(Secret::new(text.clone())),
                serde_json::Value::Object(by_region) => values.extend(by_region.values().filter_map(|v| Some(Secret::new(v.as_str()?)))),
                _ => {}
            }
        }
        values
    }

    fn into_secret(self) -> Secret {
        Secret::new(serde_json::Value::Object(self.0).to_string())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{operation} failed: {code}{}", message.as_deref().map(|m| format!(": {}", super::clause(m))).unwrap_or_default())]
pub struct StoreError {
    pub operation: &'static str,
    pub code: String,
    pub message: Option<String>,
}

impl StoreError {
    /// This error with every occurrence of `secrets` and of the whole `document`
    /// replaced in AWS's message.
    fn without(mut self, secrets: &[Secret], document: &Secret) -> Self {
        if let Some(message) = self.message.as_mut() {
            for secret in std::iter::once(document).chain(secrets).filter(|s| !s.expose().is_empty()) {
                *message = message.replace(secret.expose(), "[redacted]");
            }
        }
        self
    }

    /// AWS's code and message, or, without a code, why no answer came.
    fn from_sdk<E: ProvideErrorMetadata + std::error::Error + 'static>(operation: &'static str, e: &super::SdkFailure<E>) -> Self {
        match e.code() {
            Some(code) => StoreError { operation, code: code.to_string(), message: e.message().map(str::to_string) },
            None => StoreError { operation, code: "no error code".into(), message: Some(super::failure_reason(e)) },
        }
    }
}

#[derive(Clone, Debug)]
pub struct SecretStores {
    secrets_manager: aws_sdk_secretsmanager::Client,
    ssm: aws_sdk_ssm::Client,
}

impl SecretStores {
    pub fn new(secrets_manager: aws_sdk_secretsmanager::Client, ssm: aws_sdk_ssm::Client) -> Self {
        SecretStores { secrets_manager, ssm }
    }

    /// Writes `document` as the destination's new version; returns that version's ID.
    /// An error never carries a value of the document, even if the service echoed it
    /// (AWS validation messages may quote the offending value).
    pub async fn write(&self, destination: &Destination, document: SecretDocument) -> Result<String, StoreError> {
        let secrets = document.secret_values();
        let value = document.into_secret();
        self.write_value(destination, &value).await.map_err(|e| e.without(&secrets, &value))
    }

    async fn write_value(&self, destination: &Destination, value: &Secret) -> Result<String, StoreError> {
        match destination {
            Destination::SecretsManager { secret_id } => self.put_secret(secret_id, value).await,
            Destination::Ssm { name, kms_key_id } => {
                let output = self
                    .ssm
                    .put_parameter()
                    .name(name)
                    .value(value.expose())
                    .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
                    .set_key_id(kms_key_id.clone())
                    .overwrite(true)
                    .send()
                    .await
                    .map_err(|e| StoreError::from_sdk("ssm:PutParameter", &e))?;
                Ok(output.version().to_string())
            }
        }
    }

    async fn put_secret(&self, secret_id: &str, value: &Secret) -> Result<String, StoreError> {
        let put = self.secrets_manager.put_secret_value().secret_id(secret_id).secret_string(value.expose()).send().await;
        match put {
            Ok(output) => Ok(output.version_id().unwrap_or_default().to_string()),
            Err(e) if e.code() == Some("ResourceNotFoundException") => {
                let output = self
                    .secrets_manager
                    .create_secret()
                    .name(secret_id)
                    .secret_string(value.expose())
                    .send()
                    .await
                    .map_err(|e| StoreError::from_sdk("secretsmanager:CreateSecret", &e))?;
                Ok(output.version_id().unwrap_or_default().to_string())
            }
            Err(e) => Err(StoreError::from_sdk("secretsmanager:PutSecretValue", &e)),
        }
    }
}

#[cfg(test)]
mod document_tests {
    use super::*;

    #[test]
    fn the_document_names_the_secret_as_aws_does_and_groups_regions() {
        let mut document = SecretDocument::new("AKIAEXAMPLE");
        document.add("secret", "s3cr3t");
        document.add("ses_smtp_password_v4", "pw");
        document.add_by_region("ses_smtp_passwords_v4", [("eu-west-1", "pw-eu")]);
        let json: serde_json::Value = serde_json::from_str(document.into_secret().expose()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"access_key_id": "AKIAEXAMPLE", "secret_access_key": "s3cr3t", "ses_smtp_password_v4": "pw", "ses_smtp_passwords_v4": {"eu-west-1": "pw-eu"}})
        );
    }

    /// A store's error that quotes what was sent (as AWS validation messages may)
    /// reaches the user with every secret of the document replaced.
    #[test]
    fn an_error_that_echoes_the_document_carries_none_of_its_secrets() {
        let mut document = SecretDocument::new("AKIAEXAMPLE");
        document.add("secret", "canarySECRET");
        document.add_by_region("ses_smtp_passwords_v4", [("eu-west-1", "canaryPASSWORD")]);
        let secrets = document.secret_values();
        let payload = document.into_secret();
        let echoed = format!("Value '{}' at 'value' failed; also canarySECRET and canaryPASSWORD.", payload.expose());
        let error = StoreError { operation: "ssm:PutParameter", code: "ValidationException".into(), message: Some(echoed) }.without(&secrets, &payload);
        let shown = error.to_string();
        assert!(!shown.contains("canary"), "{shown}");
        assert!(!shown.ends_with('.'), "a quoted error leaves the final period to its sentence: {shown}");
        assert!(shown.contains("ValidationException") && shown.contains("[redacted]"), "{shown}");
    }
}

#[cfg(test)]
mod failure_tests {
    use super::*;

    #[tokio::test]
    async fn a_store_that_refuses_tls_says_why() {
        let (config, _) = crate::aws::http::tests::untrusted_endpoint().await;
        let stores = SecretStores::new(aws_sdk_secretsmanager::Client::new(&config), aws_sdk_ssm::Client::new(&config));
        let destination = Destination::Ssm { name: "/keys/k".into(), kms_key_id: None };
        let error = stores.write(&destination, SecretDocument::new("AKIAEXAMPLE")).await.unwrap_err();
        assert_eq!(error.to_string(), "ssm:PutParameter failed: no error code: TLS with the endpoint failed: invalid peer certificate: UnknownIssuer");
    }
}
