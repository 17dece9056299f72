// `keeper run`: the keeper daemon's command line, with solana-CLI conventions. What it does is
// in ./run, loaded when it runs, so --help answers without loading the chain libraries.
import { Command } from "commander";

const program = new Command().name("keeper").description("compute-market keeper: awards auctions, cranks deadlines, settles jobs, challenges wrong verifiable results");

program
  .command("run")
  .description("index the market and crank whatever is due, until stopped")
  .option("-u, --url <url>", "JSON-RPC URL")
  .option("--ws-url <url>", "PubSub URL (default: derived from --url)")
  .option("-k, --keypair <path>", "keeper wallet (pays fees, receives crank fees)")
  .option("-c, --config <file>", "JSON configuration file")
  .option("--program-id <address>", "program address (default: the IDL's)")
  .option("--port <port>", "port of /health and /metrics (0: any free port)")
  .option("--tick-ms <ms>", "interval between ticks")
  .option("--bots <list>", "comma-separated bots: auction-closer,deadline-cranker,finalizer,dispute-cranker,challenger,service-cranker")
  .option("--challenge-sample <share>", "share of verifiable results to replay, 0..1 (default 1: all)")
  .option("--max-replay-steps <steps>", "replay no result claiming more steps than this")
  .option("--blob-sources <urls>", "comma-separated endpoints to fetch verifiable programs from")
  .option("--pack-size <n>", "awards packed into one transaction at most (default 8; 1: each alone)")
  .option("--priority-fee <strategy>", "compute-unit price: none, fixed:<µlamports>, p<percentile> of recent fees for the written accounts, or p<percentile>:<floor> (default p75)")
  .option("--max-priority-fee <µlamports>", "the highest compute-unit price ever paid, in micro-lamports per unit (default 200000)")
  .option("--dry-run", "log the cranks that are due without sending them")
  .action(async (flags: Record<string, string | boolean | undefined>) => (await import("./run")).run(flags));

program.parseAsync().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
