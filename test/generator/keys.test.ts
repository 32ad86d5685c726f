// The key table is the truth (DESIGN.md principle 2): every key must be set in
// some golden case's spec (so its rendering is pinned by a golden file) and be
// documented in docs/spec.md and the man page. Adding a key = a row + a case.

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { KEYS, KEY_IDS, type KeyDef } from "../../generator/spec/keys";
import { readIni } from "../../generator/spec/ini-reader";
import { GOLDEN, goldenCases, PROJECT } from "../helpers/generator";

function specFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...specFiles(p));
    else if (e.isFile() && /\.(container|conf)$/.test(e.name)) out.push(p);
  }
  return out;
}

/** "Section.Key" → golden cases whose spec sets it to a non-empty value in a case that generates it. */
function setInGolden(): Map<string, Set<string>> {
  const seen = new Map<string, Set<string>>();
  for (const c of goldenCases()) {
    // Only cases whose expected/ shows a unit: a key set only in a rejected spec pins no output.
    const generated = fs.existsSync(path.join(GOLDEN, c, "expected")) &&
      fs.readdirSync(path.join(GOLDEN, c, "expected")).some((d) => d.startsWith("container@"));
    if (!generated) continue;
    for (const f of specFiles(path.join(GOLDEN, c, "spec"))) {
      for (const a of readIni(f, fs.readFileSync(f, "utf8")).assignments) {
        if (a.value === "") continue;
        const k = `${a.section}.${a.key}`;
        if (!seen.has(k)) seen.set(k, new Set());
        seen.get(k)!.add(c);
      }
    }
  }
  return seen;
}

test("every key of the table is set in a golden case that generates units", () => {
  const seen = setInGolden();
  const missing = KEY_IDS.map((id) => `${KEYS[id].section}.${KEYS[id].name}`).filter((k) => !seen.has(k));
  assert.equal(missing, [], `keys without a golden case: ${missing.join(", ")}`);
});

test("every key of the table is documented in docs/spec.md and the man page", () => {
  const md = fs.readFileSync(path.join(PROJECT, "docs/spec.md"), "utf8");
  const man = fs.readFileSync(path.join(PROJECT, "docs/containerctl.container.5"), "utf8");
  for (const id of KEY_IDS) {
    const d = KEYS[id] as KeyDef<any>;
    const section = md.indexOf(`\n## [${d.section}]\n`);
    assert.ok(section >= 0, `docs/spec.md has no [${d.section}] section`);
    const next = md.indexOf("\n## [", section + 1);
    const body = md.slice(section, next < 0 ? undefined : next);
    assert.ok(new RegExp(`\\n### ${d.name}=`).test(body), `docs/spec.md: ${d.name}= missing under [${d.section}]`);
    assert.ok(body.includes(d.doc), `docs/spec.md: ${d.name}= lacks its doc line`);
    assert.ok(man.includes(`.B ${d.name}=`), `man page: ${d.name}= missing`);
  }
});

test("every key has a non-empty doc line and its default parses", () => {
  for (const id of KEY_IDS) {
    const d = KEYS[id] as KeyDef<any>;
    assert.ok(d.doc.length > 10 && d.doc.endsWith("."), `${d.name}: doc line`);
    if (typeof d.default === "string") d.type.parse(d.default); // throws on a broken default
    if (typeof d.default === "function") d.type.parse(d.default("web"));
  }
});

test.run();
