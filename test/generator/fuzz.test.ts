// Randomized fuzz test with a fixed seed: valid specs (the golden cases'
// spec/ files) are mutated with hostile bytes and structural edits, then
// loaded and rendered as check and the generator do. Every case must keep the
// properties of helpers/properties.ts (no crash, shaped one-line errors, no
// directive the spec did not ask for, values faithful, plans well-formed) and
// render byte-identically twice. Finally every accepted mutant is rendered
// together and read by `systemd-analyze verify`, which must print nothing.
// FUZZ_SEED and FUZZ_CASES override the defaults to explore; a failure names
// the case and prints its input.

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { renderSystemd } from "../../generator/render/systemd";
import type { SpecFile } from "../../generator/spec/load";
import { GOLDEN, goldenCases } from "../helpers/generator";
import { assertNone, runInMemory } from "../helpers/properties";
import { makeVerifyRoot, placeGenerated, systemdAnalyzeAvailable, unitsOf, verify } from "../helpers/verify";
import { printTree } from "../../generator/tree";

const SEED = Number(process.env.FUZZ_SEED ?? 20261129);
const CASES = Number(process.env.FUZZ_CASES ?? 4000);
const DIR = "/etc/containerctl";

/** mulberry32: small, fast, and the same sequence on every platform. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTILE = [
  "\n", "\r", "\r\n", "\u0000", "\\", "\\\n", "\\\r\n", "%", "%n", "%%", "$", "${X}", "$$", '"', "'", ";", "#", "[", "]", "=",
  "\t", " ", "\u0007", "\u001b", "\u007f", "\u0085", "\u00a0", "\u2028", "\ufeff", "é", "日本", "🙂", "\ud800",
  "\nExecStartPre=/bin/evil\n", "\n[Service]\nExecStart=/bin/evil\n", "\\\nExecStartPre=/bin/evil", " ; rm -rf /",
  "/..", "/./", "//", ":", ":ro", "0", "-1", "99999999999999999999", "infinity", "1.5", "yes", "", "\n\n[Container]\n",
];

/** The corpus: each golden case's spec directory as in-memory files, grouped per container. */
interface Container { name: string; files: SpecFile[] }
function corpus(): Container[] {
  const out: Container[] = [];
  for (const c of goldenCases()) {
    const dir = path.join(GOLDEN, c, "spec");
    // Regular files only: the odd-files cases hold links and directories that no mutation could make valid.
    const isFile = (p: string): boolean => fs.lstatSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
    const defaults = isFile(path.join(dir, "defaults.conf")) ? fs.readFileSync(path.join(dir, "defaults.conf"), "utf8") : null;
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith(".container") && isFile(path.join(dir, x))).sort()) {
      const name = f.slice(0, -".container".length);
      const files: SpecFile[] = [];
      if (defaults !== null) files.push({ path: `${DIR}/defaults.conf`, text: defaults });
      files.push({ path: `${DIR}/${f}`, text: fs.readFileSync(path.join(dir, f), "utf8") });
      const d = path.join(dir, `${f}.d`);
      if (fs.lstatSync(d, { throwIfNoEntry: false })?.isDirectory()) {
        for (const x of fs.readdirSync(d).filter((y) => y.endsWith(".conf") && isFile(path.join(d, y))).sort()) files.push({ path: `${DIR}/${f}.d/${x}`, text: fs.readFileSync(path.join(d, x), "utf8") });
      }
      out.push({ name, files });
    }
  }
  return out;
}

