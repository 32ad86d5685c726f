// OpenVZ value syntax (ctid.conf(5), "Resource limits"; ../shared/docs/openvz.md):
// `barrier:limit` or one value for both; `unlimited`, and the numbers old
// configs write for it; suffixes T G M K (x1024^n), P (pages), B (bytes) with
// decimals; and the unit a bare number is in, which depends on the parameter.
// Amounts come back in bytes (or plain counts) so the mapping never has to
// remember which unit a parameter was in.

export class VzValueError extends Error {}

/** What a bare number means for a parameter. */
export type VzUnit = "pages" | "bytes" | "kblocks" | "count";

export const PAGE_SIZE = 4096;

export type Amount = number | "unlimited";
export interface BarrierLimit { barrier: Amount; limit: Amount }

// LONG_MAX on 32-bit hosts, and on 64-bit hosts (and LONG_MAX/2, which vzctl's
// ve-unlimited sample writes for socket buffers): all mean "no limit".
const LONG_MAX_32 = 2147483647n;
const HALF_LONG_MAX_64 = 4611686018427387903n;

const SUFFIX: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4, P: PAGE_SIZE, B: 1 };
const BARE: Record<VzUnit, number> = { pages: PAGE_SIZE, bytes: 1, kblocks: 1024, count: 1 };

/** One amount, in bytes (pages, bytes, kblocks) or as a count. */
export function parseAmount(raw: string, unit: VzUnit): Amount {
  const s = raw.trim();
  if (s === "unlimited") return "unlimited";
  const m = /^([0-9]{1,20})(?:\.([0-9]{1,9}))?([KMGTPB]?)$/i.exec(s);
  if (!m) throw new VzValueError(`'${s}' is not a number${unit === "count" ? "" : " (with an optional T, G, M, K, P or B suffix)"} or 'unlimited'`);
  const suffix = m[3].toUpperCase();
  if (unit === "count" && suffix !== "") throw new VzValueError(`'${s}': a count takes no suffix`);
  if (m[2] !== undefined && suffix === "") throw new VzValueError(`'${s}': a fraction needs a suffix (e.g. 2.5G)`);
  const whole = BigInt(m[1]);
  if (suffix === "" && (whole === LONG_MAX_32 || whole >= HALF_LONG_MAX_64)) return "unlimited";
  const value = Number(`${m[1]}.${m[2] ?? "0"}`) * (suffix === "" ? BARE[unit] : SUFFIX[suffix]);
  // Beyond 2^53 bytes (8 PiB) no limit is real: an old spelling of unlimited.
  if (!Number.isSafeInteger(Math.floor(value))) return "unlimited";
  return Math.floor(value);
}

/** `barrier:limit`, or one value that sets both. */
export function parseBarrierLimit(raw: string, unit: VzUnit): BarrierLimit {
  const parts = raw.split(":");
  if (parts.length > 2) throw new VzValueError(`'${raw}' is not barrier:limit`);
  const barrier = parseAmount(parts[0], unit);
  const limit = parts.length === 2 ? parseAmount(parts[1], unit) : barrier;
  return { barrier, limit };
}

/** A plain non-negative integer (CPUUNITS, BOOTORDER, STOP_TIMEOUT, ...). */
export function parseUint(raw: string, max = Number.MAX_SAFE_INTEGER): number {
  const s = raw.trim();
  if (!/^[0-9]{1,16}$/.test(s)) throw new VzValueError(`'${s}' is not a whole number`);
  const n = Number(s);
  if (n > max) throw new VzValueError(`${s} is larger than ${max}`);
  return n;
}

/** yes/no, as vzctl accepts them. */
export function parseYesNo(raw: string): boolean {
  if (raw === "yes") return true;
  if (raw === "no") return false;
  throw new VzValueError(`'${raw}' is not yes or no`);
}

/** `name:on|off` lists (CAPABILITY, FEATURES). */
export function parseOnOffList(raw: string): { name: string; on: boolean }[] {
  const out: { name: string; on: boolean }[] = [];
  for (const w of raw.split(/\s+/).filter(Boolean)) {
    const m = /^([A-Za-z0-9_]+):(on|off)$/.exec(w);
    if (!m) throw new VzValueError(`'${w}' is not name:on or name:off`);
    out.push({ name: m[1].toLowerCase(), on: m[2] === "on" });
  }
  return out;
}

/** Bytes shown with the largest exact binary suffix, as the spec's size type writes them. */
export function showBytes(n: Amount): string {
  if (n === "unlimited") return n;
  for (const [s, m] of [["T", 1024 ** 4], ["G", 1024 ** 3], ["M", 1024 ** 2], ["K", 1024]] as const) {
    if (n >= m && n % m === 0) return `${n / m}${s}`;
  }
  return `${n}B`;
}
