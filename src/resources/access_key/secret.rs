//! What is derived from a new key's secret (SES passwords, encryption to a PGP
//! key) and where it goes (state, or a secret store).

use super::*;
use crate::aws::destination::{Destination, SecretDocument};
use crate::aws::probe::ProbeError;
use crate::crypto::pgp::RecipientKey;
use crate::crypto::ses::ses_smtp_password_v4;
use crate::framework::field::Field;
use crate::framework::OpContext;
use crate::secret::Secret;
use crate::value::summary;
use crate::value::{Diagnostics, Name, NameMap, Value};

/// SES SMTP passwords for each region of `regions` (a set; null gives null),
/// each passed through `seal` (kept in clear, or encrypted).
pub(super) fn regional_passwords(secret: &Secret, regions: &Value, seal: impl Fn(&Secret) -> Result<String, String>) -> Result<Value, String> {
    let Some(regions) = regions.as_list() else { return Ok(Value::Null) };
    let passwords = regions
        .iter()
        .filter_map(Value::as_str)
        .map(|region| Ok((Name::Owned(region.to_string()), Value::string(seal(&ses_smtp_password_v4(secret, region))?))))
        .collect::<Result<NameMap<_>, String>>()?;
    Ok(Value::Map(passwords))
}

/// Every attribute derived from a new key's secret: in clear, or (with a
/// recipient) only encrypted to it. The error is an encryption failure.
pub(super) fn secret_attributes(secret: &Secret, region: &str, regions: &Value, recipient: Option<&RecipientKey>) -> Result<Vec<(Field, Value)>, String> {
    let password = ses_smtp_password_v4(secret, region);
    let Some(key) = recipient else {
        return Ok(vec![
            (key::secret, Value::string(secret.expose())),
            (key::ses_smtp_password_v4, Value::string(password.expose())),
            (key::ses_smtp_passwords_v4, regional_passwords(secret, regions, |p| Ok(p.expose().to_string()))?),
        ]);
    };
    if crate::testhooks::fail_point("pgp-encrypt") {
        return Err("OpenPGP encryption failed (a test fail point)".to_string());
    }
    Ok(vec![
        (key::encrypted_secret, Value::string(key.encrypt(secret)?)),
        (key::encrypted_ses_smtp_password_v4, Value::string(key.encrypt(&password)?)),
        (key::encrypted_ses_smtp_passwords_v4, regional_passwords(secret, regions, |p| key.encrypt(p))?),
        (key::key_fingerprint, Value::string(key.fingerprint())),
    ])
}

impl AccessKeyResource {
    /// Writes a new key's secret and derived passwords, as JSON, to the store;
    /// returns the version written. On failure the key stays in state, tainted,
    /// and its secret is lost: the next apply replaces it.
    pub(super) async fn write_to_destination(&self, destination: &Destination, id: &str, attributes: Vec<(Field, Value)>) -> Result<String, Diagnostics> {
        let clients = self.clients.get()?;
        let path = key::secret_destination.path();
        let Some(stores) = &clients.stores else {
            return Err(Diagnostics::error_at(path, summary::NO_SECRET_STORE, "This provider has no Secrets Manager or SSM client."));
        };
        let mut document = SecretDocument::new(id);
        for (field, value) in &attributes {
            match value {
                Value::String(text) => document.add(field.name, text),
                Value::Map(by_region) => document.add_by_region(field.name, by_region.iter().filter_map(|(region, v)| Some((region.as_ref(), v.as_str()?)))),
                _ => {}
            }
        }
        stores.write(destination, document).await.map_err(|e| {
            Diagnostics::error_at(
                path,
                summary::COULD_NOT_WRITE_THE_SECRET_TO_ITS_DESTINATION,
                format!("{e}. Access key {id} is kept in state and marked tainted; its secret is not kept anywhere, so the next apply replaces it."),
            )
        })
    }

    /// Returns once the new key authenticates; an error (the key stays in state,
    /// tainted) if it does not within the propagation timeout.
    pub(super) async fn wait_until_usable(&self, ctx: &OpContext, id: &str, secret: &Secret) -> Result<(), Diagnostics> {
        let path = key::wait_until_usable.path();
        match self.clients.get()?.wait_until_usable(id, secret, &ctx.cancel).await {
            Ok(()) => Ok(()),
            Err(ProbeError::NoSts) => {
                Err(Diagnostics::error_at(path, summary::CANNOT_TEST_THE_NEW_KEY, "This provider has no STS client to test the key with."))
            }
            Err(e) => Err(Diagnostics::error_at(
                path,
                summary::THE_NEW_KEY_DOES_NOT_WORK_YET,
                format!("Access key {id} was created but {e}. It is kept in state and marked tainted; the next apply replaces it."),
            )),
        }
    }
}
