//! What every type of IAM keys shares, so that a new type uses it rather than
//! reaching into a sibling: IAM's limits and name rule, how a key's owner is named
//! in a message, and how an IAM failure becomes a diagnostic. (Whom an omitted
//! `user` means is `owner`'s.)

use crate::aws::iam::IamError;
use crate::value::summary::{self, SummaryText};
use crate::value::{AttributePath, Diagnostics, Value};

/// IAM's quota of access keys per user (AccessKeysPerUser; Inactive keys count).
pub const MAX_KEYS_PER_USER: usize = 2;

/// IAM's user-name rule, with an explicit ASCII class (`\w` would be Unicode).
pub fn validate_user_name(v: &Value) -> Result<(), String> {
    let name = v.as_str().unwrap_or_default();
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
    if name.is_empty() || name.chars().count() > 64 {
        return Err(format!("An IAM user name has 1 to 64 characters; this one has {}.", name.chars().count()));
    }
    match name.chars().find(|c| !allowed(*c)) {
        Some(c) => Err(format!("An IAM user name may contain only ASCII letters, digits and _+=,.@- ; {c:?} is not allowed.")),
        None => Ok(()),
    }
}

/// An access key ID: 16 to 128 ASCII letters and digits (IAM's accessKeyIdType).
pub fn is_access_key_id(id: &str) -> bool {
    (16..=128).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric())
}

/// `id` as an argument: an access key ID, or why not.
pub fn access_key_id(id: &str) -> Result<(), String> {
    match is_access_key_id(id) {
        true => Ok(()),
        false => Err(format!("{id:?} is not an access key ID (16 to 128 ASCII letters and digits)")),
    }
}

/// Every string of a list or set argument, checked by `check` (the first refused
/// one says why).
pub fn each_string(v: &Value, check: impl Fn(&str) -> Result<(), String>) -> Result<(), String> {
    v.as_list().unwrap_or_default().iter().filter_map(Value::as_str).try_for_each(check)
}

/// Who a key is for, in words (None: the identity that signs the requests).
pub fn whose(user: Option<&str>) -> String {
    user.map_or("the calling identity".to_string(), |u| format!("user {u:?}"))
}

/// An IAM failure as a diagnostic whose summary names the call (`IAM
/// ListAccessKeys failed (AccessDenied)`); the detail adds only what the summary
/// does not say.
pub fn iam_diagnostic(error: &IamError, path: Option<AttributePath>) -> Diagnostics {
    let (summary, detail): (SummaryText, String) = match error {
        IamError::Service { operation, code, message, .. } => {
            (summary::IAM_CALL_FAILED_WITH_CODE.fill(&[("operation", operation), ("code", code)]), format!("IAM answered: {message}"))
        }
        IamError::Transport { operation, reason, .. } => {
            (summary::IAM_CALL_FAILED.fill(&[("operation", operation)]), format!("The call did not complete: {}.", crate::aws::clause(reason)))
        }
        IamError::Cancelled { .. } => (summary::OPERATION_CANCELLED.into(), error.to_string()),
    };
    error_at(path, summary, detail)
}

/// An IAM failure under a summary of what could not be done (the error, which
/// names the call, is the detail).
pub fn iam_failure(summary: impl Into<SummaryText>, error: &IamError, path: Option<AttributePath>) -> Diagnostics {
    error_at(path, summary, error.to_string())
}

fn error_at(path: Option<AttributePath>, summary: impl Into<SummaryText>, detail: String) -> Diagnostics {
    match path {
        Some(path) => Diagnostics::error_at(path, summary, detail),
        None => Diagnostics::error(summary, detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_of_a_list_is_checked_and_the_first_refused_one_is_named() {
        let ids = |ids: &[&str]| Value::List(ids.iter().map(|id| Value::string(*id)).collect());
        assert_eq!(each_string(&ids(&["AKIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPLE"]), access_key_id), Ok(()));
        let refused = each_string(&ids(&["AKIAIOSFODNN7EXAMPLE", "AKIA-short", "bad!"]), access_key_id).unwrap_err();
        assert_eq!(refused, "\"AKIA-short\" is not an access key ID (16 to 128 ASCII letters and digits)");
        assert_eq!(each_string(&Value::Null, access_key_id), Ok(()), "no list, nothing to check");
    }

    #[test]
    fn user_names_follow_iam_and_say_what_is_wrong() {
        assert!(validate_user_name(&Value::string("ci.deployer+1@example")).is_ok());
        assert!(validate_user_name(&Value::string("")).unwrap_err().contains("1 to 64"));
        assert!(validate_user_name(&Value::string("a".repeat(65))).unwrap_err().contains("this one has 65"));
        assert!(validate_user_name(&Value::string("bob/ci")).unwrap_err().contains("'/' is not allowed"));
        assert!(validate_user_name(&Value::string("bjørn")).is_err(), "ASCII only");
    }

    #[test]
    fn an_iam_failure_names_the_call_and_the_attribute() {
        let error = IamError::service("ListAccessKeys", "AccessDenied", "no");
        let diags = iam_diagnostic(&error, Some(AttributePath::root("user")));
        let d = diags.first().unwrap();
        assert_eq!((d.summary.as_str(), d.detail.as_str()), ("IAM ListAccessKeys failed (AccessDenied)", "IAM answered: no"));
        assert_eq!(d.path, Some(AttributePath::root("user")));
        let listed = iam_failure(summary::COULD_NOT_LIST_ACCESS_KEYS, &error, None);
        assert_eq!(listed.first().unwrap().summary, "Could not list access keys");
        assert!(listed.first().unwrap().detail.contains("ListAccessKeys"));
    }
}
