// A checker for upstart job files against upstart 0.6.5's job grammar (the
// one Ubuntu 10.04 "Lucid" boots with): init/parse_job.c's stanza table and
// libnih 1.0's nih/config.c tokeniser, re-implemented as data. Jobs that pass
// load on 0.6.5 and on every later upstart (later versions only add stanzas).
//
// Problems are returned as { line, message } and printed by the CLI as
// `file:line: message`. Upstart itself rejects a whole file at its first
// error; the checker goes on after an error at the next line, so one run
// shows every problem. The parser is exported too: the tests read generated
// jobs back with it to prove no spec value adds a stanza or ends a script.

/** Where upstart reads its job files (init(5)). */
export const UPSTART_JOB_DIR = "/etc/init";

export interface JobProblem {
  line: number;
  message: string;
}

export interface ScriptBlock {
  /** Line of the first line inside the block, and of its `end script`. */
  firstLine: number;
  endLine: number;
  /** The block's text, without the `end script` line. */
  text: string;
}

export interface Stanza {
  line: number;
  /** `pre-start script` → name "pre-start", args ["script"]. */
  name: string;
  args: string[];
  block?: ScriptBlock;
}

export interface ParsedJob {
  stanzas: Stanza[];
  problems: JobProblem[];
}

/** Stanzas that later upstart versions added and 0.6.5 refuses ("Unknown stanza"). */
const LATER_STANZAS: ReadonlySet<string> = new Set(["manual", "usage", "setuid", "setgid", "apparmor", "cgroup", "reload"]);

/** Forms of 0.6.5's own stanzas that only later versions accept. */
const LATER_FORMS: Readonly<Record<string, ReadonlySet<string>>> = {
  kill: new Set(["signal"]),
  console: new Set(["log"]),
  oom: new Set(["score"]),
};

const later = (what: string): string => `'${what}' is a later upstart's stanza: upstart 0.6.5 rejects it`;

const RLIMITS = new Set([
  "as", "core", "cpu", "data", "fsize", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "sigpending", "stack",
]);

// libnih's signal names (nih_signal_from_name), accepted by `normal exit`.
const SIGNALS = new Set([
  "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "IOT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM",
  "STKFLT", "CHLD", "CLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO",
  "POLL", "PWR", "SYS",
]);

class Problem extends Error {
  constructor(readonly line: number, message: string) {
    super(message);
  }
}

/** A cursor over the file with libnih's notion of whitespace, comments and tokens. */
class Cursor {
  pos = 0;
  line = 1;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  /** Blanks within a line; a backslash-newline continues the line. */
  skipBlanks(): void {
    const t = this.text;
    for (;;) {
      const c = t[this.pos];
      if (c === " " || c === "\t" || c === "\r") this.pos++;
      else if (c === "\\" && t[this.pos + 1] === "\n") {
        this.pos += 2;
        this.line++;
      } else return;
    }
  }

  /** Blank lines and comment lines between stanzas. */
  skipToStanza(): void {
    for (;;) {
      this.skipBlanks();
      const c = this.text[this.pos];
      if (c === "\n") {
        this.pos++;
        this.line++;
      } else if (c === "#") this.skipLine();
      else return;
    }
  }

  /** To just after the end of the current line. */
  skipLine(): void {
    while (!this.done && this.text[this.pos] !== "\n") this.pos++;
    if (!this.done) {
      this.pos++;
      this.line++;
    }
  }

  /** Is there a token before the end of the line (or a comment)? */
  hasToken(): boolean {
    this.skipBlanks();
    const c = this.text[this.pos];
    return c !== undefined && c !== "\n" && c !== "#";
  }

  /**
   * One token, as nih_config_token: delimited by blanks, newline and `#`
   * (and `(`/`)` in event expressions); quotes group, a backslash escapes the
   * next character. `dequote` removes quotes and escaping backslashes.
   */
  token(dequote: boolean, parens = false): string {
    this.skipBlanks();
    const t = this.text;
    const startLine = this.line;
    let out = "";
    let quote: string | null = null;
    while (this.pos < t.length) {
      const c = t[this.pos];
      if (quote === null && (c === " " || c === "\t" || c === "\r" || c === "\n" || c === "#")) break;
      if (quote === null && parens && (c === "(" || c === ")")) break;
      if (c === "\\") {
        const n = t[this.pos + 1];
        if (n === undefined) throw new Problem(this.line, "trailing backslash at the end of the file");
        this.pos += 2;
        if (n === "\n") {
          // An escaped newline does not end the token: it reads as one space.
          this.line++;
          out += " ";
          continue;
        }
        out += dequote ? n : c + n;
        continue;
      }
      if (c === '"' || c === "'") {
        this.pos++;
        if (quote !== null && quote !== c) {
          out += c; // the other quote character is literal inside quotes
          continue;
        }
        quote = quote === null ? c : null;
        if (!dequote) out += c;
        continue;
      }
      if (c === "\n") this.line++;
      out += c;
      this.pos++;
    }
    if (quote !== null) throw new Problem(startLine, "unterminated quoted string");
    this.skipBlanks();
    return out;
  }

