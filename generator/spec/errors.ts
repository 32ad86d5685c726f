// SpecError: every problem with a spec, located. Printed as
//   web.container:12: [Resources] Memroy: unknown key (did you mean 'Memory'?)
// Library code returns these; only entry points print them.

import { visible } from "../escape";

export interface SpecError {
  file: string;
  line: number; // 1-based; 0 when the problem is the file as a whole
  section?: string;
  key?: string;
  message: string;
}

/**
 * One of three shapes, nothing else (test/generator/golden.test.ts checks it):
 *   file:line: [Section] Key: message   a problem with one assignment
 *   file:line: message                  a problem with a line that is no valid assignment
 *   file: message                       a problem with the file or the spec as a whole
 * A section or key without the other is not shown in the prefix; producers put
 * what matters of it into the message.
 */
export function formatSpecError(e: SpecError): string {
  const file = visible(e.file); // a drop-in's name may hold any byte but '/'
  const where = e.line > 0 ? `${file}:${e.line}` : file;
  const what = e.line > 0 && e.section !== undefined && e.key !== undefined ? ` [${e.section}] ${e.key}:` : "";
  return `${where}:${what} ${e.message}`;
}

export function quoteValue(v: string): string {
  // Shown in single quotes (systemd's habit); control characters made visible.
  const shown = v.length > 80 ? `${v.slice(0, 77)}...` : v;
  return `'${shown.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)}'`;
}
