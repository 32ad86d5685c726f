// Golden cases of `containerctl import openvz`: each test/golden-import/<case>/
// builds a temporary OpenVZ host from
//   shared.txt   lines "SRC DEST": a file of ../shared/testdata/openvz copied to DEST under the host root
//   vz/          copied to <host>/etc/vz (overlaid on shared.txt's files)
//   resolv.conf  copied to <host>/etc/resolv.conf (what NAMESERVER=inherit reads)
//   config/      specs already in the config directory before the import
//   args         the command's arguments (default: --all)
// runs the real CLI into a temporary config directory and compares, whole:
//   expected/report.txt (the human report, temp paths shown as <tmp>),
//   expected/status (exit status), expected/specs/ (the config directory afterwards:
//   the sorted file list first, then each file).
// UPDATE_GOLDEN=1 rewrites expected/; review the diff.

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { copyShared, hashTree, listFiles, ROOT, runCli, tempDir } from "./helpers";

const CASES = path.join(ROOT, "test/golden-import");
const update = process.env.UPDATE_GOLDEN === "1";

function build(caseDir: string): { tmp: string; vzRoot: string; cfg: string } {
  const tmp = tempDir("ctl-golden-");
  const host = path.join(tmp, "host");
  const vzRoot = path.join(host, "etc/vz");
  fs.mkdirSync(vzRoot, { recursive: true });
  const manifest = path.join(caseDir, "shared.txt");
  if (fs.existsSync(manifest)) {
    for (const line of fs.readFileSync(manifest, "utf8").split("\n").filter((l) => l.trim() && !l.startsWith("#"))) {
      const [src, dest] = line.trim().split(/\s+/);
      copyShared(src, path.join(host, dest));
    }
  }
  if (fs.existsSync(path.join(caseDir, "vz"))) fs.cpSync(path.join(caseDir, "vz"), vzRoot, { recursive: true });
  if (fs.existsSync(path.join(caseDir, "resolv.conf"))) fs.copyFileSync(path.join(caseDir, "resolv.conf"), path.join(host, "etc/resolv.conf"));
  const cfg = path.join(tmp, "containerctl");
  if (fs.existsSync(path.join(caseDir, "config"))) fs.cpSync(path.join(caseDir, "config"), cfg, { recursive: true });
  return { tmp, vzRoot, cfg };
}

function compare(file: string, actual: string): void {
  if (update) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, actual);
    return;
  }
  assert.ok(fs.existsSync(file), `missing ${path.relative(ROOT, file)} (UPDATE_GOLDEN=1 writes it)`);
  assert.fixture(actual, fs.readFileSync(file, "utf8"), path.relative(ROOT, file));
}

const cases = fs.readdirSync(CASES).filter((c) => fs.statSync(path.join(CASES, c)).isDirectory()).sort();

test("there are golden cases", () => {
  assert.ok(cases.length >= 4, `only ${cases.length} cases in test/golden-import`);
});

for (const name of cases) {
  test(`golden: ${name}`, () => {
    const caseDir = path.join(CASES, name);
    const { tmp, vzRoot, cfg } = build(caseDir);
    try {
      const argsFile = path.join(caseDir, "args");
      const args = fs.existsSync(argsFile) ? fs.readFileSync(argsFile, "utf8").trim().split(/\s+/) : ["--all"];
      const before = hashTree(path.join(tmp, "host"));
      const r = runCli(["-C", cfg, "import", "openvz", "--vz-root", vzRoot, ...args]);
      assert.is(r.stderr, "", "nothing on stderr");
      assert.is(hashTree(path.join(tmp, "host")), before, "the OpenVZ host tree is unchanged");
      const expected = path.join(caseDir, "expected");
      compare(path.join(expected, "report.txt"), r.stdout.split(tmp).join("<tmp>"));
      compare(path.join(expected, "status"), `${r.status}\n`);
      const got = listFiles(cfg);
      const specs = path.join(expected, "specs");
      if (update) {
        fs.rmSync(specs, { recursive: true, force: true });
        fs.mkdirSync(specs, { recursive: true });
      }
      if (!update) assert.equal(got, listFiles(specs), "files in the config directory");
      for (const f of got) compare(path.join(specs, f), fs.readFileSync(path.join(cfg, f), "utf8").split(tmp).join("<tmp>"));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
}

test.run();
