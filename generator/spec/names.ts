// Container names. The name is the spec's file name and becomes the systemd
// instance (container@NAME.service), a directory under /run and /var/lib, and
// part of host interface names, so it must need no escaping anywhere.

export const NAME_MAX = 64;

/** Returns a message when `name` is not a usable container name, else null. */
export function checkName(name: string): string | null {
  if (name === "") return "empty container name";
  if (name.length > NAME_MAX) return `container name is longer than ${NAME_MAX} characters`;
  if (name.includes("..")) return `container name '${name}' contains '..'`;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    return `container name '${name.replace(/[^\x20-\x7e]/g, "?")}' has characters systemd would need to escape (use A-Z a-z 0-9 _ . - and start with a letter or digit)`;
  }
  return null;
}
