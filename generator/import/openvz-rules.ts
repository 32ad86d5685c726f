// The OpenVZ → spec rules, one per concern (ctid.conf(5), vzctl(8); facts in
// ../shared/docs/openvz.md). Each rule reports every parameter it reads that is
// set. Keys are set through RuleContext.set, i.e. through the key table's
// value types. Parameters no rule reads are dropped by `dropUnclaimed` with
// the reason from DROPPED, or as unknown.

import { CAPABILITIES } from "../spec/values";
import { DEFAULT_DROPPED_CAPABILITIES } from "../render/derive";
import { HOST_ONLY, type VzParam } from "./openvz-config";
import { defaultRoot, MapValueError, type Rule, type RuleContext } from "./openvz-map";
import { parseOnOffList, parseUint, parseYesNo } from "./openvz-values";
import { networkRules } from "./openvz-rules-net";
import { cpu, disk, io, memory, tasks } from "./openvz-rules-resources";

const boot: Rule = {
  params: ["ONBOOT", "DISABLED", "BOOTORDER"],
  keys: ["autostart", "order", "disabled"],
  map(cx) {
    const onboot = cx.get("ONBOOT");
    const disabled = cx.get("DISABLED");
    const isDisabled = disabled ? cx.parse(disabled, parseYesNo) : false;
    if (disabled) {
      if (isDisabled) cx.report("DISABLED", "mapped", [cx.set("disabled", "yes")], "not started at boot, and a start by hand is refused, as vzctl did");
      else cx.report("DISABLED", "mapped", [], "no: nothing to carry over");
    }
    if (!onboot) {
      const r = cx.set("autostart", "no");
      cx.report("ONBOOT", "approximated", [r], "unset: OpenVZ started it at boot only if it was running when the host went down; containerctl cannot know that. Set Autostart=yes if it should start at boot");
    } else {
      const yes = cx.parse(onboot, parseYesNo);
      const r = cx.set("autostart", yes && !isDisabled ? "yes" : "no");
      cx.report("ONBOOT", "mapped", [r], yes && isDisabled ? "DISABLED=yes wins: OpenVZ would not start it" : "");
    }
    const bo = cx.get("BOOTORDER");
    if (bo) {
      // OpenVZ starts higher BOOTORDER first and unset last; Order= starts lower
      // first with 0 for unset: negating keeps both orders.
      const n = cx.parse(bo, (v) => parseUint(v));
      const order = Math.min(n, 1000000);
      const r = cx.set("order", String(-order), bo);
      if (n > 1000000) cx.report("BOOTORDER", "approximated", [r], `Order= stops at -1000000; containers with BOOTORDER above 1000000 now tie`);
      else cx.report("BOOTORDER", "mapped", [r], "negated: OpenVZ starts higher BOOTORDER first, containerctl starts lower Order first");
    }
  },
};


const identity: Rule = {
  params: ["NAME", "HOSTNAME", "DESCRIPTION", "OSTEMPLATE", "STOP_TIMEOUT"],
  keys: ["hostname", "description", "guest", "stopTimeout"],
  map(cx) {
    const name = cx.get("NAME");
    if (name) {
      if (name.value === cx.ctx.name) cx.report("NAME", "mapped", [], `the container name: ${cx.ctx.name}.container`);
      else cx.report("NAME", "approximated", [], `not usable as the name here; named '${cx.ctx.name}' instead (see the name line)`);
    }
    const host = cx.get("HOSTNAME");
    if (host) cx.report("HOSTNAME", "mapped", [cx.set("hostname", host.value, host)], "");
    const desc = cx.get("DESCRIPTION");
    if (desc) cx.report("DESCRIPTION", "mapped", [cx.set("description", desc.value.trim(), desc)], "");
    const os = cx.get("OSTEMPLATE");
    if (os) {
      const g = guestOf(os.value);
      const r = cx.set("guest", g.guest);
      cx.report("OSTEMPLATE", g.exact ? "mapped" : "approximated", [r], g.note);
    }
    const st = cx.get("STOP_TIMEOUT");
    const secs = st ? cx.parse(st, (v) => parseUint(v, 86400 * 365)) : 120;
    const r = cx.set("stopTimeout", `${secs}s`, st);
    cx.report("STOP_TIMEOUT", "mapped", [r], st ? "seconds" : "unset: OpenVZ's default of 120 seconds kept", false);
  },
};

