// install-system / uninstall-system into a temporary root, then run the
// installed generator and CLI launchers as systemd and a user would.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const cli = join(__dirname, "../../cli/containerctl.js");
const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", env: { ...process.env, ...env } });

function walk(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? [p.slice(base.length) + "/", ...walk(p, base)] : [p.slice(base.length)];
  });
}

const root = mkdtempSync(join(tmpdir(), "cc-install-"));

test.after(() => rmSync(root, { recursive: true, force: true }));

test("install-system puts generator, units, CLI and man pages in place", () => {
  const r = run(["install-system", "--root", root]);
  assert.is(r.status, 0, r.stderr);
  for (const f of [
    "usr/lib/systemd/system-generators/containerctl-generator",
    "usr/lib/systemd/system/container@.service",
    "usr/lib/systemd/system/container-delay@.service",
    "usr/lib/systemd/system/containers.target",
    "usr/sbin/containerctl",
    "usr/share/man/man5/containerctl.container.5",
    "usr/share/man/man8/containerctl.8",
    "usr/lib/containerctl/dist/generator/main.js",
    "usr/lib/containerctl/node_modules/commander/package.json",
    "usr/lib/containerctl/upstart/container.conf.hbs",
    "usr/lib/containerctl/runtime/start",
    "usr/lib/containerctl/runtime/helper",
  ]) assert.ok(existsSync(join(root, f)), `${f} installed`);
  assert.ok(statSync(join(root, "usr/lib/systemd/system-generators/containerctl-generator")).mode & 0o111, "generator is executable");
  assert.ok(statSync(join(root, "usr/lib/containerctl/runtime/helper")).mode & 0o111, "the runtime's helper is built and executable");
  assert.not.ok(existsSync(join(root, "usr/lib/containerctl/node_modules/typescript")), "no dev dependencies");
  assert.not.ok(existsSync(join(root, "usr/lib/containerctl/dist/test")), "no tests installed");
});

test("the installed generator runs from its launcher and writes units", () => {
  // The launcher requires the absolute /usr/lib/containerctl path, so run the
  // installed main.js directly from the temp root with the same node.
  const conf = join(root, "etc/containerctl");
  writeFileSync(join(conf, "web.container"), "[Container]\nHostname=web\n[Boot]\nAutostart=yes\n");
  const out = join(root, "run/gen");
  mkdirSync(out, { recursive: true });
  const launcher = readFileSync(join(root, "usr/lib/systemd/system-generators/containerctl-generator"), "utf8");
  assert.match(launcher, new RegExp(`^#!${process.execPath}\n`));
  assert.match(launcher, /require\("\/usr\/lib\/containerctl\/dist\/generator\/main\.js"\)/);
  const r = spawnSync(process.execPath, [join(root, "usr/lib/containerctl/dist/generator/main.js"), out, out, out], {
    encoding: "utf8", env: { ...process.env, CONTAINERCTL_CONFIG_DIR: conf },
  });
  assert.is(r.status, 0, r.stderr);
  assert.ok(existsSync(join(out, "container@web.service.d/10-containerctl.conf")));
  // A dangling link here (the template is not installed on this host): lstat, not exists.
  assert.is(readlinkSync(join(out, "containers.target.wants/container@web.service")), "/usr/lib/systemd/system/container@.service");
});

test("the installed CLI renders upstart jobs from its own templates", () => {
  const r = spawnSync(process.execPath, [join(root, "usr/lib/containerctl/dist/cli/containerctl.js"), "-C", join(root, "etc/containerctl"), "generate", "--upstart", "--dry-run"], { encoding: "utf8" });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /==> container\.conf <==\n/);
  assert.match(r.stdout, /instance \$NAME/);
});

test("uninstall-system removes what was installed and keeps the specs", () => {
  const r = run(["uninstall-system", "--root", root]);
  assert.is(r.status, 0, r.stderr);
  const left = walk(root).filter((p) => !p.endsWith("/"));
  assert.equal(left.filter((p) => !p.startsWith("/etc/containerctl/") && !p.startsWith("/run/gen/")), []);
  assert.ok(existsSync(join(root, "etc/containerctl/web.container")), "spec kept");
  const again = run(["uninstall-system", "--root", root]);
  assert.is(again.status, 0);
  assert.match(again.stdout, /not installed/);
});

test.run();
