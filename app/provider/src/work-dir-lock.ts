// One node per work directory: two nodes on one journal would bid twice on a job and race each
// other's commits. The lock is a file holding the holder's pid; one whose process is gone (a node
// killed with SIGKILL) is taken over.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import path from "node:path";

const LOCK_FILE = "provider.lock";

export interface WorkDirLock {
  release(): void;
}

/** Whether process `pid` is alive (signal 0 tests for it without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes `workDir`'s lock, or throws naming the node that holds it. */
export function lockWorkDir(workDir: string): WorkDirLock {
  const file = path.join(workDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return { release: () => rmSync(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number(readFileSync(file, "utf8").trim());
      // Another live process holds it; this process's own lock (a node started again in-process) is taken over.
      if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
        throw new Error(`another provider node (pid ${holder}) runs on ${workDir}: stop it first, or give this one its own --work-dir`);
      }
      rmSync(file, { force: true });
    }
  }
  throw new Error(`cannot take the lock ${file}: another node keeps taking it`);
}
