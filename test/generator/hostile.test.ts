// Hostile spec values (issue 2, "Hostile input"): newlines followed by
// directives, specifiers, variables, backslash-newline, `;`, quotes, NUL and
// other control characters, very long lines, 10,000 keys in one file. Each is
// put into every free-form key and run through what `check` and the generator
// run (in process, then the real entry points), asserting the properties of
// helpers/properties.ts. Accepted values are then read back by systemd itself
// (`systemd-analyze verify` and its debug unit dump) and compared.

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadAll } from "../../generator/generate";
import type { Tree } from "../../generator/tree";
import { assertNone, runInMemory, treeViolations } from "../helpers/properties";
import { normaliseLog, readTree, runCli, runGenerator, tempDir } from "../helpers/generator";
import { makeVerifyRoot, parsedProperties, placeGenerated, systemdAnalyzeAvailable, unitsOf, verify } from "../helpers/verify";
import { parseUnit } from "../helpers/unit-file";

const HOSTILE: [string, string][] = [
  ["newline then ExecStartPre=", "x\nExecStartPre=/bin/sh -c evil"],
  ["newline then a section", "x\n[Service]\nExecStartPre=/bin/evil"],
  ["backslash-newline then ExecStartPre=", "x\\\nExecStartPre=/bin/evil"],
  ["carriage return then ExecStartPre=", "x\rExecStartPre=/bin/evil"],
  ["CRLF then ExecStartPre=", "x\r\nExecStartPre=/bin/evil"],
  ["specifiers", "%n %i %h %% %"],
  ["trailing percent", "50%"],
  ["variables", "$VAR ${VAR} $$ $"],
  ["semicolons", "; a;b ;"],
  ["double quotes", '"quoted" "unbalanced'],
  ["single quotes", "'single' 'unbalanced"],
  ["backslashes", "a\\b \\\\ \\n \\x41"],
  ["trailing backslash", "end\\"],
  ["NUL", "a\u0000ExecStartPre=/bin/evil"],
  ["bell and escape", "a\u0007\u001b[31m"],
  ["C1 control", "a\u0085b"],
  ["DEL", "a\u007fb"],
  ["tab", "a\tb"],
  ["unicode line separator", "a\u2028b"],
  ["non-ASCII", "é ü 日本 🙂"],
  ["looks like a section", "[Service]"],
  ["equals signs", "a=b=c"],
  ["comment characters", "#x ;y"],
  ["empty", ""],
  ["only spaces", "   "],
  ["long line (4000)", "L".repeat(4000)],
  ["too long for text (5000)", "L".repeat(5000)],
  ["longer than a line may be (70000)", "L".repeat(70000)],
  ["dot-dot", "../../etc"],
];

/** Where a hostile value goes in each free-form key, and what context the key needs. */
const TARGETS: { key: string; section: string; line: (v: string) => string; extra?: string }[] = [
  { key: "Description", section: "Container", line: (v) => v },
  { key: "RootDirectory", section: "Container", line: (v) => `/srv/${v}` },
  { key: "Hostname", section: "Container", line: (v) => v },
  { key: "Init", section: "Container", line: (v) => `/sbin/${v}` },
  { key: "InitArguments", section: "Container", line: (v) => `--x ${v}` },
  { key: "Environment", section: "Container", line: (v) => `V=${v}` },
  { key: "Bind", section: "Mount", line: (v) => `/srv/${v}:/mnt/${v}:ro` },
  { key: "DeviceAllow", section: "Security", line: (v) => `/dev/${v} rw` },
  { key: "IOReadBandwidth", section: "Resources", line: (v) => `/dev/${v} 10M` },
  { key: "IOWriteBandwidth", section: "Resources", line: (v) => `/dev/x${v} 1G` },
  { key: "Memory", section: "Resources", line: (v) => `1G${v}` },
  { key: "Domains", section: "Network", line: (v) => v },
  { key: "Bridge", section: "Network", line: (v) => `br${v}`, extra: "Type=veth" },
  { key: "ExtraInterface", section: "Network", line: (v) => `eth1 bridge=br${v} address=10.0.0.1/24`, extra: "Type=veth" },
  { key: "ExtraInterface", section: "Network", line: (v) => `eth2 routed ${v}`, extra: "Type=veth" },
  { key: "DropCapability", section: "Security", line: (v) => `net_raw ${v}` },
  { key: "StopTimeout", section: "Container", line: (v) => `5s ${v}` },
];

