// The harness takes debootstrap's mirror from this machine's apt configuration
// (never a hard-coded host): the source file parser for both formats, and the
// chosen mirror being one that apt's own sources name.

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as os from "node:os";
import { aptProxyEnv, parseAptSources } from "../../generator/create/mirror";
import { debianMirror } from "../lib/systemd-harness";

test("one-line .list sources: options, comments and components", () => {
  const s = parseAptSources(
    "# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://mirror.invalid/debian stable main contrib # trailing\ndeb-src http://mirror.invalid/debian stable main\n\n",
    false,
  );
  assert.equal(s, [
    { types: ["deb"], uris: ["http://mirror.invalid/debian"], suites: ["stable"], components: ["main", "contrib"] },
    { types: ["deb-src"], uris: ["http://mirror.invalid/debian"], suites: ["stable"], components: ["main"] },
  ]);
});

test("deb822 .sources: several stanzas, comments, continuation lines, Enabled: no", () => {
  const s = parseAptSources(
    [
      "Types: deb deb-src",
      "# a comment",
      "URIs: http://mirror.invalid/debian",
      "Suites: trixie trixie-updates",
      "Components: main",
      "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
      "",
      "Types: deb",
      "URIs: http://other.invalid/x",
      "Suites: nodistro",
      "Components: main",
      "Enabled: no",
      "",
      "Types: deb",
      "URIs: http://third.invalid/y",
      "Suites: stable",
      "Components: main",
      " non-free",
    ].join("\n"),
    true,
  );
  assert.equal(s, [
    { types: ["deb", "deb-src"], uris: ["http://mirror.invalid/debian"], suites: ["trixie", "trixie-updates"], components: ["main"] },
    { types: ["deb"], uris: ["http://third.invalid/y"], suites: ["stable"], components: ["main", "non-free"] },
  ]);
});

test("the mirror debootstrap gets is one of this machine's apt sources", () => {
  if (process.env.CONTAINERCTL_TEST_MIRROR) return;
  const m = debianMirror().replace(/\/+$/, "");
  const files = ["/etc/apt/sources.list", ...(fs.existsSync("/etc/apt/sources.list.d") ? fs.readdirSync("/etc/apt/sources.list.d").map((f) => path.join("/etc/apt/sources.list.d", f)) : [])];
  const uris = files
    .filter((f) => fs.existsSync(f) && /\.(list|sources)$/.test(f))
    .flatMap((f) => parseAptSources(fs.readFileSync(f, "utf8"), f.endsWith(".sources")))
    .flatMap((s) => s.uris.map((u) => u.replace(/\/+$/, "")));
  assert.ok(uris.includes(m), `${m} not in ${uris.join(" ")}`);
});

test("apt's proxy settings are passed on to debootstrap", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cctl-aptconf-"));
  const saved = process.env.APT_CONFIG;
  try {
    fs.writeFileSync(path.join(dir, "apt.conf"), 'Dir::Etc::Parts "/nonexistent";\nDir::Etc::Main "/dev/null";\nAcquire::http::Proxy "http://127.0.0.1:9";\nAcquire::https::Proxy "DIRECT";\n');
    process.env.APT_CONFIG = path.join(dir, "apt.conf");
    assert.equal(aptProxyEnv(), { http_proxy: "http://127.0.0.1:9" });
  } finally {
    if (saved === undefined) delete process.env.APT_CONFIG;
    else process.env.APT_CONFIG = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
