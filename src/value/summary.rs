//! Every diagnostic summary the provider can emit, declared once. Call sites name
//! a declaration (a diagnostic cannot be given a literal summary); the
//! troubleshooting guide has an entry for each (tests/troubleshooting.rs reads
//! `ALL`). `{name}` marks a part filled in where the diagnostic is made; the guide
//! writes it `<name>`.

use std::borrow::Cow;

/// A declared summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary(&'static str);

/// The summary a diagnostic shows: a declared one, its parts filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryText(Cow<'static, str>);

impl Summary {
    /// As declared, with its `{name}` parts.
    pub const fn template(self) -> &'static str {
        self.0
    }

    /// The summary with each `{name}` replaced by its value.
    pub fn fill(self, parts: &[(&str, &str)]) -> SummaryText {
        let mut text = self.0.to_string();
        for (name, value) in parts {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        debug_assert!(!text.contains('{'), "{:?}: a part is not filled in", self.0);
        SummaryText(Cow::Owned(text))
    }
}

impl From<Summary> for SummaryText {
    fn from(summary: Summary) -> Self {
        debug_assert!(!summary.0.contains('{'), "{:?} has parts to fill in", summary.0);
        SummaryText(Cow::Borrowed(summary.0))
    }
}

/// The providers of the framework's own unit tests may use any summary.
#[cfg(test)]
impl From<&'static str> for SummaryText {
    fn from(summary: &'static str) -> Self {
        SummaryText(Cow::Borrowed(summary))
    }
}

impl From<SummaryText> for String {
    fn from(summary: SummaryText) -> Self {
        summary.0.into_owned()
    }
}

macro_rules! declare {
    ($($name:ident = $text:literal;)*) => {
        $(pub const $name: Summary = Summary($text);)*
        /// Every declared summary.
        pub const ALL: &[Summary] = &[$($name),*];
    };
}

