// DNS= and Domains= reach the guest as its /etc/resolv.conf, bound over the
// guest's own for the container's life: the file on disk never changes, and a
// guest whose resolv.conf is a symlink (systemd-resolved's stub) keeps it.
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestContainer, buildHelper } from "../lib/runtime-harness";

buildHelper();
const DNS = ["net_dns\t192.0.2.53", "net_dns\t2001:db8::53", "net_search\texample.net", "net_search\tcorp.example"];

test("the guest reads the spec's name servers and search domains; its own file is untouched", async () => {
  const c = new TestContainer("dns");
  try {
    const file = path.join(c.root, "etc/resolv.conf");
    fs.writeFileSync(file, "nameserver 203.0.113.1\n");
    c.start({ stopTimeout: "2", extra: DNS });
    await c.waitOutput(/init up/);
    const r = await c.sh("cat /etc/resolv.conf; ls -a /dev | grep -c containerctl-resolv");
    assert.is(r.stdout, "nameserver 192.0.2.53\nnameserver 2001:db8::53\nsearch example.net corp.example\n0\n", r.stderr);
    assert.is(fs.readFileSync(file, "utf8"), "nameserver 203.0.113.1\n", "the guest's file on disk");
    await c.stop();
  } finally {
    c.destroy();
  }
});

test("a resolv.conf symlink is left alone, and so is the file it points to", async () => {
  const c = new TestContainer("dnslink");
  try {
    const file = path.join(c.root, "etc/resolv.conf");
    fs.rmSync(file, { force: true });
    fs.symlinkSync("../run/resolv.conf", file);
    // The target exists (as resolved's stub does): a bind through the link would land on it.
    fs.writeFileSync(path.join(c.root, "run/resolv.conf"), "nameserver 127.0.0.53\n");
    c.start({ stopTimeout: "2", extra: DNS });
    await c.waitOutput(/init up/);
    const r = await c.sh("readlink /etc/resolv.conf; cat /etc/resolv.conf");
    assert.is(r.stdout, "../run/resolv.conf\nnameserver 127.0.0.53\n", r.stderr);
    await c.stop();
  } finally {
    c.destroy();
  }
});

test.run();
