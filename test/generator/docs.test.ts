// docs/spec.md and docs/containerctl.container.5 are generated from the key
// table; the committed files must be exactly what `containerctl docs` prints.

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT, runCli } from "../helpers/generator";

for (const [file, args] of [["docs/spec.md", ["docs"]], ["docs/containerctl.container.5", ["docs", "--man"]]] as const) {
  test(`${file} equals \`containerctl ${args.join(" ")}\``, () => {
    const r = runCli([...args]);
    assert.is(r.status, 0, r.stderr);
    assert.ok(r.stdout.length > 1000, "docs output is suspiciously short");
    const committed = fs.readFileSync(path.join(PROJECT, file), "utf8");
    assert.fixture(committed, r.stdout, `regenerate with: node dist/cli/containerctl.js ${args.join(" ")} > ${file}`);
  });
}

test("the markdown tables have six cells in every row", () => {
  const md = fs.readFileSync(path.join(PROJECT, "docs/spec.md"), "utf8");
  for (const line of md.split("\n").filter((l) => l.startsWith("| "))) {
    const cells = line.replace(/\\\|/g, "").split("|").length - 2;
    assert.is(cells, 6, `row has ${cells} cells: ${line}`);
  }
});

test.run();
