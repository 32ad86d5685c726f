// A thin, bounded D-Bus client on dbus-next: raw method calls (no
// introspection round trips, so a batch of property reads is one pipelined
// burst on one connection), a timeout on every call, and one clear error when
// there is no bus. Loaded only by the commands that talk to an init system.

import Module from "node:module";

// dbus-next loads xml2js (~16 ms) at start-up for introspection, which we never
// use (raw calls only): stand in a stub that loads the real module on first use.
// test/cli/lazy-load.test.ts checks that `list` does not load it.
function deferXml2js(): void {
  const req = Module.createRequire(require.resolve("dbus-next"));
  const file = req.resolve("xml2js");
  if (require.cache[file]) return;
  let real: Record<string, unknown> | undefined;
  const load = (): Record<string, unknown> => {
    if (!real) {
      delete require.cache[file];
      real = req("xml2js") as Record<string, unknown>;
    }
    return real;
  };
  // MessageBus's constructor makes an xml2js.Builder (for serving introspection
  // data): a stand-in that builds the real one only if XML is ever produced.
  class LazyBuilder {
    constructor(private readonly opts: unknown) {}
    buildObject(o: unknown): string {
      const B = load().Builder as new (opts: unknown) => { buildObject(o: unknown): string };
      return new B(this.opts).buildObject(o);
    }
  }
  const stub = new Module(file);
  stub.filename = file;
  stub.loaded = true;
  stub.exports = new Proxy({}, { get: (_t, k) => (k === "Builder" ? LazyBuilder : load()[k as string]), has: (_t, k) => k in load() });
  require.cache[file] = stub;
}
deferXml2js();

import dbus = require("dbus-next");

export class NoBusError extends Error {}

export interface Bus {
  call(dest: string, path: string, iface: string, member: string, signature?: string, body?: unknown[]): Promise<unknown[]>;
  onSignal(fn: (m: { path: string; iface: string; member: string; body: unknown[] }) => void): void;
  close(): void;
}

export function systemBusAddress(): string {
  return process.env.DBUS_SYSTEM_BUS_ADDRESS || "unix:path=/run/dbus/system_bus_socket";
}

export async function connect(address = systemBusAddress(), timeoutMs = 5000): Promise<Bus> {
  const path = /^unix:path=([^,]+)/.exec(address)?.[1];
  if (path) {
    const fs = await import("node:fs");
    if (!fs.existsSync(path)) throw new NoBusError(`no system bus at ${path} (is dbus running?)`);
  }
  const bus = dbus.sessionBus({ busAddress: address }) as unknown as dbus.MessageBus & { on: Function; disconnect(): void };
  let failed: Error | null = null;
  bus.on("error", (e: Error) => {
    failed = e;
  });
  const call: Bus["call"] = (destination, objPath, iface, member, signature = "", body = []) => {
    if (failed) return Promise.reject(new NoBusError(`system bus: ${failed.message}`));
    const msg = new dbus.Message({ destination, path: objPath, interface: iface, member, signature, body });
    return withTimeout(bus.call(msg).then((r) => (r ? r.body : [])), timeoutMs, `${iface}.${member}`);
  };
  // The Hello handshake happens on connect; a first call surfaces connection errors.
  try {
    await call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetId");
  } catch (e) {
    bus.disconnect();
    if (e instanceof TimeoutError) throw new NoBusError(`the system bus at ${address} did not answer`);
    throw e instanceof NoBusError ? e : new NoBusError(`cannot use the system bus at ${address}: ${(e as Error).message}`);
  }
  return {
    call,
    onSignal(fn) {
      bus.on("message", (m: dbus.Message) => {
        if (m.type === dbus.MessageType.SIGNAL) fn({ path: m.path, iface: m.interface, member: m.member, body: m.body });
      });
    },
    close: () => bus.disconnect(),
  };
}

export class TimeoutError extends Error {}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const UINT64_MAX = (1n << 64n) - 1n;

/** Unwrap a{sv} from GetAll: 64-bit integers as numbers, systemd's "unset" (UINT64_MAX) as null. */
export function plain(props: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props as Record<string, { value: unknown }>)) {
    out[k] = typeof v.value === "bigint" ? (v.value === UINT64_MAX ? null : Number(v.value)) : v.value;
  }
  return out;
}
