// Structured JSON logs (pino), one child logger per component; secrets never logged.
import pino, { type Logger } from "pino";

export type { Logger };

export function createLogger(name: string, level: string = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({ name, level, base: { service: name }, timestamp: pino.stdTimeFunctions.isoTime });
}
