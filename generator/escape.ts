// The one escaping module (DESIGN.md principle 4). Every value that reaches a
// unit file, an upstart job, a runtime plan or a shell command passes through
// one of these functions. Values are assumed hostile: anything that cannot be
// represented faithfully is refused with an EscapeError, never silently changed.
//
// Unit-file rules follow systemd.syntax(7), systemd.unit(5) "SPECIFIERS" and
// systemd.service(5) "COMMAND LINES".

export class EscapeError extends Error {}

// C0 controls, DEL and the C1 range: none may reach any output format.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function assertPrintable(value: string, what = "value"): string {
  const m = CONTROL.exec(value);
  if (m) {
    const code = m[0].charCodeAt(0).toString(16).padStart(2, "0");
    throw new EscapeError(`${what} contains control character \\x${code}`);
  }
  return value;
}

/**
 * Text for a comment or a log line, where it is information, not data: each
 * control character is shown as \xNN, so a file name with a newline cannot
 * start a directive of its own (or a fake log line).
 */
export function visible(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** A plain unit setting value (specifiers are expanded there): `%` → `%%`. */
export function unitValue(value: string): string {
  return literalValue(value).replace(/%/g, "%%");
}

/** A value for a setting that does not expand specifiers (e.g. CPUQuota=150%). */
export function literalValue(value: string): string {
  assertPrintable(value);
  // A trailing backslash would continue the line into the next directive.
  if (value.endsWith("\\")) throw new EscapeError("value ends with a backslash");
  return value;
}

/**
 * One word of a setting systemd splits into quoted words (extract_first_word
 * with EXTRACT_UNQUOTE, then specifier expansion): RequiresMountsFor=,
 * DeviceAllow=, IO*BandwidthMax=. Plain when safe, else double-quoted with
 * `\` and `"` backslash-escaped; `%` → `%%` either way. Checked against
 * systemd 252's parser with `systemd-analyze verify` (test/generator/hostile.test.ts).
 */
export function unitWord(word: string): string {
  assertPrintable(word);
  const body = word.replace(/%/g, "%%");
  if (body !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(body)) return body;
  return `"${body.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** One word of an ExecStart= style command line: quoted, `%` → `%%`, `$` → `$$`. */
export function execWord(word: string): string {
  assertPrintable(word);
  const body = word.replace(/%/g, "%%").replace(/\$/g, "$$$$");
  if (word === ";") return "\\;";
  if (body !== "" && /^[A-Za-z0-9_@%+=:,./$-]+$/.test(body)) return body;
  return `"${body.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

export function execLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new EscapeError("empty command line");
  return argv.map(execWord).join(" ");
}

/** An Environment= assignment, always quoted so spaces and quotes survive. */
export function envAssignment(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new EscapeError(`bad environment name '${name}'`);
  assertPrintable(value);
  const body = `${name}=${value}`.replace(/%/g, "%%").replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  return `"${body}"`;
}

/** POSIX sh quoting: one single-quoted word, safe for dash, busybox ash and bash. */
export function shellQuote(value: string): string {
  assertPrintable(value);
  if (value !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** One field of a runtime plan line (tab-separated, read by `read -r` in sh). */
export function planField(value: string): string {
  assertPrintable(value);
  if (value === "") throw new EscapeError("empty plan field");
  return value;
}

/**
 * A value inside an upstart job outside `script` blocks (`env KEY=value`,
 * `description "..."`). Upstart's parser reads double-quoted tokens with
 * backslash escapes; we quote everything and refuse what could end the line.
 */
export function upstartQuoted(value: string): string {
  assertPrintable(value);
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}
