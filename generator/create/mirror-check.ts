// Before a download: is the mirror there, and does it have the release? One
// request for dists/RELEASE/Release with a short timeout, so an unreachable
// mirror is reported in seconds (debootstrap's wget would retry for many
// minutes on a dropped connection) and a missing release is told apart from
// an unreachable mirror.

import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";

export type MirrorCheck = { ok: true } | { ok: false; message: string };

export function checkMirrorRelease(mirror: string, codename: string, timeoutMs = Number(process.env.CONTAINERCTL_MIRROR_TIMEOUT_MS) || 15_000, env: NodeJS.ProcessEnv = process.env): Promise<MirrorCheck> {
  const url = `${mirror.replace(/\/+$/, "")}/dists/${codename}/Release`;
  if (url.startsWith("file://")) {
    return Promise.resolve(fs.existsSync(url.slice("file://".length)) ? { ok: true } : { ok: false, message: `${url} does not exist: the mirror does not have ${codename}` });
  }
  const scheme = url.startsWith("https://") ? "https" : url.startsWith("http://") ? "http" : null;
  // ftp, or a proxy we would not go through: leave it to debootstrap.
  if (!scheme || env[`${scheme}_proxy`] || env[`${scheme.toUpperCase()}_PROXY`]) return Promise.resolve({ ok: true });
  return new Promise((resolve) => {
    const lib = scheme === "https" ? https : http;
    const req = lib.request(url, { method: "HEAD", timeout: timeoutMs }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      if (code >= 200 && code < 400) resolve({ ok: true });
      else if (code === 404) resolve({ ok: false, message: `the mirror does not have ${codename} (${url}: 404 Not Found)` });
      else resolve({ ok: false, message: `the mirror answered ${code} for ${url}` });
    });
    req.on("timeout", () => {
      req.destroy();
      resolve({ ok: false, message: `the mirror is unreachable (${url}: no answer in ${Math.round(timeoutMs / 1000)}s)` });
    });
    req.on("error", (e: NodeJS.ErrnoException) => resolve({ ok: false, message: `the mirror is unreachable (${url}: ${e.code ?? e.message})` }));
    req.end();
  });
}
