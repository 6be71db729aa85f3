//! The `organization` block of the types that list keys (the data source, the
//! list resource): which accounts of an AWS Organization to read, and the reading
//! of each of them, accounts in parallel, through a role in each. An account that
//! cannot be read is reported and skipped; the others' results stand.

use std::future::Future;

use futures::stream::{self, StreamExt};
use tokio_util::sync::CancellationToken;

use super::common::each_string;
use super::findings::ROOT_USER_KEY;
use crate::aws::iam::{Iam, IamError};
use crate::aws::organizations::Account;
use crate::aws::AwsClients;
use crate::framework::field::Field;
use crate::framework::schema::{Attribute, Block, Nesting};
use crate::value::summary;
use crate::value::{Diagnostics, Name, NameMap, Type, Value};

/// The role AWS Organizations creates in every account it creates.
pub const DEFAULT_ROLE_NAME: &str = "OrganizationAccountAccessRole";
/// Accounts read at once unless `max_concurrency` says otherwise.
pub const DEFAULT_MAX_CONCURRENCY: usize = 10;
/// The most accounts read at once: each also reads its users in parallel, and
/// IAM's and STS's rate limits are per account but the client's sockets are not.
pub const MOST_CONCURRENCY: i64 = 50;

crate::framework::field::fields! {
    /// The `organization` block.
    pub mod scope { account_ids, exclude_account_ids, max_concurrency, ou_ids, role_name }
}

crate::framework::field::fields! {
    /// One account that could not be read, as `failed_accounts` reports it.
    pub mod failed_account { account_id, reason }
}

/// The attributes of a `failed_accounts` entry, for the docs.
pub const FAILED_ACCOUNT_ATTRIBUTES: [(&str, &str); 2] = [
    (failed_account::account_id.name, "The account that was not read."),
    (failed_account::reason.name, "Why: the role could not be assumed, or the call that failed and its error."),
];

pub fn failed_accounts_type() -> Type {
    let fields: NameMap<Type> = FAILED_ACCOUNT_ATTRIBUTES.iter().map(|(name, _)| (Name::Borrowed(*name), Type::String)).collect();
    Type::List(Box::new(Type::Object(fields)))
}

/// `block` with the `organization` block, named `name`.
pub fn declared_in(block: Block, name: Field) -> Block {
    let strings = || Type::Set(Box::new(Type::String));
    let organization = Block::new(
        "Read every account of the AWS Organization (the provider's credentials must be allowed to list its accounts) instead of the provider's account alone: in each active account, through a role there, the keys of every user (or of `user`). The provider's own account is read with its own credentials.",
    )
    .attribute(
        Attribute::optional(scope::role_name.into(), Type::String)
            .validate(validate_role_name)
            .describe("The role to assume in each member account. Default `OrganizationAccountAccessRole`, the role AWS Organizations creates in the accounts it creates."),
    )
    .attribute(
        Attribute::optional(scope::ou_ids.into(), strings())
            .validate(validate_parent_ids)
            .describe("Only the accounts under these organizational units (or roots), and under every unit below them."),
    )
    .attribute(Attribute::optional(scope::account_ids.into(), strings()).validate(validate_account_ids).describe("Only these accounts (each must be an active account of the organization)."))
    .attribute(Attribute::optional(scope::exclude_account_ids.into(), strings()).validate(validate_account_ids).describe("Not these accounts."))
    .attribute(
        Attribute::optional(scope::max_concurrency.into(), Type::Number)
            .validate(validate_concurrency)
            .describe("Accounts read at once (each reads its users in parallel too). Default 10, at most 50."),
    );
    block.block(name.into(), Nesting::Single, organization)
}

fn validate_account_ids(v: &Value) -> Result<(), String> {
    each_string(v, |id| match id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        true => Ok(()),
        false => Err(format!("{id:?} is not an AWS account ID (12 digits)")),
    })
}

/// An organizational unit (`ou-` root part `-` unit part) or a root (`r-`), as
/// Organizations spells them.
fn validate_parent_ids(v: &Value) -> Result<(), String> {
    let lower_alnum = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    each_string(v, |id| {
        let valid = match id.split('-').collect::<Vec<_>>().as_slice() {
            ["ou", root, unit] => (4..=32).contains(&root.len()) && (8..=32).contains(&unit.len()) && lower_alnum(root) && lower_alnum(unit),
            ["r", root] => (4..=32).contains(&root.len()) && lower_alnum(root),
            _ => false,
        };
        match valid {
            true => Ok(()),
            false => Err(format!("{id:?} is not an organizational unit ID (ou-xxxx-xxxxxxxx) or a root ID (r-xxxx)")),
        }
    })
}

