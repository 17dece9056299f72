// The node's side of dissection games: it defends every game opened against its verifiable
// results (and, in a refereed job, plays the challenger's side of the game against the other
// winner when it ranks second), answering each move from its own replay of the job; it settles
// games it is in once decided, so its winnings do not wait on a keeper. Everything is read from
// the chain on every tick, so a restarted node answers whatever move is due.
import { PublicKey } from "@solana/web3.js";
import { ComputeMarketError, type ComputeMarketClient, type DisputeAccount, type JobAccount, type MachineProgram } from "@compute-market/sdk";
import { disputeStatus, playMove, seatOf, turnBelongsTo, type Logger, type MarketIndex, type ReplayCache } from "@compute-market/common";
import type { Role } from "@compute-market/vm";

export interface GamePlayerOptions {
  client: ComputeMarketClient;
  index: MarketIndex;
  replays: () => Promise<ReplayCache>;
  program: (job: PublicKey, account: JobAccount) => Promise<MachineProgram>;
  logger: Logger;
}

/** Program errors meaning the game moved on (another move, a timeout, a settlement). */
const MOVED_ON = new Set(["NotYourTurn", "ClockExpired", "InvalidAccountOwner", "DisputeUndecided", "AccountNotInitialized"]);

export interface GameStats {
  moves: number;
  proofs: number;
  settled: number;
  failures: number;
}

/** The game this node plays, and how: `role` in `dispute` over `job`. */
interface Seat {
  dispute: PublicKey;
  game: DisputeAccount;
  role: Role;
}

export class GamePlayer {
  private readonly inFlight = new Map<string, Promise<void>>();
  readonly stats: GameStats = { moves: 0, proofs: 0, settled: 0, failures: 0 };

  constructor(private readonly options: GamePlayerOptions) {}

  /** The games this node sits in: defender of its results, challenger of a referee game. */
  seats(): Seat[] {
    const wallet = this.options.client.wallet;
    const seats: Seat[] = [];
    for (const [address, game] of this.options.index.disputes) {
      const role = seatOf(game, wallet);
      // A plain game's challenger is a keeper's (even under this wallet): only referee games are ours.
      if (role === "defender" || (role === "challenger" && game.refereed)) seats.push({ dispute: new PublicKey(address), game, role });
    }
    return seats;
  }

  /** Starts every move or settlement due now in a game that has none in flight, reading the open
   * games from the chain first: a missed notification must not cost a move (and the bond). */
  async tick(): Promise<void> {
    const open = this.seats().filter((seat) => disputeStatus(seat.game) === "open" && !this.inFlight.has(seat.dispute.toBase58()));
    try {
      await this.options.index.refreshMany("dispute", open.map((seat) => seat.dispute));
    } catch (error) {
      this.options.logger.warn({ err: error }, "games not re-read: playing from the index");
    }
    for (const seat of this.seats()) {
      if (this.inFlight.has(seat.dispute.toBase58())) continue;
      const status = disputeStatus(seat.game);
      if (status === "open" && turnBelongsTo(seat.game, seat.role)) this.launch(seat.dispute, () => this.move(seat));
      else if (status !== "open") this.launch(seat.dispute, () => this.settle(seat));
    }
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** One action at a time per game: the next tick reads the game as it is after this one. */
  private launch(dispute: PublicKey, work: () => Promise<void>): void {
    const key = dispute.toBase58();
    const running = work()
      .catch((error: unknown) => this.failed(dispute, error))
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, running);
  }

  private failed(dispute: PublicKey, error: unknown): void {
    void this.options.index.refresh("dispute", dispute).catch(() => undefined);
    if (error instanceof ComputeMarketError && MOVED_ON.has(error.errorName)) {
      this.options.logger.debug({ dispute: dispute.toBase58(), err: error }, "the game moved on");
      return;
    }
    this.stats.failures += 1;
    this.options.logger.warn({ dispute: dispute.toBase58(), err: error }, "game action failed");
  }

  private async move(seat: Seat): Promise<void> {
    const { game, dispute, role } = seat;
    const job = this.options.index.jobs.get(game.job.toBase58()) ?? (await this.options.client.fetchJob(game.job));
    if (!job) throw new Error(`job ${game.job.toBase58()} of the game is gone`);
    const replays = await this.options.replays();
    const played = await replays.with(game.job.toBase58(), () => this.options.program(game.job, job), (replay) => playMove(this.options.client, dispute, game, role, replay));
    const log = this.options.logger.child({ dispute: dispute.toBase58(), job: game.job.toBase58(), role, interval: `${game.lo}..${game.hi}` });
    if (played.kind === "wait") {
      log.debug("nothing to play: the other side is to prove, or its clock runs");
      return;
    }
    if (played.kind === "prove") this.stats.proofs += 1;
    else this.stats.moves += 1;
    log.info(played.kind === "prove" ? { witnessBytes: played.witnessBytes } : played.kind === "dissect" ? { points: played.points } : { segment: played.segment }, `game move: ${played.kind}`);
    // The next move reads the game as the chain has it now, not as the subscription may lag.
    await this.options.index.refresh("dispute", dispute);
  }

  private async settle(seat: Seat): Promise<void> {
    const signature = seat.game.refereed ? await this.options.client.settleReferee({ dispute: seat.dispute }) : await this.options.client.settleDispute({ dispute: seat.dispute });
    this.stats.settled += 1;
    this.options.index.forget("dispute", seat.dispute);
    this.options.logger.info({ dispute: seat.dispute.toBase58(), status: disputeStatus(seat.game), signature }, "game settled");
  }
}
