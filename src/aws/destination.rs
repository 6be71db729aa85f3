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

#[derive(Debug, thiserror::Error)]
#[error("{operation} failed: {code}{}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
pub struct StoreError {
    pub operation: &'static str,
    pub code: String,
    pub message: Option<String>,
}

impl StoreError {
    fn from_sdk<E: ProvideErrorMetadata>(operation: &'static str, e: &E) -> Self {
        StoreError { operation, code: e.code().unwrap_or("no error code").to_string(), message: e.message().map(str::to_string) }
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

    /// Writes `value` as the destination's new version; returns that version's ID.
    pub async fn write(&self, destination: &Destination, value: &Secret) -> Result<String, StoreError> {
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
