//! The operations of `iamkey_access_key`: create (never orphaning a key),
//! read, update, delete, import, identity and `moved` from hashicorp/aws.

use async_trait::async_trait;
use futures::future::OptionFuture;

use super::schema::*;
use super::secret::*;
use super::*;
use crate::aws::iam::{CreateFailure, IamError, KeyMetadata};
use crate::framework::schema::Schema;
use crate::framework::{ApplyOutcome, OpContext, Resource};
use crate::resources::pgp::RecipientKey;
use crate::value::{AttributePath, Diagnostics, Value};

/// The state attributes IAM reports for a key; everything else carries over.
pub(super) fn with_metadata(mut state: Value, key: &KeyMetadata) -> Value {
    state.set("id", Value::string(&key.access_key_id));
    state.set("user", Value::string(&key.user_name));
    state.set("status", Value::string(&key.status));
    if let Some(date) = &key.create_date {
        state.set("create_date", Value::string(date));
    }
    state
}

/// The one place IAM errors become diagnostics.
pub(super) fn iam_diagnostic(error: &IamError, path: Option<AttributePath>) -> Diagnostics {
    let mut diags = Diagnostics::new();
    // The summary names the call; the detail adds only what the summary does not say.
    let (summary, detail) = match error {
        IamError::Service { operation, code, message, .. } => (format!("IAM {operation} failed ({code})"), format!("IAM answered: {message}")),
        IamError::Transport { operation, reason, .. } => (format!("IAM {operation} failed"), format!("The call did not complete: {reason}.")),
        IamError::Cancelled { .. } => ("Operation cancelled".to_string(), error.to_string()),
    };
    match path {
        Some(path) => diags.add_error_at(path, summary, detail),
        None => diags.add_error(summary, detail),
    }
    diags
}

impl AccessKeyResource {
    /// Writes (or, for null, removes) the description tag and records the result
    /// in `state`.
    pub(super) async fn apply_description(&self, ctx: &OpContext, user: &str, id: &str, wanted: &Value, state: &mut Value) -> Result<(), Diagnostics> {
        let clients = self.clients.get()?;
        let result = match wanted.as_str() {
            Some(description) => clients.iam.tag_user(user, id, description, &ctx.cancel).await,
            None => clients.iam.untag_user(user, id, &ctx.cancel).await,
        };
        result.map_err(|e| iam_diagnostic(&e, Some(AttributePath::root("description"))))?;
        state.set("description", wanted.clone());
        Ok(())
    }
}

