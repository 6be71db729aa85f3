//! Resource and data source types, one module each. Each declares its schema and
//! its operations, and knows nothing about wire formats.

use crate::aws::AwsClients;
use crate::framework::ProviderData;

/// The AWS clients the provider's Configure builds, as every type here holds them.
pub type Clients = ProviderData<AwsClients>;

pub mod access_key;
pub mod access_key_list;
pub mod access_keys;
pub mod common;
pub mod deactivate_keys;
pub mod ephemeral_key;
pub mod findings;
pub mod inventory;
pub mod organization;
pub mod owner;
pub mod quarantine_key;
