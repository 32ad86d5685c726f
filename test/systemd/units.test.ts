// containerctl under a real systemd (Debian 12, PID 1 in an LXC container,
// see test/lib/systemd-harness.ts): the generator's drop-ins load after
// daemon-reload and at boot, their properties are what systemd applies, a
// broken spec is reported in the journal with file:line and skipped, autostart
// goes through containers.target in Order= with Delay=, `systemctl enable`
// works, and an administrator's drop-in wins over the generator's.
// Containers are not started here (that needs the runtime); where a test needs
// a running unit, a drop-in replaces only ExecStart=. Root only.

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as os from "node:os";
import { SystemdHarness, sleepMs, unavailableReason } from "../lib/systemd-harness";

// Unique per run: the journal reads the host's shared kernel ring buffer.
const TOKEN = `t${process.pid}x${Math.floor(Math.random() * 1e6)}`;
const GEN = "/run/systemd/generator";
const SIGTERM = os.constants.signals.SIGTERM;
const SIGPWR = os.constants.signals.SIGPWR;
const SIGRTMIN_3 = 37; // glibc's SIGRTMIN is 34 on Linux; systemd prints signal numbers

const SPECS: Record<string, string> = {
  web: `[Container]
RootDirectory=/var/lib/containerctl/web/rootfs
StopTimeout=45s

[Resources]
CPUQuota=150%
Memory=512M
Tasks=1024

[Boot]
Autostart=yes
Order=10
Delay=2s
`,
  cache: `[Container]
RootDirectory=/var/lib/containerctl/cache/rootfs
Guest=systemd

[Resources]
Memory=256M

[Boot]
Autostart=yes
Order=20
`,
  db: `[Container]
RootDirectory=/var/lib/containerctl/db/rootfs
Guest=upstart

[Boot]
Autostart=no
`,
  // Line 4 is the bad value.
  broken: `[Container]
RootDirectory=/var/lib/containerctl/broken/rootfs
[Resources]
Memory=lots-${TOKEN}
[Boot]
Autostart=yes
`,
};
const VALID = ["web", "cache", "db"];
const dropIn = (name: string): string => `${GEN}/container@${name}.service.d/10-containerctl.conf`;

