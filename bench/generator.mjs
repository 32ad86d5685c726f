// bench/generator: time the systemd generator on 10, 100 and 1000 specs
// (output on tmpfs) against `node -e 0` in the same run, and print medians
// and ratios. Reference figure (../shared/docs/peers.md): Podman's Quadlet
// generator, 1000 files in 77 ms on this kind of machine.
// Usage: node bench/generator.mjs [runs]   (root: mounts a tmpfs)
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const runs = Number(process.argv[2] ?? 15);
const gen = new URL("../dist/generator/main.js", import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), "cc-bench-gen-"));
const out = join(work, "out");
mkdirSync(out);
execFileSync("mount", ["-t", "tmpfs", "-o", "size=256m", "containerctl-bench", out]);

function specs(n) {
  const dir = join(work, `conf${n}`);
  mkdirSync(dir);
  for (let i = 0; i < n; i++) {
    writeFileSync(join(dir, `c${i}.container`), `[Container]
Hostname=c${i}
Guest=systemd
[Resources]
Memory=512M
CPUQuota=50%
Tasks=256
[Network]
Type=veth
Bridge=br0
Address=10.${i >> 8 & 255}.${i & 255}.2/16
[Mount]
Bind=/srv/c${i}:/srv:ro
[Boot]
Autostart=${i % 2 ? "yes" : "no"}
Order=${i % 10}
`);
  }
  return dir;
}

function time(argv, env = {}) {
  for (const e of readdirSync(out)) rmSync(join(out, e), { recursive: true, force: true });
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { env: { ...process.env, ...env }, stdio: "ignore" });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(" ")} exited ${r.status}`);
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  const dirs = Object.fromEntries([10, 100, 1000].map((n) => [n, specs(n)]));
  const floor = [];
  const res = { 10: [], 100: [], 1000: [] };
  for (let r = 0; r < runs; r++) {
    // Interleave pair by pair so drift hits all alike.
    floor.push(time([process.execPath, "-e", "0"]));
    for (const n of [10, 100, 1000]) res[n].push(time([process.execPath, gen, out], { CONTAINERCTL_CONFIG_DIR: dirs[n] }));
  }
  const f = median(floor);
  console.log(`runs: ${runs}, output on tmpfs`);
  console.log(`node -e 0            ${f.toFixed(1)} ms`);
  for (const n of [10, 100, 1000]) {
    const m = median(res[n]);
    console.log(`generator ${String(n).padStart(4)} specs  ${m.toFixed(1)} ms  (${(m / f).toFixed(2)}x node, +${(m - f).toFixed(1)} ms; Quadlet 1000 = 77 ms: ${n === 1000 ? (m / 77).toFixed(2) + "x" : "-"})`);
  }
} finally {
  execFileSync("umount", [out]);
  rmSync(work, { recursive: true, force: true });
}
