//! The program's one error enum: grouped by domain, append-only, codes from 6000 as in Anchor.
//!
//! A failing instruction logs the error in Anchor's format ("AnchorError occurred. Error Code: …")
//! and returns `Custom(code)`, so Anchor's TypeScript client and the SDK recognise it by name.

use pinocchio::error::ProgramError;

macro_rules! program_errors {
    ($($name:ident = $code:literal : $msg:literal,)+) => {
        /// Every way an instruction of this program can fail.
        #[repr(u32)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum ErrorCode {
            $(#[doc = $msg] $name = $code,)+
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name),+];

            pub const fn name(self) -> &'static str {
                match self { $(ErrorCode::$name => stringify!($name),)+ }
            }

            pub const fn message(self) -> &'static str {
                match self { $(ErrorCode::$name => $msg,)+ }
            }

            pub fn from_code(code: u32) -> Option<Self> {
                match code { $($code => Some(ErrorCode::$name),)+ _ => None }
            }

            /// The log line Anchor's clients parse, built at compile time.
            pub const fn log_line(self) -> &'static str {
                match self {
                    $(ErrorCode::$name => concat!(
                        "AnchorError occurred. Error Code: ", stringify!($name),
                        ". Error Number: ", $code, ". Error Message: ", $msg
                    ),)+
                }
            }
        }
    };
}

