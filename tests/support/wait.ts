// Waiting on a condition in tests: poll until it holds, fail with what was awaited when the time
// is up. Used instead of fixed sleeps wherever no event can be awaited directly.

/** Resolves to the first truthy value of `probe` (polled every `intervalMs`); throws after `timeoutMs`. */
export async function until<T>(what: string, probe: () => T | null | undefined | false | Promise<T | null | undefined | false>, timeoutMs = 30_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
