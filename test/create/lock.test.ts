// The cache lock shared by create and the test harness (generator/create/lock.ts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { tryLock } from "../../generator/create/lock";

test("taken once; a live owner keeps it; a dead owner's lock is taken over", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-lock-"));
  const lock = path.join(dir, "lock");
  try {
    assert.is(tryLock(lock), null, "free: now ours");
    assert.is(tryLock(lock), process.pid, "held by a live process (us)");
    const dead = spawnSync("true").pid!;
    fs.writeFileSync(path.join(lock, "pid"), String(dead));
    assert.is(tryLock(lock), null, "the dead owner's lock is ours now");
    assert.is(fs.readFileSync(path.join(lock, "pid"), "utf8"), String(process.pid));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
