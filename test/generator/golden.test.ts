// Golden directory tests (STYLE.md, after systemd's generator tests). Each
// test/golden/<case>/ holds
//   spec/            a config directory: NAME.container, NAME.container.d/*.conf, defaults.conf
//   expected/        the exact tree of files and symlinks the generator writes
//   expected.err     the generator's exact stderr (absent: it must print nothing)
//   expected.check   `containerctl check`'s output over spec/, then "exit status N"
// Paths are those of a real host (helpers/generator.ts: HOST_CONFIG_DIR,
// HOST_OUTPUT_DIR). UPDATE_GOLDEN=1 rewrites the expectations; review the diff.
//
// Besides: generating twice gives byte-identical trees, the exit status is 1
// exactly when a spec was skipped, nothing is written to the early/late
// directories, and every problem line has one of the three error shapes.

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  errorShape, GOLDEN, goldenCases, mapSnapshot, readTree, runCli, runGenerator, runGoldenCase, type Snapshot, UPDATE_GOLDEN, writeSnapshot,
} from "../helpers/generator";

const cases = goldenCases();

test("there are golden cases", () => {
  assert.ok(cases.length >= 10, `only ${cases.length} cases under ${GOLDEN}`);
});

function show(snap: Snapshot): string {
  return [...snap].map(([rel, n]) => ("symlink" in n ? `${rel} -> ${n.symlink}` : rel)).join("\n");
}

function readOptional(p: string): string | null {
  return fs.existsSync(p) ? fs.readFileSync(p, "utf8") : null;
}

function writeOptional(p: string, text: string): void {
  if (text === "") fs.rmSync(p, { force: true });
  else fs.writeFileSync(p, text);
}

/** A problem line without the generator's decorations, or null for other lines. */
function problemOf(line: string): string | null {
  const m = /^containerctl-generator\[PID\]: (.*?)(?: \(container skipped\)| \(warning\)| \(no container ordered after the managed bridge\))?$/.exec(line);
  return m ? m[1] : null;
}

for (const name of cases) {
  test(`golden: ${name}`, () => {
    const dir = path.join(GOLDEN, name);
    const r = runGoldenCase(name);
    try {
      if (UPDATE_GOLDEN) {
        writeSnapshot(path.join(dir, "expected"), r.tree);
        writeOptional(path.join(dir, "expected.err"), r.log);
        fs.writeFileSync(path.join(dir, "expected.check"), r.check);
      }
      // Names first (a missing or extra file reads best as a list), then contents and link targets.
      const expected = readTree(path.join(dir, "expected"));
      assert.fixture(show(r.tree), show(expected), "the list of files and symlinks");
      for (const [rel, e] of expected) {
        const got = r.tree.get(rel)!;
        if ("symlink" in e) assert.equal(got, e, `${rel}: symlink target`);
        else {
          assert.ok("content" in got, `${rel} should be a file`);
          if ("content" in got) assert.fixture(got.content, e.content, `${rel}: content`);
        }
      }
      assert.fixture(r.log, readOptional(path.join(dir, "expected.err")) ?? "", "generator stderr (expected.err)");
      assert.fixture(r.check, readOptional(path.join(dir, "expected.check")) ?? "", "containerctl check output (expected.check)");

      // Exit status: 1 exactly when a container (or the managed bridge's ordering) was skipped; warnings alone do not fail.
      const lines = r.log.split("\n").filter(Boolean);
      const skipped = lines.some((l) => l.endsWith(" (container skipped)") || l.endsWith(" (no container ordered after the managed bridge)"));
      assert.is(r.gen.status, skipped ? 1 : 0, `generator exit status\n${r.log}`);
      for (const l of lines) assert.ok(problemOf(l) !== null, `generator line without its prefix: ${l}`);

      // Only the normal directory is written (systemd.generator(7)).
      assert.is(readTree(`${r.outDir}.early`).size, 0, "early dir untouched");
      assert.is(readTree(`${r.outDir}.late`).size, 0, "late dir untouched");

      // Determinism: a second run into a fresh directory gives the same bytes, paths included.
      const again = path.join(r.tmp, "out2");
      runGenerator(r.configDir, again);
      const rel = mapSnapshot(readTree(again), (s) => s.split(again).join(r.outDir));
      assert.equal([...rel], [...r.raw], "second run differs");
    } finally {
      fs.rmSync(r.tmp, { recursive: true, force: true });
    }
  });
}

test("`containerctl generate --dry-run` prints exactly what the generator writes, for every case", () => {
  for (const name of cases) {
    const r = runGoldenCase(name);
    try {
      const d = runCli(["generate", "--dry-run", "--output", r.outDir], r.configDir);
      const want = [...r.raw].map(([rel, n]) => ("symlink" in n ? `==> ${rel} -> ${n.symlink}\n` : `==> ${rel} <==\n${n.content}`)).join("");
      assert.fixture(d.stdout, want, `${name}: dry-run output`);
      assert.is(d.status, r.gen.status, `${name}: dry-run exit status`);
    } finally {
      fs.rmSync(r.tmp, { recursive: true, force: true });
    }
  }
});

test("`containerctl check FILE...` reports the named files only, in the same shapes", () => {
  const dir = path.join(GOLDEN, "broken-next-to-good", "spec");
  const good = runCli(["check", path.join(dir, "aaa-good.container")]);
  assert.is(good.status, 0, good.stderr);
  assert.is(good.stdout, "1 spec(s) OK\n");
  const bad = runCli(["check", path.join(dir, "aaa-good.container"), path.join(dir, "broken.container"), path.join(dir, "notes.txt")]);
  assert.is(bad.status, 1);
  const lines = bad.stderr.split("\n").filter(Boolean);
  assert.equal(lines.map((l) => l.replace(dir, "DIR")), [
    "DIR/broken.container:4: [Resources] Memroy: unknown key (did you mean 'Memory'?)",
    "DIR/broken.container:5: [Resources] CPUQuota: 'lots' is not a percentage (e.g. 150%)",
    "DIR/notes.txt: not a spec file (expected NAME.container)",
  ]);
  for (const l of lines) assert.ok(errorShape(l) !== null, l);
});

test("every problem line of every case has one of the three error shapes", () => {
  let n = 0;
  for (const name of cases) {
    const dir = path.join(GOLDEN, name);
    const err = (readOptional(path.join(dir, "expected.err")) ?? "").split("\n").filter(Boolean).map(problemOf);
    const check = (readOptional(path.join(dir, "expected.check")) ?? "").split("\n").filter(Boolean)
      .filter((l) => !/^\d+ spec\(s\) OK/.test(l) && !/^exit status \d+$/.test(l))
      .map((l) => l.replace(/ \(warning\)$/, ""));
    for (const l of [...err, ...check]) {
      assert.ok(l !== null);
      assert.ok(errorShape(l!) !== null, `${name}: '${l}' is not file:line: [Section] Key: message, file:line: message or file: message`);
      // The file named is one of the case's own spec files.
      const file = /^(\/[^:]*)/.exec(l!)![1];
      assert.ok(file.startsWith("/etc/containerctl/"), `${name}: '${file}' is not a spec file path`);
      const exists = (p: string): boolean => { try { fs.lstatSync(p); return true; } catch { return false; } }; // dangling links count
      assert.ok(exists(path.join(dir, "spec", file.slice("/etc/containerctl/".length))), `${name}: ${file} does not exist in spec/`);
      n++;
    }
  }
  assert.ok(n > 10, `only ${n} problem lines across the golden cases`);
});

test.run();
