// The importer never changes its source: the vz tree and the private areas
// hash the same before and after a dry run, a real import, a re-run, a forced
// re-run, an --in-place import and failing imports. Also: re-runs are
// idempotent, an existing spec is kept without --force, and writes leave no
// temporary files.

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { copyShared, hashTree, listFiles, runCli, tempDir, writeFiles } from "./helpers";

function host(): { tmp: string; src: string; vzRoot: string; cfg: string } {
  const tmp = tempDir("ctl-untouched-");
  const src = path.join(tmp, "src");
  copyShared("host-lucid/etc/vz", path.join(src, "etc/vz"));
  writeFiles(src, {
    "etc/resolv.conf": "nameserver 198.51.100.53\n",
    // Private areas (simfs): small guests with Ubuntu-style venet0 config.
    "private/101/etc/network/interfaces": "auto venet0\niface venet0 inet static\n\taddress 127.0.0.1\n\tup route add default dev venet0\n",
    "private/101/sbin/init": "#!/bin/sh\n",
    "private/102/etc/hostname": "db1\n",
  });
  fs.symlinkSync("../etc/hostname", path.join(src, "private/102/hostname-link"));
  fs.chmodSync(path.join(src, "private/101/sbin/init"), 0o755);
  // Point the containers at the private areas here (a copied tree's paths).
  for (const ct of ["101", "102"]) {
    const f = path.join(src, `etc/vz/conf/${ct}.conf`);
    fs.writeFileSync(f, fs.readFileSync(f, "utf8").replace(/VE_PRIVATE=.*/, `VE_PRIVATE="${src}/private/$VEID"`));
  }
  return { tmp, src, vzRoot: path.join(src, "etc/vz"), cfg: path.join(tmp, "containerctl") };
}

test("dry run, import, re-run, --force, --in-place and failing runs leave the source unchanged", () => {
  const { tmp, src, vzRoot, cfg } = host();
  try {
    const before = hashTree(src);
    const run = (...args: string[]) => {
      const r = runCli(["-C", cfg, "import", "openvz", "--vz-root", vzRoot, ...args]);
      assert.is(hashTree(src), before, `source changed by: import openvz ${args.join(" ")}`);
      return r;
    };

    const dry = run("--all", "--dry-run");
    assert.is(dry.status, 2, dry.stdout + dry.stderr);
    assert.equal(listFiles(cfg), [], "a dry run writes nothing");
    assert.match(dry.stdout, /\n {4}\[Network\]\n {4}Type=veth\n/, "a dry run prints the specs");

    const first = run("--all");
    assert.is(first.status, 2, first.stdout + first.stderr);
    assert.equal(listFiles(cfg), ["db1.container", "www1.container"]);
    const written = Object.fromEntries(listFiles(cfg).map((f) => [f, fs.readFileSync(path.join(cfg, f), "utf8")]));
    const cfgHash = hashTree(cfg);

    const again = run("--all");
    assert.is(again.status, 2);
    assert.match(again.stdout, /www1\.container unchanged/);
    assert.is(hashTree(cfg), cfgHash, "a re-run changes nothing (not even mtimes)");

    // A spec edited by hand after the import is kept unless --force.
    fs.appendFileSync(path.join(cfg, "www1.container"), "# my edit\n");
    const kept = run("101");
    assert.match(kept.stdout, /exists with other content: not overwritten without --force/);
    assert.ok(fs.readFileSync(path.join(cfg, "www1.container"), "utf8").endsWith("# my edit\n"));
    const forced = run("101", "--force");
    assert.match(forced.stdout, /overwritten \(--force\)/);
    assert.is(fs.readFileSync(path.join(cfg, "www1.container"), "utf8"), written["www1.container"]);

    const inPlace = run("102", "--in-place", "--dry-run");
    assert.match(inPlace.stdout, new RegExp(`RootDirectory=${src}/private/102`));

    // Failing runs: a bad selection, a missing vz tree, a broken container.
    assert.is(run("999").status, 1);
    assert.is(run("nosuchname").status, 1);
    assert.is(runCli(["-C", cfg, "import", "openvz", "--vz-root", path.join(tmp, "nowhere"), "--all"]).status, 1);
    const broken = host();
    try {
      fs.appendFileSync(path.join(broken.vzRoot, "conf/101.conf"), 'HOSTNAME="a\nInit=/bin/sh"\n');
      const b0 = hashTree(broken.src);
      const r = runCli(["-C", broken.cfg, "import", "openvz", "--vz-root", broken.vzRoot, "--all"]);
      assert.is(r.status, 1);
      assert.match(r.stdout, /101\.conf:\d+: HOSTNAME: unterminated quote/);
      assert.equal(listFiles(broken.cfg), ["db1.container"], "the broken container is skipped; the other one is written");
      assert.is(hashTree(broken.src), b0);
    } finally {
      fs.rmSync(broken.tmp, { recursive: true, force: true });
    }
    assert.equal(fs.readdirSync(cfg).filter((f) => f.includes(".tmp-")), [], "no temporary files left");
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test("--json reports every container and parameter, with the exit status", () => {
  const { tmp, vzRoot, cfg } = host();
  try {
    const r = runCli(["-C", cfg, "import", "openvz", "--vz-root", vzRoot, "--all", "--dry-run", "--json"]);
    const j = JSON.parse(r.stdout);
    assert.is(j.exitStatus, r.status);
    assert.equal(j.containers.map((c: { name: string }) => c.name), ["www1", "db1"]);
    const onboot = j.containers[0].entries.find((e: { param: string }) => e.param === "ONBOOT");
    assert.equal(onboot.result, ["Autostart=yes"]);
    assert.is(onboot.origin.line, 2);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test("usage: CTIDs or --all, not both, not neither", () => {
  assert.is(runCli(["import", "openvz"]).status, 1);
  assert.is(runCli(["import", "openvz", "101", "--all"]).status, 1);
});

test.run();
