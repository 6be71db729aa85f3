//! Provider functions (`provider::iamkey::NAME(...)`, Terraform 1.8+): pure, no AWS calls.

pub mod ses_smtp_password_v4;
