//! Control findings on access keys, as auditors ask about them: stable ids
//! (AWS Security Hub's, and one of Prowler's) with a short reason, computed from
//! what a listing already knows (age, last use, status, owner, and how many
//! active keys the owner has), never from another call.

use std::collections::HashMap;

use super::inventory::KeyReport;
use crate::framework::field::Field;
use crate::framework::schema::{Attribute, Block};
use crate::value::{Name, NameMap, Type, Value};

/// Security Hub IAM.3: active keys are rotated within the limit (90 days).
pub const KEY_NOT_ROTATED: &str = "IAM.3";
/// Security Hub IAM.22 (CIS 1.12): an active key unused for the limit (45 days).
pub const KEY_UNUSED: &str = "IAM.22";
/// Security Hub IAM.4: the root user has no access key.
pub const ROOT_USER_KEY: &str = "IAM.4";
/// Prowler's check: a user has one active key at most.
pub const TWO_ACTIVE_KEYS: &str = "TWO_ACTIVE_KEYS";

/// The limits the age findings use.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    pub max_age_days: i64,
    pub max_unused_days: i64,
}

impl Default for Thresholds {
    /// Security Hub's: 90 days for rotation, 45 for unused credentials.
    fn default() -> Self {
        Thresholds { max_age_days: 90, max_unused_days: 45 }
    }
}

/// One control a key fails.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub control: &'static str,
    pub reason: String,
}

/// The findings of each of `reports` (in their order). `root_keys`: the reports
/// are the root user's keys (a listing of the root caller's own keys). Inactive
/// keys fail no age control: they sign nothing (Security Hub's IAM.3 and IAM.22
/// evaluate active keys); a root user's key fails IAM.4 whatever its status.
pub fn findings_of(reports: &[KeyReport], root_keys: bool, limits: &Thresholds) -> Vec<Vec<Finding>> {
    // Counted once: an account's listing holds every key of every user.
    let mut active_keys: HashMap<&str, usize> = HashMap::new();
    for report in reports.iter().filter(|r| r.key.status == "Active") {
        *active_keys.entry(report.key.user_name.as_str()).or_default() += 1;
    }
    let active_keys_of = |user: &str| active_keys.get(user).copied().unwrap_or(0);
    reports.iter().map(|report| key_findings(report, root_keys, active_keys_of(&report.key.user_name), limits)).collect()
}

fn key_findings(report: &KeyReport, root_key: bool, active_keys_of_user: usize, limits: &Thresholds) -> Vec<Finding> {
    let mut found = Vec::new();
    if root_key {
        found.push(Finding { control: ROOT_USER_KEY, reason: "an access key of the root user".into() });
    }
    if report.key.status != "Active" {
        return found;
    }
    if let Some(age) = report.age_days().filter(|age| *age > limits.max_age_days) {
        found.push(Finding { control: KEY_NOT_ROTATED, reason: format!("active and {age} days old (limit {})", limits.max_age_days) });
    }
    if let Some(unused) = report.unused_days().filter(|days| *days > limits.max_unused_days) {
        let how = match report.last_used.date {
            Some(_) => format!("unused for {unused} days"),
            None => format!("never used in its {unused} days"),
        };
        found.push(Finding { control: KEY_UNUSED, reason: format!("active and {how} (limit {})", limits.max_unused_days) });
    }
    if active_keys_of_user > 1 {
        found.push(Finding { control: TWO_ACTIVE_KEYS, reason: format!("{} has {active_keys_of_user} active keys", report.key.user_name) });
    }
    found
}

crate::framework::field::fields! {
    /// One finding, as the data source reports it.
    pub mod finding { control, reason }
}

/// The type of a key's findings: a list of objects of strings (the data
/// source's `findings` description says what each one holds).
pub fn findings_type() -> Type {
    let fields: NameMap<Type> = finding::NAMES.iter().map(|name| (Name::Borrowed(*name), Type::String)).collect();
    Type::List(Box::new(Type::Object(fields)))
}

pub fn to_value(findings: &[Finding]) -> Value {
    Value::List(
        findings.iter().map(|f| Value::object([(finding::control.name, Value::string(f.control)), (finding::reason.name, Value::string(&f.reason))])).collect(),
    )
}

