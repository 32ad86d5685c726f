// The generator's output as data: relative path → file content or symlink.
// Renderers build a Tree; --dry-run prints it; writeTree is the thin writer.

import * as fs from "node:fs";
import * as path from "node:path";

export type Entry = { content: string } | { symlink: string };
export type Tree = Map<string, Entry>;

export function addFile(tree: Tree, rel: string, content: string): void {
  if (tree.has(rel)) throw new Error(`duplicate output '${rel}'`);
  tree.set(rel, { content });
}

export function addSymlink(tree: Tree, rel: string, target: string): void {
  if (tree.has(rel)) throw new Error(`duplicate output '${rel}'`);
  tree.set(rel, { symlink: target });
}

/** Sorted, printable form used by --dry-run and the golden tests. */
export function printTree(tree: Tree): string {
  const out: string[] = [];
  for (const rel of [...tree.keys()].sort()) {
    const e = tree.get(rel)!;
    if ("symlink" in e) out.push(`==> ${rel} -> ${e.symlink}`);
    else out.push(`==> ${rel} <==`, e.content.replace(/\n$/, ""));
  }
  return out.length ? out.join("\n") + "\n" : "";
}

/**
 * mkdir -p, one mkdir per missing level. Node's recursive mkdirSync costs
 * milliseconds per call here; the generator makes ~one directory per container.
 */
function mkdirs(dir: string, made: Set<string>): void {
  if (made.has(dir)) return;
  try {
    fs.mkdirSync(dir, 0o755);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      mkdirs(path.dirname(dir), made);
      fs.mkdirSync(dir, 0o755);
    } else if (code !== "EEXIST") throw e;
  }
  made.add(dir);
}

/**
 * Write the tree under `root`. Files are created exclusively (O_EXCL), as
 * systemd's own generators do, so an existing file (another generator's, or a
 * duplicate) is an error and nothing is replaced; a file whose write fails is
 * removed, so no half-written unit is left behind. The output directory is
 * emptied by systemd before every run.
 */
export function writeTree(root: string, tree: Tree): void {
  const made = new Set<string>();
  for (const rel of [...tree.keys()].sort()) {
    const e = tree.get(rel)!;
    const dest = path.join(root, rel);
    const dir = path.dirname(dest);
    if (!made.has(dir)) mkdirs(dir, made);
    if ("symlink" in e) {
      fs.symlinkSync(e.symlink, dest);
      continue;
    }
    const fd = fs.openSync(dest, "wx", 0o644);
    try {
      fs.writeSync(fd, e.content);
    } catch (err) {
      fs.unlinkSync(dest);
      throw err;
    } finally {
      fs.closeSync(fd);
    }
  }
}
