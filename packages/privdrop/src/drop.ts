/**
 * `dropPrivileges`: from root to an unprivileged user, in the order that leaves nothing behind,
 * then proven by {@link verifyDropped}.
 * @module
 */
import { isMainThread } from "node:worker_threads";
import { PrivdropError, PrivdropErrorCodes } from "./errors.js";
import { groupsOfUser } from "./internal/nss.js";
import { findGroup, lookupGroup, lookupUser, type GroupEntry } from "./lookup.js";
import { normalizeDropOptions, type DropOptions } from "./options.js";
import { readProcStatus, type ProcStatus } from "./proc-status.js";
import { verifyDropped } from "./verify.js";

/** A process's ids and supplementary groups. */
export interface Credentials {
  uid: number;
  gid: number;
  /** The supplementary groups as the kernel holds them (without the gid Node's getgroups adds). */
  groups: number[];
}

/** What {@link resolveDropTarget} returns: the drop, fully looked up, nothing changed yet. */
export interface DropTarget {
  /** The user name, or the uid as a string when the uid has no entry. */
  user: string;
  uid: number;
  /** The group name, or the gid as a string when the gid has no entry. */
  group: string;
  gid: number;
  /** The supplementary groups to set, sorted. */
  groups: number[];
  supplementaryGroups: "none" | "initgroups" | "list";
  umask: number;
}

/** The result of a drop that happened (and was verified). */
export interface DroppedResult {
  dropped: true;
  from: Credentials;
  to: Credentials & { user: string; group: string };
  umask: { from: number; to: number };
}

/** The result when there was nothing to drop: not running as root. Nothing was changed. */
export interface NotDroppedResult {
  dropped: false;
  /** Why, in one sentence, e.g. `not running as root (uid 65534, euid 65534)…`. */
  reason: string;
}

/** What {@link dropPrivileges} returns. */
export type DropResult = DroppedResult | NotDroppedResult;

/** `process` with `initgroups`, which Node has on POSIX but @types/node does not declare. */
const proc = process as NodeJS.Process & { initgroups?: (user: string | number, extraGroup: string | number) => void };

const REQUIRED = [
  "getuid",
  "geteuid",
  "getgid",
  "getegid",
  "getgroups",
  "setuid",
  "seteuid",
  "setgid",
  "setgroups",
  "initgroups",
] as const;

function checkSupported(): void {
  const missing = REQUIRED.filter((name) => typeof proc[name] !== "function");
  if (process.platform === "win32" || missing.length > 0) {
    throw new PrivdropError(
      PrivdropErrorCodes.UNSUPPORTED,
      `privilege dropping is not supported on ${process.platform}${missing.length > 0 ? ` (process.${missing.join(", process.")} missing)` : ""}; ` +
        "bind a port of 1024 or more, or use the platform's service manager",
    );
  }
}

function invalid(message: string): PrivdropError {
  return new PrivdropError(PrivdropErrorCodes.INVALID_ARG, message);
}

/**
 * Validates the options and looks the user and groups up, changing nothing: what
 * {@link dropPrivileges} would do. Call it before binding to fail early on a typo.
 * @throws {PrivdropError} `ECHO_ERR_INVALID_ARG`, `ECHO_ERR_PRIVDROP_UNKNOWN_USER`, `ECHO_ERR_PRIVDROP_UNKNOWN_GROUP`.
 */
export function resolveDropTarget(options: DropOptions = {}): DropTarget {
  const opts = normalizeDropOptions(options);
  const user = lookupUser(opts.user);
  let group: GroupEntry | undefined;
  if (opts.group !== undefined) {
    group = lookupGroup(opts.group);
  } else {
    group = findGroup("nogroup") ?? findGroup("nobody") ?? (user.gid !== undefined ? findGroup(user.gid) : undefined);
    if (!group) {
      throw new PrivdropError(
        PrivdropErrorCodes.UNKNOWN_GROUP,
        `no options.group given, and none of the default groups exists: not nogroup, not nobody, and user ${JSON.stringify(String(opts.user))} has no primary group`,
      );
    }
  }
  if (user.uid === 0)
    throw invalid(`options.user ${JSON.stringify(String(opts.user))} is uid 0 (root): dropping to root drops nothing`);
  if (group.gid === 0)
    throw invalid(
      `options.group ${JSON.stringify(group.name ?? String(group.gid))} is gid 0 (root's group): choose an unprivileged group`,
    );
  let groups: number[];
  if (opts.supplementaryGroups === "none") {
    groups = [];
  } else if (opts.supplementaryGroups === "initgroups") {
    if (user.name === undefined)
      throw invalid(
        `options.supplementaryGroups "initgroups" needs a user in the user database, but uid ${user.uid} has no entry`,
      );
    groups = [...groupsOfUser(user.name).gids, group.gid];
  } else {
    groups = opts.supplementaryGroups.map((g) => lookupGroup(g).gid);
  }
  return {
    user: user.name ?? String(user.uid),
    uid: user.uid,
    group: group.name ?? String(group.gid),
    gid: group.gid,
    groups: [...new Set(groups)].sort((a, b) => a - b),
    supplementaryGroups: Array.isArray(opts.supplementaryGroups) ? "list" : opts.supplementaryGroups,
    umask: opts.umask,
  };
}

