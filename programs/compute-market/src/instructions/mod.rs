//! One module per instruction: arguments, accounts, `validate()`, then the handler.
//! `fail_winner` holds what `fail_no_show` and `fail_timeout` share, `commit_winner` what the
//! three commit instructions do. The service handlers are `#[inline(never)]`: inlined into the
//! dispatcher, its branches outgrow BPF's 16-bit jump offsets and the link fails.

pub mod award;
pub mod cancel_job;
pub mod commit_result;
pub mod commit_winner;
pub mod create_market;
pub mod expire_job;
pub mod fail_no_show;
pub mod fail_timeout;
pub mod fail_winner;
pub mod finalize;
pub mod initialize_config;
pub mod place_bid;
pub mod post_job;
pub mod register_provider;
pub mod request_unstake;
pub mod reveal_bid;
pub mod stake;
pub mod start_job;
pub mod update_config;
pub mod update_provider;
pub mod withdraw_bid;
pub mod withdraw_unstaked;
pub mod post_service;
pub mod fund_service;
pub mod claim_service;
pub mod end_replica;
pub mod close_replica;
pub mod close_service;
pub mod pause_service;
pub mod bid_seat;
pub mod award_seat;
pub mod start_seat;
pub mod commit_verifiable;
pub mod open_dispute;
pub mod dissect;
pub mod choose_segment;
pub mod write_witness;
pub mod prove_step;
pub mod timeout_dispute;
pub mod settle_dispute;
pub mod referee;
pub mod settle_referee;
pub mod commit_sealed_result;
pub mod reveal_result;
pub mod close_witness;
