// A small reader for what the generator writes, independent of the generator's
// own code, so tests can parse every output back:
//  - unit files and drop-ins the way systemd's config parser reads them
//    (systemd.syntax(7)): \n, \r and NUL all end a line; a trailing backslash
//    continues the line (comment lines inside a continuation are skipped);
//    `[Section]`, `Key=Value`, `#`/`;` comments;
//  - runtime plans (generator/render/plan.ts): KEY<TAB>FIELD..., one a line.

export interface UnitEntry { section: string; key: string; value: string; line: number }
export interface ParsedUnit { entries: UnitEntry[]; problems: string[] }

export function parseUnit(text: string): ParsedUnit {
  const entries: UnitEntry[] = [];
  const problems: string[] = [];
  // systemd's read_line() treats \r and \0 as line ends too: a value that
  // smuggles one in would start a new directive there.
  const lines = text.split(/\r\n|[\n\r\0]/);
  if (lines.at(-1) === "") lines.pop();
  let section: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let l = lines[i];
    let cont = l.replace(/\s+$/, "").endsWith("\\") && !/^\s*[#;]/.test(l);
    while (cont && i + 1 < lines.length) {
      const next = lines[++i];
      if (/^\s*[#;]/.test(next)) continue;
      l = l.replace(/\s+$/, "").slice(0, -1) + " " + next;
      cont = next.replace(/\s+$/, "").endsWith("\\");
    }
    if (cont) problems.push(`line ${lineNo}: continuation at the end of the file`);
    const t = l.trim();
    if (t === "" || t.startsWith("#") || t.startsWith(";")) continue;
    if (t.startsWith("[")) {
      const m = /^\[([^\]]+)\]$/.exec(t);
      if (!m) problems.push(`line ${lineNo}: bad section header ${JSON.stringify(t).slice(0, 80)}`);
      section = m ? m[1] : null;
      continue;
    }
    const eq = t.indexOf("=");
    if (eq < 0) {
      problems.push(`line ${lineNo}: no '=' in ${JSON.stringify(t).slice(0, 80)}`);
      continue;
    }
    if (section === null) {
      problems.push(`line ${lineNo}: assignment outside a section`);
      continue;
    }
    entries.push({ section, key: t.slice(0, eq).trim(), value: t.slice(eq + 1).trim(), line: lineNo });
  }
  return { entries, problems };
}

/** "Section.Key" of every entry, sorted, repeats kept: the directive multiset. */
export function directiveKeys(u: ParsedUnit): string[] {
  return u.entries.map((e) => `${e.section}.${e.key}`).sort();
}

/** Undo specifier escaping of a plain value (systemd.unit(5) SPECIFIERS): only %% is allowed. */
export function unescapeSpecifiers(v: string): string | null {
  if (/%[^%]/.test(v.replace(/%%/g, ""))) return null;
  return v.replace(/%%/g, "%");
}

/**
 * Split a value the way extract_first_word(EXTRACT_UNQUOTE) does (used by
 * RequiresMountsFor=, DeviceAllow=, IO*BandwidthMax=): words separated by
 * white space, "double" and 'single' quotes group, backslash escapes the
 * next character. Then specifiers: %% → %. Returns null when the syntax is bad.
 */
export function splitWords(v: string): string[] | null {
  const out: string[] = [];
  let cur: string | null = null;
  let quote: string | null = null;
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (c === "\\") {
      if (i + 1 >= v.length) return null;
      cur = (cur ?? "") + v[++i];
    } else if (quote) {
      if (c === quote) quote = null;
      else cur = (cur ?? "") + c;
    } else if (c === '"' || c === "'") {
      quote = c;
      cur ??= "";
    } else if (/\s/.test(c)) {
      if (cur !== null) out.push(cur);
      cur = null;
    } else cur = (cur ?? "") + c;
  }
  if (quote) return null;
  if (cur !== null) out.push(cur);
  const unesc = out.map(unescapeSpecifiers);
  return unesc.some((w) => w === null) ? null : (unesc as string[]);
}

export interface PlanLine { key: string; fields: string[] }

/** Parse a runtime plan strictly; every violation of its format is a problem. */
export function parsePlan(text: string): { lines: PlanLine[]; problems: string[] } {
  const problems: string[] = [];
  const lines: PlanLine[] = [];
  if (!text.endsWith("\n")) problems.push("does not end with a newline");
  const raw = text.split("\n");
  raw.pop();
  raw.forEach((l, i) => {
    const parts = l.split("\t");
    if (!/^[a-z][a-z0-9_]*$/.test(parts[0])) problems.push(`line ${i + 1}: bad key ${JSON.stringify(parts[0]).slice(0, 60)}`);
    parts.slice(1).forEach((f, j) => {
      if (f === "") problems.push(`line ${i + 1}: field ${j + 1} is empty`);
      // eslint-disable-next-line no-control-regex
      if (/[\u0000-\u001f\u007f-\u009f]/.test(f)) problems.push(`line ${i + 1}: field ${j + 1} has a control character`);
    });
    lines.push({ key: parts[0], fields: parts.slice(1) });
  });
  return { lines, problems };
}
