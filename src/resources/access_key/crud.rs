//! The operations of `iamkey_access_key`: create (never orphaning a key),
//! read, update, delete, import, identity and `moved` from hashicorp/aws.

use async_trait::async_trait;
use futures::future::OptionFuture;

use super::model::{KeyModel, KeyState, Status};
use super::schema::*;
use super::secret::*;
use super::*;
use crate::aws::iam::{CreateFailure, CreatedKey};
use crate::crypto::pgp::RecipientKey;
use crate::framework::schema::Schema;
use crate::framework::{ApplyOutcome, OpContext, PlanKind, Resource};
use crate::resources::common::iam_diagnostic;
use crate::resources::owner;
use crate::value::summary;
use crate::value::{AttributePath, Diagnostics, Value};

impl AccessKeyResource {
    /// Writes (or, for None, removes) the description tag and records the result
    /// in `state`.
    pub(super) async fn apply_description(&self, ctx: &OpContext, user: &str, id: &str, wanted: Option<&str>, state: &mut KeyState) -> Result<(), Diagnostics> {
        let clients = self.clients.get()?;
        let result = match wanted {
            Some(description) => clients.iam.tag_user(user, id, description, &ctx.cancel).await,
            None => clients.iam.untag_user(user, id, &ctx.cancel).await,
        };
        result.map_err(|e| iam_diagnostic(&e, Some(key::description.path())))?;
        state.set_description(wanted);
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
        let key = KeyModel::from_value(config);
        if key.wait_until_usable && key.status == Status::Inactive {
            diags.add_error_at(
                key::wait_until_usable.path(),
                summary::AN_INACTIVE_KEY_NEVER_BECOMES_USABLE,
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

    async fn check_plan(&self, ctx: &OpContext, kind: PlanKind, prior: &Value, config: &Value, planned: &mut Value) -> Diagnostics {
        let mut diags = super::plan::reactivation_warning(prior, config);
        diags.extend(self.check_against_iam(ctx, kind, prior, config, planned).await);
        diags
    }

    /// Input checks, then the create, then what completes the key: each step after
    /// the create returns its failure, and the key goes back in state once, at the end.
    async fn create(&self, ctx: &OpContext, planned: &Value) -> ApplyOutcome {
        let wanted = KeyModel::from_value(planned);
        let (recipient, user) = match self.before_create(&wanted).await {
            Ok(checked) => checked,
            Err(d) => return ApplyOutcome::failed(Value::Null, d),
        };
        let created = match self.create_in_iam(ctx, planned, user.as_deref()).await {
            Ok(created) => created,
            Err(outcome) => return outcome,
        };
        // From here on the key exists: every exit returns it in state.
        let mut state = KeyState::from_plan(planned);
        state.set_metadata(&created.metadata);
        state.set_description(None); // until its tag is written
        ctx.partial_state.record(state.0.clone());
        crate::testhooks::panic_point("after-create");
        match self.complete_new_key(ctx, &wanted, &created, recipient.as_ref(), &mut state).await {
            Ok(()) => ApplyOutcome::ok(state.0),
            Err(d) => ApplyOutcome::failed(state.0, d),
        }
    }

    fn refreshing_failed_create(&self, state: &Value) {
        if let Some(id) = KeyModel::from_value(state).id {
            self.leaving.lock().unwrap_or_else(|p| p.into_inner()).insert(id.to_string());
        }
    }

    /// One ListAccessKeys per user (shared by its keys) is all a default refresh
    /// costs. Last use costs one GetAccessKeyLastUsed per key, only with
    /// `refresh_last_used`; the user's tags one ListUserTags per user, only for a key
    /// that manages a description, or an import stub (no create_date: never read)
    /// that may adopt one.
    async fn read(&self, ctx: &OpContext, state: Value) -> Result<Option<Value>, Diagnostics> {
        let clients = self.clients.get()?;
        let known = KeyModel::from_value(&state);
        let (Some(id), user) = (known.id, known.user) else {
            return Ok(None);
        };
        let wants_description = known.description.is_some() || known.create_date.is_none();
        // The calls go out together, so a read waits for one round trip, not two
        // (the tags need the user's name: for the caller's own key it comes from
        // the listing).
        let (keys, last_used, named_user_tags) = tokio::join!(
            clients.iam.keys_for_read(user, &ctx.cancel),
            OptionFuture::from(known.refresh_last_used.then(|| clients.iam.last_used(id, &ctx.cancel))),
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
        // The new state is the current one with what IAM says: what is still
        // needed of the model is copied out before the state moves into it.
        let (id, had_description) = (id.to_owned(), known.description.is_some());
        let mut new_state = KeyState(state);
        new_state.set_metadata(key);
        match last_used {
            Some(Ok(used)) => new_state.set_last_used(Some(used)),
            // Last use is information, not configuration: a caller without
            // iam:GetAccessKeyLastUsed keeps the values it had, and is told.
            Some(Err(e)) => ctx
                .warnings
                .add(summary::LAST_USE_NOT_REFRESHED, format!("The last use of access key {id} could not be read, so the values in state are kept: {e}.")),
            None => new_state.set_last_used(None),
        }
        if !wants_description {
            return Ok(Some(new_state.0));
        }
        let tags = match named_user_tags {
            Some(tags) => tags,
            None => clients.iam.user_tags_for_read(&key.user_name, &ctx.cancel).await,
        };
        match tags {
            Ok(tags) => new_state.set_description(tags.get(&id).map(String::as_str)),
            // An import stub has no description to lose: say what was not adopted.
            Err(e) if !had_description => ctx.warnings.add(
                summary::DESCRIPTION_NOT_READ,
                format!("The tags of the user of access key {id} could not be read, so a description it has is not imported: {e}."),
            ),
            Err(e) => return Err(iam_diagnostic(&e, Some(key::description.path()))),
        }
        Ok(Some(new_state.0))
    }

    async fn update(&self, ctx: &OpContext, prior: &Value, planned: &Value) -> ApplyOutcome {
        let clients = match self.clients.get() {
            Ok(c) => c,
            Err(d) => return ApplyOutcome::failed(prior.clone(), d),
        };
        let (was, wanted) = (KeyModel::from_value(prior), KeyModel::from_value(planned));
        let (id, user) = (wanted.id.unwrap_or_default(), wanted.user.unwrap_or_default());
        // The state returned says what IAM has: each change lands in it once done.
        let mut state = KeyState(prior.clone());
        if wanted.status != was.status {
            if let Err(e) = clients.iam.update_access_key(user, id, wanted.status.as_str(), &ctx.cancel).await {
                return ApplyOutcome::failed(state.0, iam_diagnostic(&e, Some(key::status.path())));
            }
            state.set_status(wanted.status);
        }
        if wanted.description != was.description {
            if let Err(d) = self.apply_description(ctx, user, id, wanted.description, &mut state).await {
                return ApplyOutcome::failed(state.0, d);
            }
        }
        ApplyOutcome::ok(planned.clone())
    }

    async fn delete(&self, ctx: &OpContext, prior: &Value) -> Diagnostics {
        let clients = match self.clients.get() {
            Ok(c) => c,
            Err(d) => return d,
        };
        let key = KeyModel::from_value(prior);
        let (id, user) = (key.id.unwrap_or_default(), key.user.unwrap_or_default());
        if let Err(e) = clients.iam.delete_access_key(user, id, &ctx.cancel).await {
            return iam_diagnostic(&e, None);
        }
        // The description goes with the key. If this fails the object stays in
        // state; the next destroy finds the key gone and removes the tag.
        if key.description.is_some() {
            if let Err(e) = clients.iam.untag_user(user, id, &ctx.cancel).await {
                return iam_diagnostic(&e, Some(key::description.path()));
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
        super::identity_in(&account_id, state)
    }

    async fn import_by_identity(&self, ctx: &OpContext, identity: &Value) -> Result<Value, Diagnostics> {
        let id = key_identity::access_key_id.str(identity).unwrap_or_default();
        if let (Some(wanted), Some(ours)) = (key_identity::account_id.str(identity), self.clients.get()?.account_id.as_deref()) {
            if wanted != ours {
                return Err(Diagnostics::error(
                    summary::IDENTITY_IS_IN_ANOTHER_ACCOUNT,
                    format!("The identity names account {wanted}, but the provider's credentials are for account {ours}. Import with a provider configured for {wanted}."),
                ));
            }
        }
        let import_id = match key_identity::user.str(identity) {
            Some(user) => format!("{user}/{id}"),
            None => id.to_string(),
        };
        self.import(ctx, &import_id).await
    }

    async fn import(&self, ctx: &OpContext, import_id: &str) -> Result<Value, Diagnostics> {
        let invalid = |reason: String| {
            Diagnostics::error(summary::INVALID_IMPORT_ID, format!("{reason}\n\nImport with the access key ID (AKIA…) or with USER/ACCESS_KEY_ID."))
        };
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
        key::id.set(&mut state, Value::string(id));
        key::user.set(&mut state, Value::string(user));
        Ok(state)
    }
}

/// The planned state with every unknown made null, as a base for the new state:
/// no unknown may reach Terraform after apply.
/// The steps of `create`, in order.
impl AccessKeyResource {
    /// Everything that can fail on input fails before the key exists: the PGP key
    /// parses, and the owner is known (the caller's user when `user` is omitted).
    async fn before_create(&self, wanted: &KeyModel<'_>) -> Result<(Option<RecipientKey>, Option<String>), Diagnostics> {
        let recipient = match wanted.pgp_key.map(RecipientKey::parse) {
            None => None,
            Some(Ok(key)) => Some(key),
            Some(Err(reason)) => return Err(Diagnostics::error_at(key::pgp_key.path(), summary::INVALID_PGP_KEY, reason)),
        };
        let user = owner::user_or_caller(self.clients.get()?, wanted.user, wanted.allow_root_key).await?;
        Ok((recipient, user))
    }

    /// CreateAccessKey. A failure is the outcome to return: no state, except for a
    /// key IAM made whose secret was lost (tracked, tainted, never orphaned).
    async fn create_in_iam(&self, ctx: &OpContext, planned: &Value, user: Option<&str>) -> Result<CreatedKey, ApplyOutcome> {
        let clients = self.clients.get().map_err(|d| ApplyOutcome::failed(Value::Null, d))?;
        self.begin_planned_create(user);
        let failure = match clients.iam.create_access_key(user, &ctx.cancel).await {
            Ok(created) => return Ok(created),
            Err(failure) => failure,
        };
        let diagnostics = match failure {
            CreateFailure::NotCreated(e) if e.is_limit_exceeded() => self.quota_diagnostic(user, &e, &ctx.clock).await,
            CreateFailure::NotCreated(e) if e.is_no_such_entity() && user.is_some() => {
                let mut d = iam_diagnostic(&e, Some(key::user.path()));
                d.append_detail(&format!(
                    "IAM has no user {:?} (waited {} s for a newly created user to become visible).",
                    user.unwrap_or_default(),
                    crate::aws::iam::PROPAGATION_TIMEOUT.as_secs()
                ));
                d
            }
            CreateFailure::NotCreated(e) => iam_diagnostic(&e, None),
            CreateFailure::Unattributable { appeared, cause } => crate::resources::inventory::uncertain_create(user, &appeared, &cause),
            CreateFailure::CreatedWithoutSecret { key, cause } => {
                // The key exists but its secret is lost: track it (Terraform taints
                // it, and the next apply replaces it) rather than orphan it.
                let mut state = KeyState::from_plan(planned);
                state.set_metadata(&key);
                ctx.partial_state.record(state.0.clone());
                let detail = format!(
                    "IAM created access key {} but its answer did not arrive ({cause}). The key is kept in \
                     state and marked tainted, so the next apply replaces it with a key whose secret is known.",
                    key.access_key_id
                );
                return Err(ApplyOutcome::failed(state.0, Diagnostics::error(summary::ACCESS_KEY_CREATED_BUT_ITS_SECRET_WAS_LOST, detail)));
            }
        };
        Err(ApplyOutcome::failed(Value::Null, diagnostics))
    }

    /// The secret delivered, the status set, the key usable and described, as
    /// configured; `state` follows each step.
    async fn complete_new_key(
        &self,
        ctx: &OpContext,
        wanted: &KeyModel<'_>,
        created: &CreatedKey,
        recipient: Option<&RecipientKey>,
        state: &mut KeyState,
    ) -> Result<(), Diagnostics> {
        let clients = self.clients.get()?;
        let key = &created.metadata;
        match self.deliver_secret(wanted, created, recipient).await? {
            Delivered::ToState(attributes) => state.set_secret_attributes(attributes),
            Delivered::ToStore { version } => state.set_destination_version(version),
        }
        ctx.partial_state.record(state.0.clone());
        if wanted.status.as_str() != key.status {
            // On failure state keeps the status the key really has; Terraform taints it.
            let updated = clients.iam.update_access_key(&key.user_name, &key.access_key_id, wanted.status.as_str(), &ctx.cancel).await;
            updated.map_err(|e| iam_diagnostic(&e, Some(key::status.path())))?;
            state.set_status(wanted.status);
        }
        if wanted.wait_until_usable {
            self.wait_until_usable(ctx, &key.access_key_id, &created.secret).await?;
        }
        if wanted.description.is_some() {
            self.apply_description(ctx, &key.user_name, &key.access_key_id, wanted.description, state).await?;
        }
        Ok(())
    }

    /// The secret's attributes, for state or written to the configured secret store.
    async fn deliver_secret(&self, wanted: &KeyModel<'_>, created: &CreatedKey, recipient: Option<&RecipientKey>) -> Result<Delivered, Diagnostics> {
        let clients = self.clients.get()?;
        let key = &created.metadata;
        let attributes = secret_attributes(&created.secret, &clients.region, wanted.ses_smtp_regions, recipient).map_err(|reason| {
            let detail = format!("{reason}. The key {} is kept in state and marked tainted; the next apply replaces it.", key.access_key_id);
            Diagnostics::error_at(key::pgp_key.path(), summary::COULD_NOT_ENCRYPT_THE_SECRET, detail)
        })?;
        Ok(match &wanted.destination() {
            None => Delivered::ToState(attributes),
            Some(destination) => Delivered::ToStore { version: self.write_to_destination(destination, &key.access_key_id, attributes).await? },
        })
    }
}

/// Where a new key's secret went.
enum Delivered {
    /// Its attributes (clear or encrypted), for state.
    ToState(Vec<(crate::framework::field::Field, Value)>),
    /// Written to the secret store, as this version.
    ToStore { version: String },
}
