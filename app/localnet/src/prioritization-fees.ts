// What `getRecentPrioritizationFees` answers, as a validator keeps it: for each of the latest 150
// blocks, the lowest compute-unit price a transaction in it paid (the block's minimum), and the
// lowest among those that write-locked each account. Asked for some accounts, a slot's fee is the
// highest of its block minimum and those accounts' minimums: what it took to land beside them.
// Blocks with no transaction answer 0.

/** How many recent blocks are remembered, as agave's cache does. */
const RECENT_BLOCKS = 150;

interface BlockFees {
  slot: bigint;
  /** The lowest price paid in the block; null while it has no transaction. */
  minimum: bigint | null;
  /** The lowest price paid by the transactions that write-locked each account. */
  byAccount: Map<string, bigint>;
}

export interface RecentPrioritizationFee {
  slot: number;
  prioritizationFee: number;
}

export class PrioritizationFees {
  private readonly blocks: BlockFees[] = [];

  constructor(slot: bigint) {
    this.openBlock(slot);
  }

  /** A new block at `slot` (the clock moved). */
  openBlock(slot: bigint): void {
    this.blocks.push({ slot, minimum: null, byAccount: new Map() });
    if (this.blocks.length > RECENT_BLOCKS) this.blocks.shift();
  }

  /** A transaction landed in the current block at `price` (micro-lamports per unit), writing `writable`. */
  record(price: bigint, writable: string[]): void {
    const block = this.blocks[this.blocks.length - 1];
    block.minimum = block.minimum === null || price < block.minimum ? price : block.minimum;
    for (const account of writable) {
      const known = block.byAccount.get(account);
      if (known === undefined || price < known) block.byAccount.set(account, price);
    }
  }

  /** The fee of each remembered block, oldest first, for transactions writing `accounts`. */
  recent(accounts: string[]): RecentPrioritizationFee[] {
    return this.blocks.map((block) => {
      let fee = block.minimum ?? 0n;
      for (const account of accounts) {
        const paid = block.byAccount.get(account);
        if (paid !== undefined && paid > fee) fee = paid;
      }
      return { slot: Number(block.slot), prioritizationFee: Number(fee) };
    });
  }
}
