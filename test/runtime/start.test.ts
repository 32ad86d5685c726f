// One running busybox container, looked at from inside and from the host:
// namespaces, root, mounts, /dev, confinement, init's environment, console,
// exec. Root only, real kernel.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DEFAULT_INIT } from "../lib/busybox-guest";
import { CAP_NUMBERS, CLI, DEFAULT_CAP_DROP, TestContainer, buildHelper, missingCaps, sleep } from "../lib/runtime-harness";

const INIT = DEFAULT_INIT.replace("while :;", `echo "guest: args=$# [$1] [$2] [$3]"
(while IFS= read -r l; do echo "guest: console read: $l"; done) </dev/console &
while :;`);

const t = suite("runtime start");
let c: TestContainer;
let initPid = 0;
const marker = `/tmp/containerctl-marker-${process.pid}`;
const bindRo = `/tmp/containerctl-bind-ro-${process.pid}`;
const bindRw = `/tmp/containerctl-bind-rw-${process.pid}`;
const masked = ["sysrq-trigger", "kcore", "keys", "timer_list", "kallsyms"].filter((f) => fs.existsSync(`/proc/${f}`));

t.before(async () => {
  buildHelper();
  fs.writeFileSync(marker, "host secret\n");
  fs.mkdirSync(bindRo, { recursive: true });
  fs.writeFileSync(path.join(bindRo, "file"), "from host\n");
  fs.mkdirSync(bindRw, { recursive: true });
  c = new TestContainer("start", { init: INIT });
  c.start({
    hostname: "guesthost", args: ["a b", "", "c"], env: ["FOO=bar baz"], ttys: 4, capDrop: [...DEFAULT_CAP_DROP, "sys_admin"],
    binds: [[bindRo, "/mnt/ro", "ro"], [bindRw, "/srv/data", "rw"]],
    devices: fs.existsSync("/dev/loop-control") ? [["/dev/loop-control", "rw"]] : [],
  });
  await c.waitOutput(/guest: args=/);
  initPid = (await c.pids()).init;
});

t.after(() => {
  c?.destroy();
  fs.rmSync(marker, { force: true });
  fs.rmSync(bindRo, { recursive: true, force: true });
  fs.rmSync(bindRw, { recursive: true, force: true });
});

t("PID 1 is the guest init and sees only its own processes", async () => {
  assert.match(c.stdout, /guest: init up pid=1 /);
  assert.is(fs.readFileSync(`/proc/${initPid}/cmdline`, "latin1"), "/bin/sh\0/sbin/init\0a b\0\0c\0");
  // A host process that must not show up inside.
  const host = spawn("sleep", ["4242"], { stdio: "ignore" });
  try {
    const r = await c.sh("for p in /proc/[0-9]*; do tr '\\0' ' ' <$p/cmdline; echo; done");
    assert.is(r.code, 0, r.stderr);
    assert.not.match(r.stdout, /4242/);
    const lines = r.stdout.split("\n").filter(Boolean);
    assert.ok(lines.length < 8, `only the guest's processes: ${r.stdout}`);
    assert.match(r.stdout, /^\/bin\/sh \/sbin\/init a b {2}c/m);
    const one = await c.sh("readlink /proc/1/exe; echo $$");
    assert.match(one.stdout, /^\/bin\/busybox\n/);
  } finally {
    host.kill();
  }
});

t("init gets argv from the plan, container= and container_name= in a clean environment, fds 0-2 on the console", async () => {
  assert.match(c.stdout, /guest: args=3 \[a b\] \[\] \[c\]/);
  const env = fs.readFileSync(`/proc/${initPid}/environ`, "latin1").split("\0").filter(Boolean);
  assert.ok(env.includes("container=containerctl"), env.join(" "));
  assert.ok(env.includes(`container_name=${c.name}`), env.join(" "));
  assert.ok(env.includes("FOO=bar baz"), env.join(" "));
  assert.ok(!env.some((e) => e.startsWith("CONTAINERCTL_") || e.startsWith("NOTIFY_SOCKET")), env.join(" "));
  for (const n of [0, 1, 2]) assert.is(fs.readlinkSync(`/proc/${initPid}/fd/${n}`), "/dev/console");
  const inside = await c.sh("ls -l /proc/1/fd/0 /proc/1/fd/1 /proc/1/fd/2");
  assert.is(inside.stdout.match(/-> \/dev\/console/g)?.length, 3, inside.stdout);
});

