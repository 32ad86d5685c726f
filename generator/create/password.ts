// Root password hashes for the guest's /etc/shadow: SHA-512 crypt ($6$, which
// glibc has had since 2.7, so Lucid's eglibc 2.11 and busybox's login read it),
// made by openssl with the password on stdin, never in an argv that ps shows.

import { spawnSync } from "node:child_process";

export class PasswordError extends Error {}

export function hashPassword(password: string): string {
  if (password === "" || /[\n\r\0]/.test(password)) throw new PasswordError("the root password must be one non-empty line");
  const r = spawnSync("openssl", ["passwd", "-6", "-stdin"], { input: password + "\n", encoding: "utf8" });
  const hash = (r.stdout || "").trim();
  if (r.status !== 0 || !/^\$6\$[^:\s]+$/.test(hash)) throw new PasswordError(`cannot hash the password with openssl (${(r.stderr || String(r.error ?? "")).trim()})`);
  return hash;
}
