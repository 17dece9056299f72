//! Signer seeds of the PDAs that own tokens: a job signs for its escrow, a provider for its
//! stake vault. Each holds copies of its seeds so the borrow of the account can end before a CPI.

use crate::state::{seeds, Job, Provider};
use pinocchio::cpi::Seed;
use pinocchio::Address;

/// Seeds of a job PDA: `["job", consumer, nonce, bump]`.
pub struct JobSigner {
    consumer: Address,
    nonce: [u8; 8],
    bump: [u8; 1],
}

impl JobSigner {
    pub fn new(job: &Job) -> Self {
        Self { consumer: job.consumer, nonce: job.nonce.get().to_le_bytes(), bump: [job.bump] }
    }

    pub fn seeds(&self) -> [Seed<'_>; 4] {
        [Seed::from(seeds::JOB), Seed::from(self.consumer.as_ref()), Seed::from(&self.nonce), Seed::from(&self.bump)]
    }
}

/// Seeds of a provider PDA: `["provider", market, owner, bump]`.
pub struct ProviderSigner {
    market: Address,
    owner: Address,
    bump: [u8; 1],
}

impl ProviderSigner {
    pub fn new(provider: &Provider) -> Self {
        Self { market: provider.market, owner: provider.owner, bump: [provider.bump] }
    }

    pub fn seeds(&self) -> [Seed<'_>; 4] {
        [Seed::from(seeds::PROVIDER), Seed::from(self.market.as_ref()), Seed::from(self.owner.as_ref()), Seed::from(&self.bump)]
    }
}
