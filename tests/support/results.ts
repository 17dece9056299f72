// Committing results the way each job needs: a single container winner posts its output root;
// several winners seal theirs (commit–reveal) and reveal once all have committed.
import type { AuctionSetup } from "./auction";

/** The salt winner `index` seals its result with in tests. */
export const saltOf = (index: number): Uint8Array => new Uint8Array(32).fill(0x40 + index);

/**
 * Commits `roots[i]` for provider i (i < roots.length). With several winners, each seals its root
 * and, unless `reveal` says otherwise for it, reveals it once all have committed.
 */
export async function commitResults(
  setup: AuctionSetup,
  roots: Uint8Array[],
  reveal: boolean[] = roots.map(() => true),
  providers: number[] = roots.map((_, i) => i),
): Promise<void> {
  const job = (await setup.consumer.client.fetchJob(setup.job))!;
  const owner = (i: number) => setup.providers[providers[i]].owner.client;
  if (job.replication < 2) {
    for (const [i, root] of roots.entries()) await owner(i).commitResult({ job: setup.job, outputRoot: root, resultUriHash: new Uint8Array(32) });
    return;
  }
  for (const [i, root] of roots.entries()) {
    await owner(i).commitSealedResult({ job: setup.job, outputRoot: root, salt: saltOf(providers[i]), resultUriHash: new Uint8Array(32) });
  }
  if (roots.length < job.replication) return;
  for (const [i, root] of roots.entries()) {
    if (reveal[i]) await owner(i).revealResult({ job: setup.job, outputRoot: root, salt: saltOf(providers[i]) });
  }
}
