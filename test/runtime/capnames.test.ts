// The capability names the spec accepts (generator/spec/values.ts) and the
// ones the runtime's helper drops by name (runtime/helper.c) are one list in
// capabilities(7) number order: a name accepted by check must be droppable.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CAPABILITIES } from "../../generator/spec/values";

test("helper.c's cap_names equal the spec's CAPABILITIES, in the same order", () => {
  const c = readFileSync(join(__dirname, "../../../runtime/helper.c"), "utf8");
  const m = /static const char \*const cap_names\[\] = \{([^}]*)\}/.exec(c);
  assert.ok(m, "cap_names is found in helper.c");
  const names = [...m![1].matchAll(/"([a-z_]+)"/g)].map((x) => x[1]);
  assert.equal(names, [...CAPABILITIES]);
});

test.run();
