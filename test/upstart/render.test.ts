// Golden job files: test/golden-upstart/<case>/spec → expected/ (+ expected.err).
// UPDATE_GOLDEN=1 rewrites the expectations; a reviewer reads the diff.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { goldenCases, readExpected, renderCase, writeExpected } from "./golden";
import { buildSpec } from "../../generator/spec/load";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderAutostartJob, renderUpstart, writeUpstartTree } from "../../generator/render/upstart";
import { KEYS, KEY_IDS, type KeyId } from "../../generator/spec/keys";
import { printTree } from "../../generator/tree";

const update = process.env.UPDATE_GOLDEN === "1";

test("there are golden cases", () => {
  assert.ok(goldenCases().length >= 3, "test/golden-upstart/ holds the cases");
});

for (const c of goldenCases()) {
  test(`golden: ${c}`, () => {
    const got = renderCase(c);
    if (update) writeExpected(c, got);
    const want = readExpected(c);
    // The list of names first, then each file whole.
    assert.equal([...got.files.keys()].sort(), [...want.files.keys()].sort(), `${c}: the files written`);
    for (const [rel, content] of want.files) assert.fixture(got.files.get(rel)!, content, `${c}/${rel}`);
    assert.fixture(got.errors, want.errors, `${c}: expected.err`);
  });
}

const spec = (name: string, text: string) => {
  const r = buildSpec(name, `/etc/containerctl/${name}.container`, [{ path: `/etc/containerctl/${name}.container`, text }]);
  if (!r.spec) throw new Error(JSON.stringify(r.errors));
  return r.spec;
};

/** The container names in the order the autostart job starts them, and their sleeps. */
function startSequence(job: string): string[] {
  const pre = job.slice(job.indexOf("pre-start script"), job.indexOf("end script"));
  return [...pre.matchAll(/^ {4}(start_one \S+|sleep \S+)$/gm)].map((m) => m[1]);
}
function stopSequence(job: string): string[] {
  const post = job.slice(job.indexOf("post-stop script"));
  return [...post.matchAll(/^ {4}stop_one (\S+)$/gm)].map((m) => m[1]);
}

test("autostart: Order ascending, ties by name, Delay after each but the last; stop in reverse", () => {
  const specs = [
    spec("zeta", "[Boot]\nAutostart=yes\nOrder=1\nDelay=2s\n"),
    spec("alpha", "[Boot]\nAutostart=yes\nOrder=1\nDelay=1.5s\n"),
    spec("first", "[Boot]\nAutostart=yes\nOrder=-3\n"),
    spec("off", "[Boot]\nAutostart=no\nOrder=-9\n"),
  ];
  const job = renderAutostartJob(specs);
  assert.equal(startSequence(job), ["start_one first", "start_one alpha", "sleep 1.5", "start_one zeta"]);
  assert.equal(stopSequence(job), ["zeta", "alpha", "first"]);
});

test("autostart with no Autostart=yes container starts nothing and still stops everything at shutdown", () => {
  const job = renderAutostartJob([spec("off", "[Boot]\nAutostart=no\n")]);
  assert.equal(startSequence(job), []);
  assert.match(job, /^ {4}: no container has Autostart=yes$/m);
  assert.match(job, /initctl list/);
});

test("the instance job points at the plans beside the jobs, for any job directory", () => {
  const { tree } = renderUpstart([spec("web", "")], "/srv/my init");
  const job = (tree.get("container.conf") as { content: string }).content;
  assert.match(job, /^ {4}plan='\/srv\/my init\/containerctl'\/\$NAME\.plan$/m);
  assert.ok(tree.has("containerctl/web.plan"));
});

test("Restart= reaches the instance job's post-stop as one case per policy", () => {
  const { tree } = renderUpstart(
    [spec("a", "[Container]\nRestart=always\n"), spec("b", "[Container]\nRestart=on-failure\n"), spec("c", "[Container]\nRestart=always\n"), spec("d", "")],
    "/etc/init",
  );
  const job = (tree.get("container.conf") as { content: string }).content;
  assert.match(job, /^ {4}a \| c\) restart=always ;;$/m);
  assert.match(job, /^ {4}b\) restart=on-failure ;;$/m);
  assert.not.match(job, /^ {4}d\)/m);
});

test("writing replaces the jobs, removes plans of containers gone, leaves other files and no temporaries", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "upstart-write-"));
  try {
    fs.writeFileSync(path.join(dir, "other.conf"), "exec /bin/other\n");
    writeUpstartTree(dir, renderUpstart([spec("a", ""), spec("b", "")], dir).tree);
    assert.equal(fs.readdirSync(path.join(dir, "containerctl")).sort(), ["a.plan", "b.plan"]);
    fs.writeFileSync(path.join(dir, "containerctl", "notes.txt"), "kept");
    const second = renderUpstart([spec("b", "[Boot]\nAutostart=yes\n")], dir).tree;
    writeUpstartTree(dir, second);
    assert.equal(fs.readdirSync(path.join(dir, "containerctl")).sort(), ["b.plan", "notes.txt"]);
    assert.equal(fs.readdirSync(dir).sort(), ["container.conf", "containerctl", "containerctl-network.conf", "containers.conf", "other.conf"]);
    assert.is(fs.readFileSync(path.join(dir, "containers.conf"), "utf8"), (second.get("containers.conf") as { content: string }).content);
    assert.is(fs.statSync(path.join(dir, "container.conf")).mode & 0o777, 0o644);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Keys whose upstart column says "job": each one, changed, must change what
// `generate --upstart` writes. Two containers each, so order and delay matter.
const JOB_KEYS: Partial<Record<KeyId, [string, string]>> = {
  stopTimeout: ["[Container]\nStopTimeout=60s\n", "[Container]\nStopTimeout=5s\n"],
  restart: ["[Container]\nRestart=no\n", "[Container]\nRestart=always\n"],
  autostart: ["[Boot]\nAutostart=no\n", "[Boot]\nAutostart=yes\n"],
  order: ["[Boot]\nAutostart=yes\nOrder=0\n", "[Boot]\nAutostart=yes\nOrder=9\n"],
  delay: ["[Boot]\nAutostart=yes\nDelay=0\n", "[Boot]\nAutostart=yes\nDelay=3s\n"],
};
// Known gap: an instance job has one description for all its instances, and
// the plan carries none; Description= is not shown on upstart hosts yet.
const NOT_YET = new Set<KeyId>(["description"]);

test("every key the key table hands to the upstart jobs changes them", () => {
  const jobKeys = KEY_IDS.filter((id) => KEYS[id].upstart === "job" && !NOT_YET.has(id));
  assert.equal(Object.keys(JOB_KEYS).sort(), [...jobKeys].sort(), "JOB_KEYS covers the key table's upstart: job keys");
  const other = spec("zz", "[Boot]\nAutostart=yes\nOrder=5\n");
  for (const [id, [a, b]] of Object.entries(JOB_KEYS)) {
    const out = (text: string): string => printTree(renderUpstart([spec("web", text), other], "/etc/init").tree);
    assert.is.not(out(a), out(b), `${id} changes the upstart output`);
  }
});

test.run();