program_errors! {
    // 6000–6049: instruction and account shape
    UnknownInstruction = 6000 : "The instruction discriminator names no instruction of this program.",
    InvalidInstructionData = 6001 : "The instruction data does not have the expected length.",
    NotEnoughAccounts = 6002 : "The instruction was given fewer accounts than it needs.",
    MissingSignature = 6003 : "An account that must sign the transaction did not sign it.",
    AccountNotWritable = 6004 : "An account that the instruction modifies was not passed as writable.",
    InvalidProgramAccount = 6005 : "A program account does not have the expected address.",
    InvalidAccountOwner = 6006 : "An account is not owned by the program that should own it.",
    InvalidDiscriminator = 6007 : "An account's data does not start with the expected type discriminator.",
    InvalidAccountData = 6008 : "An account's data does not have the expected length.",
    InvalidPda = 6009 : "An account's address is not the program address derived from the expected seeds.",
    AccountAlreadyInitialized = 6010 : "The account to create already holds data.",
    InvalidEnumValue = 6011 : "An argument names no variant of its enum.",
    InvalidRentSysvar = 6012 : "The cluster's Rent sysvar could not be read or holds an exemption threshold outside 0..=16.",
    // 6050–6099: tokens
    InvalidMint = 6050 : "The mint is not an initialized SPL Token mint.",
    WrongMint = 6051 : "The token account or mint is not of the market's mint.",
    TokenAccountOwnerMismatch = 6052 : "The token account does not belong to the expected owner.",
    InvalidTokenAccount = 6053 : "The account is not an initialized SPL Token account.",
    InsufficientFunds = 6054 : "The token account does not hold enough tokens for this transfer.",
    InvalidVault = 6055 : "The vault is not the one this account's tokens are held in.",
    // 6100–6149: protocol config and authority
    NotAuthority = 6100 : "Only the protocol authority may do this.",
    FeeAboveLimit = 6101 : "A fee is above the bound fixed in the program.",
    ProtocolPaused = 6102 : "The protocol is paused: no new jobs may be posted.",
    InvalidMarketParams = 6103 : "A market parameter is zero or outside the bounds fixed in the program.",
    MarketMismatch = 6104 : "The account belongs to a different market.",
    // 6150–6199: providers and stake
    NotProviderOwner = 6150 : "Only the provider's owner may do this.",
    HardwareBelowMarketClass = 6151 : "The provider's hardware does not meet the market's resource class.",
    ZeroAmount = 6152 : "The amount must be greater than zero.",
    InsufficientFreeStake = 6153 : "The amount exceeds the provider's free stake (staked minus locked minus unbonding).",
    NothingToWithdraw = 6154 : "The provider has no unbonded stake to withdraw.",
    UnbondingNotElapsed = 6155 : "The unbonding delay has not elapsed yet.",
    InvalidHardwareSpec = 6156 : "The hardware spec is inconsistent (GPU memory without GPUs, or zero CPU cores or memory).",
    InvalidEndpoint = 6157 : "The endpoint must be a non-empty URL of at most 96 bytes, padded with zero bytes.",
    // 6200–6249: jobs
    NotJobConsumer = 6200 : "Only the job's consumer may do this.",
    InvalidJobState = 6201 : "The job is not in a state that allows this.",
    InvalidPrice = 6202 : "The price is zero, or the instant-accept price exceeds the maximum price.",
    InvalidReplication = 6203 : "The replication factor is outside the bounds allowed for the verification mode.",
    InvalidBidWindow = 6204 : "The bid window is outside the bounds fixed in the program.",
    InvalidJobRequirements = 6205 : "The job's requirements are inconsistent or have no duration.",
    InvalidProgramRoots = 6206 : "A verifiable job names its program's code root (non-zero) and input root; a container job names neither.",
    InvalidStepLimit = 6207 : "A verifiable job names a step limit of at least one step; a container job names none.",
    // 6250–6299: auction
    BiddingClosed = 6250 : "The job no longer accepts bids.",
    PriceAboveMax = 6251 : "The bid's price is zero or above the job's maximum price.",
    RequirementsNotMet = 6252 : "The provider's hardware does not meet the job's requirements.",
    BelowMinimumStake = 6253 : "The provider's bonded stake is below the market's minimum.",
    InvalidBidCommitment = 6254 : "A sealed job takes a commitment and no price; an open job a price and no commitment.",
    NotSealedAuction = 6255 : "Only bids on a sealed-bid job are revealed.",
    RevealWindowClosed = 6256 : "Bids are revealed only after bidding closes and until the reveal deadline.",
    CommitmentMismatch = 6257 : "The revealed price and salt do not match the bid's commitment.",
    BidAlreadyRevealed = 6258 : "The bid is not sealed.",
    BidIsRanked = 6259 : "A bid ranked among the best of an open job is binding until the auction ends.",
    BidHoldsAward = 6260 : "The bid holds the job's award and cannot be withdrawn.",
    AuctionStillOpen = 6261 : "The auction has not ended and no instant award applies.",
    NotEnoughBids = 6262 : "The job has fewer ranked bids than providers it needs.",
    AuctionHasWinners = 6263 : "The job has enough bids: it must be awarded, not expired.",
    WrongWinner = 6264 : "The bids given are not the job's best bids, in order.",
    BidMismatch = 6265 : "The bid belongs to another job or provider.",
    NotBidOwner = 6266 : "Only the bid's owner may do this.",
    StaleBid = 6267 : "The bid was placed on an earlier incarnation of this job (a job closed and posted again at the same address).",
    // 6300–6349: execution and settlement
    NotAssignedWinner = 6300 : "The bid does not hold the job's current award at the step this needs.",
    StartWindowClosed = 6301 : "The start window has passed.",
    CommitWindowClosed = 6302 : "The commit deadline has passed.",
    ChallengeWindowOpen = 6303 : "The challenge window has not passed yet.",
    DisputeOpen = 6304 : "A dispute against the result is open.",
    DeadlineNotReached = 6305 : "The deadline this crank enforces has not passed.",
    WinnersMissing = 6306 : "Every winner's bid, provider and accounts must be given, each once.",
    InvalidOutputRoot = 6307 : "The output root must not be zero.",
    ConsumerMismatch = 6308 : "The account is not the job's consumer.",
    WrongCommitInstruction = 6309 : "A verifiable job's result is committed with commit_verifiable, a container job's with commit_result.",
    InvalidFinalState = 6310 : "The final state must be after at least one step and within the step limit, and stopped unless it is at the limit.",
    OutputNotInFinalState = 6311 : "The output root does not prove into the final state's memory root.",
    InvalidResultCommitment = 6312 : "The sealed result commitment must not be zero.",
    RevealNotOpen = 6313 : "Results are revealed only once every winner committed, until the challenge deadline.",
    ResultAlreadyRevealed = 6314 : "The result was already revealed.",
    ResultCommitmentMismatch = 6315 : "The revealed output root and salt do not match the sealed result.",
    // 6350–6399: disputes
    NotVerifiable = 6350 : "Only a verifiable job's committed result can be disputed.",
    DisputeWindowClosed = 6351 : "The challenge window has passed.",
    SelfDispute = 6352 : "A provider cannot dispute its own result.",
    NotYourTurn = 6353 : "It is the other party's move, or the game has ended.",
    ClockExpired = 6354 : "The mover's clock has run out: the game ends by timeout_dispute.",
    ClockRunning = 6355 : "The party to move still has time on its clock.",
    InvalidDissection = 6356 : "A dissection posts one non-zero hash per inner boundary and zeros after them.",
    InvalidSegment = 6357 : "The chosen segment is outside the dissection.",
    ProofNotDue = 6358 : "The one-step proof is due only when the interval is a single step.",
    InvalidWitnessChunk = 6359 : "The chunk is empty or lies outside the witness buffer.",
    WitnessMalformed = 6360 : "The witness buffer does not hold a well-formed witness.",
    WitnessPreStateMismatch = 6361 : "The witness's state does not hash to the interval's agreed state.",
    WitnessBadProof = 6362 : "A witness leaf does not prove against the state's memory root.",
    WitnessMissingLeaf = 6363 : "The step touches a memory leaf the witness does not carry.",
    WitnessInvalidState = 6364 : "The witness's state has an invalid status byte.",
    DisputeUndecided = 6365 : "The game has not been decided yet.",
    DisputeMismatch = 6366 : "The account does not belong to this game.",
    NotChallenger = 6367 : "Only the game's challenger may do this.",
    NotRefereed = 6368 : "Only a refereed job's winners play a referee game.",
    ResultsAgree = 6369 : "The two winners committed the same final state: there is nothing to referee.",
    ResultsDiffer = 6370 : "The winners' final states differ: a referee game must decide first.",
    NotWitnessWriter = 6371 : "Only the proof buffer's writer may close it.",
    // 6400–6449: services
    NotAService = 6400 : "The job is not a service lease.",
    ServiceHasNoResult = 6401 : "A service is paid per acknowledged slot: it has no result to commit, time out on or settle.",
    InvalidAcknowledgement = 6402 : "The instruction before the claim must be the Ed25519 program verifying one acknowledgement, signed by the service's watchdog, of this job, replica and slot.",
    StaleAcknowledgement = 6403 : "The acknowledgement covers no slot the replica was not already paid for (an older one replayed, or time after its end).",
    AcknowledgementAhead = 6404 : "The acknowledgement names a slot that has not come yet.",
    NotServiceParty = 6405 : "Only the consumer, the service's watchdog or the replica's owner may end a replica.",
    ReplicaEnded = 6406 : "The replica was already ended.",
    ReplicaStillClaimable = 6407 : "The replica is up, or its owner's period to claim after its end has not passed.",
    InvalidServiceTerms = 6408 : "A service needs an acknowledgement period of 1 to 216,000 slots, replicated mode, open failure refunds and no instant price.",
    ServiceMismatch = 6409 : "The service account does not belong to this job.",
    DepositTooSmall = 6410 : "The deposit must cover one period of every replica at the highest rate, with its fees and the crank fee.",
    ReplicaNotStarted = 6411 : "The replica has not started: there is no served time to pay for.",
    ServiceStillOpen = 6412 : "The service's job is still alive: it is settled by the last replica's close.",
    DepositExhausted = 6413 : "The deposit cannot pay for one more slot: the service waits for a top-up.",
    DepositCoversPeriod = 6414 : "The deposit still pays one more period of every open replica at the highest rate: the lease runs on.",
    ServicePaused = 6415 : "The lease is already paused: a top-up through fund_service resumes it.",
    PauseExpired = 6416 : "The lease's pause has ended: its replicas ended with it, and only their close remains.",
    NoSeatRound = 6417 : "No seat round is open on this lease: no replica was ended with a replacement asked for.",
    ReplacementPending = 6418 : "The lease's last replica cannot close while a seat is being filled: the seat round's award, or its winner's start or no-show, comes first.",
    TooManyReplacements = 6419 : "The lease has had as many replicas as it can count (255): no more replacements.",
    ReplacementByOwner = 6420 : "Only the consumer or its watchdog may ask for a replacement; the owner ends its replica with notice.",
    NotASeat = 6421 : "The bid is not an awarded seat of a running lease (the first round's winners use start_job).",
    // 6900–6999: arithmetic
    MathOverflow = 6900 : "An arithmetic operation overflowed.",
}

impl From<ErrorCode> for ProgramError {
    fn from(error: ErrorCode) -> Self {
        ProgramError::Custom(error as u32)
    }
}

/// Shorthand for failing with a program error.
pub type Result<T> = core::result::Result<T, ProgramError>;

/// Returns `Err(error)` unless `condition` holds; reads as a checklist in `validate()`.
#[inline(always)]
pub fn require(condition: bool, error: ErrorCode) -> Result<()> {
    if condition {
        Ok(())
    } else {
        Err(error.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        for (i, a) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(ErrorCode::from_code(*a as u32), Some(*a));
            for b in &ErrorCode::ALL[i + 1..] {
                assert_ne!(*a as u32, *b as u32);
                assert_ne!(a.name(), b.name());
            }
        }
    }

    #[test]
    fn log_line_follows_anchor_format() {
        assert_eq!(
            ErrorCode::ZeroAmount.log_line(),
            "AnchorError occurred. Error Code: ZeroAmount. Error Number: 6152. Error Message: The amount must be greater than zero."
        );
    }
}
