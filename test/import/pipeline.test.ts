// Imported specs go through the same pipeline as hand-written ones: `check`
// accepts them, and the generator turns them into plans that carry the
// container's original addresses, bridge, MAC, devices and root directory.

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { copyShared, runCli, tempDir, writeFiles } from "./helpers";

test("import --in-place, then check and generate: the plans keep what OpenVZ had", () => {
  const tmp = tempDir("ctl-pipeline-");
  try {
    copyShared("host-lucid/etc/vz", path.join(tmp, "etc/vz"));
    writeFiles(tmp, { "etc/resolv.conf": "nameserver 198.51.100.53\n", "private/101/etc/hostname": "www1\n", "private/102/etc/hostname": "db1\n" });
    for (const ct of ["101", "102"]) {
      const f = path.join(tmp, `etc/vz/conf/${ct}.conf`);
      fs.writeFileSync(f, fs.readFileSync(f, "utf8").replace(/VE_PRIVATE=.*/, `VE_PRIVATE="${tmp}/private/$VEID"`));
    }
    const cfg = path.join(tmp, "containerctl");
    const imp = runCli(["-C", cfg, "import", "openvz", "--all", "--in-place", "--vz-root", path.join(tmp, "etc/vz")]);
    assert.is(imp.status, 2, imp.stdout + imp.stderr);
    const check = runCli(["-C", cfg, "check"]);
    assert.is(check.status, 0, check.stdout + check.stderr);
    const gen = runCli(["-C", cfg, "generate", "--dry-run", "-o", path.join(tmp, "out")]);
    assert.is(gen.status, 0, gen.stderr);
    const plan = (name: string): string[] => {
      const m = new RegExp(`==> containerctl/${name}\\.plan <==\\n([\\s\\S]*?)(?=\\n==> |$)`).exec(gen.stdout);
      assert.ok(m, `no plan for ${name}`);
      return m![1].split("\n");
    };
    const www1 = plan("www1");
    for (const l of [`root\t${tmp}/private/101`, "hostname\twww1.example.org", "guest\tlucid", "stop_timeout\t120", "net_type\tveth",
      "net_address\t192.0.2.11/32", "net_address\t192.0.2.12/32", "net_dns\t192.0.2.1", "net_dns\t192.0.2.2", "net_search\texample.org"]) {
      assert.ok(www1.includes(l), `www1 plan lacks '${l}'`);
    }
    assert.not.ok(www1.some((l) => l.startsWith("net_bridge")), "venet addresses are routed, not bridged");
    const db1 = plan("db1");
    for (const l of [`root\t${tmp}/private/102`, "net_bridge\tvmbr0", "net_mac\t00:18:51:aa:bb:01", "device\t/dev/char/10:200\trw", "net_dns\t198.51.100.53"]) {
      assert.ok(db1.includes(l), `db1 plan lacks '${l}'`);
    }
    assert.not.ok(db1.includes("cap_drop\tsys_time"), "CAPABILITY=sys_time:on keeps sys_time");
    assert.match(gen.stdout, /container@www1\.service\.d\/10-containerctl\.conf <==[\s\S]*CPUQuota=150%/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test.run();
