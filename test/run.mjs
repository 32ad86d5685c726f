// Runs every compiled test file (dist/test/**/*.test.js) in its own Node
// process, one after another (root integration tests share the kernel), and
// ends with the one line CI reads: "N passed, N failed, N skipped".
// TEST_FILTER=regex runs only matching files.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("../dist/test", import.meta.url).pathname;
const filter = process.env.TEST_FILTER ? new RegExp(process.env.TEST_FILTER) : null;

function walk(dir) {
  return readdirSync(dir).sort().flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".test.js") ? [p] : [];
  });
}

let passed = 0, failed = 0, skipped = 0;
const failures = [];
for (const file of walk(root)) {
  const rel = relative(root, file);
  if (filter && !filter.test(rel)) continue;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30 * 60 * 1000 });
  const out = (r.stdout ?? "") + (r.stderr ?? "");
  const num = (label) => Number((new RegExp(`${label}:\\s+(\\d+)`).exec(out) ?? [])[1] ?? NaN);
  const total = num("Total"), ok = num("Passed"), skip = num("Skipped");
  let f;
  if (Number.isNaN(total)) {
    f = 1; // crashed before uvu's summary
  } else {
    // uvu's Total counts the tests that ran: skipped ones are not in it.
    f = total - ok + (r.status !== 0 && total === ok ? 1 : 0);
    passed += ok;
    skipped += skip;
  }
  failed += f;
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`${f ? "FAIL" : "ok  "} ${rel} (${Number.isNaN(total) ? "crashed" : `${ok}/${total}`}, ${secs}s)`);
  if (f) failures.push(`---- ${rel} ----\n${out}`);
}
for (const f of failures) console.log(f);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
