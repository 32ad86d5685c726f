// Network rules of the OpenVZ import: venet addresses (IP_ADDRESS), veth
// devices (NETIF), DNS (NAMESERVER, SEARCHDOMAIN, including `inherit`) and
// traffic shaping (RATE). venet0 does not exist on the mainline kernel: its
// addresses move to a routed veth (Type=veth without Bridge=), which keeps the
// guest reachable on the same addresses with the host routing to it, as
// OpenVZ's host did for venet. NETIF's first device (eth0) is [Network]'s
// interface, every further one an ExtraInterface=.

import { MapValueError, type Rule, type RuleContext } from "./openvz-map";
import { MAX_EXTRA_INTERFACES } from "../render/derive";

/** `a.b.c.d/255.255.255.0` (vzctl 4 accepts netmasks) → prefix length. */
function maskToPrefix(mask: string): number | null {
  const parts = mask.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return null;
  const bits = parts.map((p) => p.toString(2).padStart(8, "0")).join("");
  return /^1*0*$/.test(bits) ? bits.indexOf("0") === -1 ? 32 : bits.indexOf("0") : null;
}

export interface NetifEntry { [field: string]: string }

/** `ifname=eth0,mac=…,host_ifname=…,host_mac=…,bridge=…;…` */
export function parseNetif(raw: string): NetifEntry[] {
  const out: NetifEntry[] = [];
  for (const dev of raw.split(";").map((d) => d.trim()).filter(Boolean)) {
    const e: NetifEntry = {};
    for (const kv of dev.split(",")) {
      const eq = kv.indexOf("=");
      if (eq <= 0) throw new MapValueError(`'${kv}' is not field=value`, "NETIF");
      e[kv.slice(0, eq).trim()] = kv.slice(eq + 1).trim();
    }
    out.push(e);
  }
  return out;
}

const NETIF_FIELDS = ["ifname", "mac", "host_ifname", "host_mac", "bridge"];

/**
 * NETIF: the device named eth0 (else the first) is [Network]'s interface, every
 * other one an ExtraInterface= with its own guest name, MAC, host MAC and bridge.
 * The one report entry says for each device whether it is mapped or approximated.
 */
function mapNetif(cx: RuleContext, devs: NetifEntry[], typeLine: string): void {
  const netif = cx.get("NETIF")!;
  for (const d of devs) {
    for (const [k, v] of Object.entries(d)) {
      if (v === "") delete d[k]; // `mac=`: unset, as vzctl reads it
      // Fields become words of ExtraInterface=: a value with white space could add a word of its own.
      else if (/\s/.test(v)) throw new MapValueError(`${k}='${v}' is not a single word`, "NETIF");
    }
  }
  const mainAt = Math.max(0, devs.findIndex((d) => d.ifname === "eth0"));
  const result = [typeLine];
  const notes: string[] = [];
  let approximated = false;
  const names = new Set(["eth0"]);
  let extra = 0;
  devs.forEach((d, i) => {
    const lost: string[] = [];
    let how: string;
    if (i === mainAt) {
      if (d.bridge) result.push(cx.set("bridge", d.bridge, netif));
      if (d.mac) result.push(cx.set("mac", d.mac, netif));
      if (d.ifname && d.ifname !== "eth0") lost.push(`the guest name ${d.ifname} (the first interface is always eth0)`);
      if (d.host_mac) result.push(cx.set("hostMac", d.host_mac, netif));
      how = `eth0, ${d.bridge ? `bridged veth on ${d.bridge}` : "a veth with no bridge in OpenVZ: routed here"}`;
    } else if (extra === MAX_EXTRA_INTERFACES) {
      notes.push(`device ${i + 1} (${d.ifname ?? "no ifname"}): dropped: a spec has at most ${MAX_EXTRA_INTERFACES + 1} interfaces (set it up by hand)`);
      approximated = true;
      return;
    } else {
      extra++;
      let name = d.ifname;
      if (name === undefined || names.has(name)) {
        const taken = name;
        name = `eth${extra}`;
        for (let n = extra; names.has(name); n++) name = `eth${n}`;
        lost.push(taken === undefined ? `no ifname in OpenVZ: named ${name}` : `the guest name ${taken} is taken: named ${name}`);
      }
      names.add(name);
      const words = [name, d.bridge ? `bridge=${d.bridge}` : "routed"];
      if (d.mac) words.push(`mac=${d.mac}`);
      if (d.host_mac) words.push(`host-mac=${d.host_mac}`);
      result.push(cx.set("extraInterfaces", words.join(" "), netif));
      how = `${name}, ${d.bridge ? `bridged veth on ${d.bridge}` : "a veth with no bridge in OpenVZ: routed here"}`;
    }
    if (d.mac) how += d.host_mac ? " with the same MACs" : " with the same MAC";
    if (d.host_ifname) lost.push(`host_ifname ${d.host_ifname} (host sides are named after the container)`);
    for (const k of Object.keys(d)) if (!NETIF_FIELDS.includes(k)) lost.push(`${k}=${d[k]}`);
    const ok = d.bridge !== undefined && lost.length === 0;
    if (!ok) approximated = true;
    notes.push(`device ${i + 1}: ${ok ? "mapped" : "approximated"}: ${how}${lost.length ? `; not kept: ${lost.join("; ")}` : ""}`);
  });
  cx.report("NETIF", approximated ? "approximated" : "mapped", result, notes.join(". "));
}

