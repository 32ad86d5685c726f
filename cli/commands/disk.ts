// containerctl disk create | grow | check: what enforces Disk= (docs/disk.md).
// Thin: parses arguments, then calls generator/create/disk.ts, which is loaded
// only inside these actions.

import type { Command } from "commander";
import { run as action } from "./create";

const say = (name: string) => (line: string): void => void process.stderr.write(`containerctl: ${name}: ${line}\n`);

export function register(program: Command): void {
  const disk = program
    .command("disk")
    .description("create, grow and check the disk that limits a container's space (Disk=): an ext4 image or a project quota");
  const paths = async () => (await import("../../generator/create/paths")).defaultPaths(program.opts().configDir);

  disk
    .command("create")
    .description("give a stopped container its disk: copy its rootfs into a new sparse ext4 image (verified, then switched in), or set up a project quota")
    .argument("<name>", "container name")
    .option("--size <size>", "disk size, e.g. 10G (default: Disk= of the spec)")
    .option("--backing <backing>", "image or project (default: DiskBacking=; for auto, project where the rootfs's filesystem has prjquota, else image)")
    .action(async (name: string, o: { size?: string; backing?: string }) => {
      await action(`disk create ${name}`, async () => {
        if (o.backing !== undefined && o.backing !== "image" && o.backing !== "project") throw new Error(`--backing must be image or project, not '${o.backing}'`);
        const { diskCreate } = await import("../../generator/create/disk");
        await diskCreate(await paths(), name, { size: o.size, backing: o.backing as "image" | "project" | undefined }, say(name));
        say(name)("disk created");
      });
    });

  disk
    .command("grow")
    .description("resize a stopped container's disk image (resize2fs; a shrink below its contents is refused), or change its project quota")
    .argument("<name>", "container name")
    .argument("<size>", "new size, e.g. 20G")
    .action(async (name: string, size: string) => {
      await action(`disk grow ${name}`, async () => {
        const { diskGrow } = await import("../../generator/create/disk");
        await diskGrow(await paths(), name, size, say(name));
      });
    });

  disk
    .command("check")
    .description("show a container's disk: backing, usage against its limit, e2fsck -n of a stopped image or the project quota; exit 1 on errors")
    .argument("<name>", "container name")
    .action(async (name: string) => {
      await action(`disk check ${name}`, async () => {
        const { diskCheck } = await import("../../generator/create/disk");
        const { runtimeSocketListening } = await import("../../generator/create/host");
        let live: string | null = null;
        if (runtimeSocketListening(name)) {
          const { containerPids } = await import("./runtime");
          live = `/proc/${(await containerPids(name)).init}/root`;
        }
        const r = diskCheck(await paths(), name, live);
        process.stdout.write(r.lines.map((l) => `${l}\n`).join(""));
        if (!r.ok) process.exitCode = 1;
      });
    });
}
