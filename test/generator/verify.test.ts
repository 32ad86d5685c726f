// Every golden output passes `systemd-analyze verify --man=no` with no output
// at all: the static units (container@.service, container-delay@.service,
// containers.target) with each case's generated drop-ins and wants links.
// How the root is built, and why: test/helpers/verify.ts.

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { GOLDEN, goldenCases, readTree } from "../helpers/generator";
import { makeVerifyRoot, placeGenerated, systemdAnalyzeAvailable, unitsOf, verify, type VerifyRoot } from "../helpers/verify";

let v: VerifyRoot;

test.before(() => {
  // test/apt-packages.txt installs systemd; without it this test must fail, not skip.
  assert.ok(systemdAnalyzeAvailable(), "systemd-analyze is not installed");
  v = makeVerifyRoot();
  if (v.placeholders.length) console.log(`verify: placeholder executables (not installed by install-system): ${v.placeholders.join(", ")}`);
});

test.after(() => {
  if (v) fs.rmSync(v.root, { recursive: true, force: true });
});

test("verify reads the generated drop-ins from where the test puts them (a bad key is reported)", () => {
  const tree = readTree(path.join(GOLDEN, "minimal", "expected"));
  const rel = "container@web.service.d/10-containerctl.conf";
  const n = tree.get(rel)!;
  assert.ok("content" in n);
  tree.set(rel, { content: `${(n as { content: string }).content}NoSuchDirective=1\nMemoryMax=lots\n` });
  placeGenerated(v, tree);
  const r = verify(v, ["container@web.service"]);
  assert.match(r.output, /Unknown key( name)? 'NoSuchDirective'/);
  assert.match(r.output, /'lots'/); // "Invalid memory limit 'lots', ignoring"
});

test("verify fails on a missing executable (the root is not lenient)", () => {
  placeGenerated(v, new Map([["broken.service", { content: "[Service]\nExecStart=/usr/lib/containerctl/no-such-program\n" }]]));
  const r = verify(v, ["broken.service"]);
  assert.match(r.output, /no-such-program/);
});

const cases = goldenCases().filter((c) => fs.existsSync(path.join(GOLDEN, c, "expected")));

for (const name of cases) {
  test(`systemd-analyze verify: ${name}`, () => {
    const tree = readTree(path.join(GOLDEN, name, "expected"));
    placeGenerated(v, tree);
    const units = unitsOf(tree);
    const r = verify(v, units);
    assert.is(r.output.trim(), "", `systemd-analyze verify ${units.join(" ")} printed:\n${r.output}`);
    assert.is(r.status, 0);
  });
}

test("a case with every autostart feature verifies its delay units", () => {
  const units = unitsOf(readTree(path.join(GOLDEN, "autostart-chain", "expected")));
  assert.ok(units.includes("container-delay@first.service"), units.join(" "));
  assert.ok(units.includes("container@manual.service"), units.join(" "));
});

test.run();
