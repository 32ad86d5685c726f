// Hostile values in a plan reach the guest literally: no word splitting, no
// globbing, no command substitution, anywhere between the plan and the
// guest's init (start's read loop, the environment to the stage, the fstab
// table, the helper's argv).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestContainer, buildHelper } from "../lib/runtime-harness";

buildHelper();

test("args, env, hostname and bind paths with quotes, globs, $(), backslashes and spaces arrive as written", async () => {
  const canary = path.join(os.tmpdir(), `containerctl-pwned-${process.pid}`);
  const src = fs.mkdtempSync(path.join(os.tmpdir(), "containerctl-src "));
  fs.writeFileSync(path.join(src, "f"), "ok\n");
  const args = [`$(touch ${canary})`, "`touch x`", "*", "a  b", "'q'", '"dq"', "back\\slash", "-e", "--", ";", "$HOME", "~"];
  const env = [`A=$(touch ${canary})`, "B=* ?", "C=x'y\"z", "D=a\\tb", "E=~"];
  const c = new TestContainer("hostile");
  try {
    c.start({ args, env, hostname: "h$(x)*", binds: [[src, "/mnt/we ird\\dir $x *", "ro"]] });
    await c.waitOutput(/init up/);
    const { init } = await c.pids();
    const argv = fs.readFileSync(`/proc/${init}/cmdline`, "latin1").split("\0").slice(0, -1);
    assert.equal(argv, ["/bin/sh", "/sbin/init", ...args]);
    const environ = fs.readFileSync(`/proc/${init}/environ`, "latin1").split("\0");
    for (const e of env) assert.ok(environ.includes(e), `${e} in ${environ.join(" | ")}`);
    assert.is((await c.sh("hostname")).stdout, "h$(x)*\n");
    assert.is((await c.sh("cat '/mnt/we ird\\dir $x */f'")).stdout, "ok\n");
    assert.not.ok(fs.existsSync(canary), "nothing was executed");
    assert.is((await c.stop()).code, 0);
  } finally {
    c.destroy();
    fs.rmSync(src, { recursive: true, force: true });
    fs.rmSync(canary, { force: true });
  }
});

test.run();
