// Retries with exponential backoff and jitter for transient failures (network, rate limits);
// errors the caller classifies as final are rethrown at once.
export interface RetryOptions {
  attempts?: number;
  baseMs?: number;
  maxMs?: number;
  /** Whether an error is worth another attempt; program refusals are not. */
  retryable?: (error: unknown) => boolean;
  signal?: AbortSignal;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The delay before attempt `attempt` (1-based retry count): doubling, capped, ±25 % jitter. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exact = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.round(exact * (0.75 + random() * 0.5));
}

export async function withRetry<T>(action: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { attempts = 5, baseMs = 200, maxMs = 5_000, retryable = () => true, signal, onRetry } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (error) {
      if (attempt >= attempts || !retryable(error) || signal?.aborted) throw error;
      const delay = backoffDelay(attempt, baseMs, maxMs);
      onRetry?.(error, attempt, delay);
      await sleep(delay, signal);
    }
  }
}