declare! {
    ACCESS_KEY_CREATED_BUT_ITS_SECRET_WAS_LOST = "Access key created, but its secret was lost";
    ACCESS_KEY_CREATION_UNCERTAIN = "Access key creation uncertain";
    ACCESS_KEY_QUOTA_REACHED = "Access key quota reached";
    ACCESS_KEY_QUOTA_WOULD_BE_EXCEEDED = "Access key quota would be exceeded";
    ACCOUNT_HAS_A_ROOT_ACCESS_KEY = "Account {account} has a root access key";
    ACCOUNT_NOT_READ = "Account {account} not read";
    ACCOUNT_GUARD_NEEDS_THE_CALLER_S_IDENTITY = "Account guard needs the caller's identity";
    AN_INACTIVE_KEY_NEVER_BECOMES_USABLE = "An Inactive key never becomes usable";
    CANNOT_ASSUME_ROLE = "Cannot assume role";
    CANNOT_ASSUME_ROLE_WITH_WEB_IDENTITY = "Cannot assume role with web identity";
    CANNOT_TELL_WHOM_THE_KEY_IS_FOR = "Cannot tell whom the key is for";
    CANNOT_TEST_THE_NEW_KEY = "Cannot test the new key";
    CONFLICTING_ACCOUNT_LISTS = "Conflicting account lists";
    COULD_NOT_CREATE_THE_EPHEMERAL_ACCESS_KEY = "Could not create the ephemeral access key";
    COULD_NOT_DELETE_THE_EPHEMERAL_ACCESS_KEY = "Could not delete the ephemeral access key";
    COULD_NOT_ENCRYPT_THE_SECRET = "Could not encrypt the secret";
    COULD_NOT_DEACTIVATE_EVERY_KEY = "Could not deactivate every key";
    COULD_NOT_LIST_ACCESS_KEYS = "Could not list access keys";
    COULD_NOT_LIST_THE_ACCESS_KEYS_OF = "Could not list the access keys of {who}";
    COULD_NOT_LIST_THE_ORGANIZATIONS_ACCOUNTS = "Could not list the organization's accounts";
    COULD_NOT_LIST_THE_USER_S_ACCESS_KEYS = "Could not list the user's access keys";
    COULD_NOT_OPEN_THE_EPHEMERAL_ACCESS_KEY = "Could not open the ephemeral access key";
    COULD_NOT_WRITE_THE_SECRET_TO_ITS_DESTINATION = "Could not write the secret to its destination";
    DESCRIPTION_NOT_READ = "Description not read";
    DURATION_IN_SECONDS_IS_DEPRECATED = "Duration in seconds is deprecated";
    IAM_HAS_NO_SUCH_USER_YET = "IAM has no such user yet";
    IAM_CALL_FAILED = "IAM {operation} failed";
    IAM_CALL_FAILED_WITH_CODE = "IAM {operation} failed ({code})";
    IDENTITY_IS_IN_ANOTHER_ACCOUNT = "Identity is in another account";
    IDENTITY_WRITTEN_BY_A_NEWER_PROVIDER = "Identity written by a newer provider";
    IMPORT_BY_IDENTITY_NOT_SUPPORTED = "Import by identity not supported";
    INACTIVE_KEY_TURNED_BACK_ON = "Inactive key turned back on";
    INCOMPLETE_STATIC_CREDENTIALS = "Incomplete static credentials";
    INVALID_AWS_CREDENTIALS = "Invalid AWS credentials";
    INVALID_CA_BUNDLE = "Invalid CA bundle";
    INVALID_IMPORT_ID = "Invalid import ID";
    INVALID_PGP_KEY = "Invalid pgp_key";
    INVALID_PRIVATE_DATA = "Invalid private data";
    INVALID_PROXY = "Invalid proxy";
    INVALID_SOURCE_STATE = "Invalid source state";
    INVALID_STORED_IDENTITY = "Invalid stored identity";
    INVALID_STORED_STATE = "Invalid stored state";
    INVALID_VALUE_FOR = "Invalid value for \"{name}\"";
    INVALID_VALUE_FROM_TERRAFORM = "Invalid value from Terraform";
    KEYS_TO_DEACTIVATE = "Keys to deactivate";
    KEY_TO_QUARANTINE = "Key to quarantine";
    KMS_KEY_WITHOUT_SSM = "KMS key without SSM";
    LAST_USE_NOT_REFRESHED = "Last use not refreshed";
    LISTED_OBJECT_WITHOUT_IDENTITY = "Listed object without identity";
    MISSING_REQUIRED_ARGUMENT = "Missing required argument";
    MISSING_RESOURCE_IDENTITY_AFTER_APPLY = "Missing resource identity after apply";
    MISSING_RESOURCE_STATE_AFTER_CREATE = "Missing resource state after create";
    MOVE_NOT_SUPPORTED = "Move not supported";
    NO_AGE_OR_IDLE_TIME = "No age or idle time";
    NO_SUCH_ACCESS_KEY = "No such access key";
    NO_AWS_REGION = "No AWS region";
    NO_ACCOUNTS_TO_READ = "No accounts to read";
    NO_ROOM_FOR_AN_EPHEMERAL_KEY = "No room for an ephemeral key";
    NO_SECRET_STORE = "No secret store";
    NO_SECRET_TO_DELIVER_FOR_THIS_KEY = "No secret to deliver for this key";
    NO_STATE_STORE = "No state store";
    ONE_SECRET_STORE = "One secret store";
    OPERATION_CANCELLED = "Operation cancelled";
    PGP_KEY_AND_SECRET_DESTINATION_TOGETHER = "pgp_key and secret_destination together";
    PROVIDER_INTERNAL_ERROR = "Provider internal error";
    PROVIDER_NOT_CONFIGURED = "Provider not configured";
    PROVIDER_PRODUCED_AN_INVALID_VALUE = "Provider produced an invalid value";
    REFUSING_TO_CREATE_A_ROOT_ACCESS_KEY = "Refusing to create a root access key";
    RESOURCE_IDENTITY_NOT_SUPPORTED = "Resource identity not supported";
    SES_PASSWORDS_NEED_THE_SECRET = "SES passwords need the secret";
    STATE_WRITTEN_BY_A_NEWER_PROVIDER = "State written by a newer provider";
    THE_CALLER_IS_NOT_AN_IAM_USER = "The caller is not an IAM user";
    THE_EPHEMERAL_KEY_DOES_NOT_WORK_YET = "The ephemeral key does not work yet";
    THE_NEW_KEY_DOES_NOT_WORK_YET = "The new key does not work yet";
    UNKNOWN_VALUE_AFTER_APPLY = "Unknown value after apply";
    UNKNOWN_VALUE_AT_APPLY = "Unknown value at apply";
    UNKNOWN_TYPE = "Unknown {kind} type";
    UNREADABLE_WEB_IDENTITY_TOKEN = "Unreadable web identity token";
    UNUSABLE_FILE = "Unusable file";
    VALUE_FOR_UNCONFIGURABLE_ATTRIBUTE = "Value for unconfigurable attribute";
    WEB_IDENTITY_TOKEN_ONE_SOURCE = "Web identity token: one source";
    WRONG_AWS_ACCOUNT = "Wrong AWS account";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_filled_in_by_name() {
        let text: String = IAM_CALL_FAILED_WITH_CODE.fill(&[("operation", "ListAccessKeys"), ("code", "AccessDenied")]).into();
        assert_eq!(text, "IAM ListAccessKeys failed (AccessDenied)");
        let plain: String = SummaryText::from(ACCESS_KEY_QUOTA_REACHED).into();
        assert_eq!(plain, "Access key quota reached");
    }

    #[test]
    fn each_summary_is_declared_once() {
        let mut texts: Vec<&str> = ALL.iter().map(|s| s.template()).collect();
        texts.sort_unstable();
        texts.dedup();
        assert_eq!(texts.len(), ALL.len());
    }
}
