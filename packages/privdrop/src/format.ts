/**
 * One line that says what a drop did, for the CLIs.
 * @module
 */
import type { DropResult } from "./drop.js";

/** Formats a umask the way `umask` prints it: four octal digits, `0007`. */
export function formatUmask(mask: number): string {
  return mask.toString(8).padStart(4, "0");
}

const groupList = (groups: readonly number[]): string => `[${groups.join(",")}]`;

/**
 * Formats a {@link DropResult} as one line, e.g.
 * `dropped privileges: uid 0→65534 (nobody), gid 0→65534 (nogroup), groups []→[], umask 0022→0007`
 * or `privileges not dropped: not running as root (uid 1000, euid 1000), …`.
 */
export function formatDropResult(result: DropResult): string {
  if (!result.dropped) return `privileges not dropped: ${result.reason}`;
  const { from, to, umask } = result;
  const name = (label: string, id: number): string => (label === String(id) ? "" : ` (${label})`);
  return (
    `dropped privileges: uid ${from.uid}→${to.uid}${name(to.user, to.uid)}, gid ${from.gid}→${to.gid}${name(to.group, to.gid)}, ` +
    `groups ${groupList(from.groups)}→${groupList(to.groups)}, umask ${formatUmask(umask.from)}→${formatUmask(umask.to)}`
  );
}
