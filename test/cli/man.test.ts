// docs/containerctl.8 must be what the command line says about itself.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { buildProgram } from "../../cli/containerctl";
import { renderCliManPage } from "../../cli/man";

const root = join(__dirname, "../../..");

test("docs/containerctl.8 matches `containerctl docs --cli-man`", () => {
  delete process.env.CONTAINERCTL_CONFIG_DIR;
  const expected = renderCliManPage(buildProgram());
  const committed = readFileSync(join(root, "docs/containerctl.8"), "utf8");
  assert.fixture(committed, expected, "run: node dist/cli/containerctl.js docs --cli-man > docs/containerctl.8");
});

test("every command and subcommand has a description and options that the man page carries", () => {
  const program = buildProgram();
  const page = renderCliManPage(program);
  const roff = (t: string) => t.replace(/-/g, "\\-");
  const visit = (cmds: readonly Command[], prefix: string) => {
    for (const c of cmds) {
      const name = prefix ? `${prefix} ${c.name()}` : c.name();
      assert.ok(c.description().length > 10, `${name} needs a description`);
      assert.ok(page.includes(`.B ${roff(name)}`), `${name} missing from the man page`);
      for (const o of c.options) assert.ok(page.includes(`.B ${roff(o.flags)}`), `${name} ${o.flags} missing from the man page`);
      visit(c.commands, name);
    }
  };
  visit(program.commands, "");
  for (const nested of ["disk create", "disk grow", "network up", "import openvz"]) assert.ok(page.includes(`.B ${nested}`), `${nested} missing`);
});

test.run();
