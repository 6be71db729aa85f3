//! What an IAM call failed with, decided once from the SDK's error.

use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::http::Response as HttpResponse;

/// What an IAM error code means to this provider, decided once when the error is
/// made: the rest of the code matches these variants, never code strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceErrorKind {
    NoSuchEntity,
    LimitExceeded,
    /// Refused without being executed (Throttling and its relatives).
    Throttled,
    /// IAM failed while handling the call: it may have been carried out.
    ServiceFailure,
    Other,
}

impl ServiceErrorKind {
    pub fn of(code: &str) -> Self {
        match code {
            "NoSuchEntity" => ServiceErrorKind::NoSuchEntity,
            "LimitExceeded" => ServiceErrorKind::LimitExceeded,
            "Throttling" | "ThrottlingException" | "RequestLimitExceeded" | "TooManyRequestsException" => ServiceErrorKind::Throttled,
            "ServiceFailure" | "InternalFailure" => ServiceErrorKind::ServiceFailure,
            _ => ServiceErrorKind::Other,
        }
    }
}

/// Displayed without a final period (`aws::clause`), so that a sentence that
/// quotes an error ends with exactly one.
#[derive(Clone, Debug, thiserror::Error)]
pub enum IamError {
    #[error("IAM {operation} failed: {code}: {}", crate::aws::clause(message))]
    Service { operation: &'static str, kind: ServiceErrorKind, code: String, message: String },
    #[error("IAM {operation} failed: {}", crate::aws::clause(reason))]
    Transport { operation: &'static str, reason: String, maybe_executed: bool },
    #[error("IAM {operation} was cancelled: Terraform asked the provider to stop")]
    Cancelled { operation: &'static str },
}

impl IamError {
    /// A refusal by IAM with its code and message.
    pub fn service(operation: &'static str, code: impl Into<String>, message: impl Into<String>) -> Self {
        let code = code.into();
        IamError::Service { operation, kind: ServiceErrorKind::of(&code), code, message: message.into() }
    }

    /// IAM's code as it sent it, for people; decisions match on `kind`.
    pub fn code(&self) -> Option<&str> {
        match self {
            IamError::Service { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn kind(&self) -> Option<ServiceErrorKind> {
        match self {
            IamError::Service { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    pub fn is_no_such_entity(&self) -> bool {
        self.kind() == Some(ServiceErrorKind::NoSuchEntity)
    }

    pub fn is_limit_exceeded(&self) -> bool {
        self.kind() == Some(ServiceErrorKind::LimitExceeded)
    }

    pub(super) fn is_throttling(&self) -> bool {
        self.kind() == Some(ServiceErrorKind::Throttled)
    }

    pub(super) fn from_sdk<E: ProvideErrorMetadata>(operation: &'static str, err: SdkError<E, HttpResponse>) -> Self {
        match &err {
            // An error body the SDK cannot read (moto's auth errors are EC2-shaped):
            // its Code and Message, else, for a 403, a refusal of this action.
            SdkError::ServiceError(se) if err.code().is_none() => {
                let body = se.raw().body().bytes().map(String::from_utf8_lossy).unwrap_or_default();
                let element = |name: &str| {
                    let start = body.find(&format!("<{name}>"))? + name.len() + 2;
                    let end = start + body[start..].find(&format!("</{name}>"))?;
                    Some(body[start..end].chars().take(300).collect::<String>())
                };
                let denied = se.raw().status().as_u16() == 403;
                let message = match element("Message") {
                    Some(message) => message,
                    None if denied => format!("the credentials are not allowed iam:{operation}"),
                    None => "no message".into(),
                };
                IamError::service(operation, element("Code").unwrap_or_else(|| if denied { "AccessDenied" } else { "Unknown" }.into()), message)
            }
            SdkError::ServiceError(_) => IamError::service(operation, err.code().unwrap_or("Unknown"), err.message().unwrap_or("no message")),
            SdkError::ConstructionFailure(_) => IamError::Transport { operation, reason: "the request could not be built".into(), maybe_executed: false },
            SdkError::TimeoutError(_) => IamError::Transport { operation, reason: "timed out waiting for IAM".into(), maybe_executed: true },
            SdkError::DispatchFailure(failure) => match crate::aws::http::tls_refusal(failure) {
                // Refused in the TLS handshake: the request was never sent.
                Some(reason) => IamError::Transport { operation, reason, maybe_executed: false },
                None => IamError::Transport {
                    operation,
                    reason: if failure.is_timeout() { "timed out connecting to IAM".into() } else { "the connection to IAM failed".into() },
                    // A connection that failed after the request was written may have
                    // reached IAM; only a failed connect proves it did not.
                    maybe_executed: !failure.is_timeout(),
                },
            },
            SdkError::ResponseError(_) => IamError::Transport { operation, reason: "IAM's response could not be read".into(), maybe_executed: true },
            _ => IamError::Transport { operation, reason: "unexpected SDK error".into(), maybe_executed: true },
        }
    }

    /// A failure after which the call may have been carried out by IAM.
    pub(super) fn maybe_executed(&self) -> bool {
        match self {
            IamError::Transport { maybe_executed, .. } => *maybe_executed,
            IamError::Service { kind, .. } => *kind == ServiceErrorKind::ServiceFailure,
            IamError::Cancelled { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_is_classified_once_at_construction() {
        let cases = [
            ("NoSuchEntity", Some(ServiceErrorKind::NoSuchEntity), false),
            ("LimitExceeded", Some(ServiceErrorKind::LimitExceeded), false),
            ("Throttling", Some(ServiceErrorKind::Throttled), false),
            ("RequestLimitExceeded", Some(ServiceErrorKind::Throttled), false),
            ("ServiceFailure", Some(ServiceErrorKind::ServiceFailure), true),
            ("InternalFailure", Some(ServiceErrorKind::ServiceFailure), true),
            ("AccessDenied", Some(ServiceErrorKind::Other), false),
        ];
        for (code, kind, maybe_executed) in cases {
            let error = IamError::service("CreateAccessKey", code, "m");
            assert_eq!((error.kind(), error.maybe_executed(), error.code()), (kind, maybe_executed, Some(code)), "{code}");
        }
        let lost = IamError::Transport { operation: "CreateAccessKey", reason: "reset".into(), maybe_executed: true };
        assert_eq!((lost.kind(), lost.maybe_executed()), (None, true));
    }

    #[test]
    fn a_quoted_error_ends_a_sentence_with_one_period() {
        let refused = IamError::service("DeleteAccessKey", "NoSuchEntity", "The user with name x cannot be found.");
        assert_eq!(format!("Access key A: {refused}."), "Access key A: IAM DeleteAccessKey failed: NoSuchEntity: The user with name x cannot be found.");
        let lost = IamError::Transport { operation: "ListAccessKeys", reason: "connection reset.".into(), maybe_executed: false };
        assert_eq!(format!("{lost}."), "IAM ListAccessKeys failed: connection reset.");
    }
}
