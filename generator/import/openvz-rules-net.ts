// Network rules of the OpenVZ import: venet addresses (IP_ADDRESS), veth
// devices (NETIF), DNS (NAMESERVER, SEARCHDOMAIN, including `inherit`) and
// traffic shaping (RATE). venet0 does not exist on the mainline kernel: its
// addresses move to a routed veth (Type=veth without Bridge=), which keeps the
// guest reachable on the same addresses with the host routing to it, as
// OpenVZ's host did for venet.

import { MapValueError, type Rule, type RuleContext } from "./openvz-map";

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

const network: Rule = {
  params: ["IP_ADDRESS", "NETIF"],
  keys: ["netType", "addresses", "bridge", "mac"],
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
    if (devs.length > 0) {
      const d = devs[0];
      const result = [typeLine];
      const lost: string[] = [];
      if (d.bridge) result.push(cx.set("bridge", d.bridge, netif));
      if (d.mac) result.push(cx.set("mac", d.mac, netif));
      if (d.ifname && d.ifname !== "eth0") lost.push(`the guest name ${d.ifname} (the guest's interface is always eth0)`);
      if (d.host_ifname) lost.push(`host_ifname ${d.host_ifname} (the host side is named after the container; missing key: HostInterface)`);
      if (d.host_mac) lost.push(`host_mac ${d.host_mac} (missing key: HostMACAddress)`);
      for (const k of Object.keys(d)) {
        if (!["ifname", "mac", "host_ifname", "host_mac", "bridge"].includes(k)) lost.push(`${k}=${d[k]}`);
      }
      // One [Network] interface per spec: every further device is named with what it had.
      const extra = devs.slice(1).map((e, i) => {
        const fields = ["ifname", "mac", "bridge", "host_ifname", "host_mac"].filter((k) => e[k]).map((k) => `${k}=${e[k]}`);
        return `device ${i + 2} (${fields.join(", ") || "no fields"})`;
      });
      if (extra.length) lost.push(`further devices, not created as a spec has one network interface (set them up by hand): ${extra.join(", ")}`);
      const how = d.bridge ? `bridged veth on ${d.bridge}${d.mac ? " with the same MAC" : ""}` : "a veth with no bridge in OpenVZ: routed here";
      if (lost.length === 0) cx.report("NETIF", d.bridge ? "mapped" : "approximated", result, how);
      else cx.report("NETIF", "approximated", result, `${how}; not kept: ${lost.join("; ")}`);
    }
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
  keys: ["networkRate"],
  map(cx) {
    const p = cx.get("RATE");
    if (!p) return;
    const shaping = cx.ctx.hostParams.get("TRAFFIC_SHAPING")?.value === "yes";
    const entries = p.value.split(/\s+/).filter(Boolean);
    if (!shaping) return cx.report("RATE", "dropped", [], "TRAFFIC_SHAPING is not yes in vz.conf: OpenVZ did not apply it", false);
    if (entries.length !== 1) return cx.report("RATE", "dropped", [], "several shaping classes; NetworkRate= is one rate (set it by hand)");
    const m = /^([A-Za-z0-9_.-]+):([0-9]+):([0-9]+)$/.exec(entries[0]);
    if (!m) throw new MapValueError(`'${entries[0]}' is not device:class:kbit`, "RATE");
    const r = cx.set("networkRate", `${m[3]}kbit`, p);
    cx.report("RATE", "approximated", [r], `OpenVZ shaped class ${m[2]} leaving through ${m[1]}; NetworkRate= shapes both directions of the container's interface`);
  },
};

export const networkRules: readonly Rule[] = [network, dns, rate];
