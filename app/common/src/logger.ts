// Structured JSON logs (pino), one child logger per component; secrets never logged. Errors go
// under one key, `err`, always as the error itself: the serializer below decides how it reads.
import pino, { type Logger } from "pino";

export type { Logger };

/** An error as a log line shows it: its message (program errors carry name and code in it), never its logs or stack. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function createLogger(name: string, level: string = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({ name, level, base: { service: name }, timestamp: pino.stdTimeFunctions.isoTime, serializers: { err: errorText } });
}
