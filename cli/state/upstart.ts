// Container state from upstart over D-Bus (com.ubuntu.Upstart0_6, upstart
// 0.6.5's interface): the host job `container` (upstart/container.conf) is an
// instance job, `instance $NAME`, so each running container is an instance
// of it whose name is the container name.
//   manager  /com/ubuntu/Upstart           com.ubuntu.Upstart0_6      GetJobByName(s) -> o
//   job      /com/ubuntu/Upstart/jobs/...  com.ubuntu.Upstart0_6.Job  GetAllInstances() -> ao,
//                                          Start(as env, b wait) -> o, Stop(as env, b wait)
//   instance .../<instance>                com.ubuntu.Upstart0_6.Instance: name, goal, state,
//                                          processes a(si)

import { type Bus, plain } from "./bus";
import { addressesOf, type ContainerState } from "./systemd";

export const UPSTART_DEST = "com.ubuntu.Upstart";
const MANAGER_PATH = "/com/ubuntu/Upstart";
const MANAGER = "com.ubuntu.Upstart0_6";
const JOB = "com.ubuntu.Upstart0_6.Job";
const INSTANCE = "com.ubuntu.Upstart0_6.Instance";
const PROPS = "org.freedesktop.DBus.Properties";
export const CONTAINER_JOB = "container";

async function jobPath(bus: Bus): Promise<string> {
  const [p] = (await bus.call(UPSTART_DEST, MANAGER_PATH, MANAGER, "GetJobByName", "s", [CONTAINER_JOB])) as [string];
  return p;
}

export async function containerStatesUpstart(bus: Bus, specNames: string[], autostart: ReadonlySet<string>): Promise<ContainerState[]> {
  const [instances] = (await bus.call(UPSTART_DEST, await jobPath(bus), JOB, "GetAllInstances")) as [string[]];
  const byName = new Map<string, ContainerState>();
  const blank = (name: string): ContainerState => ({
    name, unit: `${CONTAINER_JOB} NAME=${name}`, description: "", load: "loaded", active: "inactive", sub: "stop/waiting",
    mainPid: null, since: null, memoryCurrent: null, memoryMax: null, cpuNs: null, tasks: null, addresses: [],
    autostart: autostart.has(name), unitFileState: "", needsReload: false,
  });
  for (const n of specNames) byName.set(n, blank(n));
  await Promise.all(instances.map(async (path) => {
    const [props] = await bus.call(UPSTART_DEST, path, PROPS, "GetAll", "s", [INSTANCE]);
    const p = plain(props);
    const name = String(p.name);
    const procs = (p.processes as [string, number][]) ?? [];
    const main = procs.find(([kind]) => kind === "main")?.[1] ?? null;
    const goal = String(p.goal);
    const state = String(p.state);
    byName.set(name, {
      ...blank(name),
      active: goal === "start" ? (state === "running" ? "active" : "activating") : state === "waiting" ? "inactive" : "deactivating",
      sub: `${goal}/${state}`,
      mainPid: main,
      addresses: main ? addressesOf(main) : [],
    });
  }));
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** start/stop/restart through the job with NAME=…, waiting for upstart to finish (wait=true). */
export async function runJobUpstart(bus: Bus, action: "start" | "stop" | "restart", name: string): Promise<string> {
  const job = await jobPath(bus);
  const env = [`NAME=${name}`];
  try {
    if (action === "restart") {
      await bus.call(UPSTART_DEST, job, JOB, "Stop", "asb", [env, true]).catch(() => undefined);
      await bus.call(UPSTART_DEST, job, JOB, "Start", "asb", [env, true]);
    } else {
      await bus.call(UPSTART_DEST, job, JOB, action === "start" ? "Start" : "Stop", "asb", [env, true]);
    }
    return "done";
  } catch (e) {
    return (e as Error).message;
  }
}
