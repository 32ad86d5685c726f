import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../../generator/import/write";
import { tempDir } from "./helpers";

test("writes whole files, never replaces one unless asked, leaves no temporary file", () => {
  const dir = tempDir();
  try {
    const f = path.join(dir, "a.container");
    writeFileAtomic(f, "one\n", { overwrite: false });
    assert.is(fs.readFileSync(f, "utf8"), "one\n");
    assert.is(fs.statSync(f).mode & 0o777 & ~process.umask(), 0o644 & ~process.umask());
    assert.throws(() => writeFileAtomic(f, "two\n", { overwrite: false }), (e: NodeJS.ErrnoException) => e.code === "EEXIST");
    assert.is(fs.readFileSync(f, "utf8"), "one\n");
    writeFileAtomic(f, "three\n", { overwrite: true });
    assert.is(fs.readFileSync(f, "utf8"), "three\n");
    assert.equal(fs.readdirSync(dir), ["a.container"]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
