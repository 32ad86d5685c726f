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
 * Write the tree under `root`. Each file is written to a temporary name and
 * renamed, so a crash never leaves a half-written unit. An existing file of
 * the same name is an error (another generator owns it): nothing is replaced.
 */
export function writeTree(root: string, tree: Tree): void {
  const made = new Set<string>();
  for (const rel of [...tree.keys()].sort()) {
    const e = tree.get(rel)!;
    const dest = path.join(root, rel);
    const dir = path.dirname(dest);
    if (!made.has(dir)) {
      fs.mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    if ("symlink" in e) {
      fs.symlinkSync(e.symlink, dest);
      continue;
    }
    const tmp = `${dir}/.#${path.basename(dest)}`;
    fs.writeFileSync(tmp, e.content, { flag: "wx", mode: 0o644 });
    try {
      fs.linkSync(tmp, dest); // fails with EEXIST instead of replacing
    } finally {
      fs.unlinkSync(tmp);
    }
  }
}
