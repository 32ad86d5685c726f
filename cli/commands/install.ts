// containerctl install-system | uninstall-system: put the generator, the
// static units, the runtime, the CLI and the man pages where systemd and a
// user's PATH find them (or under --root, for an image or a test system).
// Everything written outside /usr/lib/containerctl is listed in its MANIFEST,
// and uninstall removes exactly that; specs in /etc/containerctl are kept.

import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import type { Command } from "commander";
import { shellQuote } from "../../generator/escape";

const PROJECT = path.resolve(__dirname, "../../..");
const LIB = "/usr/lib/containerctl";
const MANIFEST = `${LIB}/MANIFEST`;

interface Layout { files: Map<string, string | { copy: string; mode: number }>; dirs: string[] }

/** Production dependencies of the project, found by walking package.json files. */
function prodModules(): string[] {
  const seen = new Set<string>();
  const visit = (pkgDir: string): void => {
    const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8"));
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      const dir = path.join(PROJECT, "node_modules", dep);
      if (seen.has(dir) || !fs.existsSync(dir)) continue;
      seen.add(dir);
      visit(dir);
    }
  };
  visit(PROJECT);
  return [...seen].sort();
}

function launcher(nodePath: string, target: string): string {
  return `#!${nodePath}\n// Installed by containerctl install-system.\nrequire(${JSON.stringify(target)});\n`;
}

/** The CLI guards its main with require.main === module, so it is exec'd, not required. */
function execLauncher(nodePath: string, target: string): string {
  return `#!/bin/sh\n# Installed by containerctl install-system.\nexec ${shellQuote(nodePath)} ${shellQuote(target)} "$@"\n`;
}

function layout(nodePath: string): Layout {
  // Handlebars (docs) is loaded only when installing, not by every command.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { renderSpecManPage } = require("../../generator/docs") as typeof import("../../generator/docs");
  const files: Layout["files"] = new Map();
  files.set("/usr/lib/systemd/system-generators/containerctl-generator", launcher(nodePath, `${LIB}/dist/generator/main.js`));
  files.set("/usr/sbin/containerctl", execLauncher(nodePath, `${LIB}/dist/cli/containerctl.js`));
  for (const u of fs.readdirSync(path.join(PROJECT, "units")).sort()) {
    files.set(`/usr/lib/systemd/system/${u}`, { copy: path.join(PROJECT, "units", u), mode: 0o644 });
  }
  files.set("/usr/share/man/man5/containerctl.container.5", renderSpecManPage());
  const man8 = path.join(PROJECT, "docs", "containerctl.8");
  if (fs.existsSync(man8)) files.set("/usr/share/man/man8/containerctl.8", { copy: man8, mode: 0o644 });
  return { files, dirs: ["/etc/containerctl", "/var/lib/containerctl"] };
}

function copyTree(src: string, dest: string): void {
  fs.cpSync(src, dest, { recursive: true, dereference: false, preserveTimestamps: true });
}

function install(root: string, nodePath: string): void {
  const at = (p: string): string => path.join(root, p);
  // The library directory is replaced as a whole: stage it, then swap.
  const staging = at(`${LIB}.new`);
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  for (const part of ["generator", "cli", "runtime"]) {
    const d = path.join(PROJECT, "dist", part);
    if (fs.existsSync(d)) copyTree(d, path.join(staging, "dist", part));
  }
  copyTree(path.join(PROJECT, "package.json"), path.join(staging, "package.json"));
  // The runtime's C helper is built by `npm run build`; build it here too when missing or stale.
  const built = spawnSync("sh", [path.join(PROJECT, "runtime", "build.sh")], { stdio: "inherit" });
  if (built.status !== 0) throw new Error("cannot build runtime/helper (sh runtime/build.sh failed; is a C compiler installed?)");
  // runtime/: the start path; upstart/: job templates read by `generate --upstart`.
  for (const part of ["runtime", "upstart"]) {
    if (fs.existsSync(path.join(PROJECT, part))) copyTree(path.join(PROJECT, part), path.join(staging, part));
  }
  for (const m of prodModules()) copyTree(m, path.join(staging, "node_modules", path.relative(path.join(PROJECT, "node_modules"), m)));
  const { files, dirs } = layout(nodePath);
  fs.writeFileSync(path.join(staging, "MANIFEST"), [...files.keys()].join("\n") + "\n");
  fs.rmSync(at(LIB), { recursive: true, force: true });
  fs.renameSync(staging, at(LIB));
  for (const [dest, src] of files) {
    fs.mkdirSync(path.dirname(at(dest)), { recursive: true });
    const tmp = `${at(dest)}.containerctl-new`;
    if (typeof src === "string") fs.writeFileSync(tmp, src, { mode: dest.includes("/sbin/") || dest.includes("generators") ? 0o755 : 0o644 });
    else {
      fs.copyFileSync(src.copy, tmp);
      fs.chmodSync(tmp, src.mode);
    }
    if (dest.includes("/sbin/") || dest.includes("generators")) fs.chmodSync(tmp, 0o755);
    fs.renameSync(tmp, at(dest));
  }
  for (const d of dirs) fs.mkdirSync(at(d), { recursive: true, mode: 0o755 });
}

function uninstall(root: string): string[] {
  const at = (p: string): string => path.join(root, p);
  let listed: string[] = [];
  try {
    listed = fs.readFileSync(at(MANIFEST), "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
  for (const f of listed) fs.rmSync(at(f), { force: true });
  fs.rmSync(at(LIB), { recursive: true, force: true });
  return listed;
}

function reloadSystemd(root: string): void {
  if (path.resolve(root) !== "/" || !fs.existsSync("/run/systemd/system")) return;
  spawnSync("systemctl", ["daemon-reload"], { stdio: "inherit" });
}

export function register(program: Command): void {
  program
    .command("install-system")
    .description("install the generator, units, runtime, CLI and man pages; then reload systemd if it runs")
    .option("--root <dir>", "install into this root directory instead of /", "/")
    .option("--node <path>", "Node.js binary the installed programs run with", process.execPath)
    .action((opts: { root: string; node: string }) => {
      install(opts.root, opts.node);
      reloadSystemd(opts.root);
      process.stdout.write(`installed containerctl into ${opts.root}\n`);
    });
  program
    .command("uninstall-system")
    .description("remove what install-system installed; specs in /etc/containerctl are kept")
    .option("--root <dir>", "remove from this root directory instead of /", "/")
    .action((opts: { root: string }) => {
      const removed = uninstall(opts.root);
      reloadSystemd(opts.root);
      process.stdout.write(removed.length ? `removed ${removed.length} files and ${LIB}\n` : "containerctl is not installed\n");
    });
}
