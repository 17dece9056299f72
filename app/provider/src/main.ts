// `provider`: the provider node's command line, with solana-CLI conventions (--url, --keypair,
// default ~/.config/solana/id.json) and --json output for scripts. This file is only the
// commands' shape; what each does is in ./commands, loaded when one runs, so --help answers
// without loading the chain and container libraries.
import { Command } from "commander";
import type { Flags } from "./commands";

const commands = () => import("./commands");

const program = new Command().name("provider").description("compute-market provider node: registers hardware, stakes, bids, runs jobs in containers, commits results");

/** Options every command shares. */
function common(command: Command): Command {
  return command
    .option("-u, --url <url>", "JSON-RPC URL")
    .option("-k, --keypair <path>", "provider wallet (default ~/.config/solana/id.json)")
    .option("-c, --config <file>", "JSON configuration file")
    .option("--program-id <address>", "program address (default: the IDL's)")
    .option("--market <address>", "market to provide in")
    .option("--work-dir <dir>", "where jobs, results and the journal live")
    .option("--priority-fee <strategy>", "compute-unit price: none, fixed:<µlamports>, p<percentile> of recent fees for the written accounts, or p<percentile>:<floor> (default p75)")
    .option("--max-priority-fee <µlamports>", "the highest compute-unit price ever paid, in micro-lamports per unit (default 200000)")
    .option("--json", "print JSON instead of text");
}

common(program.command("init"))
  .description("create the wallet (if missing) and work directory, detect the hardware")
  .action(async (flags: Flags) => (await commands()).init(flags));

common(program.command("register"))
  .description("register this machine in a market (or update its registration)")
  .option("--endpoint <url>", "public URL of this node's results server")
  .action(async (flags: Flags) => (await commands()).register(flags));

common(program.command("stake"))
  .description("add stake (base units of the market's stake mint)")
  .requiredOption("--amount <n>", "amount in base units")
  .action(async (flags: Flags) => (await commands()).stake(flags));

common(program.command("unstake"))
  .description("start unbonding part of the free stake, or --withdraw what has unbonded")
  .option("--amount <n>", "amount to unbond, in base units")
  .option("--withdraw", "withdraw stake whose unbonding delay has passed")
  .action(async (flags: Flags) => (await commands()).unstake(flags));

common(program.command("status"))
  .description("the registration, stake and reputation on-chain, and the jobs this node remembers")
  .action(async (flags: Flags) => (await commands()).status(flags));

common(program.command("run"))
  .description("run the node until stopped: bid, run, commit, serve results")
  .option("--endpoint <url>", "public URL of this node's results server")
  .option("--host <host>", "address the results and status servers listen on")
  .option("--port <port>", "results server port (0: any free port)")
  .option("--status-port <port>", "port of /health and /metrics (0: any free port)")
  .option("--strategy <json>", "pricing strategy, e.g. '{\"name\":\"fixed-floor\",\"price\":\"1000\"}'")
  .option("--max-concurrent-jobs <n>", "jobs held at once")
  .option("--serve-services", "bid on service leases and run their replicas (ports published on --host)")
  .option("--blob-sources <urls>", "comma-separated endpoints to fetch specs and inputs from")
  .option("--docker-socket <path>", "Docker engine socket")
  .option("--tick-ms <ms>", "interval between ticks")
  .action(async (flags: Flags) => (await commands()).run(flags));

program.parseAsync().catch(async (error: unknown) => {
  console.error(`error: ${(await commands()).errorText(error)}`);
  process.exit(1);
});
