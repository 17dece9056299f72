// How a container run can fail, as a closed set: the node decides from the reason alone whether
// the outcome is the job's own (committed and paid) or the node's (retried, or left to the cranks).
export type RunFailureReason =
  /** The container's command exited with a non-zero status. */
  | "exit-nonzero"
  /** The job's wall-clock limit was reached and the container was killed. */
  | "timeout"
  /** The kernel killed the container for exceeding the job's memory limit. */
  | "oom-killed"
  /** The outputs exceed the job's `maxOutputBytes`. */
  | "output-too-large"
  /** The image is not on this node and could not be pulled. */
  | "image-missing"
  /** The Docker daemon could not be reached, or went away mid-run. */
  | "daemon-unavailable"
  /** The run was cancelled by the node (shutdown). */
  | "cancelled";

export class ContainerRunError extends Error {
  constructor(readonly reason: RunFailureReason, message: string, readonly cause?: unknown) {
    super(message);
    this.name = "ContainerRunError";
  }
}

const DAEMON_ERROR_CODES = new Set(["ECONNREFUSED", "ENOENT", "ECONNRESET", "EPIPE", "EACCES", "ETIMEDOUT"]);

/** Whether an error from dockerode means the daemon itself is unreachable. */
export function isDaemonError(error: unknown): boolean {
  if (error instanceof ContainerRunError) return error.reason === "daemon-unavailable";
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  if (code && DAEMON_ERROR_CODES.has(code)) return true;
  return /socket hang up|connect ENOENT|connect ECONNREFUSED|daemon timed out/i.test(message ?? "");
}
