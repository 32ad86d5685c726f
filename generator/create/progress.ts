// Progress of long steps (a create's debootstrap, an import's --copy): events
// in phases with a count, shown as a bar on a terminal and as plain lines
// otherwise (one per phase and per quarter of it, for logs and CI). For a
// create, debootstrap's "I:" lines become phases download, unpack, configure.

export type Phase = "download" | "unpack" | "configure";

export interface ProgressEvent<P extends string = string> { phase: P; item: string }

/** One debootstrap output line → the package event it reports, or null. */
export function debootstrapEvent(line: string): ProgressEvent<Phase> | null {
  let m = /^I: Retrieving (\S+) (\S+)$/.exec(line); // "I: Retrieving Release" has no version: not a package
  if (m) return { phase: "download", item: m[1] };
  m = /^I: (Extracting|Unpacking) ([^ .][^ ]*?)(:[a-z0-9]+)?\.\.\.$/.exec(line);
  if (m) return { phase: "unpack", item: m[2] };
  m = /^I: Configuring ([^ .][^ ]*?)(:[a-z0-9]+)?\.\.\.$/.exec(line);
  if (m) return { phase: "configure", item: m[1] };
  return null;
}

export interface Reporter {
  /** A step with no count ("claiming web", "writing the spec"). */
  step(message: string): void;
  /** A package event; total is the expected number of events in that phase, when known. */
  event(e: ProgressEvent, done: number, total: number | null): void;
  /** Ends a bar line, if one is drawn. */
  end(): void;
}

const BAR_WIDTH = 30;

/** The terminal line for an event: phase, bar (when the total is known), count and item, cut to fit. */
export function renderBar(e: ProgressEvent, done: number, total: number | null, columns = 80): string {
  const frac = total ? Math.min(1, done / total) : 0;
  const bar = total ? "#".repeat(Math.round(frac * BAR_WIDTH)).padEnd(BAR_WIDTH, ".") : "";
  const count = total ? `${done}/${total}` : `${done}`;
  const text = `${e.phase.padEnd(9)} ${bar ? `[${bar}] ` : ""}${count} ${e.item}`;
  return text.slice(0, columns - 1);
}

export function makeReporter(name: string, out: NodeJS.WriteStream = process.stderr, tty = !!out.isTTY): Reporter {
  let drawn = false;
  let lastPhase: string | null = null;
  let lastQuarter = -1;
  const clear = (): void => {
    if (drawn) out.write("\r\x1b[K");
    drawn = false;
  };
  return {
    step(message) {
      clear();
      out.write(`containerctl: ${name}: ${message}\n`);
    },
    event(e, done, total) {
      if (tty) {
        out.write(`\r\x1b[K${renderBar(e, done, total, out.columns || 80)}`);
        drawn = true;
        return;
      }
      const quarter = total ? Math.floor((4 * done) / total) : 0;
      if (e.phase !== lastPhase || (total && quarter !== lastQuarter && quarter > 0)) {
        out.write(`containerctl: ${name}: ${e.phase} ${total ? `${done}/${total}` : `${done}`} (${e.item})\n`);
      }
      lastPhase = e.phase;
      lastQuarter = quarter;
    },
    end: clear,
  };
}

/** Counts events per phase for a reporter; totals come from the package count when known. */
export function tracker(r: Reporter, packages: number | null): (line: string) => void {
  const counts: Record<Phase, number> = { download: 0, unpack: 0, configure: 0 };
  return (line) => {
    const e = debootstrapEvent(line);
    if (!e) return;
    counts[e.phase]++;
    // Unpack sees each package twice (extract, then dpkg --unpack).
    const total = packages === null ? null : e.phase === "unpack" ? 2 * packages : packages;
    r.event(e, counts[e.phase], total === null ? null : Math.max(total, counts[e.phase]));
  };
}
