// import openvz --copy: the private area copied to the spec's RootDirectory
// with everything a guest needs kept (owners, modes, timestamps, hard links,
// xattrs, device nodes, sockets, fifos, symlinks, sparse files), verified
// before the spec is written; the source never changes; ploop is refused with
// nothing created. Root (chown, mknod); the copy lands in a temporary
// directory given to --copy, never in the host's /var/lib.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { compareTrees } from "../../generator/import/copy";
import { makeReporter, renderBar } from "../../generator/create/progress";
import { loadSpec } from "../../generator/spec/load";
import { hashTree, runCli, tempDir, writeFiles } from "./helpers";

const NAME = `cccopy${process.pid}`;

function host(): { tmp: string; priv: string; vzRoot: string; cfg: string; lib: string } {
  const tmp = tempDir("ctl-copy-");
  const vzRoot = path.join(tmp, "vz");
  const priv = path.join(tmp, "private/777");
  writeFiles(tmp, {
    "vz/vz.conf": "VE_LAYOUT=simfs\n",
    "vz/conf/777.conf": `HOSTNAME="${NAME}"\nVE_PRIVATE="${tmp}/private/$VEID"\nOSTEMPLATE="ubuntu-10.04-x86_64"\n`,
    "vz/conf/778.conf": `HOSTNAME="${NAME}p"\nVE_PRIVATE="${tmp}/private/$VEID"\nVE_LAYOUT=ploop\n`,
    "private/777/etc/hostname": `${NAME}\n`,
    "private/777/sbin/init": "#!/bin/sh\n",
    "private/777/bin/su": "setuid\n",
    "private/778/root.hdd/DiskDescriptor.xml": "<x/>\n",
  });
  const p = (r: string) => path.join(priv, r);
  fs.chmodSync(p("bin/su"), 0o4755);
  fs.chownSync(p("etc/hostname"), 1234, 5678);
  fs.linkSync(p("sbin/init"), p("sbin/init-hardlink"));
  fs.symlinkSync("../etc/hostname", p("sbin/hostname-link"));
  fs.mkdirSync(p("dev"));
  assert.is(spawnSync("mknod", [p("dev/null"), "c", "1", "3"]).status, 0);
  assert.is(spawnSync("mkfifo", [p("dev/initctl")]).status, 0);
  assert.is(spawnSync("python3", ["-c", `import socket; s=socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(p("dev/log"))})`]).status, 0);
  assert.is(spawnSync("python3", ["-c", `import os; os.setxattr(${JSON.stringify(p("etc/hostname"))}, "user.containerctl", b"kept")`]).status, 0);
  // 64 MiB with one block of data: sparse.
  const fd = fs.openSync(p("var-lib-sparse.img"), "w");
  fs.writeSync(fd, "data", 32 * 1024 * 1024);
  fs.ftruncateSync(fd, 64 * 1024 * 1024);
  fs.closeSync(fd);
  fs.utimesSync(p("etc/hostname"), new Date("2010-04-29T12:00:00Z"), new Date("2010-04-29T12:00:00Z"));
  return { tmp, priv, vzRoot, cfg: path.join(tmp, "containerctl"), lib: path.join(tmp, "lib") };
}

