// Graceful shutdown: SIGINT/SIGTERM stop every component (all of them, even if one fails), then
// exit; an uncaught exception or unhandled rejection exits non-zero after logging.
import type { Logger } from "pino";

export interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

export function handleShutdown(logger: Logger, components: () => Stoppable[]): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const results = await Promise.allSettled(components().map((c) => c.stop()));
    results.forEach((result, i) => {
      if (result.status === "rejected") logger.error({ component: components()[i]?.name, err: result.reason }, "stop failed");
    });
    process.exit(results.some((r) => r.status === "rejected") ? 1 : 0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.on("uncaughtException", (err) => {
    logger.fatal({ err }, "uncaught exception");
    process.exit(1);
  });
  process.on("unhandledRejection", (err) => {
    logger.fatal({ err }, "unhandled rejection");
    process.exit(1);
  });
}
