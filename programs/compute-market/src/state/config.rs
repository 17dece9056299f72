//! `Config`: the protocol's singleton settings, at `["config"]`.

use crate::constants::MAX_PROTOCOL_FEE_BPS;
use crate::errors::{require, ErrorCode, Result};
use crate::layout::{Bool, U16, U64};
use crate::math::SafeMath;
use pinocchio::Address;

crate::account! {
    /// The protocol's settings. The authority can tune them within the program's fixed bounds
    /// and pause new jobs; it can never move escrow or stake.
    pub struct Config {
        /// Canonical bump of the config PDA.
        pub bump: u8,
        /// While set, `post_job` is refused; everything already posted runs to its end.
        pub paused: Bool,
        /// Protocol fee charged on top of each job's price, in basis points.
        pub protocol_fee_bps: U16,
        /// Who may update this config and create markets.
        pub authority: Address,
        /// Owner of the token accounts that receive protocol fees and slashed stake.
        pub treasury: Address,
        /// Number of markets created; the next market's id.
        pub market_count: U64,
        /// Space for fields added by later versions.
        pub reserved: [u8; 64],
    }
}

impl Config {
    /// Reserves the next market id.
    pub fn next_market_id(&mut self) -> Result<u64> {
        let id = self.market_count.get();
        self.market_count.set(id.safe_add(1)?);
        Ok(id)
    }

    pub fn invariant(&self) -> Result<()> {
        require(self.protocol_fee_bps.get() <= MAX_PROTOCOL_FEE_BPS, ErrorCode::FeeAboveLimit)
    }
}
