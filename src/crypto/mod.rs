//! Cryptography the provider does itself, on secrets only: the SES SMTP password
//! derivation and encryption to an OpenPGP key.

pub mod pgp;
pub mod ses;