fn validate_role_name(v: &Value) -> Result<(), String> {
    let name = v.as_str().unwrap_or_default();
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    match (1..=64).contains(&name.len()) && name.chars().all(allowed) {
        true => Ok(()),
        false => Err(format!("{name:?} is not an IAM role name (1 to 64 letters, digits and +=,.@_-; no path)")),
    }
}

fn validate_concurrency(v: &Value) -> Result<(), String> {
    match v.as_i64() {
        Some(n) if (1..=MOST_CONCURRENCY).contains(&n) => Ok(()),
        _ => Err(format!("must be a whole number from 1 to {MOST_CONCURRENCY}")),
    }
}

/// Which accounts to read, as the block configures it.
#[derive(Clone, Debug, PartialEq)]
pub struct Scope {
    pub role_name: String,
    pub ou_ids: Vec<String>,
    pub account_ids: Vec<String>,
    pub exclude_account_ids: Vec<String>,
    pub max_concurrency: usize,
}

impl Scope {
    /// The scope the block configures; None when there is no block.
    pub fn configured(block: &Value) -> Option<Scope> {
        if block.is_null() {
            return None;
        }
        let strings =
            |field: Field| -> Vec<String> { field.of(block).as_list().unwrap_or_default().iter().filter_map(Value::as_str).map(str::to_string).collect() };
        Some(Scope {
            role_name: scope::role_name.str(block).unwrap_or(DEFAULT_ROLE_NAME).to_string(),
            ou_ids: strings(scope::ou_ids),
            account_ids: strings(scope::account_ids),
            exclude_account_ids: strings(scope::exclude_account_ids),
            max_concurrency: scope::max_concurrency.i64(block).and_then(|n| usize::try_from(n).ok()).unwrap_or(DEFAULT_MAX_CONCURRENCY),
        })
    }

    /// The accounts to read, in the organization's order, and those asked for
    /// by `account_ids` that cannot be read (not in the organization, or not
    /// active).
    pub fn chosen(&self, accounts: &[Account]) -> (Vec<String>, Vec<AccountFailure>) {
        let wanted = |id: &String| (self.account_ids.is_empty() || self.account_ids.contains(id)) && !self.exclude_account_ids.contains(id);
        let chosen = accounts.iter().filter(|a| a.active && wanted(&a.id)).map(|a| a.id.clone()).collect::<Vec<_>>();
        let unreadable: Vec<_> = self
            .account_ids
            .iter()
            .filter(|id| !chosen.contains(id) && !self.exclude_account_ids.contains(id))
            .map(|id| {
                let reason = match accounts.iter().find(|a| &a.id == id) {
                    Some(_) => "the account is not active (suspended or closing)",
                    None if self.ou_ids.is_empty() => "not an account of the organization",
                    None => "not an account of the organization under ou_ids",
                };
                AccountFailure { account_id: id.clone(), reason: reason.into() }
            })
            .collect();
        (chosen, unreadable)
    }
}

/// An account that was not read, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountFailure {
    pub account_id: String,
    pub reason: String,
}

impl AccountFailure {
    pub fn to_value(&self) -> Value {
        Value::object([(failed_account::account_id.name, Value::string(&self.account_id)), (failed_account::reason.name, Value::string(&self.reason))])
    }
}

/// One account that was read: its results, and whether its root user holds an
/// access key (IAM.4), which no role can list, so it is never among the results.
pub struct AccountRead<T> {
    pub account_id: String,
    pub items: Vec<T>,
    pub root_access_keys: bool,
}

/// What reading every chosen account found: each account's results, in the
/// organization's order, and the accounts that could not be read.
pub struct PerAccount<T> {
    pub found: Vec<AccountRead<T>>,
    pub failed: Vec<AccountFailure>,
}

impl<T> PerAccount<T> {
    /// The accounts read whose root user holds an access key, in the organization's order.
    pub fn accounts_with_root_keys(&self) -> Vec<&str> {
        self.found.iter().filter(|read| read.root_access_keys).map(|read| read.account_id.as_str()).collect()
    }

