// Containers through their life under a real systemd (the LXC harness) with
// the real runtime and busybox guests: boot-time autostart in Order= with
// Delay= (and Autostart=no left down), restart, kill, a guest that exits
// (Restart= policy), a Disabled=yes one that Restart= must not retry, and a
// guest that reboots itself. Root only; needs the runtime.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { SystemdHarness } from "../lib/systemd-harness";
import { buildRuntime, skippedWithoutRuntime, guestBoots, makeBusyboxGuest, unitJournalLine, unitProcs, waitFor } from "../lib/harness-guests";

const TOKEN = `t${process.pid}x${Math.floor(Math.random() * 1e6)}`;
const spec = (name: string, extra: string): string => `[Container]\nRootDirectory=/var/lib/containerctl/${name}/rootfs\nGuest=sysvinit\nStopTimeout=10s\n${extra}`;

if (!skippedWithoutRuntime("container lifecycle under systemd")) {
  let h: SystemdHarness;

  test.before(() => {
    buildRuntime();
    h = SystemdHarness.create();
    h.boot();
    // Autostart chain: first (Order=1, Delay=2s) → second (Order=2); third stays down.
    makeBusyboxGuest(h, "first", TOKEN);
    makeBusyboxGuest(h, "second", TOKEN);
    makeBusyboxGuest(h, "third", TOKEN);
    h.writeFile("/etc/containerctl/first.container", spec("first", "[Boot]\nAutostart=yes\nOrder=1\nDelay=2s\n"));
    h.writeFile("/etc/containerctl/second.container", spec("second", "[Boot]\nAutostart=yes\nOrder=2\n"));
    h.writeFile("/etc/containerctl/third.container", spec("third", "[Boot]\nAutostart=no\n"));
    // Autostart=no, but enabled the systemd way.
    makeBusyboxGuest(h, "enabled", TOKEN);
    h.writeFile("/etc/containerctl/enabled.container", spec("enabled", "[Boot]\nAutostart=no\n"));
    // Behaviours started by hand.
    makeBusyboxGuest(h, "crashy", TOKEN, { after: { seconds: 1, action: { exit: 3 }, once: true } });
    h.writeFile("/etc/containerctl/crashy.container", spec("crashy", "Restart=on-failure\n"));
    makeBusyboxGuest(h, "quitter", TOKEN, { after: { seconds: 1, action: { exit: 0 } } });
    h.writeFile("/etc/containerctl/quitter.container", spec("quitter", "Restart=on-failure\n"));
    makeBusyboxGuest(h, "off", TOKEN);
    h.writeFile("/etc/containerctl/off.container", spec("off", "Restart=always\n[Boot]\nDisabled=yes\n"));
    makeBusyboxGuest(h, "rebooter", TOKEN, { after: { seconds: 1, action: "reboot", once: true } });
    h.writeFile("/etc/containerctl/rebooter.container", spec("rebooter", ""));
    h.sh("systemctl daemon-reload");
    h.sh("systemctl enable container@enabled.service");
  });
  test.after(() => h?.destroy());

  const unit = (n: string): string => `container@${n}.service`;
  const prop = (n: string, p: string): string => h.show(unit(n), [p])[p];
  const active = (n: string): boolean => prop(n, "ActiveState") === "active";

  test("at boot Autostart=yes containers come up in Order=, the next one Delay= after the previous; Autostart=no stays down unless enabled", () => {
    h.reboot();
    assert.ok(waitFor(() => active("first") && active("second"), 20_000), `first=${prop("first", "ActiveState")} second=${prop("second", "ActiveState")}`);
    const t1 = Number(prop("first", "ActiveEnterTimestampMonotonic"));
    const t2 = Number(prop("second", "InactiveExitTimestampMonotonic"));
    assert.ok(t1 > 0 && t2 - t1 >= 2_000_000, `second began starting ${(t2 - t1) / 1e6}s after first was up (Delay=2s)`);
    assert.ok(t2 - t1 < 10_000_000, `second began starting ${(t2 - t1) / 1e6}s after first`);
    assert.is(prop("third", "ActiveState"), "inactive");
    assert.is(prop("third", "InactiveExitTimestampMonotonic"), "0");
    assert.is(guestBoots(h, "third").length, 0);
    assert.ok(waitFor(() => active("enabled"), 10_000), `systemctl enable'd container: ${prop("enabled", "ActiveState")}`);
    // Each autostarted guest booted once, as PID 1 of its own pid namespace.
    assert.equal(guestBoots(h, "first"), ["1 first containerctl first"]);
    assert.equal(guestBoots(h, "second"), ["1 second containerctl second"]);
  });

  test("systemctl restart stops the guest with its signal and boots it again", () => {
    h.sh("systemctl restart container@first.service");
    assert.ok(active("first"));
    assert.ok(waitFor(() => guestBoots(h, "first").length === 2), `boots: ${guestBoots(h, "first").join(" | ")}`);
    assert.ok(unitJournalLine(h, unit("first"), new RegExp(`bb-guest-stopping-PWR ${TOKEN}`)), "the guest did not get SIGPWR on restart");
  });

  // systemctl kill signals every process of the unit: the guest's init gets SIGTERM
  // from systemd and, through the runtime's main process, its stop signal; it
  // answers whichever comes first.
  test("systemctl kill reaches the guest; a guest that exits 0 on it leaves the unit inactive", () => {
    h.sh("systemctl kill --signal=SIGTERM container@second.service");
    assert.ok(waitFor(() => prop("second", "ActiveState") === "inactive"), prop("second", "ActiveState"));
    assert.ok(
      unitJournalLine(h, unit("second"), new RegExp(`bb-guest-stopping-(TERM|PWR) ${TOKEN}`)),
      `the guest's answer to the signal is not in its journal:\n${h.run(["journalctl", "-u", unit("second"), "--no-pager", "-n", "15"]).stdout}`,
    );
    assert.is(prop("second", "Result"), "success");
    assert.equal(unitProcs(h, unit("second")), []);
  });

  test("Restart=on-failure: a guest that exits 3 is started again; one that exits 0 is not", () => {
    h.sh("systemctl start container@crashy.service container@quitter.service");
    assert.ok(waitFor(() => guestBoots(h, "crashy").length >= 2, 20_000), `crashy boots: ${guestBoots(h, "crashy").length}`);
    assert.ok(waitFor(() => active("crashy")));
    assert.ok(Number(prop("crashy", "NRestarts")) >= 1);
    assert.ok(waitFor(() => prop("quitter", "ActiveState") === "inactive", 10_000), prop("quitter", "ActiveState"));
    assert.is(guestBoots(h, "quitter").length, 1);
    assert.is(prop("quitter", "NRestarts"), "0");
  });

  test("Disabled=yes: the start fails with 78 and Restart=always does not retry it", () => {
    const r = h.run(`systemctl start ${unit("off")}`, { timeoutMs: 30_000 });
    assert.is.not(r.code, 0, "the start of a disabled container failed");
    assert.is(prop("off", "ExecMainStatus"), "78");
    assert.not.ok(waitFor(() => Number(prop("off", "NRestarts")) > 0 || prop("off", "ActiveState") !== "failed", 3_000), `NRestarts=${prop("off", "NRestarts")} ${prop("off", "ActiveState")}`);
    assert.equal(guestBoots(h, "off"), []);
    assert.ok(unitJournalLine(h, unit("off"), /disabled: Disabled=yes in \/etc\/containerctl\/off\.container/), "the reason is in the journal");
  });

  test("a guest that reboots itself is started again (exit 133)", () => {
    h.sh("systemctl start container@rebooter.service");
    assert.ok(unitJournalLine(h, unit("rebooter"), new RegExp(`bb-guest-rebooting ${TOKEN}`)), "the guest did not reboot");
    assert.ok(waitFor(() => guestBoots(h, "rebooter").length >= 2, 20_000), `rebooter boots: ${guestBoots(h, "rebooter").length}`);
    assert.ok(waitFor(() => active("rebooter")));
  });

  test.run();
}