  /** The rest of the line must be blank or a comment (nih_config_skip_comment). */
  endOfLine(stanza: string): void {
    this.skipBlanks();
    const c = this.text[this.pos];
    if (c === undefined) return;
    if (c === "#" || c === "\n") {
      this.skipLine();
      return;
    }
    const line = this.line;
    const extra = this.token(false);
    throw new Problem(line, `'${stanza}': unexpected argument '${extra}'`);
  }

  /** Exactly one more argument on this line (nih_config_next_arg: dequoted, never empty). */
  arg(stanza: string, what: string): string {
    const line = this.line;
    if (!this.hasToken()) throw new Problem(line, `'${stanza}': expected ${what}`);
    const v = this.token(true);
    if (v === "") throw new Problem(line, `'${stanza}': expected ${what}, got an empty string`);
    return v;
  }

  /** A keyword argument, matched as written (nih_config_next_token without dequoting). */
  keyword(stanza: string, what: string): string {
    if (!this.hasToken()) throw new Problem(this.line, `'${stanza}': expected ${what}`);
    return this.token(false);
  }

  /** All remaining arguments on this line (at least one). */
  args(stanza: string, what: string): string[] {
    const out = [this.arg(stanza, what)];
    while (this.hasToken()) out.push(this.token(true));
    this.endOfLine(stanza);
    return out;
  }
}

const isInt = (s: string): boolean => /^[+-]?[0-9]+$/.test(s);