t("hostname from the plan, in its own uts namespace", async () => {
  assert.is((await c.sh("hostname")).stdout, "guesthost\n");
  assert.match(c.stdout, /host=guesthost/);
  assert.is.not(fs.readFileSync("/proc/sys/kernel/hostname", "utf8"), "guesthost\n");
});

t("only lo: the network namespace is its own and empty", async () => {
  assert.is((await c.sh("ls /sys/class/net")).stdout, "lo\n");
  assert.is.not(fs.readlinkSync(`/proc/${initPid}/ns/net`), fs.readlinkSync("/proc/self/ns/net"));
  for (const ns of ["pid", "mnt", "uts", "ipc", "net", "cgroup"]) {
    assert.is.not(fs.readlinkSync(`/proc/${initPid}/ns/${ns}`), fs.readlinkSync("/proc/self/ns/" + ns), ns);
  }
});

t("mounts are exactly the listed ones, the old root is gone", async () => {
  const r = await c.sh("cat /proc/self/mountinfo");
  const points = r.stdout.split("\n").filter(Boolean).map((l) => l.split(" ")[4]).sort();
  const expected = [
    "/", "/dev", "/dev/console", "/dev/pts", "/dev/shm", "/dev/tty1", "/dev/tty2", "/dev/tty3", "/dev/tty4",
    "/mnt/ro", "/proc", "/proc/sys", "/proc/sys/net", "/srv/data", "/sys", ...masked.map((f) => `/proc/${f}`),
    ...(fs.existsSync("/dev/loop-control") ? ["/dev/loop-control"] : []), // a plan device: bound from the host
  ].sort();
  assert.equal(points, expected);
  const root = r.stdout.split("\n").find((l) => l.split(" ")[4] === "/")!;
  assert.is(root.split(" ")[3], c.root, "the guest's / is its root directory");
  assert.not.match(r.stdout, /oldroot/);
  assert.is((await c.sh("ls -a / | grep -c oldroot")).stdout, "0\n");
  // The guest's rootfs on disk was not touched by the start (no .oldroot, no /dev entries).
  assert.not.ok(fs.existsSync(path.join(c.root, ".oldroot")));
  assert.equal(fs.readdirSync(path.join(c.root, "dev")), []);
  const opts = (p: string): string => r.stdout.split("\n").find((l) => l.split(" ")[4] === p) ?? "";
  assert.match(opts("/dev/pts"), / devpts devpts rw.*ptmxmode=666/);
  assert.match(opts("/proc/sys"), /^\S+ \S+ \S+ \/sys \/proc\/sys ro,/);
  assert.match(opts("/proc/sys/net"), / \/proc\/sys\/net rw,/);
  assert.match(opts("/sys"), / \/sys ro,/);
  assert.match(opts("/mnt/ro"), / \/mnt\/ro ro,/);
  assert.match(opts("/srv/data"), / \/srv\/data rw,/);
});

t("/dev holds only the listed nodes, links and a private devpts", async () => {
  const names = (await c.sh("ls -A /dev")).stdout.split("\n").filter(Boolean).sort();
  const extra = fs.existsSync("/dev/loop-control") ? ["loop-control"] : [];
  assert.equal(names, ["console", "fd", "full", ...extra, "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty", "tty1", "tty2", "tty3", "tty4", "urandom", "zero"].sort());
  const r = await c.sh("readlink /dev/ptmx; readlink /dev/fd; readlink /dev/stdin; ls /dev/pts; stat -c '%t:%T' /dev/null /dev/tty1 /dev/console");
  assert.match(r.stdout, /^pts\/ptmx\n\/proc\/self\/fd\n\/proc\/self\/fd\/0\nptmx\n1:3\n88:/);
  // A pty from the container's own devpts does not appear on the host's.
  const pts = await c.sh("exec 3<>/dev/ptmx; ls /dev/pts");
  assert.match(pts.stdout, /^0\nptmx\n$/);
});