/** OSTEMPLATE's distribution and version → the guest's init system. */
export function guestOf(template: string): { guest: string; exact: boolean; note: string } {
  const m = /^([a-z]+)-([0-9]+)(?:\.([0-9]+))?/.exec(template.toLowerCase());
  const auto = (why: string) => ({ guest: "auto", exact: false, note: `${why}; Guest=auto detects the init system at start` });
  if (!m) return auto("no distribution and version in the template name");
  const [, distro, majS, minS] = m;
  const ver = Number(majS) + Number(minS ?? 0) / 100;
  const pick = (guest: string, note = "") => ({ guest, exact: true, note: note || `${distro} ${majS}${minS ? `.${minS}` : ""} boots with ${guest === "lucid" ? "upstart 0.6 (the Lucid shim)" : guest}` });
  switch (distro) {
    case "ubuntu":
      if (ver === 10.04) return pick("lucid");
      if (ver >= 15.04) return pick("systemd");
      if (ver >= 10.1) return pick("upstart");
      return auto("Ubuntu before 10.04 has an upstart older than the supported ones");
    case "debian":
      return ver >= 8 ? pick("systemd") : pick("sysvinit");
    case "centos": case "rhel": case "scientific": case "sl":
      return ver >= 7 ? pick("systemd") : ver >= 6 ? pick("upstart") : pick("sysvinit");
    case "fedora":
      return ver >= 15 ? pick("systemd") : auto("Fedora before 15");
    default:
      return auto(`unknown distribution '${distro}'`);
  }
}

const root: Rule = {
  params: ["VE_PRIVATE", "VE_ROOT", "VE_LAYOUT"],
  keys: ["root"],
  map(cx) {
    const priv = cx.get("VE_PRIVATE");
    const layout = cx.get("VE_LAYOUT");
    if (layout) cx.report("VE_LAYOUT", "mapped", [], layout.value === "ploop" ? "ploop: an image, not a directory" : `${layout.value}: a plain directory`, layout.value === "ploop");
    const vr = cx.get("VE_ROOT");
    if (vr) cx.report("VE_ROOT", "dropped", [], "where OpenVZ mounted VE_PRIVATE while running; containerctl enters RootDirectory itself", false);
    if (!priv) {
      if (cx.ctx.inPlace) throw new MapValueError("VE_PRIVATE is not set: nothing to use in place");
      return;
    }
    // Validated with RootDirectory's own type in every mode: a hostile path is
    // an error even when it is only copied from later.
    const r = cx.set("root", priv.value, priv);
    const copyTo = cx.ctx.copyTo;
    if (copyTo !== undefined) {
      // RootDirectory= is written only where the copy is not the default place.
      cx.values.delete("root");
      const result = copyTo === defaultRoot(cx.ctx.name) ? [] : [cx.set("root", copyTo)];
      cx.report("VE_PRIVATE", "mapped", result,
        `--copy: copied to ${copyTo} (owners, modes, hard links, xattrs, devices, sparse files) and verified before the spec is written`, false);
      return;
    }
    if (!cx.ctx.inPlace) {
      cx.values.delete("root");
      cx.report("VE_PRIVATE", "dropped", [],
        `root filesystem not imported: the spec uses the default RootDirectory=${defaultRoot(cx.ctx.name)}; copy ${priv.value} there preserving owners, modes and device nodes, or re-run with --in-place`);
      return;
    }
    const pa = cx.ctx.privateArea;
    if (pa && !pa.ok) throw new MapValueError(pa.message);
    cx.report("VE_PRIVATE", "mapped", [r], "--in-place: the guest runs from the OpenVZ private area (the importer does not write to it; the running guest does)", true);
  },
};

