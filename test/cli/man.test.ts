// docs/containerctl.8 must be what the command line says about itself.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildProgram } from "../../cli/containerctl";
import { renderCliManPage } from "../../cli/man";

const root = join(__dirname, "../../..");

test("docs/containerctl.8 matches `containerctl docs --cli-man`", () => {
  delete process.env.CONTAINERCTL_CONFIG_DIR;
  const expected = renderCliManPage(buildProgram());
  const committed = readFileSync(join(root, "docs/containerctl.8"), "utf8");
  assert.fixture(committed, expected, "run: node dist/cli/containerctl.js docs --cli-man > docs/containerctl.8");
});

test("every command has a description that the man page carries", () => {
  const program = buildProgram();
  const page = renderCliManPage(program);
  for (const c of program.commands) {
    assert.ok(c.description().length > 10, `${c.name()} needs a description`);
    assert.ok(page.includes(`.B ${c.name().replace(/-/g, "\\-")}`), `${c.name()} missing from the man page`);
  }
});

test.run();
