//! The one type that holds secret material (a secret access key, an SES SMTP
//! password, a provider `secret_key` or `token`) from the moment it leaves the SDK
//! or the configuration until it is encoded into state or handed to the SDK.
//!
//! `Debug` redacts, there is no `Display` and no `Serialize`, and the memory is
//! zeroed on drop. Reading it takes an explicit `expose()`.

use std::fmt;

use zeroize::Zeroizing;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Zeroizing::new(value.into()))
    }

    /// The secret itself. Call sites are the state encoder, the SDK and derivations.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        assert_eq!(format!("{s:?}"), "Secret(redacted)");
        assert_eq!(format!("{:?}", Some(s)), "Some(Secret(redacted))");
    }
}
