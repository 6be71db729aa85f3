//! Whom a key with no `user` is for: the identity that signs the provider's
//! requests, when that identity may own one. Shared by the resource and the
//! ephemeral resource, so that both refuse the same callers the same way.

use crate::aws::caller::Caller;
use crate::aws::AwsClients;
use crate::value::summary;
use crate::value::Diagnostics;

crate::framework::field::fields! {
    /// The arguments of every type that makes or reads a key for a user: `user`,
    /// and `allow_root_key`, which lets a key be made for the account's root user.
    /// (Each type's own `fields!` lists them too: these are the same names.)
    pub mod key_owner { allow_root_key, user }
}

/// The user a key is for: the configured one, else the caller's (as
/// `of_the_caller`; None: the root user, allowed).
pub async fn user_or_caller(clients: &AwsClients, configured: Option<&str>, allow_root_key: bool) -> Result<Option<String>, Diagnostics> {
    match configured {
        Some(user) => Ok(Some(user.to_string())),
        None => of_the_caller(clients, allow_root_key).await,
    }
}

/// The IAM user meant by an omitted `user` (None: the root user, allowed by
/// `allow_root_key`). A role session, a federated user, or the root user without
/// the opt-in is refused at `user`, saying what to set.
pub async fn of_the_caller(clients: &AwsClients, allow_root_key: bool) -> Result<Option<String>, Diagnostics> {
    let refuse = |summary: summary::Summary, detail: String| Err(Diagnostics::error_at(key_owner::user.path(), summary, detail));
    match clients.caller.get().await {
        Ok(Caller::User(name)) => Ok(Some(name)),
        Ok(Caller::Root) if allow_root_key => Ok(None),
        Ok(Caller::Root) => refuse(
            summary::REFUSING_TO_CREATE_A_ROOT_ACCESS_KEY,
            "`user` is omitted and the provider's credentials are the account's root user, so the key would be a \
             root access key: full, unrestrictable control of the account, which AWS recommends never to create. \
             Set `user` to the IAM user the key is for. If a root key is really what you need, set \
             `allow_root_key = true`."
                .to_string(),
        ),
        Ok(Caller::Other { arn }) => refuse(
            summary::THE_CALLER_IS_NOT_AN_IAM_USER,
            format!(
                "`user` is omitted, so the provider acts for the identity that signs its requests: {arn}, which is \
                 not an IAM user and has no access keys. Set `user` to the IAM user whose keys this is about."
            ),
        ),
        Err(reason) => refuse(
            summary::CANNOT_TELL_WHOM_THE_KEY_IS_FOR,
            format!("`user` is omitted and the provider could not find out who its credentials belong to ({reason}). Set `user`."),
        ),
    }
}