const why = unavailableReason();
if (why) {
  test.skip(`containerctl under a real systemd (${why})`, () => {});
  test.run();
} else {
  let h: SystemdHarness;

  test.before(() => {
    h = SystemdHarness.create();
    h.boot();
  });
  test.after(() => h?.destroy());

  const reload = (): void => void h.sh("systemctl daemon-reload");
  const deps = (unit: string): string[] =>
    h.sh(`systemctl list-dependencies --plain --no-pager --no-legend ${unit}`).split("\n").map((l) => l.trim()).filter(Boolean);
  /** Kernel-transport journal lines of this boot (the generator writes to /dev/kmsg), polled until `re` shows. */
  const waitJournal = (re: RegExp, boot = "0"): string | null => {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const out = h.run(["journalctl", "-b", boot, "-k", "-o", "short", "--no-pager"]).stdout;
      const line = out.split("\n").find((l) => re.test(l));
      if (line) return line;
      sleepMs(250);
    }
    return null;
  };

  test("without specs the template loads with no generator drop-in", () => {
    reload();
    const s = h.show("container@web.service", ["LoadState", "DropInPaths"]);
    assert.is(s.LoadState, "loaded");
    assert.is(s.DropInPaths, "");
  });

  test("after daemon-reload every valid spec has a loadable container@NAME.service with the generator's drop-in", () => {
    for (const [name, text] of Object.entries(SPECS)) h.writeFile(`/etc/containerctl/${name}.container`, text);
    reload();
    for (const name of VALID) {
      const s = h.show(`container@${name}.service`, ["LoadState", "FragmentPath", "DropInPaths", "SourcePath"]);
      assert.is(s.LoadState, "loaded", name);
      assert.match(s.FragmentPath, /^(\/usr)?\/lib\/systemd\/system\/container@\.service$/, name);
      assert.ok(s.DropInPaths.split(" ").includes(dropIn(name)), `${name}: DropInPaths=${s.DropInPaths}`);
      assert.is(s.SourcePath, `/etc/containerctl/${name}.container`, name);
    }
    // The broken spec was skipped: only the bare template is left for it.
    assert.not.ok(h.show("container@broken.service", ["DropInPaths"]).DropInPaths.includes(dropIn("broken")));
  });

  test("the generated properties are what systemd has", () => {
    const props = ["MemoryMax", "CPUQuotaPerSecUSec", "TasksMax", "KillSignal", "TimeoutStopUSec", "Environment"];
    const web = h.show("container@web.service", props);
    assert.is(web.MemoryMax, String(512 * 1024 * 1024));
    assert.is(web.CPUQuotaPerSecUSec, "1.500000s");
    assert.is(web.TasksMax, "1024");
    assert.is(web.KillSignal, String(SIGTERM)); // Guest=auto: the runtime picks the guest's signal
    assert.is(web.TimeoutStopUSec, "50s"); // StopTimeout=45s + the 5 s grace (the runtime kills first)
    assert.match(web.Environment, `CONTAINERCTL_PLAN=${GEN}/containerctl/web.plan`);
    const cache = h.show("container@cache.service", props);
    assert.is(cache.MemoryMax, String(256 * 1024 * 1024));
    assert.is(cache.KillSignal, String(SIGRTMIN_3));
    assert.is(cache.TimeoutStopUSec, "1min 5s");
    assert.is(cache.CPUQuotaPerSecUSec, "infinity");
    assert.is(h.show("container@db.service", props).KillSignal, String(SIGPWR));
    assert.ok(h.sh(`test -s ${GEN}/containerctl/web.plan && echo ok`).includes("ok"));
  });

  test("a broken spec shows its file:line error in the journal (from /dev/kmsg)", () => {
    const line = waitJournal(new RegExp(`lots-${TOKEN}`));
    assert.ok(line, `no generator message with lots-${TOKEN} in journalctl -b -k`);
    assert.match(line!, /containerctl-generator\[\d+\]: \/etc\/containerctl\/broken\.container:4: \[Resources\] Memory: /);
    assert.match(line!, /container skipped/);
  });

  test("autostart: Autostart=yes containers are in containers.target, in Order= with the Delay= unit between; multi-user.target wants containers.target", () => {
    const wanted = deps("containers.target");
    for (const u of ["container@web.service", "container@cache.service", "container-delay@web.service"]) assert.ok(wanted.includes(u), `${u} not in ${wanted.join(" ")}`);
    for (const u of ["container@db.service", "container@broken.service"]) assert.not.ok(wanted.includes(u), `${u} in containers.target`);
    assert.ok(deps("multi-user.target").includes("containers.target"));
    assert.match(h.show("containers.target", ["WantedBy"]).WantedBy, /multi-user\.target/);
    assert.ok(h.show("container@cache.service", ["After"]).After.split(" ").includes("container-delay@web.service"));
    assert.ok(h.show("container-delay@web.service", ["After"]).After.split(" ").includes("container@web.service"));
    assert.match(h.show("container-delay@web.service", ["Environment"]).Environment, /CONTAINERCTL_DELAY=2\b/);
  });

  test("systemctl enable/disable container@NAME works for an Autostart=no container", () => {
    assert.is(h.run(["systemctl", "is-enabled", "container@db.service"]).stdout.trim(), "disabled");
    h.sh("systemctl enable container@db.service");
    assert.is(h.sh("systemctl is-enabled container@db.service").trim(), "enabled");
    assert.match(h.sh("readlink /etc/systemd/system/containers.target.wants/container@db.service").trim(), /^(\/usr)?\/lib\/systemd\/system\/container@\.service$/);
    assert.ok(deps("containers.target").includes("container@db.service"));
    h.sh("systemctl disable container@db.service");
    assert.not.ok(deps("containers.target").includes("container@db.service"));
    assert.is(h.run(["systemctl", "is-enabled", "container@db.service"]).stdout.trim(), "disabled");
  });

  test("a drop-in in /etc/systemd/system/container@web.service.d/ overrides the generator's values", () => {
    h.writeFile("/etc/systemd/system/container@web.service.d/override.conf", "[Service]\nMemoryMax=100M\nTasksMax=50\n");
    reload();
    const s = h.show("container@web.service", ["MemoryMax", "TasksMax", "CPUQuotaPerSecUSec", "DropInPaths"]);
    assert.is(s.MemoryMax, String(100 * 1024 * 1024));
    assert.is(s.TasksMax, "50");
    assert.is(s.CPUQuotaPerSecUSec, "1.500000s"); // not overridden: still the generator's
    const paths = s.DropInPaths.split(" ");
    assert.ok(paths.indexOf(dropIn("web")) >= 0 && paths.indexOf(dropIn("web")) < paths.indexOf("/etc/systemd/system/container@web.service.d/override.conf"), s.DropInPaths);
    h.removeFile("/etc/systemd/system/container@web.service.d");
    reload();
    assert.is(h.show("container@web.service", ["MemoryMax"]).MemoryMax, String(512 * 1024 * 1024));
  });

  test("the generated limits reach the unit's cgroup on this host's cgroup layout (ExecStart= stubbed)", () => {
    // Only the process is replaced: every limit still comes from the generator's drop-in.
    h.writeFile(
      "/run/systemd/system/container@web.service.d/99-test-stub.conf",
      "[Service]\nType=simple\nExecStart=\nExecStart=/bin/sleep 300\nExecStopPost=\n",
    );
    reload();
    h.sh("systemctl start container@web.service");
    try {
      const cg = h.show("container@web.service", ["ControlGroup"]).ControlGroup.replace(/^\//, "");
      assert.is(cg, "machine.slice/container@web.service");
      assert.equal(h.cgroupLimits(cg), { memoryMax: String(512 * 1024 * 1024), cpuQuotaUs: "150000", pidsMax: "1024" });
    } finally {
      h.run("systemctl stop container@web.service; systemctl reset-failed container@web.service");
      h.removeFile("/run/systemd/system/container@web.service.d");
      reload();
    }
  });

  test("after a reboot the generator ran at boot: Autostart=yes containers were started in Order= with Delay=, Autostart=no ones not", () => {
    h.reboot();
    const ts = (name: string): number => Number(h.show(`container@${name}.service`, ["InactiveExitTimestampMonotonic"]).InactiveExitTimestampMonotonic);
    const web = ts("web");
    const cache = ts("cache");
    assert.ok(web > 0, "container@web was not started at boot");
    assert.ok(cache > 0, "container@cache was not started at boot");
    assert.ok(cache - web >= 2_000_000, `container@cache started ${(cache - web) / 1e6}s after container@web (Delay=2s)`);
    assert.is(ts("db"), 0, "container@db (Autostart=no) was started");
    assert.is(ts("broken"), 0, "the broken spec's container was started");
    // The drop-ins come from the boot-time generator run, and it reported the broken spec again.
    assert.is(h.show("container@web.service", ["MemoryMax"]).MemoryMax, String(512 * 1024 * 1024));
    assert.ok(waitJournal(new RegExp(`containerctl-generator\\[\\d+\\]: /etc/containerctl/broken\\.container:4: .*lots-${TOKEN}`)), "no generator error in this boot's journal");
    // Nothing but the containers themselves (no runtime or no root filesystem here) may have failed.
    const failed = h.sh("systemctl list-units --failed --plain --no-legend --no-pager").split("\n").map((l) => l.trim().split(/\s+/)[0]).filter(Boolean);
    for (const u of failed) assert.match(u, /^container(-delay)?@(web|cache)\.service$/, `unexpected failed unit ${u}`);
  });

  test.run();
}
