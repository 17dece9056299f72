//! Account types of the program. Each owns its rules as methods and ends in an `invariant()`.

pub mod config;
pub mod job;
pub mod market;
pub mod provider;
pub mod seeds;

pub use config::Config;
pub use job::{FailurePolicy, Job, JobRequirements, JobState, VerificationMode};
pub use market::{Market, MarketParams, ResourceClass};
pub use provider::{HardwareSpec, Provider, Reputation};
