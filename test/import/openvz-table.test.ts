// The importer's rules against the key table's `openvz` column (the one table,
// DESIGN.md principle 2), in both directions, and against the migration guide.

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { KEYS, KEY_IDS } from "../../generator/spec/keys";
import { HOST_ONLY } from "../../generator/import/openvz-config";
import { DROPPED, RULES } from "../../generator/import/openvz-rules";
import { ROOT } from "./helpers";

const ruleParams = RULES.flatMap((r) => r.params);

test("every OpenVZ parameter in the key table is read by a rule that may set that key", () => {
  for (const id of KEY_IDS) {
    for (const p of KEYS[id].openvz) {
      const rule = RULES.find((r) => r.params.includes(p));
      assert.ok(rule, `${KEYS[id].name}= lists ${p}, which no import rule reads`);
      assert.ok(rule!.keys.includes(id), `the rule reading ${p} does not declare ${KEYS[id].name}=`);
    }
  }
});

test("every key a rule sets lists one of the rule's parameters in its openvz column", () => {
  for (const r of RULES) {
    for (const id of r.keys) {
      assert.ok(KEYS[id].openvz.some((p) => r.params.includes(p)), `${KEYS[id].name}= is set from ${r.params.join(", ")}, none in its openvz column`);
    }
  }
});

// Parameters the rules read that no key of the table names: each is
// approximated through another key or dropped, and the report names the key
// that is missing. When the table gains one, this list (and the rule) changes.
const WITHOUT_KEY = ["DISK_QUOTA", "FEATURES", "NAME", "QUOTATIME", "QUOTAUGIDLIMIT", "VE_LAYOUT"];

test("the parameters without a key of their own are exactly the known ones", () => {
  const named = new Set(KEY_IDS.flatMap((id) => [...KEYS[id].openvz]));
  assert.equal([...new Set(ruleParams.filter((p) => !named.has(p)))].sort(), WITHOUT_KEY);
});

test("each parameter has one owner: a rule, the drop list or the host-only list", () => {
  const all = [...ruleParams, ...Object.keys(DROPPED), ...Object.keys(HOST_ONLY)];
  const dup = all.filter((p, i) => all.indexOf(p) !== i);
  // VE_LAYOUT in vz.conf is the layout of new containers; in CTID.conf, this container's.
  assert.equal(dup, ["VE_LAYOUT"]);
});

test("docs/migrate-openvz.md has a table row for every parameter the importer knows", () => {
  const doc = fs.readFileSync(path.join(ROOT, "docs/migrate-openvz.md"), "utf8");
  for (const p of [...ruleParams, ...Object.keys(DROPPED)]) {
    assert.ok(new RegExp(`^\\|[^\\n]*\`${p}\``, "m").test(doc), `no table row names ${p}`);
  }
});

test.run();