const network: Rule = {
  params: ["IP_ADDRESS", "NETIF"],
  keys: ["netType", "addresses", "bridge", "mac", "hostMac", "extraInterfaces"],
  map(cx) {
    const ip = cx.get("IP_ADDRESS");
    const netif = cx.get("NETIF");
    const devs = netif ? parseNetif(netif.value) : [];
    const addrs = ip ? ip.value.split(/\s+/).filter(Boolean) : [];
    if (devs.length === 0 && addrs.length === 0) {
      if (ip) cx.report("IP_ADDRESS", "mapped", [], "empty: no venet addresses");
      if (netif) cx.report("NETIF", "mapped", [], "empty: no veth devices");
      return;
    }
    const typeLine = cx.set("netType", "veth");
    if (devs.length > 0) mapNetif(cx, devs, typeLine);
    if (addrs.length > 0) {
      const result = devs.length === 0 ? [typeLine] : [];
      for (const a of addrs) {
        const [addr, mask, extra] = a.split("/");
        let text = a;
        if (mask !== undefined && extra === undefined && mask.includes(".")) {
          const len = maskToPrefix(mask);
          if (len === null) throw new MapValueError(`'${a}': '${mask}' is not a netmask`, "IP_ADDRESS");
          text = `${addr}/${len}`;
        }
        result.push(cx.set("addresses", text, ip));
      }
      const note = devs.length === 0
        ? "venet0 does not exist here: a routed veth (eth0) carries the same addresses, set up with a default route before the guest's init runs; the guest's own venet0 config names a missing device and is not rewritten (the importer applies no guest fixes)"
        : "OpenVZ routed these over venet0 beside the veth; here they are added to the bridged eth0, which only works if the bridge's network routes them";
      cx.report("IP_ADDRESS", "approximated", result, note);
    }
  },
};

/** nameserver/search lines of a resolv.conf. */
export function readResolvConf(text: string): { servers: string[]; search: string[] } {
  const servers: string[] = [];
  let search: string[] = [];
  for (const line of text.split("\n")) {
    const w = line.trim().split(/\s+/);
    if (w[0] === "nameserver" && w[1]) servers.push(w[1]);
    if ((w[0] === "search" || w[0] === "domain") && w.length > 1) search = w.slice(1); // the last one wins, as in resolv.conf(5)
  }
  return { servers, search };
}

function inherited(cx: RuleContext, param: string, pick: (r: { servers: string[]; search: string[] }) => string[]): { values: string[]; note: string } | null {
  const hr = cx.ctx.hostResolv;
  if ("error" in hr) {
    cx.report(param, "dropped", [], `inherit: the host's ${hr.file} cannot be read (${hr.error})`);
    return null;
  }
  return { values: pick(readResolvConf(hr.text)), note: `inherit: copied from the host's ${hr.file} now; OpenVZ copied it at every start` };
}

const dns: Rule = {
  params: ["NAMESERVER", "SEARCHDOMAIN"],
  keys: ["dns", "domains"],
  map(cx) {
    const ns = cx.get("NAMESERVER");
    if (ns) {
      let values = ns.value.split(/\s+/).filter(Boolean);
      let note = "";
      const inherit = values.length === 1 && values[0] === "inherit";
      if (inherit) {
        const got = inherited(cx, "NAMESERVER", (r) => r.servers);
        if (got) ({ values, note } = got);
      }
      if (!inherit || note) {
        const result: string[] = [];
        const skipped: string[] = [];
        for (const v of values) {
          // A host resolver on loopback (systemd-resolved's 127.0.0.53) is not
          // reachable from the container's own network namespace.
          if (inherit && (/^127\./.test(v) || v === "::1" || v.includes("%"))) skipped.push(v);
          else result.push(cx.set("dns", v, ns));
        }
        if (skipped.length) cx.report("NAMESERVER", "approximated", result, `${note}; left out ${skipped.join(" ")}: a loopback or link-scoped address of the host is not reachable from the container`);
        else cx.report("NAMESERVER", inherit ? "approximated" : "mapped", result, note);
      }
    }
    const sd = cx.get("SEARCHDOMAIN");
    if (sd) {
      let values = sd.value.split(/\s+/).filter(Boolean);
      let note = "";
      const inherit = values.length === 1 && values[0] === "inherit";
      if (inherit) {
        const got = inherited(cx, "SEARCHDOMAIN", (r) => r.search);
        if (got) ({ values, note } = got);
      }
      if (!inherit || note) {
        const result = values.map((v) => cx.set("domains", v, sd));
        cx.report("SEARCHDOMAIN", inherit ? "approximated" : "mapped", result, note);
      }
    }
  },
};

const rate: Rule = {
  params: ["RATE"],
  keys: ["networkRateOut"],
  map(cx) {
    const p = cx.get("RATE");
    if (!p) return;
    const shaping = cx.ctx.hostParams.get("TRAFFIC_SHAPING")?.value === "yes";
    const entries = p.value.split(/\s+/).filter(Boolean);
    if (!shaping) return cx.report("RATE", "dropped", [], "TRAFFIC_SHAPING is not yes in vz.conf: OpenVZ did not apply it", false);
    if (entries.length !== 1) return cx.report("RATE", "dropped", [], "several shaping classes; NetworkRateOut= is one rate (set it by hand)");
    const m = /^([A-Za-z0-9_.-]+):([0-9]+):([0-9]+)$/.exec(entries[0]);
    if (!m) throw new MapValueError(`'${entries[0]}' is not device:class:kbit`, "RATE");
    // OpenVZ shaped only what left the container (through the host's device); so does NetworkRateOut=.
    const r = cx.set("networkRateOut", `${m[3]}kbit`, p);
    cx.report("RATE", "approximated", [r], `OpenVZ shaped class ${m[2]} leaving through the host's ${m[1]}; NetworkRateOut= shapes what leaves the container, on its own interface`);
  },
};

export const networkRules: readonly Rule[] = [network, dns, rate];
