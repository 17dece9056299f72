// What `keeper run` does (./main is the command's shape): load the configuration, start the
// keeper, stop it on a signal.
import { createLogger, handleShutdown, loadConfig, loadKeypair, redact } from "@compute-market/common";
import { KEEPER_ENV, KeeperConfigSchema } from "./config";
import { startKeeper, type Keeper } from "./keeper";

export async function run(flags: Record<string, string | boolean | undefined>): Promise<void> {
  const { config: file, ...rest } = flags;
  const config = loadConfig(KeeperConfigSchema, { file: file as string | undefined, env: KEEPER_ENV, flags: rest });
  const logger = createLogger("keeper", config.logLevel);
  logger.info({ config: redact(config as unknown as Record<string, unknown>) }, "configuration");
  let keeper: Keeper | null = null;
  handleShutdown(logger, () => (keeper ? [{ name: "keeper", stop: keeper.stop }] : []));
  keeper = await startKeeper(config, loadKeypair(config.keypair), logger);
}
