//! Every AWS action the provider needs, with the resource type a policy may scope
//! it to and the condition keys it supports, from the Service Authorization
//! Reference (design/design.md, "Actions and their resource types", cites the
//! pages). The policies under examples/iam-policies/ are checked against this
//! table (the emulator compares actions against "*" only, so it cannot).

/// A resource type: what the Service Authorization Reference calls it and its ARN
/// (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`).
#[derive(Debug, PartialEq, Eq)]
pub struct ResourceType {
    pub name: &'static str,
    pub service: &'static str,
    /// Global services (IAM) have an empty region in their ARNs.
    pub regional: bool,
    /// How the ARN's resource part starts: `user/`, `secret:`, ...
    pub resource_prefix: &'static str,
}

pub const IAM_USER: ResourceType = ResourceType { name: "user", service: "iam", regional: false, resource_prefix: "user/" };
pub const IAM_ROLE: ResourceType = ResourceType { name: "role", service: "iam", regional: false, resource_prefix: "role/" };
pub const SECRET: ResourceType = ResourceType { name: "Secret", service: "secretsmanager", regional: true, resource_prefix: "secret:" };
pub const PARAMETER: ResourceType = ResourceType { name: "parameter", service: "ssm", regional: true, resource_prefix: "parameter/" };

/// One action: what a policy names, the resource type its statement may be scoped
/// to (None: the action supports no resource-level permission, so its statement's
/// Resource must be "*"), and its action-specific condition keys (global `aws:`
/// keys apply to every action as well).
#[derive(Debug)]
pub struct Action {
    pub name: &'static str,
    pub resource: Option<&'static ResourceType>,
    pub condition_keys: &'static [&'static str],
    /// Why the provider needs it.
    pub used_for: &'static str,
}

const TAG_REQUEST: &[&str] = &["aws:TagKeys", "aws:RequestTag/${TagKey}"];

pub const ACTIONS: &[Action] = &[
    Action { name: "iam:CreateAccessKey", resource: Some(&IAM_USER), condition_keys: &[], used_for: "create a key" },
    Action { name: "iam:DeleteAccessKey", resource: Some(&IAM_USER), condition_keys: &[], used_for: "destroy a key" },
    Action { name: "iam:UpdateAccessKey", resource: Some(&IAM_USER), condition_keys: &[], used_for: "status" },
    Action { name: "iam:ListAccessKeys", resource: Some(&IAM_USER), condition_keys: &[], used_for: "refresh, the quota check, the create's listing" },
    Action { name: "iam:GetAccessKeyLastUsed", resource: Some(&IAM_USER), condition_keys: &[], used_for: "last use, the quota message's listing" },
    Action { name: "iam:ListUserTags", resource: Some(&IAM_USER), condition_keys: &[], used_for: "reading `description`" },
    Action { name: "iam:TagUser", resource: Some(&IAM_USER), condition_keys: TAG_REQUEST, used_for: "writing `description`" },
    Action { name: "iam:UntagUser", resource: Some(&IAM_USER), condition_keys: &["aws:TagKeys"], used_for: "removing `description`" },
    Action { name: "iam:ListUsers", resource: None, condition_keys: &[], used_for: "the list resource over every user" },
    Action {
        name: "iam:GetAccountSummary",
        resource: None,
        condition_keys: &[],
        used_for: "`organization`: whether each account's root user holds a key (IAM.4)",
    },
    Action {
        name: "iam:AttachUserPolicy",
        resource: Some(&IAM_USER),
        condition_keys: &["iam:PermissionsBoundary", "iam:PolicyARN"],
        used_for: "iamkey_quarantine_key (AWSCompromisedKeyQuarantineV3 only, by iam:PolicyARN)",
    },
    // The audit lists the whole tree of the organization, so its statement names
    // every resource ("*"); ListAccounts takes no resource-level permission.
    Action { name: "organizations:ListAccounts", resource: None, condition_keys: &[], used_for: "`organization` (every account)" },
    Action { name: "organizations:ListAccountsForParent", resource: None, condition_keys: &[], used_for: "`organization` with `ou_ids`" },
    Action { name: "organizations:ListChildren", resource: None, condition_keys: &[], used_for: "`organization` with `ou_ids` (the units below)" },
    Action { name: "sts:GetCallerIdentity", resource: None, condition_keys: &[], used_for: "the credential check, caller mode (cannot be denied)" },
    Action {
        name: "sts:AssumeRole",
        resource: Some(&IAM_ROLE),
        condition_keys: &[
            "aws:TagKeys",
            "aws:PrincipalTag/${TagKey}",
            "aws:RequestTag/${TagKey}",
            "sts:TransitiveTagKeys",
            "sts:ExternalId",
            "sts:RoleSessionName",
            "iam:ResourceTag/${TagKey}",
        ],
        used_for: "assume_role",
    },
    Action {
        name: "sts:TagSession",
        resource: Some(&IAM_ROLE),
        condition_keys: &["aws:TagKeys", "aws:PrincipalTag/${TagKey}", "aws:RequestTag/${TagKey}", "sts:TransitiveTagKeys"],
        used_for: "assume_role with tags or transitive_tag_keys",
    },
    Action { name: "sts:SetSourceIdentity", resource: Some(&IAM_ROLE), condition_keys: &["sts:SourceIdentity"], used_for: "assume_role with source_identity" },
    Action {
        name: "sts:AssumeRoleWithWebIdentity",
        resource: Some(&IAM_ROLE),
        condition_keys: &["sts:RoleSessionName"],
        used_for: "assume_role_with_web_identity (granted by the role's trust policy, not the caller's)",
    },
    Action {
        name: "secretsmanager:CreateSecret",
        resource: Some(&SECRET),
        condition_keys: &["secretsmanager:Name", "secretsmanager:Description", "secretsmanager:KmsKeyId", "aws:RequestTag/${TagKey}", "aws:TagKeys"],
        used_for: "secret_destination (a secret that does not exist yet)",
    },
    Action { name: "secretsmanager:PutSecretValue", resource: Some(&SECRET), condition_keys: &["secretsmanager:SecretId"], used_for: "secret_destination" },
    Action { name: "ssm:PutParameter", resource: Some(&PARAMETER), condition_keys: TAG_REQUEST, used_for: "secret_destination (SSM)" },
];

