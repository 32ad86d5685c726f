// The runtime's shell files: shellcheck-clean as POSIX sh, parsed by dash and
// busybox ash, and a container actually started with busybox ash running
// both the start and the stage scripts.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { busyboxBinary } from "../lib/busybox-guest";
import { RUNTIME_DIR, TestContainer, buildHelper } from "../lib/runtime-harness";

/** Every shell script in runtime/ (by its #! line). */
function shellFiles(): string[] {
  return fs.readdirSync(RUNTIME_DIR).map((f) => path.join(RUNTIME_DIR, f))
    .filter((f) => fs.statSync(f).isFile() && fs.readFileSync(f, "utf8").startsWith("#!/bin/sh"));
}

test("runtime has its shell files", () => {
  const names = shellFiles().map((f) => path.basename(f)).sort();
  for (const n of ["build.sh", "cleanup", "disk", "guest-init", "limits", "net", "net-extra", "net-host", "shim", "stage", "start"]) assert.ok(names.includes(n), names.join(" "));
});

test("shellcheck: POSIX sh, no warnings", () => {
  const r = spawnSync("shellcheck", ["--shell=sh", "--severity=style", ...shellFiles()], { encoding: "utf8" });
  assert.is(r.error, undefined, "shellcheck is installed (test/apt-packages.txt)");
  assert.is(r.status, 0, r.stdout + r.stderr);
});

test("shellcheck catches what it should (the check can fail)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "containerctl-sc-"));
  try {
    fs.writeFileSync(path.join(dir, "bad"), "#!/bin/sh\nx=$1\nrm $x\n[[ -n $x ]]\n");
    const r = spawnSync("shellcheck", ["--shell=sh", path.join(dir, "bad")], { encoding: "utf8" });
    assert.is.not(r.status, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("dash and busybox ash parse every file", () => {
  for (const f of shellFiles()) {
    const d = spawnSync("dash", ["-n", f], { encoding: "utf8" });
    assert.is(d.status, 0, `dash -n ${f}: ${d.stderr}`);
    const b = spawnSync(busyboxBinary(), ["sh", "-n", f], { encoding: "utf8" });
    assert.is(b.status, 0, `busybox sh -n ${f}: ${b.stderr}`);
  }
});

test("no eval, no sourcing, set -eu in every file", () => {
  for (const f of shellFiles()) {
    const text = fs.readFileSync(f, "utf8");
    const code = text.split("\n").filter((l) => !/^\s*#/.test(l)).join("\n");
    assert.not.match(code, /\beval\b/, f);
    assert.not.match(code, /^\s*(\.|source)\s+[^|)\s]/m, f); // not the case label `source | ...`
    assert.match(code, /^set -eu$/m, f);
  }
});

test("a container starts and stops with busybox ash running start and stage", async () => {
  buildHelper();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "containerctl-ash-"));
  const ash = path.join(dir, "ash");
  const c = new TestContainer("ash");
  // busybox ash that notes each script it is given, so the test sees that both ran under it.
  const ran = path.join(c.dir, "ran");
  fs.writeFileSync(ash, `#!${busyboxBinary()} sh\necho "$1" >>'${ran}'\nexec '${busyboxBinary()}' sh "$@"\n`, { mode: 0o755 });
  try {
    c.start({ hostname: "ashhost", binds: [[dir, "/mnt/with space", "ro"]] }, { CONTAINERCTL_SHELL: ash }, path.join(RUNTIME_DIR, "start"), [ash]);
    await c.waitOutput(/init up pid=1 host=ashhost/);
    assert.is((await c.sh("ls '/mnt/with space'")).stdout, "ash\n");
    const scripts = fs.readFileSync(ran, "utf8").split("\n").filter(Boolean).map((f) => path.basename(f));
    assert.ok(scripts.includes("start") && scripts.includes("stage"), `scripts run by ash: ${scripts.join(" ")}`);
    assert.is((await c.stop()).code, 0);
    assert.match(c.stdout, /got SIGPWR/);
  } finally {
    c.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
