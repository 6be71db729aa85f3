//! AWS Organizations, read only: which accounts an organization has, all of them
//! (ListAccounts) or those under organizational units and every unit below them
//! (ListAccountsForParent, ListChildren), all pages through the SDK's paginators.

use aws_sdk_organizations::types::{AccountState, AccountStatus, ChildType};
use tokio_util::sync::CancellationToken;

use super::{clause, describe_failure};

/// One account of the organization.
#[derive(Clone, Debug, PartialEq)]
pub struct Account {
    pub id: String,
    pub name: String,
    /// Only an active account can be entered (suspended and closing ones refuse).
    pub active: bool,
}

/// A refused or failed Organizations call, naming the call (the policy to check).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("organizations:{call} failed: {}", clause(reason))]
pub struct OrganizationsError {
    pub call: &'static str,
    pub reason: String,
}

#[derive(Clone, Debug)]
pub struct Organizations {
    client: aws_sdk_organizations::Client,
}

impl Organizations {
    pub fn new(client: aws_sdk_organizations::Client) -> Self {
        Organizations { client }
    }

    /// Every account of the organization (ListAccounts), or, when `units` are
    /// named, every account under them and under the units below them.
    pub async fn accounts(&self, units: &[String], cancel: &CancellationToken) -> Result<Vec<Account>, OrganizationsError> {
        let listing = async {
            if units.is_empty() {
                return self.all_accounts().await;
            }
            let mut accounts = Vec::new();
            // Unit by unit, depth first; each is visited once (a tree has no cycles,
            // but a unit named twice, or under another named one, is listed once).
            let mut pending: Vec<String> = units.to_vec();
            let mut seen = std::collections::HashSet::new();
            while let Some(unit) = pending.pop() {
                if !seen.insert(unit.clone()) {
                    continue;
                }
                accounts.extend(self.accounts_in(&unit).await?);
                pending.extend(self.units_in(&unit).await?);
            }
            let mut listed = std::collections::HashSet::new();
            accounts.retain(|a: &Account| listed.insert(a.id.clone()));
            Ok(accounts)
        };
        tokio::select! {
            biased;
            _ = cancel.cancelled() => Err(OrganizationsError { call: "ListAccounts", reason: "cancelled: Terraform asked the provider to stop".into() }),
            result = listing => result,
        }
    }

    async fn all_accounts(&self) -> Result<Vec<Account>, OrganizationsError> {
        let pages: Vec<_> = self.client.list_accounts().into_paginator().send().try_collect().await.map_err(|e| failed("ListAccounts", e))?;
        Ok(pages.iter().flat_map(|page| page.accounts()).map(account).collect())
    }

    async fn accounts_in(&self, unit: &str) -> Result<Vec<Account>, OrganizationsError> {
        let pages = self.client.list_accounts_for_parent().parent_id(unit).into_paginator().send();
        let pages: Vec<_> = pages.try_collect().await.map_err(|e| failed("ListAccountsForParent", e))?;
        Ok(pages.iter().flat_map(|page| page.accounts()).map(account).collect())
    }

    async fn units_in(&self, unit: &str) -> Result<Vec<String>, OrganizationsError> {
        let pages = self.client.list_children().parent_id(unit).child_type(ChildType::OrganizationalUnit).into_paginator().send();
        let pages: Vec<_> = pages.try_collect().await.map_err(|e| failed("ListChildren", e))?;
        Ok(pages.iter().flat_map(|page| page.children()).filter_map(|c| c.id().map(str::to_string)).collect())
    }
}

fn failed<E: aws_sdk_organizations::error::ProvideErrorMetadata + std::error::Error + 'static>(
    call: &'static str,
    e: super::SdkFailure<E>,
) -> OrganizationsError {
    OrganizationsError { call, reason: describe_failure(&e) }
}

/// An account as the SDK gives it: `State` where Organizations sends it, else the
/// older `Status`.
#[allow(deprecated)]
fn account(a: &aws_sdk_organizations::types::Account) -> Account {
    let active = match (a.state(), a.status()) {
        (Some(state), _) => *state == AccountState::Active,
        (None, Some(status)) => *status == AccountStatus::Active,
        (None, None) => false,
    };
    Account { id: a.id().unwrap_or_default().to_string(), name: a.name().unwrap_or_default().to_string(), active }
}