pub fn action(name: &str) -> Option<&'static Action> {
    ACTIONS.iter().find(|a| a.name == name)
}

/// Why `resource` (from a policy statement, with placeholders such as
/// `ACCOUNT_ID` allowed) cannot be the resource of a statement naming `action`.
pub fn misfit(action: &Action, resource: &str) -> Option<String> {
    let Some(wanted) = action.resource else {
        return (resource != "*")
            .then(|| format!("{} supports no resource-level permission: its statement's Resource must be \"*\", not {resource:?}", action.name));
    };
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    let fits = match parts.as_slice() {
        ["arn", _partition, service, region, _account, rest] => {
            *service == wanted.service && (wanted.regional || region.is_empty()) && rest.starts_with(wanted.resource_prefix)
        }
        _ => false,
    };
    (!fits).then(|| {
        format!(
            "{} takes the {} resource type (arn:PARTITION:{}:{}:ACCOUNT:{}...), not {resource:?}",
            action.name,
            wanted.name,
            wanted.service,
            if wanted.regional { "REGION" } else { "" },
            wanted.resource_prefix
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(value: &serde_json::Value) -> Vec<String> {
        match value {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(items) => items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect(),
            _ => Vec::new(),
        }
    }

    /// What is wrong with one policy document: an action the provider does not
    /// call, a resource of the wrong type, a condition key the action does not take.
    fn problems(document: &serde_json::Value) -> Vec<String> {
        let mut problems = Vec::new();
        for statement in document["Statement"].as_array().expect("Statement is a list") {
            let resources = strings(&statement["Resource"]);
            assert!(!resources.is_empty(), "every statement names its resources: {statement}");
            for name in strings(&statement["Action"]) {
                let Some(action) = action(&name) else {
                    problems.push(format!("{name} is not an action the provider needs"));
                    continue;
                };
                problems.extend(resources.iter().filter_map(|r| misfit(action, r)));
                let keys = statement["Condition"].as_object().into_iter().flat_map(|ops| ops.values()).filter_map(|c| c.as_object()).flat_map(|c| c.keys());
                for key in keys {
                    let global = key.starts_with("aws:");
                    if !global && !action.condition_keys.iter().any(|k| k.eq_ignore_ascii_case(key)) {
                        problems.push(format!("{name} takes no condition key {key}"));
                    }
                }
            }
        }
        problems
    }

    fn policy_files() -> Vec<std::path::PathBuf> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let mut files: Vec<_> = std::fs::read_dir(root.join("iam-policies")).unwrap().map(|e| e.unwrap().path()).collect();
        files.push(root.join("ci-identity/terraform-runner-policy.json"));
        files
    }

    #[test]
    fn every_documented_policy_scopes_each_action_to_its_resource_type() {
        let files = policy_files();
        assert!(files.len() >= 10, "{files:?}");
        for file in files {
            let document: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
            let problems = problems(&document);
            assert!(problems.is_empty(), "{}:\n{}", file.display(), problems.join("\n"));
        }
    }

    #[test]
    fn a_scoped_list_users_and_a_wrongly_typed_resource_are_refused() {
        let scoped = serde_json::json!({"Statement": [{"Action": ["iam:ListUsers", "iam:ListAccessKeys"], "Resource": "arn:aws:iam::ACCOUNT_ID:user/*"}]});
        assert_eq!(problems(&scoped).len(), 1, "{:?}", problems(&scoped));
        assert!(problems(&scoped)[0].contains("iam:ListUsers supports no resource-level permission"));
        let wrong_type = serde_json::json!({"Statement": [{"Action": "iam:CreateAccessKey", "Resource": "arn:aws:iam::ACCOUNT_ID:role/ci"}]});
        assert!(problems(&wrong_type)[0].contains("takes the user resource type"), "{:?}", problems(&wrong_type));
        let star = serde_json::json!({"Statement": [{"Action": "ssm:PutParameter", "Resource": "arn:aws:ssm:REGION:ACCOUNT_ID:parameter/iam-keys/*"}]});
        assert!(problems(&star).is_empty());
        let everything = serde_json::json!({"Statement": [{"Action": "iam:CreateAccessKey", "Resource": "*"}]});
        assert!(problems(&everything)[0].contains("takes the user resource type"), "least privilege: a scoped action is scoped");
        let unknown_condition = serde_json::json!({"Statement": [{"Action": "iam:CreateAccessKey", "Resource": "arn:aws:iam::ACCOUNT_ID:user/ci/*",
            "Condition": {"StringEquals": {"sts:ExternalId": "x", "aws:PrincipalTag/team": "ci"}}}]});
        assert_eq!(problems(&unknown_condition), ["iam:CreateAccessKey takes no condition key sts:ExternalId"]);
    }
}
