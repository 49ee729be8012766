/**
 * Reads the user and group databases: `getent` first, so that NSS (LDAP, sssd, systemd's
 * dynamic users) is honoured exactly as libc would, then the plain files when `getent` is absent.
 * @module
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Where an answer came from. */
export type Source = "getent" | "files";

/** One `name:x:…` line split on colons, and where it came from. */
export interface DbEntry {
  fields: string[];
  source: Source;
}

/** `null`: getent could not answer (absent or failed), so the caller falls back to the files. */
function getent(db: "passwd" | "group" | "initgroups", key: string): string | undefined | null {
  try {
    return execFileSync("getent", [db, key], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 10_000,
    });
  } catch (error) {
    // getent exits 2 when the key is not in the database: an authoritative "no such entry".
    if ((error as { status?: number | null }).status === 2) return undefined;
    return null;
  }
}

function readDbFile(path: string): string[] {
  try {
    return readFileSync(path, "utf8").split("\n");
  } catch {
    return [];
  }
}

/**
 * Finds `key` (a name, or an id when all digits) in `passwd` or `group`. The id is the third
 * field in both. Returns undefined when it is in neither getent's answer nor the file.
 */
export function findEntry(db: "passwd" | "group", key: string): DbEntry | undefined {
  const answer = getent(db, key);
  if (typeof answer === "string") {
    const line = answer.split("\n").find((l) => l.trim() !== "");
    if (line !== undefined) return { fields: line.split(":"), source: "getent" };
    return undefined;
  }
  if (answer === undefined) return undefined;
  const numeric = /^\d+$/.test(key);
  for (const line of readDbFile(`/etc/${db}`)) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const fields = line.split(":");
    if (fields.length < 3) continue;
    if (numeric ? fields[2] === key : fields[0] === key) return { fields, source: "files" };
  }
  return undefined;
}

/**
 * The groups `initgroups(3)` would give `user`, not counting the group passed to it:
 * `getent initgroups USER` when that works, else every `/etc/group` line listing the user.
 */
export function groupsOfUser(user: string): { gids: number[]; source: Source } {
  const answer = getent("initgroups", user);
  if (typeof answer === "string") {
    const line = answer.split("\n").find((l) => l.trim() !== "") ?? "";
    const gids = line.trim().split(/\s+/).slice(1).map(Number).filter(Number.isInteger);
    return { gids, source: "getent" };
  }
  const gids: number[] = [];
  for (const line of readDbFile("/etc/group")) {
    const fields = line.split(":");
    if (fields.length < 4 || line.startsWith("#")) continue;
    if (
      (fields[3] ?? "")
        .split(",")
        .map((m) => m.trim())
        .includes(user)
    )
      gids.push(Number(fields[2]));
  }
  return { gids: gids.filter(Number.isInteger), source: "files" };
}
