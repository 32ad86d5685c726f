// containerctl create | clone | destroy: make, copy and remove containers
// (docs/create.md). Thin: parses arguments, then calls generator/create/,
// which is loaded only inside these actions.

import type { Command } from "commander";

const collect = (v: string, prev: string[]): string[] => [...prev, v];
const list = (v: string): string[] => v.split(",").map((s) => s.trim()).filter(Boolean);

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/** Errors end the command with a message; a signal ends it with 128+signal, as a shell would (disk.ts too). */
export async function run(what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    const err = e as Error & { signal?: string };
    const { Interrupted } = await import("../../generator/create/host");
    if (err instanceof Interrupted) {
      process.stderr.write(`containerctl: ${what}: ${err.message}; nothing was kept\n`);
      process.exitCode = 128 + (SIGNALS[err.signal!] ?? 0);
      return;
    }
    process.stderr.write(`containerctl: ${what}: ${err.message}\n`);
    process.exitCode = 1;
  }
}

/** The first line of stdin (a password piped in, or typed and ended with Enter). */
async function readStdinLine(): Promise<string> {
  const readline = await import("node:readline");
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of rl) return line;
    return "";
  } finally {
    rl.close();
  }
}

export function register(program: Command): void {
  program
    .command("create")
    .description("create a container: a Debian/Ubuntu guest with debootstrap (cached downloads), or a busybox guest; writes its spec")
    .argument("<name>", "container name (the spec's file name)")
    .option("--distro <distro>", "debian or ubuntu")
    .option("--release <release>", "release codename or version, e.g. bookworm, 12, jammy, 22.04, lucid")
    .option("--busybox", "a minimal guest from the host's busybox-static (no network needed)")
    .option("--mirror <url>", "archive to bootstrap from (default: this host's apt mirror for the distribution; required for archived releases)")
    .addOption(program.createOption("--packages <list>", "extra packages, comma-separated").argParser(list).default([], "none"))
    .option("--components <list>", "archive components (default: main)", list)
    .option("--keyring <file>", "keyring that verifies the release (default: the release's own)")
    .option("--no-check-gpg", "do not verify the archive's signatures (insecure; for archives no keyring here can verify)")
    .option("--hostname <name>", "host name (default: the container name)")
    .option("--network <type>", "veth, macvlan, none or host (default: veth with --bridge or --address, else none)")
    .option("--bridge <bridge>", "host bridge the container's veth joins")
    .option("--interface <ifname>", "host interface for --network macvlan")
    // Repeatable options default to [], shown in --help as what that means.
    .addOption(program.createOption("--address <cidr>", "static address of eth0, e.g. 10.0.3.10/24 (repeatable)").argParser(collect).default([], "none: DHCP"))
    .addOption(program.createOption("--gateway <ip>", "default gateway (repeatable, one per address family)").argParser(collect).default([], "none"))
    .addOption(program.createOption("--dns <ip>", "name server for the spec and the guest's resolv.conf (repeatable)").argParser(collect).default([], "the host's"))
    .option("--root-password <password>", "set root's password ('-' reads it from stdin); default: root's password is locked")
    .option("--authorized-key <file>", "install this SSH public key for root (adds openssh-server)")
    .option("--disk <size>", "limit its disk space: Disk=SIZE in the spec, then `disk create` (an ext4 image, or a project quota; docs/disk.md)")
    .option("--dry-run", "print the plan (commands, guest files, spec) and change nothing")
    .action(async (name: string, o) => {
      await run(`create ${name}`, async () => {
        const fs = await import("node:fs");
        const { defaultPaths } = await import("../../generator/create/paths");
        const paths = defaultPaths(program.opts().configDir);
        if (!!o.busybox === !!(o.distro || o.release)) throw new Error("give either --busybox or --distro and --release");
        if (!o.busybox && !(o.distro && o.release)) throw new Error("--distro and --release go together");
        if (o.busybox && (o.mirror || o.packages.length || o.components || o.keyring)) throw new Error("--mirror, --packages, --components and --keyring apply to --distro guests");
        if (o.busybox && o.authorizedKey) throw new Error("--authorized-key needs an SSH server; a busybox guest has none");
        if (o.rootPassword !== undefined && o.authorizedKey) throw new Error("give --root-password or --authorized-key, not both");
        let hash: string | null = null;
        if (o.rootPassword !== undefined) {
          const { hashPassword } = await import("../../generator/create/password");
          hash = hashPassword(o.rootPassword === "-" ? await readStdinLine() : o.rootPassword);
        }
        const authorizedKeys = o.authorizedKey ? fs.readFileSync(o.authorizedKey, "utf8") : null;
        if (authorizedKeys !== null && !/^(ssh-|ecdsa-|sk-)/m.test(authorizedKeys)) throw new Error(`${o.authorizedKey} does not look like an SSH public key`);
        const req = {
          name, hostname: o.hostname,
          source: o.busybox
            ? ({ kind: "busybox" } as const)
            : ({ kind: "debootstrap", distro: o.distro, release: o.release, mirror: o.mirror, packages: o.packages, components: o.components, keyring: o.keyring, checkGpg: o.checkGpg !== false } as const),
          network: { type: o.network, bridge: o.bridge, interface: o.interface, addresses: o.address, gateways: o.gateway, dns: o.dns },
          rootPasswordHash: hash, authorizedKeys, disk: o.disk,
        };
        if (o.disk) (await import("../../generator/create/disk")).parseSize(o.disk);
        if (o.dryRun) {
          const { planCreate } = await import("../../generator/create/plan");
          const { planText } = await import("../../generator/create/plan-text");
          const { hostFactsFor } = await import("../../generator/create/create");
          process.stdout.write(planText(planCreate(req, hostFactsFor(req, paths), paths)));
          return;
        }
        const { createContainer } = await import("../../generator/create/create");
        await createContainer(req, paths, { installDebootstrap: true });
        if (o.disk) {
          const { diskCreate } = await import("../../generator/create/disk");
          try {
            await diskCreate(paths, name, {}, (l) => process.stderr.write(`containerctl: ${name}: ${l}\n`));
          } catch (e) {
            throw new Error(`${name} was created, but not its disk: ${(e as Error).message} (retry: containerctl disk create ${name})`);
          }
        }
      });
    });

  program
    .command("clone")
    .description("copy a stopped container (owners, modes, hard links, xattrs, devices, sparse files kept; of a snapshot, its merged view), verified, or --snapshot it with overlayfs")
    .argument("<src>", "container to copy")
    .argument("<dst>", "name of the new container")
    .option("--snapshot", "share SRC's rootfs (a snapshot's layers: a chain) read-only through overlayfs; DST keeps only its changes (docs/create.md)")
    .option("--hostname <name>", "host name of the copy (default: its name)")
    .action(async (src: string, dst: string, o: { snapshot?: boolean; hostname?: string }) => {
      await run(`clone ${src} ${dst}`, async () => {
        const { defaultPaths } = await import("../../generator/create/paths");
        const { cloneContainer } = await import("../../generator/create/clone");
        const { makeReporter } = await import("../../generator/create/progress");
        const rep = makeReporter(dst);
        const t0 = Date.now();
        const r = await cloneContainer({ src, dst, snapshot: !!o.snapshot, hostname: o.hostname }, defaultPaths(program.opts().configDir), rep);
        rep.step(`cloned in ${((Date.now() - t0) / 1000).toFixed(1)}s: ${r.spec}, ${r.rootfs}${o.snapshot ? " (overlay mount point)" : ""}`);
      });
    });

  program
    .command("destroy")
    .description("remove a stopped container: its rootfs (or snapshot layers), spec and drop-ins; asks first unless --yes")
    .argument("<name>", "container name")
    .option("-y, --yes", "do not ask (required when there is no terminal)")
    .option("--force", "destroy a base even though snapshots use it (they will not start again; names them)")
    .action(async (name: string, o: { yes?: boolean; force?: boolean }) => {
      await run(`destroy ${name}`, async () => {
        const { defaultPaths } = await import("../../generator/create/paths");
        const { planDestroy, destroyContainer } = await import("../../generator/create/destroy");
        const paths = defaultPaths(program.opts().configDir);
        const plan = planDestroy(paths, name, !!o.force);
        const breaks = plan.breaks.length ? `--force: ${plan.breaks.join(", ")} lose${plan.breaks.length > 1 ? "" : "s"} a lower layer with ${name} and will not start again (nor can they be cloned); destroy them too` : "";
        if (!o.yes) {
          if (!process.stdin.isTTY || !process.stderr.isTTY) throw new Error("refusing without --yes: no terminal to ask on");
          const readline = await import("node:readline/promises");
          const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
          const answer = await rl.question(`Destroy container ${name}? This removes:\n  ${plan.removes.join("\n  ")}\n${breaks ? `${breaks}\n` : ""}[y/N] `);
          rl.close();
          if (!/^y(es)?$/i.test(answer.trim())) throw new Error("not confirmed; nothing removed");
        }
        destroyContainer(paths, plan);
        process.stderr.write(`containerctl: destroyed ${name}: removed ${plan.removes.join(", ")}\n`);
        if (breaks) process.stderr.write(`containerctl: ${name}: ${breaks}\n`);
        for (const k of plan.keeps) process.stderr.write(`containerctl: ${name}: left ${k} in place (RootDirectory= outside ${paths.libDir}/${name})\n`);
      });
    });
}
