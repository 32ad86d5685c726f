// The generator must never load dbus-next (generators may not talk to other
// processes), and CLI commands that need no D-Bus must not load it either.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dist = join(__dirname, "../..");
const conf = mkdtempSync(join(tmpdir(), "cc-lazy-"));
writeFileSync(join(conf, "web.container"), "[Container]\nHostname=web\n");

/** Runs a script with a hook that prints every module file loaded, one per line, at exit. */
function loadedModules(args: string[]): string[] {
  const hook = "const M=require('module');const seen=new Set();const o=M._load;M._load=function(r,p,i){const f=M._resolveFilename(r,p,i);seen.add(f);return o.apply(this,arguments)};process.on('exit',()=>process.stderr.write('\\n@@'+[...seen].join('\\n@@')+'\\n'))";
  const r = spawnSync(process.execPath, ["-r", writeHook(hook), ...args], { encoding: "utf8", env: { ...process.env, CONTAINERCTL_CONFIG_DIR: conf, SYSTEMD_SCOPE: "" } });
  return r.stderr.split("\n").filter((l) => l.startsWith("@@")).map((l) => l.slice(2));
}

function writeHook(src: string): string {
  const p = join(conf, "hook.js");
  writeFileSync(p, src);
  return p;
}

test("the generator loads no dbus-next, commander or handlebars", () => {
  const mods = loadedModules([join(dist, "generator/main.js"), join(conf, "out")]);
  assert.ok(mods.some((m) => m.endsWith("generator/generate.js")), "the hook saw the generator's modules");
  for (const bad of ["dbus-next", "commander", "handlebars"]) assert.not.ok(mods.some((m) => m.includes(`node_modules/${bad}/`)), bad);
});

for (const args of [["check"], ["generate", "--dry-run"], ["--help"]]) {
  test(`containerctl ${args.join(" ")} loads neither dbus-next nor handlebars`, () => {
    const mods = loadedModules([join(dist, "cli/containerctl.js"), ...args]);
    assert.ok(mods.some((m) => m.includes("node_modules/commander/")), "the hook saw the CLI's modules");
    assert.not.ok(mods.some((m) => m.includes("node_modules/dbus-next/")));
    assert.not.ok(mods.some((m) => m.includes("node_modules/handlebars/")));
  });
}

test("containerctl --help loads no command's implementation (importer, create)", () => {
  const mods = loadedModules([join(dist, "cli/containerctl.js"), "--help"]);
  assert.equal(mods.filter((m) => /dist\/generator\/(import|create)\//.test(m)), []);
});

test("containerctl list loads dbus-next (the check above can fail) but not xml2js", () => {
  const mods = loadedModules([join(dist, "cli/containerctl.js"), "list", "--timeout", "500"]);
  assert.ok(mods.some((m) => m.includes("node_modules/dbus-next/")));
  // xml2js/lib/xml2js.js is still resolved (served by the stand-in); its parts load only with the real one.
  assert.not.ok(mods.some((m) => m.includes("node_modules/xml2js/lib/builder.js")), "introspection's XML code is deferred");
});

test("generate --upstart loads handlebars (the check above can fail)", () => {
  const mods = loadedModules([join(dist, "cli/containerctl.js"), "generate", "--upstart", "--dry-run"]);
  assert.ok(mods.some((m) => m.includes("node_modules/handlebars/")));
});

test.run();
