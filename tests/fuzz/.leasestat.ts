import { runCase, stepsFor } from "./runner";
async function main() {
  for (const seed of [1, 2, 3, 4, 5]) {
    const r = await runCase(seed, stepsFor(seed, 300), { drain: false });
    const posted = r.log.filter((l) => /post_service: accepted/.test(l)).length;
    const lines = r.log.filter((l) => /lease|service/.test(l)).map((l) => l.replace(/\{.*/, "").replace(/.*-> /, "")).reduce((m, l) => m.set(l, (m.get(l) ?? 0) + 1), new Map<string, number>());
    console.log(seed, "posted", posted, [...lines.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25));
  }
}
main();
