// containerctl import openvz: thin; the work is in generator/import/.
// Exit status: 0 imported and nothing to review, 2 imported but some lines are
// marked to review (approximated, dropped with an effect, not overwritten),
// 1 something failed (a container, or the command itself).

import * as path from "node:path";
import type { Command } from "commander";

interface OpenvzOptions {
  all?: boolean;
  vzRoot: string;
  dryRun?: boolean;
  json?: boolean;
  force?: boolean;
  inPlace?: boolean;
  copy?: boolean | string;
}

export function register(program: Command): void {
  const imp = program.command("import").description("import containers from other container managers");
  imp
    .command("openvz")
    .description("write a spec for each OpenVZ container, and report what became of every parameter")
    .argument("[ctid...]", "container IDs (or NAME= aliases) to import")
    .option("-a, --all", "every container under the vz configuration directory")
    .option("--vz-root <dir>", "OpenVZ configuration directory (vz.conf, conf/); the host's resolv.conf is read beside it", "/etc/vz")
    .option("-n, --dry-run", "report what would be written, and print the specs; write nothing")
    .option("--json", "print the report as JSON")
    .option("--force", "replace a spec imported earlier whose content differs")
    .option("--in-place", "run the guest from VE_PRIVATE as it is (simfs layout only); the importer never writes to it")
    .option("--copy [dir]", "copy VE_PRIVATE to DIR/NAME/rootfs (default DIR: /var/lib/containerctl, or $CONTAINERCTL_LIB_DIR), keeping owners, modes, hard links, xattrs, devices and sparse files, and verify it before writing the spec (a progress bar on a terminal)")
    .addHelpText("after", "\nExit status: 0 done, nothing to review; 2 done, lines marked ! need review; 1 something failed.\nWithout --in-place or --copy, copy VE_PRIVATE to the spec's RootDirectory yourself.")
    .action(async (ctids: string[], opts: OpenvzOptions) => {
      // The importer is loaded only by this command.
      const { applyImport, exitStatus, planImport } = await import("../../generator/import/openvz-import");
      const { formatHuman, toJson } = await import("../../generator/import/openvz-report");
      if (opts.copy && opts.inPlace) {
        process.stderr.write("containerctl import openvz: --copy and --in-place exclude each other\n");
        process.exitCode = 1;
        return;
      }
      if (ctids.length > 0 === Boolean(opts.all)) {
        process.stderr.write("containerctl import openvz: name the containers (CTID...) or give --all, not both\n");
        process.exitCode = 1;
        return;
      }
      const configDir = path.resolve(program.opts().configDir as string);
      let plan = planImport({
        vzRoot: opts.vzRoot, configDir, select: opts.all ? "all" : ctids, inPlace: Boolean(opts.inPlace), force: Boolean(opts.force),
        copy: Boolean(opts.copy), ...(typeof opts.copy === "string" ? { libDir: opts.copy } : {}),
      });
      if (!opts.dryRun && plan.errors.length === 0) plan = await applyImport(plan);
      else for (const c of plan.containers) if (c.copy) process.stderr.write(`containerctl: ${c.name}: would copy ${c.copy.from} to ${c.copy.to}, then verify it\n`);
      const status = exitStatus(plan);
      const dryRun = Boolean(opts.dryRun);
      process.stdout.write(opts.json ? toJson(plan, { dryRun, exitStatus: status }) : formatHuman(plan, { dryRun, showSpecs: dryRun }));
      process.exitCode = status;
    });
}