/** Runs one credential call; a failure says how far the drop got, so the caller exits. */
function syscall(name: string, done: string[], call: () => void): void {
  try {
    call();
  } catch (error) {
    const state =
      done.length === 0
        ? "nothing was changed"
        : `already done: ${done.join(", ")}; the process is half-dropped, exit now`;
    throw new PrivdropError(PrivdropErrorCodes.SYSCALL, `${name} failed: ${(error as Error).message} (${state})`, {
      cause: error,
    });
  }
  done.push(name);
}

const CAP_SETGID = 6n;
const CAP_SETUID = 7n;

/**
 * Drops root privileges for good: validates the options, looks up the user and group (nothing
 * changed yet), then clears or sets the supplementary groups, `setgid`, `setuid`, sets the umask,
 * and proves the result with {@link verifyDropped}. Call it after binding and before serving.
 *
 * When the process is not root, changes nothing and returns `{ dropped: false, reason }`.
 * @throws {PrivdropError} `ECHO_ERR_INVALID_ARG`, `ECHO_ERR_PRIVDROP_UNKNOWN_USER`,
 *   `ECHO_ERR_PRIVDROP_UNKNOWN_GROUP` (nothing changed); `ECHO_ERR_PRIVDROP_WORKER_THREAD`,
 *   `ECHO_ERR_PRIVDROP_UNSUPPORTED` (nothing changed); `ECHO_ERR_PRIVDROP_SYSCALL`,
 *   `ECHO_ERR_PRIVDROP_VERIFY` (the process may hold privileges: exit, never serve).
 */
export function dropPrivileges(options: DropOptions = {}): DropResult {
  normalizeDropOptions(options);
  if (!isMainThread) {
    throw new PrivdropError(
      PrivdropErrorCodes.WORKER_THREAD,
      "dropPrivileges() cannot run in a worker thread: Node forbids changing credentials there. " +
        "Credentials belong to the whole process: drop in the main thread after every thread listens",
    );
  }
  checkSupported();
  const target = resolveDropTarget(options);
  const linux = process.platform === "linux";
  let before: ProcStatus | undefined;
  if (linux) before = readProcStatus("self");
  const uid = process.getuid!();
  const euid = process.geteuid!();
  if (uid !== 0 && euid !== 0 && (before?.uid.saved ?? uid) !== 0) {
    return {
      dropped: false,
      reason: `not running as root (uid ${uid}, euid ${euid}), so there is nothing to drop; nothing was changed (asked for user ${target.user}, group ${target.group})`,
    };
  }
  if (before && euid === 0) {
    const missing = [CAP_SETGID, CAP_SETUID].filter((cap) => (before.capabilities.effective & (1n << cap)) === 0n);
    if (missing.length > 0) {
      throw new PrivdropError(
        PrivdropErrorCodes.SYSCALL,
        `running as root without ${missing.map((c) => (c === CAP_SETGID ? "CAP_SETGID" : "CAP_SETUID")).join(" and ")} (a restricted container?): cannot drop; nothing was changed`,
      );
    }
  }
  const done: string[] = [];
  // A process whose real or saved uid is root can take euid 0 back: do so, or setgroups fails.
  if (euid !== 0) syscall("seteuid(0)", done, () => process.seteuid!(0));
  const from: Credentials = {
    uid: before?.uid.real ?? uid,
    gid: before?.gid.real ?? process.getgid!(),
    groups: before?.groups ?? process.getgroups!(),
  };
  // Order matters: groups and gid need root, so they go before setuid, which gives root up.
  if (target.supplementaryGroups === "initgroups") {
    syscall(`initgroups(${target.user}, ${target.gid})`, done, () => proc.initgroups!(target.user, target.gid));
  } else {
    syscall(`setgroups([${target.groups.join(",")}])`, done, () => process.setgroups!(target.groups));
  }
  syscall(`setgid(${target.gid})`, done, () => process.setgid!(target.gid));
  syscall(`setuid(${target.uid})`, done, () => process.setuid!(target.uid));
  const formerUmask = process.umask(target.umask);
  verifyDropped({ uid: target.uid, gid: target.gid, groups: target.groups, umask: target.umask, formerGid: from.gid });
  const groups = linux ? readProcStatus("self").groups : target.groups;
  return {
    dropped: true,
    from,
    to: { uid: target.uid, gid: target.gid, groups, user: target.user, group: target.group },
    umask: { from: formerUmask, to: target.umask },
  };
}
