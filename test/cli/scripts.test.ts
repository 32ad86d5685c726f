// The project's own shell entry points (the README's two commands, CI's
// entry, the shared installer): shellcheck-clean POSIX sh that dash parses.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const root = join(__dirname, "../../..");
const scripts = ["demo.sh", "install-deps.sh", "test/run.sh", ".ci/run"].map((f) => join(root, f));

test("shellcheck: POSIX sh, no warnings", () => {
  const r = spawnSync("shellcheck", ["--shell=sh", "--severity=style", ...scripts], { encoding: "utf8" });
  assert.is(r.error, undefined, "shellcheck is installed (test/apt-packages.txt)");
  assert.is(r.status, 0, r.stdout + r.stderr);
});

test("dash parses them", () => {
  for (const f of scripts) {
    const r = spawnSync("dash", ["-n", f], { encoding: "utf8" });
    assert.is(r.status, 0, `${f}: ${r.stderr}`);
  }
});

test.run();
