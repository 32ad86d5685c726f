// SpecError: every problem with a spec, located. Printed as
//   web.container:12: [Resources] Memroy: unknown key (did you mean 'Memory'?)
// Library code returns these; only entry points print them.

export interface SpecError {
  file: string;
  line: number; // 1-based; 0 when the problem is the file as a whole
  section?: string;
  key?: string;
  message: string;
}

export function formatSpecError(e: SpecError): string {
  const where = e.line > 0 ? `${e.file}:${e.line}` : e.file;
  const sect = e.section !== undefined ? ` [${e.section}]` : "";
  const key = e.key !== undefined ? ` ${e.key}:` : sect ? ":" : "";
  return `${where}:${sect}${key} ${e.message}`;
}

export function quoteValue(v: string): string {
  // Shown in single quotes (systemd's habit); control characters made visible.
  const shown = v.length > 80 ? `${v.slice(0, 77)}...` : v;
  return `'${shown.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)}'`;
}
