// A real, private dbus-daemon for tests: system-bus type, its own socket in a
// temp dir, permissive policy. Stopped (by PID) and removed by stop().
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestBus { address: string; stop(): void }

export async function startDbusDaemon(): Promise<TestBus> {
  const dir = mkdtempSync(join(tmpdir(), "cc-dbus-"));
  const sock = join(dir, "system_bus_socket");
  writeFileSync(join(dir, "bus.conf"), `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${sock}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`);
  const child: ChildProcess = spawn("dbus-daemon", ["--config-file", join(dir, "bus.conf"), "--nofork", "--print-address"], { stdio: ["ignore", "pipe", "inherit"] });
  const address = await new Promise<string>((resolve, reject) => {
    let buf = "";
    child.stdout!.on("data", (d) => {
      buf += d;
      if (buf.includes("\n")) resolve(buf.split("\n")[0].trim());
    });
    child.on("exit", (c) => reject(new Error(`dbus-daemon exited ${c}`)));
    setTimeout(() => reject(new Error("dbus-daemon did not start")), 5000);
  });
  return {
    address,
    stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
