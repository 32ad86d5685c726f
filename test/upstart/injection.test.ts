// Hostile values cannot add a stanza to a generated job or end one of its
// script blocks: the jobs are read back with the checker's parser and must
// have exactly the stanzas a harmless spec gives, with blocks ending at the
// generated `end script` lines; and the scripts, run under dash, pass hostile
// names through as data, never as code.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EscapeError } from "../../generator/escape";
import { buildSpec, type ContainerSpec } from "../../generator/spec/load";
import { renderUpstart, writeUpstartTree, renderInstanceJob } from "../../generator/render/upstart";
import { parseJob, type ParsedJob } from "../../generator/upstart-check";
import { renderCase } from "./golden";

const spec = (name: string, text: string): ContainerSpec => {
  const r = buildSpec(name, `/etc/containerctl/${name}.container`, [{ path: `/etc/containerctl/${name}.container`, text }]);
  if (!r.spec) throw new Error(JSON.stringify(r.errors));
  return r.spec;
};

/** A job's shape: every stanza with its arguments, and for blocks the lines that follow `end script`. */
function shape(p: ParsedJob): string[] {
  assert.equal(p.problems, []);
  return p.stanzas.map((s) => `${s.name} ${s.args.join(" ")}${s.block ? " {block}" : ""}`);
}
const jobText = (tree: ReturnType<typeof renderUpstart>["tree"], f: string): string => (tree.get(f) as { content: string }).content;
const endLines = (text: string): number[] => {
  const lines = text.split("\n");
  return lines.flatMap((l, i) => (l === "end script" ? [i + 1] : []));
};

const HARMLESS = renderUpstart([spec("web", "[Container]\nRestart=always\n[Boot]\nAutostart=yes\nDelay=1s\n"), spec("db", "[Boot]\nAutostart=yes\n")], "/etc/init").tree;

test("the hostile golden case has exactly the stanzas of a harmless one, blocks ending at the generated lines", () => {
  const hostile = renderCase("hostile").files;
  for (const f of ["container.conf", "containers.conf"]) {
    const got = parseJob(hostile.get(f)!);
    assert.equal(shape(got), shape(parseJob(jobText(HARMLESS, f))), f);
    assert.equal(got.stanzas.filter((s) => s.block).map((s) => s.block!.endLine), endLines(hostile.get(f)!), `${f}: block ends`);
  }
});

// Names a spec can never have (spec/names.ts refuses them), given to the renderer anyway.
const HOSTILE_NAMES = [
  "end script",
  "x\nend script\nexec /bin/evil",
  "a'b",
  '"; reboot; echo "',
  "$(touch PWNED)",
  "`touch PWNED`",
  "a;touch PWNED",
  "-n",
  "*",
  "#x",
  "x\u0085end script",
  "\u2028end script",
  "x\\",
];

test("hostile names are quoted, or the container is refused; the jobs keep their shape", () => {
  const specs = HOSTILE_NAMES.map((n, i) => ({ ...spec(`c${i}`, "[Container]\nRestart=always\n[Boot]\nAutostart=yes\nDelay=1s\n"), name: n }));
  const { tree, failed } = renderUpstart([...specs, spec("db", "[Boot]\nAutostart=yes\n")], "/etc/init");
  assert.equal(failed.map((f) => f.spec.name), ["x\nend script\nexec /bin/evil", "x\u0085end script"], "names with control characters are refused");
  for (const f of failed) assert.match(f.error, /control character/);
  for (const f of ["container.conf", "containers.conf"]) {
    const text = jobText(tree, f);
    assert.equal(shape(parseJob(text)), shape(parseJob(jobText(HARMLESS, f))), f);
    assert.equal(parseJob(text).stanzas.filter((s) => s.block).map((s) => s.block!.endLine), endLines(text), `${f}: block ends`);
  }
});

test("the autostart job passes hostile names to `start` as data", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "upstart-inj-"));
  try {
    const names = HOSTILE_NAMES.filter((n) => !/[\u0000-\u001f\u007f-\u009f]/.test(n));
    const specs = names.map((n, i) => ({ ...spec(`c${i}`, "[Boot]\nAutostart=yes\n"), name: n }));
    const { tree } = renderUpstart(specs, "/etc/init");
    const job = parseJob(jobText(tree, "containers.conf"));
    const pre = job.stanzas.find((s) => s.name === "pre-start")!.block!.text;
    fs.mkdirSync(`${dir}/bin`);
    // One argument a line, NUL-free: what `start` received.
    fs.writeFileSync(`${dir}/bin/start`, `#!/bin/sh\nfor a; do printf '%s\\n' "$a"; done >>"${dir}/args"\n`, { mode: 0o755 });
    const r = spawnSync("dash", ["-e", "-c", pre], { cwd: dir, encoding: "utf8", env: { PATH: `${dir}/bin:${process.env.PATH}` } });
    assert.is(r.status, 0, r.stderr);
    const got = fs.readFileSync(`${dir}/args`, "utf8").trimEnd().split("\n");
    // Names start in name order (all Order=0); each reaches `start` whole.
    const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    assert.equal(got, sorted.flatMap((n) => ["container", `NAME=${n}`]));
    assert.not.ok(fs.existsSync(`${dir}/PWNED`), "no name ran as code");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a hostile job directory is quoted (the plan is found there) or refused", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "upstart-inj-"));
  try {
    const jobDir = path.join(root, `it's "x" $(touch PWNED) #; end script`);
    const specs = [spec("web", "")];
    const { tree } = renderUpstart(specs, jobDir);
    writeUpstartTree(jobDir, tree);
    const text = jobText(tree, "container.conf");
    assert.equal(shape(parseJob(text)), shape(parseJob(jobText(HARMLESS, "container.conf"))));
    const job = parseJob(renderInstanceJob(specs, jobDir, { runtimeDir: `${root}/runtime`, stateDir: `${root}/run` }));
    const pre = job.stanzas.find((s) => s.name === "pre-start")!.block!.text;
    const r = spawnSync("dash", ["-e", "-c", pre], { cwd: root, encoding: "utf8", env: { PATH: process.env.PATH, NAME: "web" } });
    assert.is(r.status, 0, r.stderr);
    assert.is(fs.readFileSync(`${root}/run/web/plan`, "utf8"), fs.readFileSync(path.join(jobDir, "containerctl/web.plan"), "utf8"));
    assert.not.ok(fs.existsSync(path.join(root, "PWNED")));
    assert.throws(() => renderUpstart(specs, "/etc/init\nend script"), (e: unknown) => e instanceof EscapeError);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("the shape comparison sees an added stanza (this test can fail)", () => {
  const text = jobText(HARMLESS, "container.conf").replace("instance $NAME\n", "instance $NAME\nexec /bin/evil\n");
  assert.not.equal(shape(parseJob(text)), shape(parseJob(jobText(HARMLESS, "container.conf"))));
});

test.run();