    /// One warning per account whose root user holds an access key: for the list
    /// resource, whose results are keys and so cannot carry one it cannot list.
    pub fn root_key_warnings(&self) -> Diagnostics {
        let mut warnings = Diagnostics::new();
        for account in self.accounts_with_root_keys() {
            warnings.add_warning(
                summary::ACCOUNT_HAS_A_ROOT_ACCESS_KEY.fill(&[("account", account)]),
                format!("{ROOT_USER_KEY}: the root user of AWS account {account} holds an access key (GetAccountSummary's AccountAccessKeysPresent). A role cannot list the root user's keys, so it is not among the results; the root user must delete it."),
            );
        }
        warnings
    }

    /// One warning per account not read, naming it and why (`failed_accounts`
    /// lists them too), for an operation that succeeds with the rest.
    pub fn warnings(&self) -> Diagnostics {
        let mut warnings = Diagnostics::new();
        for failure in &self.failed {
            warnings.add_warning(
                summary::ACCOUNT_NOT_READ.fill(&[("account", &failure.account_id)]),
                format!("The keys of AWS account {} are not in the results: {}.", failure.account_id, failure.reason),
            );
        }
        warnings
    }
}

/// `work` done in every account `scope` chooses, at most `max_concurrency`
/// accounts at once, each with IAM in that account, after asking whether its
/// root user holds an access key (one GetAccountSummary); an account that fails is
/// tried once more, alone, after the others. An account whose role cannot be
/// assumed or whose work fails twice is reported in `failed`; listing the
/// organization's accounts failing, or finding none to read, is the error.
pub async fn in_each_account<T, F, Fut>(clients: &AwsClients, scope: &Scope, cancel: &CancellationToken, work: F) -> Result<PerAccount<T>, Diagnostics>
where
    F: Fn(String, Iam) -> Fut,
    Fut: Future<Output = Result<Vec<T>, IamError>>,
{
    let Some(access) = clients.organization.as_ref() else {
        return Err(Diagnostics::error(summary::COULD_NOT_LIST_THE_ORGANIZATIONS_ACCOUNTS, "The provider has no AWS Organizations client."));
    };
    let accounts = access.organizations().accounts(&scope.ou_ids, cancel).await.map_err(|e| {
        let detail = format!("{e}.\n\nThe provider's credentials must be those of the organization's management account or of a delegated administrator, allowed organizations:ListAccounts (and, with ou_ids, organizations:ListAccountsForParent and organizations:ListChildren).");
        Diagnostics::error(summary::COULD_NOT_LIST_THE_ORGANIZATIONS_ACCOUNTS, detail)
    })?;
    let (chosen, mut failed) = scope.chosen(&accounts);
    if chosen.is_empty() {
        let listed = if scope.ou_ids.is_empty() { "The organization" } else { "The organizational units in ou_ids" };
        let detail = format!("{listed} has no active account that account_ids and exclude_account_ids leave to read ({} accounts listed).", accounts.len());
        return Err(Diagnostics::error(summary::NO_ACCOUNTS_TO_READ, detail));
    }
    let work = &work;
    let outcomes = read_each(chosen, scope.max_concurrency, cancel, |account| async move {
        match clients.iam_in_account(&account, &scope.role_name).await {
            Ok(iam) => read_account(&account, iam, work, cancel).await.map_err(|e| e.to_string()),
            Err(refused) => Err(refused.to_string()),
        }
    })
    .await;
    let mut read_accounts = Vec::new();
    for (account, outcome) in outcomes {
        match outcome {
            Ok(read) => read_accounts.push(read),
            Err(reason) => failed.push(AccountFailure { account_id: account, reason }),
        }
    }
    Ok(PerAccount { found: read_accounts, failed })
}