interface Case { name: string; label: string; key: string; text: string }

const CASES: Case[] = [];
TARGETS.forEach((t, i) => HOSTILE.forEach(([label, v], j) => {
  const extra = t.extra ? `\n[Network]\n${t.extra}` : "";
  CASES.push({ name: `h${i}-${j}`, label, key: t.key, text: `[${t.section}]\n${t.key}=${t.line(v)}${extra}\n` });
}));

const mem = (cases: readonly Case[], dir = "/etc/containerctl") =>
  cases.map((c) => ({ name: c.name, main: `${dir}/${c.name}.container`, files: [{ path: `${dir}/${c.name}.container`, text: c.text }] }));

test("every hostile value in every free-form key: a clear error or a faithful value, never a new directive", () => {
  const r = runInMemory(mem(CASES));
  assertNone(r.violations);
  assert.ok(r.specs.length > 50 && r.errors.length > 100, `accepted ${r.specs.length}, errors ${r.errors.length}`);
  // Each case either produced a unit or at least one error naming its file.
  for (const c of CASES) {
    const accepted = r.specs.some((s) => s.name === c.name);
    const errs = r.errors.filter((e) => e.file.endsWith(`/${c.name}.container`));
    assert.ok(accepted !== errs.length > 0, `${c.key} ${c.label}: accepted=${accepted}, ${errs.length} errors`);
  }
  // The payloads that try to add a directive never reach a unit as one.
  for (const [rel, e] of r.tree) {
    if (!("content" in e) || rel.endsWith(".plan")) continue;
    for (const u of parseUnit(e.content).entries) assert.not.ok(/^Exec/.test(u.key), `${rel}: ${u.key}=`);
  }
});

test("values that must be refused are refused", () => {
  const r = runInMemory(mem(CASES));
  const refusedLabels = ["NUL", "bell and escape", "C1 control", "DEL", "carriage return then ExecStartPre=", "newline then ExecStartPre=",
    "newline then a section", "longer than a line may be (70000)"];
  for (const c of CASES.filter((x) => refusedLabels.includes(x.label))) {
    assert.not.ok(r.specs.some((s) => s.name === c.name), `${c.key} ${c.label} was accepted`);
  }
  // A trailing backslash continues the line (systemd.syntax(7)); at the very end of the file it stays and is refused.
  const cont = runInMemory(mem([{ name: "c1", label: "", key: "", text: "[Container]\nDescription=end\\\n" },
    { name: "c2", label: "", key: "", text: "[Container]\nDescription=end\\" }]));
  assertNone(cont.violations);
  assert.is(cont.specs.find((s) => s.name === "c1")?.values.description, "end");
  assert.equal(cont.errors.map((e) => [e.file, e.line, e.key, e.message]), [["/etc/containerctl/c2.container", 2, "Description", "value ends with a backslash"]]);
  // A newline ends the line: the next line is reported as an unknown key of its own, at line 3.
  const nl = r.errors.find((e) => e.file.endsWith("/h0-0.container"));
  assert.equal([nl?.line, nl?.key, nl?.message], [3, "ExecStartPre", "unknown key"]);
});

test("values that are safe to keep are kept, escaped", () => {
  const r = runInMemory(mem(CASES));
  const desc = (label: string) => r.specs.find((s) => s.name === CASES.find((c) => c.key === "Description" && c.label === label)!.name);
  for (const label of ["specifiers", "variables", "semicolons", "double quotes", "single quotes", "backslashes", "non-ASCII",
    "looks like a section", "equals signs", "comment characters", "long line (4000)", "backslash-newline then ExecStartPre="]) {
    assert.ok(desc(label), `Description with ${label} refused`);
  }
  // Backslash-newline joins the lines: the would-be directive is text inside Description.
  assert.is(desc("backslash-newline then ExecStartPre=")!.values.description, "x ExecStartPre=/bin/evil");
  const root = r.specs.find((s) => s.name === CASES.find((c) => c.key === "RootDirectory" && c.label === "double quotes")!.name)!;
  assert.is(root.values.root, '/srv/"quoted" "unbalanced');
});

