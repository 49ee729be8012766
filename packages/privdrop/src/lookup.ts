/**
 * User and group look-ups through NSS (`getent`), falling back to `/etc/passwd` and `/etc/group`.
 * @module
 */
import { PrivdropError, PrivdropErrorCodes } from "./errors.js";
import { findEntry, type Source } from "./internal/nss.js";

/** A user from the user database, or a bare numeric id that is in none. */
export interface UserEntry {
  /** The login name; undefined for a numeric id that is not in the database. */
  name: string | undefined;
  uid: number;
  /** The primary group id; undefined for a numeric id that is not in the database. */
  gid: number | undefined;
  /** `getent` (NSS), `files` (`/etc/passwd` read directly) or `numeric` (an id in no database). */
  source: Source | "numeric";
}

/** A group from the group database, or a bare numeric id that is in none. */
export interface GroupEntry {
  /** The group name; undefined for a numeric id that is not in the database. */
  name: string | undefined;
  gid: number;
  /** Members listed in the group database (not users whose primary group this is). */
  members: string[];
  /** `getent` (NSS), `files` (`/etc/group` read directly) or `numeric` (an id in no database). */
  source: Source | "numeric";
}

/** The largest valid id: 2^32 - 2, since (uid_t)-1 means "unchanged" to the kernel. */
export const MAX_ID = 4294967294;

/** True for a number or an all-digits string: those are ids, everything else is a name. */
export function isNumericId(spec: string | number): boolean {
  return typeof spec === "number" || /^\d+$/.test(spec);
}

function toId(spec: string | number): number {
  return typeof spec === "number" ? spec : Number(spec);
}

/**
 * Finds a user by name or id (a number or an all-digits string), or returns undefined.
 * A numeric id that is in no database is returned with `source: "numeric"`, since the kernel
 * accepts any id.
 */
export function findUser(spec: string | number): UserEntry | undefined {
  const key = String(spec);
  const entry = findEntry("passwd", key);
  if (entry) {
    const [name, , uid, gid] = entry.fields;
    if (Number.isInteger(Number(uid)) && Number.isInteger(Number(gid)) && uid !== "" && gid !== "") {
      return { name, uid: Number(uid), gid: Number(gid), source: entry.source };
    }
  }
  if (isNumericId(spec) && toId(spec) <= MAX_ID)
    return { name: undefined, uid: toId(spec), gid: undefined, source: "numeric" };
  return undefined;
}

/** Finds a group by name or id (a number or an all-digits string), or returns undefined. */
export function findGroup(spec: string | number): GroupEntry | undefined {
  const key = String(spec);
  const entry = findEntry("group", key);
  if (entry) {
    const [name, , gid, members = ""] = entry.fields;
    if (gid !== "" && Number.isInteger(Number(gid))) {
      return {
        name,
        gid: Number(gid),
        members: members
          .split(",")
          .map((m) => m.trim())
          .filter(Boolean),
        source: entry.source,
      };
    }
  }
  if (isNumericId(spec) && toId(spec) <= MAX_ID)
    return { name: undefined, gid: toId(spec), members: [], source: "numeric" };
  return undefined;
}

/**
 * Looks a user up by name or id.
 * @throws {PrivdropError} `ECHO_ERR_PRIVDROP_UNKNOWN_USER` naming the user when it does not exist.
 */
export function lookupUser(spec: string | number): UserEntry {
  const user = findUser(spec);
  if (!user)
    throw new PrivdropError(
      PrivdropErrorCodes.UNKNOWN_USER,
      `unknown user ${JSON.stringify(String(spec))}: not in the user database (getent passwd, /etc/passwd)`,
    );
  return user;
}

/**
 * Looks a group up by name or id.
 * @throws {PrivdropError} `ECHO_ERR_PRIVDROP_UNKNOWN_GROUP` naming the group when it does not exist.
 */
export function lookupGroup(spec: string | number): GroupEntry {
  const group = findGroup(spec);
  if (!group)
    throw new PrivdropError(
      PrivdropErrorCodes.UNKNOWN_GROUP,
      `unknown group ${JSON.stringify(String(spec))}: not in the group database (getent group, /etc/group)`,
    );
  return group;
}
