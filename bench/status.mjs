// bench/status: `containerctl list --json` against
// `systemctl list-units 'container@*' --output=json`, in the same run, inside
// a real systemd (the test harness: Debian 12 systemd as PID 1 under LXC),
// with 10 and 100 defined containers of which a few run. Prints medians and
// the ratio. Goal (issue 5): within 1.5x of systemctl's own time.
// Usage: node bench/status.mjs [runs]   (root; build first: npx tsc -p .)
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { SystemdHarness } = require("../dist/test/lib/systemd-harness.js");
const runs = Number(process.argv[2] ?? 15);
const RUNNING = 5;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const h = SystemdHarness.create();
try {
  h.boot();
  // Time inside the guest so lxc-attach's own cost is not in the figures.
  h.writeFile("/usr/local/bin/timeit", `#!/bin/sh
# timeit N CMD...: run CMD N times, print each wall time in microseconds
n=$1; shift
i=0
while [ $i -lt $n ]; do
  s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N)
  echo $(( (e - s) / 1000 )); i=$((i + 1))
done
`, 0o755);
  for (const n of [10, 100]) {
    h.sh("rm -f /etc/containerctl/*.container; rm -rf /etc/systemd/system/container@*");
    let script = "";
    for (let i = 0; i < n; i++) {
      script += `printf '[Container]\\nHostname=c${i}\\n[Resources]\\nMemory=64M\\n' > /etc/containerctl/c${i}.container\n`;
      if (i < RUNNING) {
        // A stand-in main process (the runtime is not what is measured here).
        script += `mkdir -p /etc/systemd/system/container@c${i}.service.d; printf '[Service]\\nType=simple\\nExecStart=\\nExecStart=/bin/sleep infinity\\nExecStopPost=\\n' > /etc/systemd/system/container@c${i}.service.d/50-bench.conf\n`;
      }
    }
    h.sh(script + "systemctl daemon-reload");
    for (let i = 0; i < RUNNING; i++) h.sh(`systemctl start container@c${i}.service`);
    const pairs = { containerctl: [], systemctl: [], node: [] };
    for (let r = 0; r < runs; r++) {
      // Pair by pair, so drift affects all alike; `node -e 0` is the floor any Node CLI pays.
      pairs.systemctl.push(Number(h.sh("timeit 1 systemctl list-units 'container@*' --all --output=json --no-pager").trim()) / 1000);
      pairs.containerctl.push(Number(h.sh("timeit 1 containerctl list --json").trim()) / 1000);
      pairs.node.push(Number(h.sh(`timeit 1 ${process.execPath} -e 0`).trim()) / 1000);
    }
    const c = median(pairs.containerctl);
    const s = median(pairs.systemctl);
    const f = median(pairs.node);
    console.log(`${String(n).padStart(3)} containers (${RUNNING} running): containerctl list --json ${c.toFixed(1)} ms, systemctl list-units --output=json ${s.toFixed(1)} ms, ratio ${(c / s).toFixed(2)}x (goal <= 1.5x); node -e 0 ${f.toFixed(1)} ms, containerctl above it ${(c - f).toFixed(1)} ms`);
  }
} finally {
  h.destroy();
}
