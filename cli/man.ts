// containerctl(8), generated from the commander program itself so the man
// page cannot drift from --help. test/cli/man.test.ts compares docs/containerctl.8.

import type { Command, Option } from "commander";

const roff = (s: string): string => s.replace(/\\/g, "\\e").replace(/-/g, "\\-").replace(/^([.'])/gm, "\\&$1");

/** An option's description with its default, as --help shows it (a described default wins). */
const optionText = (o: Option): string =>
  roff(o.description + (o.defaultValue !== undefined ? ` (default: ${o.defaultValueDescription ?? o.defaultValue})` : ""));

/** Every command with its arguments and options, then its subcommands (`disk create`, …). */
function renderCommands(lines: string[], commands: readonly Command[], prefix: string): void {
  for (const c of commands) {
    const name = prefix ? `${prefix} ${c.name()}` : c.name();
    const args = c.registeredArguments.map((a) => (a.required ? `<${a.name()}${a.variadic ? "..." : ""}>` : `[${a.name()}${a.variadic ? "..." : ""}]`)).join(" ");
    lines.push(".TP", `.B ${roff([name, args].filter(Boolean).join(" "))}`, roff(c.description()));
    for (const o of c.options) lines.push(".RS", ".TP", `.B ${roff(o.flags)}`, optionText(o), ".RE");
    renderCommands(lines, c.commands, name);
  }
}

export function renderCliManPage(program: Command): string {
  const lines = [
    `.\\" Generated from the containerctl command line by containerctl docs --cli-man; do not edit.`,
    `.TH CONTAINERCTL 8 "" containerctl "System administration"`,
    ".SH NAME",
    `containerctl \\- ${roff(program.description())}`,
    ".SH SYNOPSIS",
    ".B containerctl",
    "[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]",
    ".SH GLOBAL OPTIONS",
  ];
  for (const o of program.options) lines.push(".TP", `.B ${roff(o.flags)}`, optionText(o));
  lines.push(".SH COMMANDS");
  renderCommands(lines, program.commands, "");
  lines.push(
    ".SH FILES",
    ".TP", ".B /etc/containerctl/NAME.container", "the spec of container NAME; see", ".BR containerctl.container (5)",
    ".TP", ".B /etc/containerctl/network.conf", "the managed bridge of", ".BR \"containerctl network\"", "(name, address, NAT, DHCP)",
    ".TP", ".B /var/lib/containerctl/NAME", "what create, clone, import \\-\\-copy and disk create make: rootfs, rootfs.img (Disk=), a snapshot's upper and work",
    ".TP", ".B /usr/lib/systemd/system-generators/containerctl-generator", "turns specs into units at boot and at daemon\\-reload",
    ".TP", ".B /usr/lib/systemd/system/container@.service", "the unit template every container runs under",
    ".SH SEE ALSO",
    ".BR containerctl.container (5),",
    ".BR systemctl (1),",
    ".BR systemd.generator (7)",
  );
  return lines.join("\n") + "\n";
}