#[async_trait]
impl Resource for AccessKeyResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate_destination(config, diags);
        if config.get("wait_until_usable").as_bool() == Some(true) && config.get("status").as_str() == Some("Inactive") {
            diags.add_error_at(
                AttributePath::root("wait_until_usable"),
                "An Inactive key never becomes usable",
                "wait_until_usable waits until the new key authenticates, which an Inactive key never does. Create it Active, or leave wait_until_usable unset.",
            );
        }
    }

    /// Rotation: a key past `rotation.after_days`, or a change of
    /// `rotation.keepers`, is replaced.
    fn replacement_reasons(&self, ctx: &OpContext, prior: &Value, planned: &Value) -> Vec<AttributePath> {
        self.reasons_to_replace(ctx, prior, planned)
    }

    /// Secrets in clear or encrypted: which of the two pairs stays null is known
    /// at plan time whenever `pgp_key` is.
    fn modify_plan(&self, prior: &Value, config: &Value, planned: &mut Value) {
        self.plan_secret_attributes(prior, config, planned)
    }

    async fn check_plan(&self, ctx: &OpContext, prior: &Value, config: &Value, planned: &mut Value) -> Diagnostics {
        self.check_against_iam(ctx, prior, config, planned).await
    }

    async fn create(&self, ctx: &OpContext, planned: &Value) -> ApplyOutcome {
        let clients = match self.clients.get() {
            Ok(c) => c,
            Err(d) => return ApplyOutcome::failed(Value::Null, d),
        };
        // Everything that can fail on input fails before the key exists.
        let recipient = match planned.get("pgp_key").as_str().map(RecipientKey::parse) {
            None => None,
            Some(Ok(key)) => Some(key),
            Some(Err(reason)) => {
                let mut d = Diagnostics::new();
                d.add_error_at(AttributePath::root("pgp_key"), "Invalid pgp_key", reason);
                return ApplyOutcome::failed(Value::Null, d);
            }
        };
        let callers_user;
        let user = match planned.get("user").as_str() {
            Some(user) => Some(user),
            None => match self.owner_of_callers_key(planned).await {
                Ok(name) => {
                    callers_user = name;
                    callers_user.as_deref()
                }
                Err(d) => return ApplyOutcome::failed(Value::Null, d),
            },
        };
        let created = match clients.iam.create_access_key(user, &ctx.cancel).await {
            Ok(created) => created,
            Err(CreateFailure::NotCreated(e)) if e.is_limit_exceeded() => {
                return ApplyOutcome::failed(Value::Null, self.quota_diagnostic(user, &e, &ctx.clock).await)
            }
            Err(CreateFailure::NotCreated(e)) if e.is_no_such_entity() && user.is_some() => {
                let mut d = iam_diagnostic(&e, Some(AttributePath::root("user")));
                d.append_detail(&format!(
                    "IAM has no user {:?} (waited {} s for a newly created user to become visible).",
                    user.unwrap_or_default(),
                    crate::aws::iam::PROPAGATION_TIMEOUT.as_secs()
                ));
                return ApplyOutcome::failed(Value::Null, d);
            }
            Err(CreateFailure::NotCreated(e)) => return ApplyOutcome::failed(Value::Null, iam_diagnostic(&e, None)),
            Err(CreateFailure::Unattributable { appeared, cause }) => {
                return ApplyOutcome::failed(Value::Null, crate::resources::inventory::uncertain_create(user, &appeared, &cause))
            }
            Err(CreateFailure::CreatedWithoutSecret { key, cause }) => {
                // The key exists but its secret is lost: track it (Terraform taints
                // it, and the next apply replaces it) rather than orphan it.
                let state = with_metadata(planned_without_unknowns(planned), &key);
                ctx.partial_state.record(state.clone());
                let mut d = Diagnostics::new();
                d.add_error(
                    "Access key created, but its secret was lost",
                    format!(
                        "IAM created access key {} but its answer did not arrive ({cause}). The key is kept in \
                         state and marked tainted, so the next apply replaces it with a key whose secret is known.",
                        key.access_key_id
                    ),
                );
                return ApplyOutcome::failed(state, d);
            }
        };
        // From here on the key exists: every exit returns it in state.
        let mut state = with_metadata(planned_without_unknowns(planned), &created.metadata);
        state.set("description", Value::Null); // until its tag is written
        ctx.partial_state.record(state.clone());
        crate::testhooks::panic_point("after-create");
        match secret_attributes(&created.secret, &clients.region, planned.get("ses_smtp_regions"), recipient.as_ref()) {
            Ok(attributes) => match destination_of(planned) {
                None => {
                    for (name, value) in attributes {
                        state.set(name, value);
                    }
                }
                Some(destination) => match self.write_to_destination(&destination, &created.metadata.access_key_id, attributes).await {
                    Ok(version) => state.set("secret_destination_version", Value::string(version)),
                    Err(d) => return ApplyOutcome::failed(state, d),
                },
            },
            Err(reason) => {
                let mut d = Diagnostics::new();
                d.add_error_at(
                    AttributePath::root("pgp_key"),
                    "Could not encrypt the secret",
                    format!("{reason}. The key {} is kept in state and marked tainted; the next apply replaces it.", created.metadata.access_key_id),
                );
                return ApplyOutcome::failed(state, d);
            }
        }
        ctx.partial_state.record(state.clone());
        let wanted = planned.get("status").as_str().unwrap_or("Active");
        if wanted != created.metadata.status {
            if let Err(e) = clients.iam.update_access_key(&created.metadata.user_name, &created.metadata.access_key_id, wanted, &ctx.cancel).await {
                // State keeps the status the key really has; Terraform taints it.
                return ApplyOutcome::failed(state, iam_diagnostic(&e, Some(AttributePath::root("status"))));
            }
            state.set("status", Value::string(wanted));
        }
        let key = &created.metadata;
        if planned.get("wait_until_usable").as_bool() == Some(true) {
            if let Err(d) = self.wait_until_usable(ctx, &key.access_key_id, &created.secret).await {
                return ApplyOutcome::failed(state, d);
            }
        }
        let description = planned.get("description");
        if !description.is_null() {
            if let Err(d) = self.apply_description(ctx, &key.user_name, &key.access_key_id, description, &mut state).await {
                return ApplyOutcome::failed(state, d);
            }
        }
        ApplyOutcome::ok(state)
    }

    fn refreshing_failed_create(&self, state: &Value) {
        if let Some(id) = state.get("id").as_str() {
            self.leaving.lock().unwrap_or_else(|p| p.into_inner()).insert(id.to_string());
        }
    }

    /// One ListAccessKeys per user (shared by its keys) is all a default refresh
    /// costs. Last use costs one GetAccessKeyLastUsed per key, only with
    /// `refresh_last_used`; the user's tags one ListUserTags per user, only for a key
    /// that manages a description, or an import stub (no create_date: never read)
    /// that may adopt one.
    async fn read(&self, ctx: &OpContext, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let clients = self.clients.get()?;
        let (Some(id), user) = (state.get("id").as_str(), state.get("user").as_str()) else {
            return Ok(None);
        };
        let wants_last_use = state.get(REFRESH_LAST_USED).as_bool() == Some(true);
        let wants_description = !state.get("description").is_null() || state.get("create_date").is_null();
        // The calls go out together, so a read waits for one round trip, not two
        // (the tags need the user's name: for the caller's own key it comes from
        // the listing).
        let (keys, last_used, named_user_tags) = tokio::join!(
            clients.iam.keys_for_read(user, &ctx.cancel),
            OptionFuture::from(wants_last_use.then(|| clients.iam.last_used(id, &ctx.cancel))),
            OptionFuture::from(user.filter(|_| wants_description).map(|u| clients.iam.user_tags_for_read(u, &ctx.cancel))),
        );
        let keys = match keys {
            Ok(keys) => keys,
            Err(e) if e.is_no_such_entity() => {
                tracing::warn!(access_key_id = id, "the key's user is gone; removing the key from state");
                return Ok(None);
            }
            Err(e) => return Err(iam_diagnostic(&e, None)),
        };
        let Some(key) = keys.iter().find(|k| k.access_key_id == id) else {
            tracing::warn!(access_key_id = id, "the key is gone; removing it from state");
            return Ok(None);
        };
        let mut new_state = with_metadata(state.clone(), key);
        match last_used {
            Some(Ok(used)) => {
                new_state.set("last_used_date", used.date.map_or(Value::Null, Value::string));
                new_state.set("last_used_service", used.service.map_or(Value::Null, Value::string));
                new_state.set("last_used_region", used.region.map_or(Value::Null, Value::string));
            }
            // Last use is information, not configuration: a caller without
            // iam:GetAccessKeyLastUsed keeps the values it had, and is told.
            Some(Err(e)) => {
                ctx.warnings.add("Last use not refreshed", format!("The last use of access key {id} could not be read, so the values in state are kept: {e}."))
            }
            // Not asked for: nothing stale is kept.
            None => {
                for name in ["last_used_date", "last_used_service", "last_used_region"] {
                    new_state.set(name, Value::Null);
                }
            }
        }
        if !wants_description {
            return Ok(Some(new_state));
        }
        let tags = match named_user_tags {
            Some(tags) => tags,
            None => clients.iam.user_tags_for_read(&key.user_name, &ctx.cancel).await,
        };
        match tags {
            Ok(tags) => new_state.set("description", tags.get(id).map_or(Value::Null, |d| Value::string(d.as_str()))),
            // An import stub has no description to lose: say what was not adopted.
            Err(e) if state.get("description").is_null() => ctx.warnings.add(
                "Description not read",
                format!("The tags of the user of access key {id} could not be read, so a description it has is not imported: {e}."),
            ),
            Err(e) => return Err(iam_diagnostic(&e, Some(AttributePath::root("description")))),
        }
        Ok(Some(new_state))
    }

    async fn update(&self, ctx: &OpContext, prior: &Value, planned: &Value) -> ApplyOutcome {
        let clients = match self.clients.get() {
            Ok(c) => c,
            Err(d) => return ApplyOutcome::failed(prior.clone(), d),
        };
        let (id, user, status) = (
            planned.get("id").as_str().unwrap_or_default(),
            planned.get("user").as_str().unwrap_or_default(),
            planned.get("status").as_str().unwrap_or("Active"),
        );
        // The state returned says what IAM has: each change lands in it once done.
        let mut state = prior.clone();
        if planned.get("status") != prior.get("status") {
            if let Err(e) = clients.iam.update_access_key(user, id, status, &ctx.cancel).await {
                return ApplyOutcome::failed(state, iam_diagnostic(&e, Some(AttributePath::root("status"))));
            }
            state.set("status", planned.get("status").clone());
        }
        if planned.get("description") != prior.get("description") {
            if let Err(d) = self.apply_description(ctx, user, id, planned.get("description"), &mut state).await {
                return ApplyOutcome::failed(state, d);
            }
        }
        ApplyOutcome::ok(planned.clone())
    }

    async fn delete(&self, ctx: &OpContext, prior: &Value) -> Diagnostics {
        let clients = match self.clients.get() {
            Ok(c) => c,
            Err(d) => return d,
        };
        let (id, user) = (prior.get("id").as_str().unwrap_or_default(), prior.get("user").as_str().unwrap_or_default());
        if let Err(e) = clients.iam.delete_access_key(user, id, &ctx.cancel).await {
            return iam_diagnostic(&e, None);
        }
        // The description goes with the key. If this fails the object stays in
        // state; the next destroy finds the key gone and removes the tag.
        if !prior.get("description").is_null() {
            if let Err(e) = clients.iam.untag_user(user, id, &ctx.cancel).await {
                return iam_diagnostic(&e, Some(AttributePath::root("description")));
            }
        }
        Diagnostics::new()
    }

    /// `moved { from = aws_iam_access_key.x  to = iamkey_access_key.x }`: every
    /// attribute of hashicorp/aws's resource (schema version 0) has the same name
    /// and meaning here, the secret included, so the key is adopted as it is.
    fn accepts_moved_state(&self, source_provider: &str, source_type: &str, source_version: i64) -> bool {
        source_provider.ends_with("hashicorp/aws") && source_type == "aws_iam_access_key" && source_version == 0
    }

    fn identity_schema(&self) -> Option<&Schema> {
        Some(&self.identity_schema)
    }

    fn identity(&self, state: &Value) -> Option<Value> {
        let account_id = self.clients.get().ok()?.account_id.clone()?;
        Some(Value::object([("account_id", Value::string(account_id)), ("user", state.get("user").clone()), ("access_key_id", state.get("id").clone())]))
            .filter(|identity| ["user", "access_key_id"].iter().all(|a| identity.get(a).as_str().is_some()))
    }

    async fn import_by_identity(&self, ctx: &OpContext, identity: &Value) -> Result<Value, Diagnostics> {
        let id = identity.get("access_key_id").as_str().unwrap_or_default();
        if let (Some(wanted), Some(ours)) = (identity.get("account_id").as_str(), self.clients.get()?.account_id.as_deref()) {
            if wanted != ours {
                return Err(Diagnostics::error(
                    "Identity is in another account",
                    format!("The identity names account {wanted}, but the provider's credentials are for account {ours}. Import with a provider configured for {wanted}."),
                ));
            }
        }
        let import_id = match identity.get("user").as_str() {
            Some(user) => format!("{user}/{id}"),
            None => id.to_string(),
        };
        self.import(ctx, &import_id).await
    }

    async fn import(&self, ctx: &OpContext, import_id: &str) -> Result<Value, Diagnostics> {
        let invalid =
            |reason: String| Diagnostics::error("Invalid import ID", format!("{reason}\n\nImport with the access key ID (AKIA…) or with USER/ACCESS_KEY_ID."));
        let (user, id) = parse_import_id(import_id).map_err(invalid)?;
        let user = match user {
            Some(user) => user.to_string(),
            None => {
                let clients = self.clients.get()?;
                match clients.iam.owner_of(id, &ctx.cancel).await {
                    Ok(Some(user)) => user,
                    Ok(None) => return Err(invalid(format!("IAM knows no user for access key {id}."))),
                    Err(e) if e.is_no_such_entity() => return Err(invalid(format!("IAM has no access key {id}."))),
                    Err(e) => return Err(iam_diagnostic(&e, None)),
                }
            }
        };
        let mut state = Value::Object(Default::default());
        state.set("id", Value::string(id));
        state.set("user", Value::string(user));
        Ok(state)
    }
}

/// The planned state with every unknown made null, as a base for the new state:
/// no unknown may reach Terraform after apply.
pub(super) fn planned_without_unknowns(planned: &Value) -> Value {
    match planned {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), if v.is_unknown() { Value::Null } else { v.clone() })).collect()),
        other => other.clone(),
    }
}
