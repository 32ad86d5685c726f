// The mirrors this host's apt already uses, as the default --mirror: nothing is
// hard-coded. First apt's own view of its sources (`apt-get indextargets`,
// which knows each source's Origin and Label once `apt-get update` has run),
// else the sources files themselves: a `deb` source with component main whose
// suite is the host's own release (found when the host runs that distribution).

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Distro } from "./releases";

export type Mirrors = Record<Distro, string | null>;

const ORIGINS: Record<Distro, string> = { debian: "Debian", ubuntu: "Ubuntu" };

/** From `apt-get indextargets --format '$(REPO_URI)\t$(ORIGIN)\t$(LABEL)\t$(CODENAME)\t$(TARGET_OF)'`. */
export function mirrorsFromIndexTargets(text: string): Mirrors {
  const out: Mirrors = { debian: null, ubuntu: null };
  for (const line of text.split("\n")) {
    const [uri, origin, label, codename, targetOf] = line.split("\t");
    if (!uri || targetOf !== "deb" || !codename || codename.includes("-")) continue; // skip -updates, -security
    for (const d of Object.keys(ORIGINS) as Distro[]) {
      if (out[d] === null && origin === ORIGINS[d] && label === ORIGINS[d]) out[d] = uri;
    }
  }
  return out;
}

export interface AptSource { types: string[]; uris: string[]; suites: string[]; components: string[] }

/** One-line (.list) and deb822 (.sources) apt source files, as apt reads them. */
export function parseAptSources(text: string, deb822: boolean): AptSource[] {
  const out: AptSource[] = [];
  if (!deb822) {
    for (const raw of text.split("\n")) {
      const line = raw.replace(/#.*/, "").trim();
      if (!line) continue;
      const words = line.replace(/\[[^\]]*\]/, " ").split(/\s+/).filter(Boolean);
      if (words.length >= 3) out.push({ types: [words[0]], uris: [words[1]], suites: [words[2]], components: words.slice(3) });
    }
    return out;
  }
  for (const para of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last = "";
    for (const raw of para.split("\n")) {
      if (raw.startsWith("#")) continue;
      if (/^\s/.test(raw) && last) {
        fields.set(last, `${fields.get(last)} ${raw.trim()}`);
        continue;
      }
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(raw);
      if (m) fields.set((last = m[1].toLowerCase()), m[2]);
    }
    if ((fields.get("enabled") ?? "yes").toLowerCase() === "no") continue;
    const words = (k: string): string[] => (fields.get(k) ?? "").split(/\s+/).filter(Boolean);
    if (words("uris").length) out.push({ types: words("types"), uris: words("uris"), suites: words("suites"), components: words("components") });
  }
  return out;
}

/** The host's distribution and codename from os-release(5) text. */
export function osReleaseOf(text: string): { id: string | null; codename: string | null } {
  const get = (k: string): string | null => new RegExp(`^${k}="?([^"\\n]*)"?`, "m").exec(text)?.[1] ?? null;
  return { id: get("ID"), codename: get("VERSION_CODENAME") };
}

export function mirrorsFromSources(sources: readonly AptSource[], osRelease: string): Mirrors {
  const out: Mirrors = { debian: null, ubuntu: null };
  const { id, codename } = osReleaseOf(osRelease);
  if (!id || !codename || !(id in ORIGINS)) return out;
  const s = sources.find((x) => x.types.includes("deb") && x.components.includes("main") && x.suites.includes(codename));
  if (s) out[id as Distro] = s.uris[0];
  return out;
}

/** The reading edge: apt's view first, then its files. */
export function hostMirrors(): Mirrors {
  const r = spawnSync("apt-get", ["indextargets", "--format", "$(REPO_URI)\t$(ORIGIN)\t$(LABEL)\t$(CODENAME)\t$(TARGET_OF)", "Identifier: Packages"], { encoding: "utf8", timeout: 10_000 });
  const fromApt = r.status === 0 ? mirrorsFromIndexTargets(r.stdout) : { debian: null, ubuntu: null };
  const sources: AptSource[] = [];
  const read = (f: string, deb822: boolean): void => {
    try {
      sources.push(...parseAptSources(fs.readFileSync(f, "utf8"), deb822));
    } catch {
      /* unreadable source files are apt's problem, not ours */
    }
  };
  read("/etc/apt/sources.list", false);
  const d = "/etc/apt/sources.list.d";
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(d).sort();
  } catch {
    /* no directory */
  }
  for (const f of entries) {
    if (f.endsWith(".list")) read(path.join(d, f), false);
    if (f.endsWith(".sources")) read(path.join(d, f), true);
  }
  let osRelease = "";
  try {
    osRelease = fs.readFileSync("/etc/os-release", "utf8");
  } catch {
    /* none */
  }
  const fromFiles = mirrorsFromSources(sources, osRelease);
  return { debian: fromApt.debian ?? fromFiles.debian, ubuntu: fromApt.ubuntu ?? fromFiles.ubuntu };
}

/** apt's own proxy settings (Acquire::http(s)::Proxy), for debootstrap, which does not read apt.conf. */
export function aptProxyEnv(): NodeJS.ProcessEnv {
  const r = spawnSync("apt-config", ["shell", "HP", "Acquire::http::Proxy", "HSP", "Acquire::https::Proxy"], { encoding: "utf8", timeout: 10_000 });
  const env: NodeJS.ProcessEnv = {};
  for (const [, k, v] of (r.stdout || "").matchAll(/^(HP|HSP)='([^']*)'$/gm)) {
    if (!v || v === "DIRECT" || v === "false") continue;
    env[k === "HP" ? "http_proxy" : "https_proxy"] = v;
  }
  return env;
}
