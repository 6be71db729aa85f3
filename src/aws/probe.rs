//! Proof that a new access key works: sts:GetCallerIdentity signed with it. IAM is
//! eventually consistent, so a key can exist for seconds before it authenticates.

use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use tokio_util::sync::CancellationToken;

use crate::secret::Secret;

/// STS settings (region, endpoint, HTTP client) without credentials: each probe
/// signs with the key it tests.
#[derive(Clone, Debug)]
pub struct KeyProbe {
    sts: aws_sdk_sts::Config,
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("the new key did not authenticate within {waited:?} ({attempts} attempts; last answer: {last})")]
    TimedOut { waited: Duration, attempts: u32, last: String },
    #[error("cancelled: Terraform asked the provider to stop")]
    Cancelled,
    #[error("this provider has no STS client to test it with")]
    NoSts,
}

impl KeyProbe {
    pub fn new(sts: aws_sdk_sts::Config) -> Self {
        KeyProbe { sts }
    }

    /// Signs GetCallerIdentity with the key until it succeeds, backing off between
    /// attempts, for at most `timeout`. Returns how many attempts it took.
    pub async fn wait_until_usable(&self, key_id: &str, secret: &Secret, timeout: Duration, cancel: &CancellationToken) -> Result<u32, ProbeError> {
        let credentials = Credentials::new(key_id, secret.expose(), None, None, "iamkey-new-key");
        let client = aws_sdk_sts::Client::from_conf(self.sts.to_builder().credentials_provider(credentials).build());
        let started = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let last = match client.get_caller_identity().send().await {
                Ok(_) => return Ok(attempts),
                // The code only (InvalidClientTokenId while the key propagates), never a body.
                Err(e) => super::failure_code(&e),
            };
            let pause = super::retry::backoff(attempts);
            if started.elapsed() + pause > timeout {
                return Err(ProbeError::TimedOut { waited: started.elapsed(), attempts, last });
            }
            tokio::select! {
                _ = cancel.cancelled() => return Err(ProbeError::Cancelled),
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::fake::{self, FakeIam};

    fn probe(endpoint: &str) -> KeyProbe {
        KeyProbe::new(
            aws_sdk_sts::Config::builder()
                .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
                .region(aws_sdk_sts::config::Region::new("us-east-1"))
                .endpoint_url(endpoint)
                .build(),
        )
    }

    #[tokio::test]
    async fn a_key_that_never_authenticates_times_out_naming_the_last_answer_not_the_secret() {
        let fake = FakeIam::start(|_, _, _| fake::error(403, "InvalidClientTokenId")).await;
        let secret = Secret::new("canarySecretcanarySecretcanarySecret1234");
        let err =
            probe(&fake.endpoint).wait_until_usable("AKIAFAKE000000000NEW", &secret, Duration::from_millis(400), &CancellationToken::new()).await.unwrap_err();
        let ProbeError::TimedOut { attempts, ref last, .. } = err else { panic!("{err:?}") };
        assert!(attempts >= 2, "it retried: {attempts}");
        assert_eq!(last, "InvalidClientTokenId");
        assert!(!err.to_string().contains(secret.expose()));
    }

    #[tokio::test]
    async fn stop_provider_ends_the_wait() {
        let fake = FakeIam::start(|_, _, _| fake::error(403, "InvalidClientTokenId")).await;
        let cancel = CancellationToken::new();
        cancel.cancel();
        let err = probe(&fake.endpoint).wait_until_usable("AKIAFAKE000000000NEW", &Secret::new("s"), Duration::from_secs(60), &cancel).await.unwrap_err();
        assert!(matches!(err, ProbeError::Cancelled), "{err:?}");
    }
}