test("--copy: a verified copy with everything kept, then the spec; the source unchanged; a re-run changes nothing", () => {
  const { tmp, priv, vzRoot, cfg, lib } = host();
  try {
    const before = hashTree(priv);
    const r = runCli(["-C", cfg, "import", "openvz", "777", "--vz-root", vzRoot, "--copy", lib]);
    assert.ok(r.status === 0 || r.status === 2, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`${NAME}: verifying the copy of ${priv}`));
    // Not a terminal: plain lines, one per phase and per quarter (13 entries, each walked twice to verify).
    assert.not.match(r.stderr, /\r/);
    const counts = (phase: string) => [...r.stderr.matchAll(new RegExp(`^containerctl: ${NAME}: ${phase} (\\d+/\\d+) \\(.+\\)$`, "gm"))].map((m) => m[1]);
    assert.equal(counts("copy"), ["1/13", "4/13", "7/13", "10/13", "13/13"]);
    assert.equal(counts("verify"), ["1/26", "7/26", "13/26", "20/26", "26/26"]);
    assert.match(r.stdout, /VE_PRIVATE .* mapped +RootDirectory=\S+\/lib\/cccopy\d+\/rootfs/, "the report says where the copy went");
    const root = `${lib}/${NAME}/rootfs`;
    assert.is(loadSpec(cfg, NAME).spec?.values.root, root, "the spec's RootDirectory is where the copy went");
    assert.is(compareTrees(priv, root), null);
    const st = fs.statSync(`${root}/var-lib-sparse.img`);
    assert.is(st.size, 64 * 1024 * 1024);
    assert.ok(st.blocks * 512 < 4 * 1024 * 1024, `sparse: ${st.blocks} blocks`);
    assert.is(spawnSync("python3", ["-c", `import os; print(os.getxattr(${JSON.stringify(`${root}/etc/hostname`)}, "user.containerctl").decode())`], { encoding: "utf8" }).stdout.trim(), "kept");
    assert.is(fs.statSync(`${root}/sbin/init`).ino, fs.statSync(`${root}/sbin/init-hardlink`).ino, "hard link kept");
    assert.ok(fs.statSync(`${root}/dev/log`).isSocket() && fs.statSync(`${root}/dev/initctl`).isFIFO() && fs.statSync(`${root}/dev/null`).isCharacterDevice());
    assert.not.ok(fs.existsSync(`${root}.partial`));
    assert.is(hashTree(priv), before, "the private area is unchanged");
    const again = runCli(["-C", cfg, "import", "openvz", "777", "--vz-root", vzRoot, "--copy", lib]);
    assert.ok(again.status === 0 || again.status === 2, again.stderr);
    assert.is(compareTrees(priv, root), null);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test("the progress bar: phase, bar, count and entry, cut to the terminal; redrawn in place on a terminal", () => {
  assert.is(renderBar({ phase: "copy", item: "etc/hostname" }, 5, 10), `copy      [${"#".repeat(15)}${".".repeat(15)}] 5/10 etc/hostname`);
  assert.is(renderBar({ phase: "verify", item: "bin/sh" }, 10, 10), `verify    [${"#".repeat(30)}] 10/10 bin/sh`);
  assert.is(renderBar({ phase: "copy", item: "x" }, 7, null), "copy      7 x", "no total: no bar");
  assert.is(renderBar({ phase: "copy", item: "a/very/long/path/name" }, 1, 3, 24), `copy      [${"#".repeat(10)}..`, "23 characters: one column short of the width");
  let text = "";
  const tty = { isTTY: true, columns: 100, write: (c: string) => ((text += c), true) } as unknown as NodeJS.WriteStream;
  const rep = makeReporter("web", tty, true);
  rep.step("copying /a to /b");
  rep.event({ phase: "copy", item: "etc" }, 1, 2);
  rep.event({ phase: "copy", item: "etc/x" }, 2, 2);
  rep.end();
  assert.is(text, `containerctl: web: copying /a to /b\n\r\x1b[K${renderBar({ phase: "copy", item: "etc" }, 1, 2)}\r\x1b[K${renderBar({ phase: "copy", item: "etc/x" }, 2, 2)}\r\x1b[K`);
});

test("--copy refuses ploop with what to do, and creates nothing", () => {
  const { tmp, vzRoot, cfg, lib } = host();
  try {
    const r = runCli(["-C", cfg, "import", "openvz", "778", "--vz-root", vzRoot, "--copy", lib]);
    assert.is(r.status, 1);
    assert.match(r.stdout + r.stderr, /ploop.*convert the container to simfs/);
    assert.not.ok(fs.existsSync(path.join(cfg, `${NAME}p.container`)));
    assert.not.ok(fs.existsSync(`${lib}/${NAME}p`));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test("the verification can fail: one changed byte, one changed mode, one extra file", () => {
  const { tmp, priv } = host();
  try {
    const copy = path.join(tmp, "copy");
    assert.is(spawnSync("cp", ["-a", "-T", priv, copy]).status, 0);
    assert.is(compareTrees(priv, copy), null);
    fs.writeFileSync(path.join(copy, "sbin/init"), "#!/bin/sx\n");
    assert.match(compareTrees(priv, copy) ?? "", /^sbin\/init: source f \d+ .*sha256=/);
    fs.writeFileSync(path.join(copy, "sbin/init"), "#!/bin/sh\n");
    fs.utimesSync(path.join(copy, "sbin/init"), fs.statSync(path.join(priv, "sbin/init")).atime, fs.statSync(path.join(priv, "sbin/init")).mtime);
    fs.chmodSync(path.join(copy, "bin/su"), 0o755);
    assert.match(compareTrees(priv, copy) ?? "", /^bin\/su: /);
    fs.chmodSync(path.join(copy, "bin/su"), 0o4755);
    fs.writeFileSync(path.join(copy, "extra"), "");
    assert.is(compareTrees(priv, copy), "extra: only in the copy");
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test.run();
