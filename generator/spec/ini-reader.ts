// A reader for systemd-style INI (systemd.syntax(7)) that keeps what the `ini`
// package drops: repeated keys, their order, and the file:line of each value.
//   - `[Section]` headers; `Key=Value` with whitespace around both trimmed
//   - `#` and `;` start a comment only at the beginning of a line
//   - a trailing backslash joins the next line (replaced by a space); comment
//     lines inside a continuation are skipped, as systemd does
// Quoting is not interpreted here: it belongs to each value type.

import { quoteValue, type SpecError } from "./errors";

export interface Assignment {
  file: string;
  line: number;
  section: string; // "" before any header
  key: string;
  value: string;
}

export const MAX_LINE = 65536;

export function readIni(file: string, text: string): { assignments: Assignment[]; errors: SpecError[] } {
  const assignments: Assignment[] = [];
  const errors: SpecError[] = [];
  const lines = text.split("\n");
  let section = "";
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let raw = stripCR(lines[i]);
    // Continuations: gather the logical line first.
    // Parts are collected in an array: joining string by string is quadratic
    // for a hostile file of many continued lines.
    if (raw.endsWith("\\")) {
      const parts = [raw.slice(0, -1)];
      let length = raw.length - 1;
      let more = true;
      while (more && i + 1 < lines.length) {
        let next = stripCR(lines[++i]);
        while (/^\s*[#;]/.test(next) && i + 1 < lines.length) next = stripCR(lines[++i]);
        more = next.endsWith("\\");
        const piece = more ? next.slice(0, -1) : next;
        length += 1 + piece.length;
        if (length <= MAX_LINE) parts.push(piece);
      }
      raw = length > MAX_LINE ? "" : parts.join(" ") + (more ? "\\" : "");
      if (length > MAX_LINE) {
        errors.push({ file, line: lineNo, message: `line longer than ${MAX_LINE} characters` });
        continue;
      }
    }
    if (raw.length > MAX_LINE) {
      errors.push({ file, line: lineNo, message: `line longer than ${MAX_LINE} characters` });
      continue;
    }
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    if (line.startsWith("[")) {
      // Names are bounded so an error line that repeats one stays readable.
      const m = /^\[([A-Za-z][A-Za-z0-9-]{0,63})\]$/.exec(line);
      if (!m) {
        errors.push({ file, line: lineNo, message: `bad section header ${quoteValue(line)}` });
        section = "\u0000invalid";
        continue;
      }
      section = m[1];
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) {
      errors.push({ file, line: lineNo, message: `missing '=' in ${quoteValue(line)}` });
      continue;
    }
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (!/^[A-Za-z][A-Za-z0-9]{0,63}$/.test(key)) {
      errors.push({ file, line: lineNo, message: `bad key name ${quoteValue(key)}` });
      continue;
    }
    if (section === "") {
      errors.push({ file, line: lineNo, message: `'${key}=' is outside of any section` });
      continue;
    }
    if (section === "\u0000invalid") continue; // already reported at the header
    assignments.push({ file, line: lineNo, section, key, value });
  }
  return { assignments, errors };
}

function stripCR(s: string): string {
  return s.endsWith("\r") ? s.slice(0, -1) : s;
}