function mutate(text: string, r: () => number, all: string[]): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const pos = () => Math.floor(r() * (text.length + 1));
  const n = 1 + Math.floor(r() ** 2 * 4); // mostly one edit, sometimes up to four
  for (let i = 0; i < n; i++) {
    const lines = text.split("\n");
    switch (Math.floor(r() * 9)) {
      case 0: case 1: case 2: { // insert a hostile piece anywhere
        const p = pos();
        text = text.slice(0, p) + pick(HOSTILE) + text.slice(p);
        break;
      }
      case 3: { // insert a hostile piece right after a '=' (into a value)
        const eqs = [...text.matchAll(/=/g)].map((m) => m.index!);
        const p = eqs.length ? pick(eqs) + 1 + Math.floor(r() * 6) : pos();
        text = text.slice(0, p) + pick(HOSTILE) + text.slice(p);
        break;
      }
      case 4: { // delete a span
        const p = pos();
        text = text.slice(0, p) + text.slice(p + Math.floor(r() * 12));
        break;
      }
      case 5: { // duplicate or move a line
        const a = Math.floor(r() * lines.length);
        lines.splice(Math.floor(r() * lines.length), 0, lines[a]);
        text = lines.join("\n");
        break;
      }
      case 6: { // a line from another spec (a key in another section, a second value)
        lines.splice(Math.floor(r() * lines.length), 0, pick(all));
        text = lines.join("\n");
        break;
      }
      case 7: { // replace a character by a random code point
        const p = Math.floor(r() * text.length);
        const cp = r() < 0.5 ? Math.floor(r() * 0x100) : Math.floor(r() * 0x3000);
        text = text.slice(0, p) + String.fromCharCode(cp) + text.slice(p + 1);
        break;
      }
      default: { // a long run
        const p = pos();
        text = text.slice(0, p) + pick(["x", "%", "\\", '"', " "]).repeat(1 + Math.floor(r() * 5000)) + text.slice(p);
      }
    }
  }
  return text;
}

const NAMES = ["web", "db_1", "a.b", "-x", "x@y", "n".repeat(65), "m".repeat(64), "Upper", "a..b", "ok-1", ""];

// Mostly specs that are valid as they stand (the check-* cases are rejected before any mutation).
const base = corpus().filter((c) => runInMemory([{ name: c.name, main: `${DIR}/${c.name}.container`, files: c.files }]).specs.length > 0);
const allLines = base.flatMap((c) => c.files.flatMap((f) => f.text.split("\n")));
const accepted: { name: string; files: SpecFile[] }[] = [];

test(`fuzz: ${CASES} mutated specs (seed ${SEED})`, () => {
  assert.ok(base.length > 15, `corpus of ${base.length} valid containers`);
  const r = rng(SEED);
  let ok = 0;
  let rejected = 0;
  const t0 = Date.now();
  for (let i = 0; i < CASES; i++) {
    const src = base[Math.floor(r() * base.length)];
    const name = r() < 0.1 ? NAMES[Math.floor(r() * NAMES.length)] : src.name;
    const main = `${DIR}/${name}.container`;
    const files = src.files.map((f) => ({ path: f.path.endsWith(`/${src.name}.container`) ? main : f.path.replace(`/${src.name}.container.d/`, `/${name}.container.d/`), text: f.text }));
    const k = Math.floor(r() * files.length);
    files[k] = { ...files[k], text: mutate(files[k].text, r, allLines) };
    const input = [{ name, main, files }];
    const out = runInMemory(input);
    const where = `case ${i} (seed ${SEED}): ${JSON.stringify(input).slice(0, 1500)}`;
    assertNone(out.violations, where);
    // Determinism: the same input renders the same bytes.
    const again = renderSystemd(out.specs, "/run/systemd/generator").tree;
    assert.is(printTree(again), printTree(out.tree), `not deterministic: ${where}`);
    if (out.specs.length) {
      ok++;
      if (accepted.length < 400) accepted.push({ name: `f${i}`, files: files.map((f) => ({ path: f.path.replace(main, `${DIR}/f${i}.container`), text: f.text })) });
    } else rejected++;
  }
  const ms = Date.now() - t0;
  // Both outcomes must be common, or the mutations are too mild or too wild to test much.
  assert.ok(ok > CASES / 10 && rejected > CASES / 10, `accepted ${ok}, rejected ${rejected}`);
  assert.ok(ms < 20000, `fuzzing took ${ms} ms`);
});

test("systemd-analyze verify reads every accepted mutant without a warning", () => {
  assert.ok(systemdAnalyzeAvailable(), "systemd-analyze is not installed");
  assert.ok(accepted.length > 50, `only ${accepted.length} accepted`);
  const out = runInMemory(accepted.map((a) => ({ name: a.name, main: `${DIR}/${a.name}.container`, files: a.files })));
  assertNone(out.violations);
  const v = makeVerifyRoot();
  try {
    const tree = new Map([...out.tree].map(([rel, e]) => [rel, e]));
    placeGenerated(v, tree);
    const r = verify(v, unitsOf(tree));
    assert.is(r.output.trim(), "", r.output.slice(0, 5000));
  } finally {
    fs.rmSync(v.root, { recursive: true, force: true });
  }
});

test.run();
