//! `fail_timeout`: anyone fails a winner that did not commit by the commit deadline.

use super::fail_winner::{self, Miss};
use crate::accounts::{parse_args, Context};
use crate::errors::Result;

pub use fail_winner::FailWinnerAccounts as FailTimeoutAccounts;

crate::pod_struct! {
    /// `fail_timeout` takes no arguments.
    pub struct FailTimeoutArgs {}
}

pub fn process(ctx: &Context) -> Result<()> {
    parse_args::<FailTimeoutArgs>(ctx.data)?;
    fail_winner::process(ctx, Miss::Timeout)
}