/// `read` of every account, at most `max_concurrency` at once, and the outcomes in
/// the accounts' order. An account whose read fails is read once more, alone,
/// after the others: what outlasts the retries is mostly throttling, which the
/// reads in parallel cause (the management account's STS calls, and in its own
/// account its IAM calls, share one rate limit), and an account read alone gets
/// through. One that fails again keeps its failure. A cancelled audit reports
/// what it had.
async fn read_each<T, R, Fut>(accounts: Vec<String>, max_concurrency: usize, cancel: &CancellationToken, read: R) -> Vec<(String, Result<T, String>)>
where
    R: Fn(String) -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let read = &read;
    let attempt = |(order, account): (usize, String)| async move {
        let outcome = read(account.clone()).await;
        (order, account, outcome)
    };
    let first = stream::iter(accounts.into_iter().enumerate().map(attempt)).buffered(max_concurrency.max(1)).collect::<Vec<_>>().await;
    let (mut outcomes, failed): (Vec<_>, Vec<_>) = first.into_iter().partition(|(_, _, outcome)| outcome.is_ok());
    let again = match cancel.is_cancelled() {
        true => failed,
        false => stream::iter(failed.into_iter().map(|(order, account, _)| attempt((order, account)))).buffered(1).collect::<Vec<_>>().await,
    };
    outcomes.extend(again);
    outcomes.sort_by_key(|(order, _, _)| *order);
    outcomes.into_iter().map(|(_, account, outcome)| (account, outcome)).collect()
}