t("masked and read-only paths reject writes", async () => {
  for (const f of masked) {
    const r = await c.sh(`echo x > /proc/${f}`);
    assert.is.not(r.code, 0, `/proc/${f} is writable`);
    assert.is((await c.sh(`head -c 16 /proc/${f} | wc -c`)).stdout.trim(), "0", `/proc/${f} readable`);
  }
  const before = fs.readFileSync("/proc/sys/kernel/hostname", "utf8");
  let r = await c.sh("echo evil > /proc/sys/kernel/hostname");
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /Read-only/);
  assert.is(fs.readFileSync("/proc/sys/kernel/hostname", "utf8"), before);
  r = await c.sh("echo 1 > /proc/sys/kernel/sysrq");
  assert.is.not(r.code, 0);
  r = await c.sh("echo x > /sys/kernel/uevent_helper");
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /Read-only/);
  // The container's own network namespace stays configurable, and the host's setting is not the one changed.
  const hostForward = fs.readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8");
  const flipped = hostForward === "1\n" ? "0" : "1";
  r = await c.sh(`echo ${flipped} > /proc/sys/net/ipv4/ip_forward && cat /proc/sys/net/ipv4/ip_forward`);
  assert.is(r.stdout, `${flipped}\n`, r.stderr);
  assert.is(fs.readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8"), hostForward, "the host's ip_forward is untouched");
});

t("dropped capabilities are absent from CapBnd of PID 1 and of an exec'd process", async () => {
  const bnd = (s: string): string => /^CapBnd:\s*([0-9a-f]+)$/m.exec(s)![1];
  const initMissing = missingCaps(bnd(fs.readFileSync(`/proc/${initPid}/status`, "utf8")));
  // What the host's own bounding set lacks is missing inside too.
  const hostMissing = missingCaps(bnd(fs.readFileSync("/proc/self/status", "utf8")));
  const want = [...new Set([...hostMissing, ...[...DEFAULT_CAP_DROP, "sys_admin"].map((n) => CAP_NUMBERS[n])])].sort((a, b) => a - b);
  assert.ok(!initMissing.includes(CAP_NUMBERS.chown) && !initMissing.includes(CAP_NUMBERS.net_admin), "kept capabilities stay");
  assert.equal(initMissing, want);
  const r = spawnSync("node", [CLI, "exec", c.name, "--", "grep", "CapBnd", "/proc/self/status"], { encoding: "utf8", timeout: 10000 });
  assert.is(r.status, 0, r.stderr);
  assert.equal(missingCaps(bnd(r.stdout)), want);
  // sys_admin dropped: mounting inside fails for an exec'd process.
  const m = spawnSync("node", [CLI, "exec", c.name, "--", "mount", "-t", "tmpfs", "x", "/mnt"], { encoding: "utf8" });
  assert.is.not(m.status, 0);
});

t("mknod of the host's root disk is refused by the devices cgroup, nothing of it is read; allowed nodes open", async () => {
  const rootLine = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").find((l) => l.split(" ")[4] === "/")!;
  const [maj, min] = rootLine.split(" ")[2].split(":");
  const r = spawnSync("node", [CLI, "exec", c.name, "--", "sh", "-c",
    `mknod /tmp/rootdisk b ${maj} ${min} 2>&1; head -c 16 /tmp/rootdisk | wc -c; echo read=$?; rm -f /tmp/rootdisk; head -c 4 /dev/zero | wc -c`], { encoding: "utf8" });
  assert.is(r.status, 0, r.stderr);
  // CAP_MKNOD is kept: only the devices cgroup (no "m" for that disk) refuses the node.
  const [made, ...rest] = r.stdout.trim().split("\n");
  assert.is(made, "mknod: /tmp/rootdisk: Operation not permitted", `the devices cgroup refuses the node: ${r.stdout}`);
  assert.equal(rest, ["0", "read=0", "4"], `nothing read from the host's disk, /dev/zero opens: ${r.stdout}`);
  // A device the plan allows is there and opens; the devices cgroup lets it through.
  if (fs.existsSync("/dev/loop-control")) {
    const d = spawnSync("node", [CLI, "exec", c.name, "--", "sh", "-c", "exec 3<>/dev/loop-control && echo opened"], { encoding: "utf8", timeout: 10000 });
    assert.is(d.stdout, "opened\n", d.stderr);
  }
  // The guest init itself is in that cgroup too.
  assert.match(fs.readFileSync(`/proc/${initPid}/cgroup`, "utf8"), new RegExp(`devices:/containerctl/${c.name}$`, "m"));
});

t("a host file outside the root is unreachable", async () => {
  for (const p of [marker, `/..${marker}`, `/proc/1/root${marker}`, `/proc/self/cwd/../..${marker}`]) {
    const r = await c.sh(`cat ${p}`);
    assert.is.not(r.code, 0, p);
    assert.not.match(r.stdout, /host secret/);
  }
  const exec = spawnSync("node", [CLI, "exec", c.name, "--", "cat", marker], { encoding: "utf8" });
  assert.is.not(exec.status, 0);
  assert.not.match(exec.stdout, /host secret/);
});

