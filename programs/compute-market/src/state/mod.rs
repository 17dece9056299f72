//! Account types of the program. Each owns its rules as methods and ends in an `invariant()`.

pub mod bid;
pub mod config;
pub mod dispute;
pub mod job;
pub mod market;
pub mod provider;
pub mod seeds;
pub mod service;

pub use bid::{Bid, BidStatus};
pub use config::Config;
pub use dispute::{Dispute, DisputeStatus, DisputeTurn, WitnessBuffer, MAX_POINTS};
pub use job::{Auction, FailurePolicy, Job, JobKind, JobRequirements, JobState, Progress, RankedBid, VerificationMode};
pub use market::{Market, MarketParams, ResourceClass};
pub use service::{acknowledgement_message, Service, ACK_MESSAGE_LEN};
pub use provider::{validate_endpoint, HardwareSpec, Provider, Reputation, ENDPOINT_LEN};
