// A CreatePlan as text: what `containerctl create --dry-run` prints and what
// the golden files in test/create/golden/ hold, so a reviewer reads exactly
// the commands and files a release gets.

import { shellQuote } from "../escape";
import type { GuestStep } from "./guest-files";
import type { CreatePlan } from "./plan";

const octal = (m: number): string => m.toString(8).padStart(4, "0");
const argvLine = (argv: readonly string[]): string => argv.map(shellQuote).join(" ");

export function stepText(s: GuestStep): string {
  switch (s.op) {
    case "dir": return `dir ${s.path} ${octal(s.mode)}`;
    case "file": return `file ${s.path} ${octal(s.mode)}\n${s.content.replace(/\n$/, "").replace(/^/gm, "  | ")}`;
    case "copy": return `copy ${s.from} -> ${s.path} ${octal(s.mode)}`;
    case "symlink": return `symlink ${s.path} -> ${s.target}`;
    case "root-password": return `root-password ${s.hash === null ? "locked" : "set (hash)"}`;
    case "empty": return `empty ${s.path}`;
    case "remove-debs": return `remove-debs ${s.path}`;
  }
}

export function planText(plan: CreatePlan, opts: { applets?: boolean } = {}): string {
  const out: string[] = [];
  const b = plan.bootstrap;
  if (b.kind === "debootstrap") {
    out.push(
      `# ${b.release.distro} ${b.release.codename} (${b.release.version}), Guest=${b.release.guest}, mirror ${b.mirror}`,
      `# 1. download into the cache, only when ${b.cacheFile} is missing (then renamed from .partial):`,
      argvLine(b.download),
      "# 2. install from the cache into the staging directory (no network):",
      argvLine(b.install),
      ...(b.unpackRootfs
        ? [`#    after the first install, tar'ed to ${b.rootfsCache}; when that exists, step 2 is instead:`, argvLine(b.unpackRootfs)]
        : ["#    (no installed-rootfs cache: the package set may make per-install secrets)"]),
    );
  } else {
    out.push("# busybox guest from the host's static busybox");
  }
  out.push(`# 3. guest steps in ${plan.paths.staging}, then renamed to ${plan.paths.rootfs}:`);
  let links = 0;
  for (const s of plan.steps) {
    // A link per busybox applet would drown the plan; they are counted instead.
    if (!opts.applets && s.op === "symlink" && /(^|\/)busybox$/.test(s.target)) {
      links++;
      continue;
    }
    out.push(stepText(s));
  }
  if (links) out.push(`symlink (${links} busybox applets) -> /bin/busybox (relative links)`);
  out.push(`# 4. the spec, written last and never over an existing one: ${plan.paths.spec}`, plan.specText.replace(/\n$/, "").replace(/^/gm, "  | "));
  return out.join("\n") + "\n";
}
