// bench/disk: what Disk= with a disk image costs at start (docs/disk.md), next
// to the same busybox guest without one, interleaved pair by pair, and how long
// `containerctl disk create` takes for it. Not a test: it prints medians and
// the ratio. Root only; the path without systemd (runtime/start as the harness
// runs it).
//
//   node dist/bench/disk.js [--runs N]

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { CLI, TestContainer, buildHelper } from "../test/lib/runtime-harness";

const runs = Number(process.argv[process.argv.indexOf("--runs") + 1] || 15) || 15;
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1];

async function main(): Promise<void> {
  buildHelper();
  const plain = new TestContainer("bench-plain");
  const img = new TestContainer("bench-img");
  try {
    const cfg = path.join(img.dir, "etc");
    fs.mkdirSync(cfg);
    fs.writeFileSync(path.join(cfg, `${img.name}.container`), `[Container]\nRootDirectory=${img.root}\n[Resources]\nDisk=64M\n`);
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [CLI, "-C", cfg, "disk", "create", img.name], { encoding: "utf8", env: { ...process.env, CONTAINERCTL_LIB_DIR: img.dir } });
    if (r.status !== 0) throw new Error(r.stderr);
    const createMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const times: Record<"plain" | "image", number[]> = { plain: [], image: [] };
    for (let i = 0; i < runs; i++) {
      for (const [k, c, extra] of [["plain", plain, []], ["image", img, [`disk\t${64 << 20}`]]] as const) {
        const s = process.hrtime.bigint();
        c.start({ stopTimeout: "2", extra: [...extra] });
        await c.waitOutput(/init up/);
        times[k].push(Number(process.hrtime.bigint() - s) / 1e6);
        await c.stop();
        c.cleanup();
      }
    }
    const p = median(times.plain), m = median(times.image);
    console.log(`disk create, busybox guest, 64M image: ${createMs.toFixed(0)} ms`);
    console.log(`start to the guest init's first line, median of ${runs} (harness polling included):`);
    console.log(`  plain root        ${p.toFixed(1)} ms`);
    console.log(`  Disk= image root  ${m.toFixed(1)} ms  (+${(m - p).toFixed(1)} ms, x${(m / p).toFixed(2)})`);
  } finally {
    plain.destroy();
    img.destroy();
  }
}

void main();
