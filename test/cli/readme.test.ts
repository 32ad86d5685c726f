// The README's spec example is a valid spec: a user copies it as it is.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSpec } from "../../generator/spec/load";

test("README's web.container passes check and sets what it shows", () => {
  const readme = readFileSync(join(__dirname, "../../../README.md"), "utf8");
  const m = /`\/etc\/containerctl\/web\.container`:\n\n((?: {4}.*\n|\n)+)/.exec(readme);
  assert.ok(m, "the example block is found");
  const text = m![1].replace(/^ {4}/gm, "").trimEnd() + "\n";
  const dir = mkdtempSync(join(tmpdir(), "cc-readme-"));
  writeFileSync(join(dir, "web.container"), text);
  const r = loadSpec(dir, "web");
  assert.equal(r.errors, []);
  assert.is(r.spec!.values.memory, 512 * 1024 * 1024);
  assert.is(r.spec!.values.delay, 5e6);
  assert.is(r.spec!.values.bridge, "br0");
});

test.run();
