// Mocha's spec reporter, plus a table at the end of the run: each test file with its tests and
// how long it took (hooks included), slowest first, so a slow suite is told from a hung one.
// Used by `npm test` and `npm run test:fast` through `--reporter`.
import path from "node:path";
import Mocha from "mocha";

const ROOT = path.resolve(__dirname, "../..");

interface FileTime {
  ms: number;
  tests: number;
  failed: number;
}

/** Rows of the table, slowest first. */
function durationRows(times: ReadonlyMap<string, FileTime>): string[] {
  const files = [...times].sort(([, a], [, b]) => b.ms - a.ms);
  const width = Math.max(4, ...files.map(([file]) => file.length));
  const total = files.reduce((sum, [, t]) => sum + t.ms, 0);
  const line = (file: string, seconds: string, tests: string, note = "") => `  ${file.padEnd(width)}  ${seconds.padStart(8)}  ${tests.padStart(5)}${note}`;
  return [
    line("file", "seconds", "tests"),
    ...files.map(([file, t]) => line(file, (t.ms / 1000).toFixed(1), String(t.tests), t.failed > 0 ? `  (${t.failed} failed)` : "")),
    line(`${files.length} files`, (total / 1000).toFixed(1), String(files.reduce((sum, [, t]) => sum + t.tests, 0))),
  ];
}

class DurationsReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const times = new Map<string, FileTime>();
    const started = new Map<Mocha.Suite, number>();
    const entry = (file: string | undefined): FileTime | null => {
      if (!file) return null;
      const key = path.relative(ROOT, file);
      const found = times.get(key) ?? { ms: 0, tests: 0, failed: 0 };
      times.set(key, found);
      return found;
    };
    // A file's time is that of its top-level suites, from their first hook to their last.
    runner.on(Mocha.Runner.constants.EVENT_SUITE_BEGIN, (suite) => {
      if (suite.parent?.root) started.set(suite, Date.now());
    });
    runner.on(Mocha.Runner.constants.EVENT_SUITE_END, (suite) => {
      const begin = started.get(suite);
      const time = entry(suite.file);
      if (begin !== undefined && time) time.ms += Date.now() - begin;
    });
    runner.on(Mocha.Runner.constants.EVENT_TEST_END, (test) => {
      const time = entry(test.file);
      if (time) time.tests += 1;
    });
    runner.on(Mocha.Runner.constants.EVENT_TEST_FAIL, (test) => {
      const time = entry(test.file);
      if (time) time.failed += 1;
    });
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      if (times.size === 0) return;
      process.stdout.write(`\n  Time per file:\n${durationRows(times).join("\n")}\n\n`);
    });
  }
}

export = DurationsReporter;
