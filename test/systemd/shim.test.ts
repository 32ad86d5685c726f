// A Lucid-shaped guest (test/lib/shim-guests.ts) as `container@old.service`
// under a real systemd (test/lib/systemd-harness.ts), with containerctl as
// install-system installs it: Guest=auto is detected as lucid, the init shim
// gives the guest's init its view (the container jobs in /etc/init), the unit
// becomes active (READY=1 once the guest-side step runs), `systemctl stop`
// reaches the guest as SIGPWR, and the guest's rootfs is unchanged.

import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SystemdHarness } from "../lib/systemd-harness";
import { buildRuntime, skippedWithoutRuntime, makeBusyboxGuest, unitJournalLine } from "../lib/harness-guests";
import { hashTree, makeLucidGuest } from "../lib/shim-guests";

if (!skippedWithoutRuntime("a Lucid guest under systemd")) {
  let h: SystemdHarness;
  let root = "";
  let before: string[] = [];

  test.before(() => {
    buildRuntime();
    h = SystemdHarness.create();
    h.boot();
    root = path.join(h.rootfs, makeBusyboxGuest(h, "old", "shim"));
    makeLucidGuest(root);
    before = hashTree(root);
    h.writeFile("/etc/containerctl/old.container", "[Container]\nRootDirectory=/var/lib/containerctl/old/rootfs\nTTYs=2\nStopTimeout=10s\n");
    h.sh("systemctl daemon-reload");
  });
  test.after(() => h?.destroy());

  const journal = (re: RegExp): string | null => unitJournalLine(h, "container@old.service", re);

  test("containerctl check old: detected as lucid", () => {
    const r = h.run("containerctl check old");
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /^old: guest lucid \(detected from its files\), stop signal SIGPWR$/m);
    assert.match(r.stdout, /^old: shim: \/etc\/init\/containerctl-boot\.conf: added$/m);
  });

  test("systemctl start: active, and the guest's init sees the shim's /etc/init", () => {
    const r = h.run("systemctl start container@old.service", { timeoutMs: 60_000 });
    assert.is(r.code, 0, `${r.stderr}\n${h.run("journalctl -u container@old --no-pager -n 40").stdout}`);
    assert.is(h.show("container@old.service", ["ActiveState"]).ActiveState, "active");
    assert.ok(journal(/^.*jobs .*containerctl-boot\.conf containerctl-console\.conf containerctl-power\.conf .*udev\.conf/), "no shim jobs in the guest's view");
    assert.ok(journal(/pid=1$/), "the guest's init is not PID 1");
    assert.ok(journal(/env container=containerctl$/), "no container= in the guest init's environment");
  });

  test("systemctl stop: SIGPWR reaches the guest, the unit stops cleanly, the rootfs is unchanged", () => {
    h.sh("systemctl stop container@old.service");
    assert.ok(journal(/guest: got SIGPWR/), "the guest did not get SIGPWR");
    assert.equal(h.show("container@old.service", ["ActiveState", "Result"]), { ActiveState: "inactive", Result: "success" });
    assert.equal(hashTree(root), before);
  });

  test.run();
}
