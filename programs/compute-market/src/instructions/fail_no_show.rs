//! `fail_no_show`: anyone fails a winner that did not start by the start deadline.

use super::fail_winner::{self, Miss};
use crate::accounts::{parse_args, Context};
use crate::errors::Result;

pub use fail_winner::FailWinnerAccounts as FailNoShowAccounts;

crate::pod_struct! {
    /// `fail_no_show` takes no arguments.
    pub struct FailNoShowArgs {}
}

pub fn process(ctx: &Context) -> Result<()> {
    parse_args::<FailNoShowArgs>(ctx.data)?;
    fail_winner::process(ctx, Miss::NoShow)
}