/** A script block: lines up to one that is `end script` (nih_config_block_end). */
function block(cur: Cursor, stanza: string, opened: number): ScriptBlock {
  cur.endOfLine(stanza);
  const firstLine = cur.line;
  const start = cur.pos;
  const t = cur.text;
  while (!cur.done) {
    const eol = t.indexOf("\n", cur.pos);
    const lineEnd = eol < 0 ? t.length : eol;
    const lineText = t.slice(cur.pos, lineEnd);
    if (/^[ \t\r]*end[ \t\r]+script[ \t\r]*(#.*)?$/.test(lineText)) {
      const b = { firstLine, endLine: cur.line, text: t.slice(start, cur.pos) };
      cur.pos = eol < 0 ? t.length : eol + 1;
      if (eol >= 0) cur.line++;
      return b;
    }
    cur.pos = eol < 0 ? t.length : eol + 1;
    if (eol >= 0) cur.line++;
  }
  throw new Problem(opened, `'${stanza}' block is not ended by 'end script'`);
}

/** An event expression of `start on` / `stop on` (parse_on): may span lines inside parentheses. */
function eventExpression(cur: Cursor, stanza: string): string[] {
  const words: string[] = [];
  let depth = 0;
  let expectOperand = true; // an event name or "(" comes next
  let inEvent = false; // after an event name: its arguments, an operator or ")"
  let named = false; // an argument NAME=value seen for the current event
  const line0 = cur.line;
  for (;;) {
    cur.skipBlanks();
    const c = cur.text[cur.pos];
    if (c === undefined || c === "\n" || c === "#") {
      if (depth === 0 || c === undefined) break;
      cur.skipLine(); // inside parentheses an expression goes on over lines and comments
      continue;
    }
    if (c === "(") {
      if (!expectOperand) throw new Problem(cur.line, `'${stanza}': expected an operator before '('`);
      depth++;
      cur.pos++;
      words.push("(");
      continue;
    }
    if (c === ")") {
      if (expectOperand) throw new Problem(cur.line, `'${stanza}': expected an event before ')'`);
      if (depth === 0) throw new Problem(cur.line, `'${stanza}': mismatched parentheses`);
      depth--;
      cur.pos++;
      words.push(")");
      inEvent = false;
      continue;
    }
    const at = { pos: cur.pos, line: cur.line };
    let raw = cur.token(false, true);
    const operator = raw === "and" || raw === "or"; // as written: a quoted "and" is an operand
    if (!operator) {
      [cur.pos, cur.line] = [at.pos, at.line];
      raw = cur.token(true, true); // operands are dequoted
    }
    if (operator) {
      if (expectOperand) throw new Problem(cur.line, `'${stanza}': expected an event before '${raw}'`);
      expectOperand = true;
      inEvent = false;
      words.push(raw);
      continue;
    }
    if (expectOperand) {
      expectOperand = false;
      inEvent = true;
      named = false;
    } else if (inEvent) {
      if (raw.includes("=")) named = true;
      else if (named) throw new Problem(cur.line, `'${stanza}': expected NAME=value after a NAME=value argument, got '${raw}'`);
    } else throw new Problem(cur.line, `'${stanza}': expected an operator before '${raw}'`);
    words.push(raw);
  }
  if (depth > 0) throw new Problem(line0, `'${stanza}': mismatched parentheses`);
  if (expectOperand) throw new Problem(cur.line, `'${stanza}': expected an event`);
  if (!cur.done) cur.skipLine();
  return words;
}

type Handler = (cur: Cursor, s: Stanza) => void;

const one = (what: string, check?: (v: string) => string | null): Handler => (cur, s) => {
  const v = cur.arg(s.name, what);
  const bad = check?.(v);
  if (bad) throw new Problem(s.line, `'${s.name}': ${bad}`);
  s.args.push(v);
  cur.endOfLine(s.name);
};
const none: Handler = (cur, s) => cur.endOfLine(s.name);
const many = (what: string): Handler => (cur, s) => {
  s.args.push(...cur.args(s.name, what));
};
const process: Handler = (cur, s) => {
  const kind = cur.keyword(s.name, "'exec' or 'script'");
  s.args.push(kind);
  if (kind === "exec") s.args.push(...cur.args(`${s.name} exec`, "a command"));
  else if (kind === "script") s.block = block(cur, `${s.name} script`, s.line);
  else throw new Problem(s.line, `'${s.name}': expected 'exec' or 'script', got '${kind}'`);
};
/** A keyword argument (kill timeout, respawn limit, ...): later forms get their own message. */
const sub = (forms: Readonly<Record<string, Handler>>): Handler => (cur, s) => {
  const word = cur.keyword(s.name, Object.keys(forms).map((f) => `'${f}'`).join(" or "));
  if (LATER_FORMS[s.name]?.has(word)) throw new Problem(s.line, later(`${s.name} ${word}`));
  const h = forms[word];
  if (!h) throw new Problem(s.line, `'${s.name}': unknown argument '${word}'`);
  s.args.push(word);
  h(cur, { ...s, name: `${s.name} ${word}`, args: s.args });
};
const enumArg = (values: readonly string[]): Handler => (cur, s) => {
  const what = values.map((v) => `'${v}'`).join(", ");
  const v = cur.arg(s.name, `one of ${what}`);
  if (LATER_FORMS[s.name]?.has(v)) throw new Problem(s.line, later(`${s.name} ${v}`));
  if (!values.includes(v)) throw new Problem(s.line, `'${s.name}': unknown argument '${v}', expected one of ${what}`);
  s.args.push(v);
  cur.endOfLine(s.name);
};
const seconds = (v: string): string | null => (/^[0-9]+$/.test(v) ? null : `illegal interval '${v}', expected a number of seconds`);
const limitValue = (v: string): string | null => (v === "unlimited" || /^[0-9]+$/.test(v) ? null : `illegal limit '${v}', expected 'unlimited' or an integer`);

/** The stanza table of upstart 0.6.5 (init/parse_job.c). */
const STANZAS: Readonly<Record<string, Handler>> = {
  instance: one("an instance name"),
  description: one("a description"),
  author: one("an author"),
  version: one("a version"),
  env: one("VAR or VAR=VALUE"),
  export: many("a variable name"),
  start: sub({ on: (cur, s) => void s.args.push(...eventExpression(cur, s.name)) }),
  stop: sub({ on: (cur, s) => void s.args.push(...eventExpression(cur, s.name)) }),
  emits: many("an event name"),
  exec: many("a command"),
  script: (cur, s) => void (s.block = block(cur, "script", s.line)),
  "pre-start": process,
  "post-start": process,
  "pre-stop": process,
  "post-stop": process,
  expect: enumArg(["stop", "daemon", "fork", "none"]),
  task: none,
  kill: sub({ timeout: one("a number of seconds", seconds) }),
  respawn: (cur, s) => {
    if (!cur.hasToken()) return cur.endOfLine(s.name);
    sub({
      limit: (c, st) => {
        const count = c.arg(st.name, "'unlimited' or COUNT INTERVAL");
        st.args.push(count);
        if (count !== "unlimited") {
          if (!/^[0-9]+$/.test(count)) throw new Problem(st.line, `'${st.name}': illegal limit '${count}', expected 'unlimited' or an integer`);
          const interval = c.arg(st.name, "an INTERVAL in seconds after COUNT");
          const bad = seconds(interval);
          if (bad) throw new Problem(st.line, `'${st.name}': ${bad}`);
          st.args.push(interval);
        }
        c.endOfLine(st.name);
      },
    })(cur, s);
  },
  normal: sub({
    exit: (cur, s) => {
      for (const v of cur.args(s.name, "an exit status or signal name")) {
        const sig = v.replace(/^SIG/, "");
        if (!SIGNALS.has(sig) && !(/^[0-9]+$/.test(v) && Number(v) <= 2147483647)) {
          throw new Problem(s.line, `'${s.name}': illegal exit status '${v}', expected an integer or a signal name`);
        }
        s.args.push(v);
      }
    },
  }),
  console: enumArg(["none", "output", "owner"]),
  umask: one("an octal mask", (v) => (/^[0-7]+$/.test(v) && parseInt(v, 8) <= 0o777 ? null : `illegal file creation mask '${v}', expected an octal integer`)),
  nice: one("a nice value", (v) => (isInt(v) && Number(v) >= -20 && Number(v) <= 19 ? null : `illegal nice value '${v}', expected -20 to 19`)),
  oom: (cur, s) => {
    const v = cur.arg(s.name, "an adjustment or 'never'");
    if (LATER_FORMS.oom.has(v)) throw new Problem(s.line, later(`oom ${v}`));
    if (v !== "never" && !(isInt(v) && Number(v) >= -17 && Number(v) <= 15)) {
      throw new Problem(s.line, `'oom': illegal oom adjustment '${v}', expected -17 to 15 or 'never'`);
    }
    s.args.push(v);
    cur.endOfLine(s.name);
  },
  limit: (cur, s) => {
    const res = cur.arg(s.name, "a resource name");
    if (!RLIMITS.has(res)) throw new Problem(s.line, `'limit': unknown resource '${res}'`);
    const soft = cur.arg(`limit ${res}`, "a soft and a hard limit");
    const hard = cur.arg(`limit ${res}`, "a hard limit after the soft one");
    for (const v of [soft, hard]) {
      const bad = limitValue(v);
      if (bad) throw new Problem(s.line, `'limit ${res}': ${bad}`);
    }
    s.args.push(res, soft, hard);
    cur.endOfLine(`limit ${res}`);
  },
  chroot: one("a directory"),
  chdir: one("a directory"),
};

export const UPSTART_065_STANZAS: readonly string[] = Object.keys(STANZAS);

/** Parse a job file; never throws for bad content. */
export function parseJob(text: string): ParsedJob {
  const cur = new Cursor(text);
  const stanzas: Stanza[] = [];
  const problems: JobProblem[] = [];
  for (;;) {
    cur.skipToStanza();
    if (cur.done) break;
    const line = cur.line;
    let name: string;
    try {
      name = cur.token(true); // nih_config_parse_stanza reads it with nih_config_next_arg
    } catch (e) {
      if (!(e instanceof Problem)) throw e;
      problems.push({ line: e.line, message: e.message });
      break; // an unterminated quote swallowed the rest of the file
    }
    const s: Stanza = { line, name, args: [] };
    try {
      if (LATER_STANZAS.has(name)) throw new Problem(line, later(name));
      const h = STANZAS[name];
      if (!h) throw new Problem(line, `unknown stanza '${name}'`);
      h(cur, s);
      stanzas.push(s);
    } catch (e) {
      if (!(e instanceof Problem)) throw e;
      problems.push({ line: e.line, message: e.message });
      if (/not ended by 'end script'|unterminated quoted string/.test(e.message)) break;
      // Go on with the next line, unless the error came after its end.
      if (cur.pos > 0 && text[cur.pos - 1] !== "\n") cur.skipLine();
    }
  }
  return { stanzas, problems };
}

/** Problems of one job file, for `containerctl check --upstart`. */
export function checkJob(text: string): JobProblem[] {
  return parseJob(text).problems;
}
