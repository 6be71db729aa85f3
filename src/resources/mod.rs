//! Resource and data source types, one module each. Each declares its schema and
//! its operations, and knows nothing about wire formats.

pub mod access_key;
pub mod access_key_list;
pub mod access_keys;
pub mod ephemeral_key;
pub mod inventory;
pub mod owner;
pub mod pgp;
pub mod ses;
