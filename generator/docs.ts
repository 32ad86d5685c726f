// The spec reference, generated from the key table: docs/spec.md and the man
// page containerctl.container(5). test/generator/docs.test.ts fails when the
// committed files differ from what this renders. Not on the boot path, so
// Handlebars is fine here (compiled with noEscape + strict, DESIGN.md §4).

import Handlebars from "handlebars";
import { KEYS, KEY_IDS, SECTIONS, type KeyDef } from "./spec/keys";

interface Row {
  name: string;
  syntax: string;
  default: string;
  doc: string;
  list: boolean;
  systemd: string;
  upstart: string;
  openvz: string;
  lxc: string;
}

function rows(section: string): Row[] {
  return KEY_IDS.filter((id) => KEYS[id].section === section).map((id) => {
    const d = KEYS[id] as KeyDef<any>;
    const def = d.default === null ? "unset" : typeof d.default === "function" ? d.default("NAME") : d.default;
    const systemd = d.systemd === "plan" ? "runtime plan" : d.systemd === "links" ? "generator links" : `${d.systemd.directive}=`;
    return {
      name: d.name, syntax: d.type.syntax, default: def, doc: d.doc, list: d.list, systemd,
      upstart: d.upstart, openvz: d.openvz.join(", ") || "-", lxc: d.lxc.join(", ") || "-",
    };
  });
}

const MD = Handlebars.compile(
  `# containerctl.container(5): the container spec

<!-- Generated from generator/spec/keys.ts by \`containerctl docs\`; do not edit. -->

A container is described by \`/etc/containerctl/NAME.container\`, merged with
\`/etc/containerctl/defaults.conf\` (read first) and \`NAME.container.d/*.conf\` (read last,
in lexical order). The file name is the container's name: letters, digits, \`_\`, \`.\`
and \`-\`, starting with a letter or digit, at most 64 characters.

The syntax is systemd's (systemd.syntax(7)): \`[Section]\` headers, \`Key=Value\` lines,
\`#\` and \`;\` comments at the start of a line, a trailing backslash continues a line.
Keys marked *repeatable* add one value per line; an empty assignment (\`Key=\`) clears
the list gathered so far, so a drop-in can replace a list. For any other key an empty
assignment restores its default, so a drop-in can undo a value of defaults.conf. Sizes take K, M, G, T
(base 1024); time spans take systemd's syntax (\`90\`, \`5s\`, \`1min 30s\`); booleans take
yes/no, true/false, on/off, 1/0.

Problems are reported as \`file:line: [Section] Key: message\` by \`containerctl check\`;
the generator skips a container whose spec has errors and generates all others.

In the tables, *systemd* says how a key reaches the container under systemd (unit
directives in the generated drop-in, the runtime plan that \`runtime/start\` applies, or
the generator's autostart links); *upstart* says how an upstart host honours it.
{{#each sections}}

## [{{name}}]
{{#each rows}}

### {{name}}={{#if list}} (repeatable){{/if}}

{{doc}}

| syntax | default | systemd | upstart | OpenVZ | LXC |
| --- | --- | --- | --- | --- | --- |
| {{syntax}} | {{default}} | {{systemd}} | {{upstart}} | {{openvz}} | {{lxc}} |
{{/each}}
{{/each}}
`,
  { noEscape: true, strict: true },
);

// A `|` inside a table cell (enum syntax, `yes|no`) would end the cell.
const mdCell = (s: string): string => s.replace(/\|/g, "\\|");

export function renderSpecReference(): string {
  const esc = (r: Row): Row => ({ ...r, syntax: mdCell(r.syntax), default: mdCell(r.default), systemd: mdCell(r.systemd), upstart: mdCell(r.upstart), openvz: mdCell(r.openvz), lxc: mdCell(r.lxc) });
  return MD({ sections: SECTIONS.map((name) => ({ name, rows: rows(name).map(esc) })) });
}

const roff = (s: string): string => s.replace(/\\/g, "\\e").replace(/^([.'])/gm, "\\&$1").replace(/-/g, "\\-");

const MAN = Handlebars.compile(
  `.\\" Generated from generator/spec/keys.ts by containerctl docs --man; do not edit.
.TH CONTAINERCTL.CONTAINER 5 "" containerctl "File formats"
.SH NAME
containerctl.container \\- container spec for containerctl
.SH SYNOPSIS
/etc/containerctl/NAME.container, /etc/containerctl/NAME.container.d/*.conf, /etc/containerctl/defaults.conf
.SH DESCRIPTION
One file per container, in systemd's INI syntax. defaults.conf is read first, then the spec,
then its drop\\-ins in lexical order. Repeatable keys add a value per line; an empty assignment
clears the list; for other keys it restores the default. Errors are reported as file:line: [Section] Key: message.
{{#each sections}}
.SH [{{name}}]
{{#each rows}}
.TP
.B {{name}}={{#if list}} (repeatable){{/if}}
{{doc}} Syntax: {{syntax}}. Default: {{default}}. Under systemd: {{systemd}}. On upstart hosts: {{upstart}}. OpenVZ: {{openvz}}. LXC: {{lxc}}.
{{/each}}
{{/each}}
.SH SEE ALSO
.BR containerctl (8),
.BR systemd.unit (5),
.BR systemd.resource-control (5)
`,
  { noEscape: true, strict: true },
);

export function renderSpecManPage(): string {
  const esc = (r: Row): Row => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "string" ? roff(v) : v])) as unknown as Row;
  return MAN({ sections: SECTIONS.map((name) => ({ name, rows: rows(name).map(esc) })) });
}