t("bind mounts from the plan: ro rejects writes, rw writes reach the host, missing targets are created", async () => {
  assert.is((await c.sh("cat /mnt/ro/file")).stdout, "from host\n");
  assert.is.not((await c.sh("echo x > /mnt/ro/new")).code, 0);
  assert.is((await c.sh("echo written > /srv/data/out")).code, 0);
  assert.is(fs.readFileSync(path.join(bindRw, "out"), "utf8"), "written\n");
  assert.ok(fs.statSync(path.join(c.root, "srv/data")).isDirectory());
});

t("exec: cwd /, a clean environment, no host file descriptors", async () => {
  const r = spawnSync("node", [CLI, "exec", c.name, "--", "sh", "-c", "pwd; ls /proc/self/fd | tr '\\n' ' '; echo; env | sort"], {
    encoding: "utf8", cwd: "/tmp", env: { ...process.env, SECRET_HOST_VAR: "x" },
  });
  assert.is(r.status, 0, r.stderr);
  const [pwd, fds, ...env] = r.stdout.split("\n");
  assert.is(pwd, "/");
  assert.is(fds.trim(), "0 1 2 3", "only stdio (3 is ls's own directory fd)");
  assert.ok(env.includes(`container_name=${c.name}`));
  assert.ok(!env.some((e) => e.startsWith("SECRET_HOST_VAR")));
  // Commands that exit at once, many times: exec must never miss their exit.
  for (let i = 0; i < 20; i++) {
    const code = spawnSync("node", [CLI, "exec", c.name, "--", "sh", "-c", "exit 5"], { encoding: "utf8", timeout: 10000 });
    assert.is(code.status, 5, `run ${i}: ${code.signal ?? ""} ${code.stderr}`);
  }
});

t("console output reaches stdout (the unit's log) and `containerctl console` attaches", async () => {
  assert.match(c.stdout, /guest: init up/);
  const cons = spawn("node", [CLI, "console", c.name], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  cons.stdout.on("data", (d) => (out += d.toString()));
  cons.stdin.write("ping-from-console\n");
  const until = Date.now() + 5000;
  while (!/console read: ping-from-console/.test(out) && Date.now() < until) await sleep(20);
  cons.stdin.write("\u0001q"); // detach
  cons.stdin.end();
  const code = await new Promise((r) => cons.on("exit", r));
  assert.match(out, /console read: ping-from-console/);
  assert.is(code, 0);
  assert.match(c.stdout, /console read: ping-from-console/);
  // Detaching left the container running.
  assert.ok(fs.existsSync(`/proc/${initPid}`));
});

t("the control socket serves root only: console, exec and pid requests from another user are refused", async () => {
  const asNobody = (args: string[]): ReturnType<typeof spawnSync> =>
    spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, CLI, ...args], { encoding: "utf8", timeout: 10000 });
  const con = asNobody(["console", c.name]);
  assert.is(con.status, 1);
  assert.match(String(con.stderr), /refused the connection \(root only\)/);
  const ex = asNobody(["exec", c.name, "--", "true"]);
  assert.is(ex.status, 1);
  assert.match(String(ex.stderr), /refused the request \(root only\)/);
  assert.ok(fs.existsSync(`/proc/${initPid}`), "still running");
});

t("exec on a terminal: the command gets a pty of the guest's own devpts, never the caller's terminal", async () => {
  // script(1) gives the CLI a terminal; inside, fd 0 must be a pty of the container's devpts.
  const r = spawnSync("script", ["-qec", `${process.execPath} ${CLI} exec ${c.name} -- sh -c 'tty; ls -1 /dev/pts; exit 4'`, "/dev/null"], { encoding: "utf8", timeout: 10000 });
  assert.match(r.stdout, /\/dev\/pts\/0\r\n0\r\nptmx\r\n/, JSON.stringify(r.stdout));
  assert.is(r.status, 4, "its status passes through script");
  // The relay restored the caller's terminal: a later command on it sees cooked mode.
  const s2 = spawnSync("script", ["-qec", `${process.execPath} ${CLI} exec ${c.name} -- true; stty -a | grep -o ' icanon'`, "/dev/null"], { encoding: "utf8", timeout: 10000 });
  assert.match(s2.stdout, / icanon/);
});

t("shell: a login shell inside reads commands from stdin", async () => {
  const r = spawnSync("node", [CLI, "shell", c.name], { input: "hostname; echo $container\n", encoding: "utf8" });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /guesthost\ncontainerctl\n/);
});

t.run();