test("10,000 keys in one file", () => {
  const many = (body: string) => mem([{ name: "many", label: "", key: "", text: body }]);
  let t = Date.now();
  const env = runInMemory(many(`[Container]\n${Array.from({ length: 10000 }, (_, i) => `Environment=V${i}=${i}%$\\"`).join("\n")}\n`));
  assertNone(env.violations);
  assert.is(env.specs[0].values.environment.length, 10000);
  const unknown = runInMemory(many(`[Container]\n${Array.from({ length: 10000 }, (_, i) => `Key${i}=x`).join("\n")}\n`));
  assertNone(unknown.violations);
  assert.is(unknown.errors.length, 10000);
  const dev = runInMemory(many(`[Security]\n${Array.from({ length: 10000 }, (_, i) => `DeviceAllow=/dev/d"${i}% r`).join("\n")}\n`));
  assertNone(dev.violations);
  const same = runInMemory(many(`[Container]\n${Array.from({ length: 10000 }, (_, i) => `Description=d${i}`).join("\n")}\n`));
  assert.is(same.specs[0].values.description, "d9999");
  const cont = runInMemory(many(`[Container]\nDescription=a\\\n${"b\\\n".repeat(100000)}c\n`));
  assert.is(cont.errors.length, 1);
  assert.match(cont.errors[0].message, /longer than/);
  t = Date.now() - t;
  assert.ok(t < 10000, `took ${t} ms`);
});

test("drop-in file names are hostile too: a newline in one adds no directive, and error lines stay one line", () => {
  const dir = tempDir("containerctl-hostile-names-");
  try {
    const cfg = path.join(dir, "config");
    fs.mkdirSync(path.join(cfg, "web.container.d"), { recursive: true });
    fs.writeFileSync(path.join(cfg, "web.container"), "[Container]\n");
    fs.writeFileSync(path.join(cfg, "web.container.d", "a\n[Service]\nExecStartPre=-touch pwned\n#.conf"), "[Container]\nDescription=x\n");
    fs.mkdirSync(path.join(cfg, "bad.container.d"));
    fs.writeFileSync(path.join(cfg, "bad.container"), "[Container]\n");
    fs.writeFileSync(path.join(cfg, "bad.container.d", "\u001b[2J\nfake: log line.conf"), "[Container]\nBogus=1\n");
    const out = path.join(dir, "out");
    const g = runGenerator(cfg, out);
    assert.is(g.status, 1, g.stderr);
    const lines = g.stderr.split("\n").filter(Boolean);
    assert.is(lines.length, 1, g.stderr);
    assert.not.match(lines[0], /[\u0000-\u001f]/);
    assert.match(lines[0], /bad\.container\.d\/\\x1b\[2J\\x0afake: log line\.conf:2: \[Container\] Bogus: unknown key/);
    const unit = fs.readFileSync(path.join(out, "container@web.service.d/10-containerctl.conf"), "utf8");
    const loaded = loadAll(cfg);
    assertNone(treeViolations(loaded.specs, readTree(out) as unknown as Tree, out));
    assert.not.ok(parseUnit(unit).entries.some((e) => e.key.startsWith("Exec")), unit);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a config directory path with spaces, %, $ and quotes reaches SourcePath= unchanged (as systemd reads it)", () => {
  const dir = tempDir("containerctl-hostile-dir-");
  const v = makeVerifyRoot();
  try {
    const cfg = path.join(dir, `my conf %n$X 'q"`);
    fs.mkdirSync(cfg);
    fs.writeFileSync(path.join(cfg, "web.container"), "[Container]\n");
    const out = path.join(dir, "out");
    const g = runGenerator(cfg, out);
    assert.is(g.status, 0, g.stderr);
    assertNone(treeViolations(loadAll(cfg).specs, readTree(out) as unknown as Tree, out));
    placeGenerated(v, readTree(out));
    const { props, output } = parsedProperties(v, "container@web.service");
    assert.equal(props.filter(([k]) => k === "Source Path").map(([, x]) => x), [path.join(cfg, "web.container")], output.slice(-2000));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(v.root, { recursive: true, force: true });
  }
});

// ---- the real entry points, then systemd reading back what they wrote ----

const tmp = tempDir("containerctl-hostile-");
const configDir = path.join(tmp, "config");
const outDir = path.join(tmp, "out");
fs.mkdirSync(configDir);
for (const c of CASES) fs.writeFileSync(path.join(configDir, `${c.name}.container`), c.text);
// And 10,000 keys in one file, through the real entry points and systemd too.
fs.writeFileSync(path.join(configDir, "many.container"), `[Container]\n${Array.from({ length: 10000 }, (_, i) => `Environment=V${i}=%n$X"\\q`).join("\n")}\n` +
  `[Security]\n${Array.from({ length: 1000 }, (_, i) => `DeviceAllow=/dev/d "${i}%i`.replace(" ", "")).join("\n")}\n`);

test("the generator and check survive all of it: skipped specs reported, the rest written", () => {
  const g = runGenerator(configDir, outDir);
  assert.is(g.status, 1);
  const log = normaliseLog(g.stderr);
  assert.not.match(log, /failed:/, "the generator hit an unexpected exception");
  for (const l of log.split("\n").filter(Boolean)) assert.match(l, /^containerctl-generator\[PID\]: \/\S+?(:[0-9]+)?: /);
  const loaded = loadAll(configDir);
  const written = readTree(outDir) as unknown as Tree;
  assertNone(treeViolations(loaded.specs, written, outDir));
  assert.ok(loaded.specs.length > 50);
  const many = loaded.specs.find((s) => s.name === "many");
  assert.is(many?.values.environment.length, 10000);
  assert.is(many?.values.devices.length, 1000);
  const c = runCli(["check"], configDir);
  assert.is(c.status, 1);
  assert.is(c.stderr.split("\n").filter(Boolean).length, loaded.errors.length + loaded.warnings.length);
});

test("systemd reads every written unit without a warning, and gets the values back", () => {
  assert.ok(systemdAnalyzeAvailable(), "systemd-analyze is not installed");
  const v = makeVerifyRoot();
  try {
    const tree = readTree(outDir);
    placeGenerated(v, tree);
    const units = unitsOf(tree);
    const r = verify(v, units);
    assert.is(r.output.trim(), "", r.output);
    const specs = loadAll(configDir).specs;
    let compared = 0;
    for (const s of specs) {
      const c = CASES.find((x) => x.name === s.name);
      if (!c) continue;
      if (!["Description", "RootDirectory", "DeviceAllow", "IOReadBandwidth", "IOWriteBandwidth"].includes(c.key)) continue;
      const { props, output } = parsedProperties(v, `container@${s.name}.service`);
      const all = (k: string) => props.filter(([name]) => name === k).map(([, val]) => val);
      const ctx = `${c.key} ${c.label}\n${output.slice(-2000)}`;
      // Unset (an empty assignment resets it): the template's "Container %i".
      if (c.key === "Description") assert.equal(all("Description"), [s.values.description ?? `Container ${s.name}`], ctx);
      if (c.key === "RootDirectory") assert.ok(all("RequiresMountsFor").includes(`${s.values.root} (origin-file)`), ctx);
      if (c.key === "DeviceAllow") assert.ok(all("DeviceAllow").includes(`${s.values.devices[0].device} rw`), ctx);
      if (c.key === "IOReadBandwidth") assert.ok(all("IOReadBandwidthMax").some((x) => x.startsWith(`${s.values.ioRead[0].device} `)), ctx);
      if (c.key === "IOWriteBandwidth") assert.ok(all("IOWriteBandwidthMax").some((x) => x.startsWith(`${s.values.ioWrite[0].device} `)), ctx);
      assert.ok(all("Environment").includes(`CONTAINERCTL_PLAN=${outDir}/containerctl/${s.name}.plan`), ctx);
      compared++;
    }
    assert.ok(compared > 20, `only ${compared} units compared`);
  } finally {
    fs.rmSync(v.root, { recursive: true, force: true });
  }
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test.run();