const capability: Rule = {
  params: ["CAPABILITY"],
  keys: ["keepCapabilities", "dropCapabilities"],
  map(cx) {
    const p = cx.get("CAPABILITY");
    if (!p) return;
    const result: string[] = [];
    const lost: string[] = [];
    for (const { name, on } of cx.parse(p, parseOnOffList)) {
      if (!(CAPABILITIES as readonly string[]).includes(name)) {
        lost.push(`${name} (OpenVZ-only capability)`);
        continue;
      }
      result.push(cx.set(on ? "keepCapabilities" : "dropCapabilities", name));
    }
    const defaults = `the default drop list is ${DEFAULT_DROPPED_CAPABILITIES.join(" ")}`;
    if (lost.length) cx.report("CAPABILITY", "approximated", result, `no equivalent for ${lost.join(", ")}; ${defaults}`);
    else cx.report("CAPABILITY", "mapped", result, `on → KeepCapability, off → DropCapability; ${defaults}`);
  },
};

const devices: Rule = {
  params: ["DEVICES", "DEVNODES", "FEATURES"],
  keys: ["devices"],
  map(cx) {
    const dev = cx.get("DEVICES");
    if (dev) {
      const result: string[] = [];
      const lost: string[] = [];
      for (const w of dev.value.split(/\s+/).filter(Boolean)) {
        // b|c:major:minor|all:r|w|rw|none[q]
        const m = /^([bc]):([0-9]{1,4}):([0-9]{1,7}|all):(r|w|rw|none)(q?)$/.exec(w);
        if (!m) throw new MapValueError(`'${w}' is not b|c:major:minor:access`, "DEVICES");
        const [, kind, major, minor, access, q] = m;
        if (access === "none") continue;
        if (minor === "all") {
          lost.push(`${w} (every minor of major ${major}: name the devices one by one)`);
          continue;
        }
        if (q) lost.push(`the q (quota) flag of ${w}`);
        result.push(cx.set("devices", `/dev/${kind === "c" ? "char" : "block"}/${major}:${minor} ${access}`, dev));
      }
      if (lost.length) cx.report("DEVICES", "approximated", result, `not kept: ${lost.join("; ")}`);
      else cx.report("DEVICES", "mapped", result, "by number, as /dev/char|block/MAJOR:MINOR");
    }
    const nodes = cx.get("DEVNODES");
    if (nodes) {
      const result: string[] = [];
      for (const w of nodes.value.split(/\s+/).filter(Boolean)) {
        const m = /^([A-Za-z0-9_./-]+):(r|w|rw|none)(q?)$/.exec(w);
        if (!m) throw new MapValueError(`'${w}' is not device:access`, "DEVNODES");
        if (m[2] === "none") continue;
        result.push(cx.set("devices", `/dev/${m[1]} ${m[2]}`, nodes));
      }
      cx.report("DEVNODES", "mapped", result, "");
    }
    const feat = cx.get("FEATURES");
    if (feat) mapFeatures(cx, cx.parse(feat, parseOnOffList));
  },
};

