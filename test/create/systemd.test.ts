// Created guests under a real systemd (test/lib/systemd-harness.ts): the
// busybox guest and a Debian bookworm guest made by `containerctl create`
// start with `systemctl start container@NAME`, show a console login prompt in
// the unit's journal, and stop cleanly with `systemctl stop`; the Debian one
// sits on the managed bridge, which its start brings up, and its own networkd
// configures eth0. create runs on the host with its directories pointed into
// the harness's root filesystem.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { SystemdHarness } from "../lib/systemd-harness";
import { buildRuntime, skippedWithoutRuntime, unitJournalLine, waitFor } from "../lib/harness-guests";
import { tempHost } from "./env";

const CACHE = process.env.CONTAINERCTL_TEST_CACHE ? path.join(process.env.CONTAINERCTL_TEST_CACHE, "create") : "/var/cache/containerctl-test/create";
if (!skippedWithoutRuntime("created guests under systemd")) {
  let h: SystemdHarness;
  const t = tempHost(CACHE);

  /** `containerctl create` on the host into the harness's /etc/containerctl and /var/lib/containerctl. */
  function createInside(args: string[]): void {
    const env = { ...t.env, CONTAINERCTL_CONFIG_DIR: path.join(h.rootfs, "etc/containerctl"), CONTAINERCTL_LIB_DIR: path.join(h.rootfs, "var/lib/containerctl") };
    const r = spawnSync(process.execPath, [path.join(__dirname, "../../cli/containerctl.js"), "create", ...args], { env, encoding: "utf8", timeout: 30 * 60_000 });
    assert.is(r.status, 0, r.stderr);
    // The spec names the host's view of the rootfs; inside, it is the default path: drop the line.
    const spec = path.join(h.rootfs, "etc/containerctl", `${args[0]}.container`);
    fs.writeFileSync(spec, fs.readFileSync(spec, "utf8").replace(/^RootDirectory=.*\n/m, ""));
  }

  test.before(() => {
    buildRuntime();
    h = SystemdHarness.create();
    h.boot();
  });
  test.after(() => {
    h?.destroy();
    t.cleanup();
  });

  const start = (name: string): void => {
    const r = h.run(`systemctl start container@${name}.service`, { timeoutMs: 120_000 });
    assert.is(r.code, 0, `${r.stderr}\n${h.run(`journalctl -u container@${name} --no-pager -n 40`).stdout}`);
  };
  const stop = (name: string): void => {
    h.sh(`systemctl stop container@${name}.service`, 120_000);
    assert.is(h.show(`container@${name}.service`, ["ActiveState"]).ActiveState, "inactive");
  };

  test("a created busybox guest: systemctl start, a login prompt on its console (in the journal), systemctl stop", () => {
    createInside(["tiny", "--busybox"]);
    h.sh("systemctl daemon-reload");
    start("tiny");
    // The prompt itself ends in no newline, so the journal shows getty's issue line before it.
    assert.ok(unitJournalLine(h, "container@tiny.service", /BusyBox guest tiny on \/dev\/console/, 30_000), h.run("journalctl -u container@tiny --no-pager -n 40").stdout);
    stop("tiny");
  });

  test("a created Debian bookworm guest on the managed bridge: its systemd boots to a console login prompt under the host's systemd, networkd configures eth0, the host reaches it", () => {
    createInside(["deb", "--distro", "debian", "--release", "bookworm", "--address", "10.0.3.5/24", "--gateway", "10.0.3.1", "--bridge", "ccbr0"]);
    h.sh("systemctl daemon-reload");
    start("deb");
    // Bridge=ccbr0 is the managed bridge: starting the container brought containerctl-network.service up first.
    assert.is(h.show("containerctl-network.service", ["ActiveState"]).ActiveState, "active");
    // agetty's issue line on the console (the prompt after it ends in no newline, so it is not logged).
    const line = unitJournalLine(h, "container@deb.service", /Debian GNU\/Linux 12 deb console/, 120_000);
    assert.ok(line, h.run("journalctl -u container@deb --no-pager -n 60").stdout);
    assert.ok(waitFor(() => /Reached target .*Multi-User System/.test(h.run("journalctl -u container@deb --no-pager").stdout), 10_000));
    let links = "";
    assert.ok(waitFor(() => /\beth0\b.*\bconfigured\b/.test((links = h.run("containerctl exec deb -- networkctl --no-pager list").stdout)), 60_000), links);
    assert.match(h.run("containerctl exec deb -- ip -o -4 addr show dev eth0").stdout, /inet 10\.0\.3\.5\/24/);
    assert.match(h.run("containerctl exec deb -- ip route show default").stdout, /default via 10\.0\.3\.1 dev eth0/);
    // The harness (the host) pings the guest over the managed bridge, with the busybox guest's busybox.
    assert.is(h.run("/var/lib/containerctl/tiny/rootfs/bin/busybox ping -c1 -W2 10.0.3.5").code, 0, "host -> guest on ccbr0");
    stop("deb");
    h.sh("containerctl network down");
    assert.not.match(h.run("ip -o link").stdout, /ccbr0/);
  });

  test.run();
}