/// The controls, comma-separated, for a line a person reads (`IAM.3, IAM.22`).
pub fn controls(findings: &[Finding]) -> String {
    findings.iter().map(|f| f.control).collect::<Vec<_>>().join(", ")
}

/// The two limits as arguments, declared once for every type that reports
/// findings and named by each type's own fields.
pub struct ThresholdArguments {
    pub max_age_days: Field,
    pub max_unused_days: Field,
}

impl ThresholdArguments {
    pub fn declared_in(&self, block: Block) -> Block {
        block
            .attribute(
                Attribute::optional(self.max_age_days.into(), Type::Number)
                    .validate(super::inventory::validate_whole_days)
                    .describe("Finding `IAM.3` for an active key older than this many whole days. Default 90 (Security Hub's)."),
            )
            .attribute(Attribute::optional(self.max_unused_days.into(), Type::Number).validate(super::inventory::validate_whole_days).describe(
                "Finding `IAM.22` for an active key unused (or, never used, created) more than this many whole days ago. Default 45 (Security Hub's).",
            ))
    }

    pub fn thresholds(&self, config: &Value) -> Thresholds {
        let default = Thresholds::default();
        Thresholds {
            max_age_days: self.max_age_days.i64(config).unwrap_or(default.max_age_days),
            max_unused_days: self.max_unused_days.i64(config).unwrap_or(default.max_unused_days),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::iam::{KeyMetadata, LastUsed};

    const DAY: i64 = 86_400;
    const NOW: i64 = 1_000 * DAY;

    fn key(user: &str, status: &str, age_days: i64, last_used_days_ago: Option<i64>) -> KeyReport {
        let date = |days_ago: i64| aws_smithy_types::DateTime::from_secs(NOW - days_ago * DAY).fmt(aws_smithy_types::date_time::Format::DateTime).unwrap();
        KeyReport {
            key: KeyMetadata::created_at(&format!("AKIA{user}{age_days}"), user, status, NOW - age_days * DAY),
            last_used: LastUsed { date: last_used_days_ago.map(date), service: None, region: None },
            as_of: NOW,
        }
    }

    fn ids(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.control).collect()
    }

    #[test]
    fn age_and_use_findings_follow_the_limits_and_only_for_active_keys() {
        let limits = Thresholds::default();
        let reports = [
            key("old", "Active", 91, Some(1)),
            key("fresh", "Active", 90, Some(1)),
            key("idle", "Active", 60, Some(46)),
            key("never", "Active", 46, None),
            key("young", "Active", 45, None),
            key("off", "Inactive", 400, None),
        ];
        let found = findings_of(&reports, false, &limits);
        let got: Vec<Vec<&str>> = found.iter().map(|f| ids(f)).collect();
        assert_eq!(got, [vec!["IAM.3"], vec![], vec!["IAM.22"], vec!["IAM.22"], vec![], vec![]]);
        assert_eq!(found[0][0].reason, "active and 91 days old (limit 90)");
        assert_eq!(found[2][0].reason, "active and unused for 46 days (limit 45)");
        assert_eq!(found[3][0].reason, "active and never used in its 46 days (limit 45)");

        let stricter = Thresholds { max_age_days: 30, max_unused_days: 10 };
        assert_eq!(ids(&findings_of(&reports[1..2], false, &stricter)[0]), ["IAM.3"], "the limits are the caller's");
    }

    #[test]
    fn two_active_keys_of_one_user_are_each_found_and_a_root_key_always() {
        let limits = Thresholds::default();
        let reports = [key("alice", "Active", 1, None), key("alice", "Active", 2, None), key("bob", "Active", 1, None), key("bob", "Inactive", 2, None)];
        let found = findings_of(&reports, false, &limits);
        assert_eq!(found.iter().map(|f| ids(f)).collect::<Vec<_>>(), [vec!["TWO_ACTIVE_KEYS"], vec!["TWO_ACTIVE_KEYS"], vec![], vec![]]);
        assert_eq!(found[0][0].reason, "alice has 2 active keys");
        let root = findings_of(&[key("root", "Inactive", 1, None)], true, &limits);
        assert_eq!(ids(&root[0]), ["IAM.4"], "an inactive root key is still a root key");
    }
}
