// reveal_bid: sealed bids open after bidding closes; only the committed price and salt reveal.
import assert from "node:assert/strict";
import { findBidPda, revealBidInstruction, sendInstructions, variantOf } from "@compute-market/sdk";
import { expectProgramError } from "../../support/assertions";
import { setupAuction, type AuctionSetup } from "../../support/auction";
import { eventsOf } from "../../support/events";
import { jobInput } from "../../support/fixtures";

async function sealed(): Promise<AuctionSetup> {
  return setupAuction({ job: { sealed: true } });
}

async function closeBidding(setup: AuctionSetup): Promise<void> {
  const job = await setup.consumer.client.fetchJob(setup.job);
  setup.env.ledger.warpToSlot(job!.bidDeadlineSlot + 1n);
}

describe("reveal_bid", () => {
  it("keeps the price hidden while bidding, then ranks the revealed bid", async () => {
    const setup = await sealed();
    const [{ owner, provider }] = setup.providers;
    const { bid, salt } = await owner.client.placeSealedBid({ job: setup.job, price: 1_300_000n });
    const hidden = await owner.client.fetchBid(bid);
    assert.equal(hidden?.price, 0n);
    assert.equal(variantOf(hidden!.status), "sealed");
    assert.equal((await owner.client.fetchJob(setup.job))?.auction.rankedCount, 0);

    await closeBidding(setup);
    const signature = await owner.client.revealBid({ job: setup.job, price: 1_300_000n, salt });

    const revealed = await owner.client.fetchBid(bid);
    assert.equal(revealed?.price, 1_300_000n);
    assert.equal(variantOf(revealed!.status), "active");
    const job = await owner.client.fetchJob(setup.job);
    assert.equal(job?.auction.rankedCount, 1);
    assert.ok(job?.auction.ranking[0].provider.equals(provider));
    assert.equal(eventsOf(setup.env, owner.client.program, signature)[0].name, "bidRevealed");
  });

  it("rejects a price in the clear on a sealed job", async () => {
    const setup = await sealed();
    await expectProgramError(setup.providers[0].owner.client.placeBid({ job: setup.job, price: 5n }), "InvalidBidCommitment");
  });

  it("rejects a reveal while bidding is still open", async () => {
    const setup = await sealed();
    const { owner } = setup.providers[0];
    const { salt } = await owner.client.placeSealedBid({ job: setup.job, price: 5n });
    await expectProgramError(owner.client.revealBid({ job: setup.job, price: 5n, salt }), "RevealWindowClosed");
  });

  it("rejects a reveal after the reveal deadline", async () => {
    const setup = await sealed();
    const { owner } = setup.providers[0];
    const { salt } = await owner.client.placeSealedBid({ job: setup.job, price: 5n });
    const job = await owner.client.fetchJob(setup.job);
    setup.env.ledger.warpToSlot(job!.revealDeadlineSlot + 1n);
    await expectProgramError(owner.client.revealBid({ job: setup.job, price: 5n, salt }), "RevealWindowClosed");
  });

  it("rejects a price or salt other than the committed ones", async () => {
    const setup = await sealed();
    const { owner } = setup.providers[0];
    const { salt } = await owner.client.placeSealedBid({ job: setup.job, price: 700n });
    await closeBidding(setup);
    await expectProgramError(owner.client.revealBid({ job: setup.job, price: 699n, salt }), "CommitmentMismatch");
    const otherSalt = Uint8Array.from(salt, (b) => b ^ 1);
    await expectProgramError(owner.client.revealBid({ job: setup.job, price: 700n, salt: otherSalt }), "CommitmentMismatch");
    assert.equal((await owner.client.fetchJob(setup.job))?.auction.rankedCount, 0);
  });

  it("rejects a second reveal (replay)", async () => {
    const setup = await sealed();
    const { owner } = setup.providers[0];
    const { salt } = await owner.client.placeSealedBid({ job: setup.job, price: 700n });
    await closeBidding(setup);
    await owner.client.revealBid({ job: setup.job, price: 700n, salt });
    await expectProgramError(owner.client.revealBid({ job: setup.job, price: 700n, salt }), "BidAlreadyRevealed");
    assert.equal((await owner.client.fetchJob(setup.job))?.auction.rankedCount, 1);
  });

  it("rejects a committed price above the job's maximum", async () => {
    const setup = await sealed();
    const { owner } = setup.providers[0];
    const { salt } = await owner.client.placeSealedBid({ job: setup.job, price: 2_000_001n });
    await closeBidding(setup);
    await expectProgramError(owner.client.revealBid({ job: setup.job, price: 2_000_001n, salt }), "PriceAboveMax");
  });

  it("rejects a reveal signed by someone other than the bid's owner", async () => {
    const setup = await sealed();
    const { owner, provider } = setup.providers[0];
    const { bid, salt } = await owner.client.placeSealedBid({ job: setup.job, price: 700n });
    await closeBidding(setup);
    const intruder = setup.providers[1].owner;
    const ix = await revealBidInstruction(intruder.client.program, { price: 700n, salt }, { owner: intruder.publicKey, provider, job: setup.job, bid });
    await expectProgramError(sendInstructions(intruder.provider, [ix]), "NotBidOwner");
  });

  it("rejects a bid of another job", async () => {
    const setup = await sealed();
    const { owner, provider } = setup.providers[0];
    const { salt } = await owner.client.placeSealedBid({ job: setup.job, price: 700n });
    const other = await setup.consumer.client.postJob(jobInput(setup.market, { sealed: true, consumerToken: setup.consumer.paymentToken }));
    await closeBidding(setup);
    const ix = await revealBidInstruction(owner.client.program, { price: 700n, salt }, {
      owner: owner.publicKey,
      provider,
      job: other.job,
      bid: findBidPda({ job: setup.job, provider, programId: setup.env.programId })[0],
    });
    await expectProgramError(sendInstructions(owner.provider, [ix]), "BidMismatch");
  });

  it("rejects a reveal on an open-auction job", async () => {
    const setup = await setupAuction();
    const { owner } = setup.providers[0];
    await owner.client.placeBid({ job: setup.job, price: 700n });
    await closeBidding(setup);
    await expectProgramError(owner.client.revealBid({ job: setup.job, price: 700n, salt: new Uint8Array(32) }), "NotSealedAuction");
  });
});