/// One account's read: whether its root user holds a key, then `work`.
async fn read_account<T, F, Fut>(account: &str, iam: Iam, work: &F, cancel: &CancellationToken) -> Result<AccountRead<T>, IamError>
where
    F: Fn(String, Iam) -> Fut,
    Fut: Future<Output = Result<Vec<T>, IamError>>,
{
    let root_access_keys = iam.root_access_keys_present(cancel).await?;
    let items = work(account.to_string(), iam).await?;
    Ok(AccountRead { account_id: account.to_string(), items, root_access_keys })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::field::declares_exactly;

    fn account(id: &str, active: bool) -> Account {
        Account { id: id.into(), name: format!("account {id}"), active }
    }

    fn block(set: &[(Field, Value)]) -> Value {
        let mut block = Value::object([]);
        for (field, value) in set {
            field.set(&mut block, value.clone());
        }
        block
    }

    fn ids(ids: &[&str]) -> Value {
        Value::List(ids.iter().map(|id| Value::string(*id)).collect())
    }

    #[test]
    fn the_block_declares_its_fields_and_defaults_apply() {
        let declared = declared_in(Block::new(""), Field::new("organization", &["organization"]));
        assert_eq!(declares_exactly(&declared.blocks[0].block, scope::NAMES), Ok(()));
        assert_eq!(Scope::configured(&Value::Null), None, "no block: the provider's account alone");
        let defaults = Scope::configured(&block(&[])).unwrap();
        assert_eq!((defaults.role_name.as_str(), defaults.max_concurrency), (DEFAULT_ROLE_NAME, DEFAULT_MAX_CONCURRENCY));
        let set = Scope::configured(&block(&[
            (scope::role_name, Value::string("Auditor")),
            (scope::max_concurrency, Value::Number(crate::value::Number::Int(3))),
            (scope::ou_ids, ids(&["ou-ab12-cd34ef56"])),
            (scope::account_ids, ids(&["111111111111"])),
            (scope::exclude_account_ids, ids(&["222222222222"])),
        ]))
        .unwrap();
        let expected = Scope {
            role_name: "Auditor".into(),
            ou_ids: vec!["ou-ab12-cd34ef56".into()],
            account_ids: vec!["111111111111".into()],
            exclude_account_ids: vec!["222222222222".into()],
            max_concurrency: 3,
        };
        assert_eq!(set, expected, "every argument is read from its own slot");
    }

    #[test]
    fn accounts_are_chosen_by_the_lists_and_active_only() {
        let accounts = [account("111111111111", true), account("222222222222", true), account("333333333333", false)];
        let all = Scope::configured(&block(&[])).unwrap();
        assert_eq!(all.chosen(&accounts), (vec!["111111111111".to_string(), "222222222222".into()], vec![]), "a suspended account is not read");

        let excluded = Scope::configured(&block(&[(scope::exclude_account_ids, ids(&["111111111111"]))])).unwrap();
        assert_eq!(excluded.chosen(&accounts).0, ["222222222222"]);

        let named = Scope::configured(&block(&[(scope::account_ids, ids(&["222222222222", "333333333333", "444444444444"]))])).unwrap();
        let (chosen, unreadable) = named.chosen(&accounts);
        assert_eq!(chosen, ["222222222222"]);
        let reasons: Vec<_> = unreadable.iter().map(|f| (f.account_id.as_str(), f.reason.as_str())).collect();
        assert_eq!(reasons, [("333333333333", "the account is not active (suspended or closing)"), ("444444444444", "not an account of the organization")]);
    }

    /// Reads `accounts` with `read_each`: each read fails while its account has
    /// failures left in `failures`; returns the outcomes, how often each account
    /// was read, and the most reads in flight at once.
    async fn read_with_failures(accounts: &[&str], max_concurrency: usize, failures: &[(&str, usize)], cancel: &CancellationToken) -> ReadLog {
        use std::collections::HashMap;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Mutex;
        let left: Mutex<HashMap<String, usize>> = Mutex::new(failures.iter().map(|(a, n)| (a.to_string(), *n)).collect());
        let reads: Mutex<Vec<String>> = Mutex::default();
        let (in_flight, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let accounts = accounts.iter().map(|a| a.to_string()).collect();
        let outcomes = read_each(accounts, max_concurrency, cancel, |account| {
            let (left, reads, in_flight, most) = (&left, &reads, &in_flight, &most);
            async move {
                reads.lock().unwrap().push(account.clone());
                most.fetch_max(in_flight.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                // Give the other reads their turn, as a read waiting on IAM would.
                tokio::task::yield_now().await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                match left.lock().unwrap().get_mut(&account) {
                    Some(n) if *n > 0 => {
                        *n -= 1;
                        Err(format!("{account} throttled"))
                    }
                    _ => Ok(account.to_uppercase()),
                }
            }
        })
        .await;
        let reads = reads.into_inner().unwrap();
        let most = most.into_inner();
        ReadLog { outcomes, reads, most_in_flight: most }
    }

    struct ReadLog {
        outcomes: Vec<(String, Result<String, String>)>,
        reads: Vec<String>,
        most_in_flight: usize,
    }

    impl ReadLog {
        fn times_read(&self, account: &str) -> usize {
            self.reads.iter().filter(|a| *a == account).count()
        }
    }

    #[tokio::test]
    async fn an_account_that_fails_is_read_once_more_alone_after_the_others() {
        let log = read_with_failures(&["a", "b", "c", "d"], 2, &[("b", 1), ("c", 2)], &CancellationToken::new()).await;
        let expected =
            vec![("a".to_string(), Ok("A".to_string())), ("b".into(), Ok("B".into())), ("c".into(), Err("c throttled".into())), ("d".into(), Ok("D".into()))];
        assert_eq!(log.outcomes, expected, "b got through the second time; c failed twice and keeps its failure; the accounts' order holds");
        assert_eq!((log.times_read("a"), log.times_read("b"), log.times_read("c")), (1, 2, 2), "only a failed account is read again, once");
        assert_eq!(&log.reads[4..], ["b", "c"], "after every first read");
        assert_eq!(log.most_in_flight, 2, "max_concurrency reads at once");
    }

    #[tokio::test]
    async fn a_cancelled_audit_reads_no_account_again() {
        let cancel = CancellationToken::new();
        cancel.cancel();
        let log = read_with_failures(&["a", "b"], 10, &[("b", 1)], &cancel).await;
        assert_eq!(log.times_read("b"), 1);
        assert_eq!(log.outcomes[1], ("b".to_string(), Err("b throttled".to_string())));
    }

    #[test]
    fn identifiers_are_checked_as_organizations_spells_them() {
        assert!(validate_account_ids(&ids(&["123456789012"])).is_ok());
        assert!(validate_account_ids(&ids(&["12345678901"])).unwrap_err().contains("12 digits"));
        assert!(validate_parent_ids(&ids(&["ou-ab12-cd34ef56", "r-ab12"])).is_ok());
        for bad in ["ou-ab12", "OU-ab12-cd34ef56", "ou-ab12-cd34", "123456789012"] {
            assert!(validate_parent_ids(&ids(&[bad])).is_err(), "{bad}");
        }
        assert!(validate_role_name(&Value::string("OrganizationAccountAccessRole")).is_ok());
        assert!(validate_role_name(&Value::string("path/Role")).is_err(), "a role name has no path");
        assert!(validate_concurrency(&Value::Number(crate::value::Number::Int(0))).is_err());
        assert!(validate_concurrency(&Value::Number(crate::value::Number::Int(51))).is_err());
    }
}
