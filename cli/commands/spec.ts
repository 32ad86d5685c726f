// containerctl check | generate | docs: the spec side of the CLI.

import * as path from "node:path";
import type { Command } from "commander";
import { generateSystemd, loadAll } from "../../generator/generate";
import { readManagedBridge } from "../../generator/network-conf";
import { formatSpecError, type SpecError } from "../../generator/spec/errors";
import { loadSpec, SPEC_SUFFIX } from "../../generator/spec/load";
import { printTree, writeTree } from "../../generator/tree";
// The upstart side (issue 6); its renderer (Handlebars) is loaded only by generate --upstart.
import { UPSTART_JOB_DIR } from "../../generator/upstart-check";
// upstart (issue 6): --upstart on check and generate.

function report(errors: SpecError[], warnings: SpecError[]): void {
  for (const e of errors) process.stderr.write(`${formatSpecError(e)}\n`);
  for (const w of warnings) process.stderr.write(`${formatSpecError(w)} (warning)\n`);
}

export function register(program: Command): void {
  program
    .command("check")
    .description("validate container specs; print every problem as file:line: [Section] Key: message; for a container NAME also its guest and what the init shim will do")
    .argument("[files...]", "spec files (NAME.container) or container names; default: every spec in the config directory")
    .option("--upstart", "check upstart job files instead, against upstart 0.6.5's job grammar")
    .action(async (files: string[], opts: { upstart?: boolean }) => {
      if (opts.upstart) {
        const fs = await import("node:fs");
        const { checkJob } = await import("../../generator/upstart-check");
        // upstart (issue 6): job files, reported as file:line: message.
        let bad = 0;
        if (files.length === 0) process.stderr.write("check --upstart: name the job files to check\n");
        for (const f of files) {
          let problems;
          try {
            problems = checkJob(fs.readFileSync(f, "utf8"));
          } catch (e) {
            problems = [{ line: 0, message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }];
          }
          for (const p of problems) process.stderr.write(`${p.line > 0 ? `${f}:${p.line}` : f}: ${p.message}\n`);
          if (problems.length) bad++;
        }
        if (bad === 0) process.stdout.write(`${files.length} job file(s) OK for upstart 0.6.5\n`);
        process.exitCode = bad > 0 || files.length === 0 ? 1 : 0;
        return;
      }
      const configDir: string = program.opts().configDir;
      let errors: SpecError[] = [];
      let warnings: SpecError[] = [];
      let count = 0;
      if (files.length === 0) {
        const r = loadAll(configDir);
        ({ errors, warnings } = r);
        count = r.specs.length + new Set(r.errors.map((e) => e.file)).size;
        // The managed bridge's name, as the generator reads it (runtime/bridge checks the rest at `network up`).
        errors = [...errors, ...readManagedBridge(configDir).errors];
      } else {
        for (const f of files) {
          const base = path.basename(f);
          if (!base.endsWith(SPEC_SUFFIX) && !f.includes("/")) {
            // A container NAME: its spec from the config directory, then what the init shim does for its guest.
            const r = loadSpec(configDir, f);
            errors.push(...r.errors);
            warnings.push(...r.warnings);
            count++;
            if (r.spec) {
              const { formatShimReport, shimReport } = await import("../shim-report");
              const { runtimeDir } = await import("./runtime");
              const g = shimReport(r.spec, runtimeDir());
              process.stdout.write(formatShimReport(f, g));
              for (const w of g.warnings) warnings.push({ file: r.spec.file, line: 0, message: `guest: ${w}` });
            }
            continue;
          }
          if (!base.endsWith(SPEC_SUFFIX)) {
            errors.push({ file: f, line: 0, message: `not a spec file (expected NAME${SPEC_SUFFIX})` });
            continue;
          }
          // A spec outside the config directory still merges its own directory's defaults and drop-ins.
          const r = loadSpec(path.dirname(f), base.slice(0, -SPEC_SUFFIX.length), f);
          errors.push(...r.errors);
          warnings.push(...r.warnings);
          count++;
        }
      }
      report(errors, warnings);
      if (errors.length === 0) process.stdout.write(`${count} spec(s) OK${warnings.length ? `, ${warnings.length} warning(s)` : ""}\n`);
      process.exitCode = errors.length > 0 ? 1 : 0;
    });

  program
    .command("generate")
    .description("write the systemd units for every spec, as the generator does at boot (or upstart jobs, with --upstart)")
    .option("-n, --dry-run", "print every file and symlink instead of writing them")
    .option("-o, --output <dir>", "output directory", "/run/systemd/generator")
    .option("--upstart [dir]", `write upstart jobs and plans instead, into dir (default ${UPSTART_JOB_DIR})`)
    .action(async (opts: { dryRun?: boolean; output: string; upstart?: string | true }) => {
      const configDir: string = program.opts().configDir;
      if (opts.upstart !== undefined) {
        const { generateUpstart, writeUpstartTree } = await import("../../generator/render/upstart");
        // upstart (issue 6): same specs, upstart jobs; see docs/upstart.md.
        const dir = path.resolve(opts.upstart === true ? UPSTART_JOB_DIR : opts.upstart);
        const u = generateUpstart(configDir, dir);
        report(u.errors, u.warnings);
        if (opts.dryRun) process.stdout.write(printTree(u.tree));
        else writeUpstartTree(dir, u.tree);
        process.exitCode = u.errors.length > 0 ? 1 : 0;
        return;
      }
      const out = path.resolve(opts.output);
      const r = generateSystemd(configDir, out);
      report(r.errors, r.warnings);
      if (opts.dryRun) process.stdout.write(printTree(r.tree));
      else writeTree(out, r.tree);
      process.exitCode = r.errors.length > 0 ? 1 : 0;
    });

  program
    .command("docs")
    .description("print the spec reference (docs/spec.md) generated from the key table")
    .option("--man", "print it as the man page containerctl.container(5) instead")
    .option("--cli-man", "print the man page containerctl(8), generated from this command line")
    .action(async (opts: { man?: boolean; cliMan?: boolean }) => {
      if (opts.cliMan) {
        const { renderCliManPage } = await import("../man");
        process.stdout.write(renderCliManPage(program));
        return;
      }
      // Handlebars is loaded only here, not by every command.
      const { renderSpecManPage, renderSpecReference } = await import("../../generator/docs");
      process.stdout.write(opts.man ? renderSpecManPage() : renderSpecReference());
    });
}
