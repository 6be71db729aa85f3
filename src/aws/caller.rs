//! Who signs the provider's requests, from sts:GetCallerIdentity (which needs no
//! permission): asked once per provider instance, at configure time unless the
//! credential check is skipped, else at the first plan that needs it.

use std::sync::Arc;

use tokio::sync::OnceCell;

/// The kind of principal the provider's credentials belong to.
#[derive(Clone, Debug, PartialEq)]
pub enum Caller {
    /// An IAM user, by name: the only principal that owns access keys.
    User(String),
    /// The account's root user: it can own access keys, and AWS says it never should.
    Root,
    /// A role session, a federated user or anything else that cannot own access keys.
    Other { arn: String },
}

impl Caller {
    /// Reads GetCallerIdentity's ARN: `arn:PARTITION:iam::ACCOUNT:user/PATH/NAME`,
    /// `arn:PARTITION:iam::ACCOUNT:root`, `arn:PARTITION:sts::ACCOUNT:assumed-role/…`, …
    pub fn from_arn(arn: &str) -> Caller {
        let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
        match resource.split_once('/') {
            _ if resource == "root" => Caller::Root,
            Some(("user", path_and_name)) => match path_and_name.rsplit('/').next() {
                Some(name) if !name.is_empty() => Caller::User(name.to_string()),
                _ => Caller::Other { arn: arn.to_string() },
            },
            _ => Caller::Other { arn: arn.to_string() },
        }
    }
}

/// The partition of an ARN (`arn:PARTITION:...`).
pub fn partition_of_arn(arn: &str) -> Option<String> {
    let mut parts = arn.split(':');
    (parts.next() == Some("arn")).then(|| parts.next()).flatten().filter(|p| !p.is_empty()).map(str::to_string)
}

/// The partition a region is in, by AWS's region names, for when no ARN of the
/// caller is known (`skip_credentials_validation`).
pub fn partition_of_region(region: &str) -> String {
    let partition = match region {
        r if r.starts_with("cn-") => "aws-cn",
        r if r.starts_with("us-gov-") => "aws-us-gov",
        r if r.starts_with("us-isob-") => "aws-iso-b",
        r if r.starts_with("us-iso-") => "aws-iso",
        r if r.starts_with("eu-isoe-") => "aws-iso-e",
        _ => "aws",
    };
    partition.to_string()
}

/// The caller of one provider instance, looked up at most once.
#[derive(Clone, Debug)]
pub struct CallerIdentity {
    sts: Option<aws_sdk_sts::Client>,
    caller: Arc<OnceCell<Caller>>,
}

impl CallerIdentity {
    /// A caller already known (from the credential check at configure time).
    pub fn known(caller: Caller) -> Self {
        CallerIdentity { sts: None, caller: Arc::new(OnceCell::new_with(Some(caller))) }
    }

    /// A caller to look up with `sts` when first needed.
    pub fn lookup(sts: aws_sdk_sts::Client) -> Self {
        CallerIdentity { sts: Some(sts), caller: Arc::default() }
    }

    /// The caller; a failed lookup is not kept, so the next plan asks again.
    pub async fn get(&self) -> Result<Caller, String> {
        let caller = self
            .caller
            .get_or_try_init(|| async {
                let Some(sts) = &self.sts else { return Err("no STS client to ask who the caller is".to_string()) };
                let identity = sts.get_caller_identity().send().await.map_err(|e| format!("sts:GetCallerIdentity failed: {}", super::failure_code(&e)))?;
                Ok(Caller::from_arn(identity.arn().unwrap_or_default()))
            })
            .await?;
        Ok(caller.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_partition_comes_from_the_callers_arn_else_from_the_region() {
        assert_eq!(partition_of_arn("arn:aws-cn:iam::123456789012:user/alice").as_deref(), Some("aws-cn"));
        assert_eq!(partition_of_arn("not an arn"), None);
        let regions =
            [("eu-west-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"), ("us-iso-east-1", "aws-iso"), ("us-isob-east-1", "aws-iso-b")];
        for (region, partition) in regions {
            assert_eq!(partition_of_region(region), partition, "{region}");
        }
    }

    #[test]
    fn arns_are_read_by_kind() {
        let cases = [
            ("arn:aws:iam::123456789012:user/alice", Caller::User("alice".into())),
            ("arn:aws:iam::123456789012:user/ci/deploy/bot", Caller::User("bot".into())),
            ("arn:aws-us-gov:iam::123456789012:user/alice", Caller::User("alice".into())),
            ("arn:aws:sts::123456789012:user/moto", Caller::User("moto".into())),
            ("arn:aws:iam::123456789012:root", Caller::Root),
            ("arn:aws:sts::123456789012:assumed-role/deploy/session", Caller::Other { arn: "arn:aws:sts::123456789012:assumed-role/deploy/session".into() }),
            ("arn:aws:sts::123456789012:federated-user/bob", Caller::Other { arn: "arn:aws:sts::123456789012:federated-user/bob".into() }),
            ("arn:aws:iam::123456789012:user/", Caller::Other { arn: "arn:aws:iam::123456789012:user/".into() }),
            ("", Caller::Other { arn: String::new() }),
        ];
        for (arn, expected) in cases {
            assert_eq!(Caller::from_arn(arn), expected, "{arn}");
        }
    }
}
