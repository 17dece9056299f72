//! One module per instruction: arguments, accounts, `validate()`, then the handler.

pub mod cancel_job;
pub mod create_market;
pub mod initialize_config;
pub mod post_job;
pub mod register_provider;
pub mod request_unstake;
pub mod stake;
pub mod update_config;
pub mod withdraw_unstaked;