function mapFeatures(cx: RuleContext, list: { name: string; on: boolean }[]): void {
  const result: string[] = [];
  const notes: string[] = [];
  let worst: "mapped" | "approximated" | "dropped" = "mapped";
  const lose = (s: string) => { notes.push(s); worst = "dropped"; };
  const approx = (s: string) => { notes.push(s); if (worst === "mapped") worst = "approximated"; };
  for (const { name, on } of list) {
    switch (name) {
      case "sysfs":
        if (on) notes.push("sysfs: always mounted"); else lose("sysfs:off cannot be honoured (always mounted)");
        break;
      case "ppp":
        if (on) { result.push(cx.set("devices", "/dev/ppp rw")); approx("ppp: DeviceAllow=/dev/ppp; load ppp_generic on the host"); }
        else notes.push("ppp:off is the default");
        break;
      case "bridge": case "ipip": case "ipgre": case "sit":
        if (on) approx(`${name}: works in the container's own network namespace once the host has the module loaded`);
        else notes.push(`${name}:off: not enforced (harmless in its own network namespace)`);
        break;
      case "nfs": case "nfsd":
        if (on) lose(`${name}: a container cannot mount/serve NFS without host help (missing key: a mount permission key)`);
        else notes.push(`${name}:off is the default`);
        break;
      default:
        lose(`${name}: unknown feature`);
    }
  }
  cx.report("FEATURES", worst, result, notes.join("; "));
}

export const RULES: readonly Rule[] = [boot, identity, root, cpu, memory, tasks, disk, io, ...networkRules, capability, devices];

// ---- parameters no rule reads ----

const UBC = "pre-VSwap beancounter; the mainline kernel has no per-container equivalent (the memory cgroup accounts it within Memory=)";
const UBC_COUNT = "pre-VSwap beancounter; the mainline kernel has no per-container limit for it";

/** Parameters known to have no place in a spec, with the reason. Attention: whether losing it changes behaviour. */
export const DROPPED: Readonly<Record<string, { why: string; attention: boolean }>> = {
  ...Object.fromEntries(["KMEMSIZE", "LOCKEDPAGES", "SHMPAGES", "OOMGUARPAGES", "TCPSNDBUF", "TCPRCVBUF", "OTHERSOCKBUF", "DGRAMRCVBUF", "DCACHESIZE"]
    .map((k) => [k, { why: UBC, attention: false }])),
  ...Object.fromEntries(["NUMTCPSOCK", "NUMOTHERSOCK", "NUMFILE", "NUMFLOCK", "NUMPTY", "NUMSIGINFO", "NUMIPTENT", "AVNUMPROC"]
    .map((k) => [k, { why: UBC_COUNT, attention: false }])),
  VERSION: { why: "format version of the config file", attention: false },
  ORIGIN_SAMPLE: { why: "which sample vzctl create copied", attention: false },
  CONFIG_CUSTOMIZED: { why: "vzctl bookkeeping", attention: false },
  IPTABLES: { why: "legacy netfilter module list: every network namespace has the full netfilter of the host kernel", attention: false },
  NETFILTER: { why: "netfilter mode: every network namespace has the full netfilter of the host kernel", attention: false },
  MEMINFO: { why: "OpenVZ showed a virtual /proc/meminfo; the guest now sees the host's (no spec key; missing key: a meminfo view)", attention: true },
  UUID: { why: "OpenVZ's identifier of the container", attention: false },
  HA_ENABLE: { why: "OpenVZ high-availability cluster setting", attention: true },
  HA_PRIO: { why: "OpenVZ high-availability cluster setting", attention: false },
  NOATIME: { why: "mount option of the private area; set it where the root filesystem is mounted", attention: true },
};

export function dropUnclaimed(cx: RuleContext, p: VzParam): void {
  const known = DROPPED[p.key];
  if (known) return cx.report(p.key, "dropped", [], known.why, known.attention);
  if (p.key in HOST_ONLY) return cx.report(p.key, "dropped", [], `a host setting (${HOST_ONLY[p.key]}), not a container's`, false);
  const like = [...Object.keys(DROPPED), ...RULES.flatMap((r) => r.params)].find((k) => k.toLowerCase() === p.key.toLowerCase());
  cx.report(p.key, "dropped", [], `unknown parameter; vzctl ignores it too${like ? ` (parameters are case-sensitive: did you mean ${like}?)` : ""}`, true);
}

