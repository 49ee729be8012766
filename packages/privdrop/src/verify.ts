/**
 * The proof after a drop: ids, groups, the kernel's own view in /proc, and failed attempts to
 * get root back. Fails closed: any doubt is an error.
 * @module
 */
import { readdirSync } from "node:fs";
import { PrivdropError, PrivdropErrorCodes, PrivdropVerifyError } from "./errors.js";
import { readProcStatus, readStatusFile, type ProcStatus } from "./proc-status.js";

/** What the process must look like after a drop, for {@link verifyDropped}. */
export interface DropExpectation {
  uid: number;
  gid: number;
  /** The exact supplementary group list (order does not matter). */
  groups: readonly number[];
  /** When given, the umask must be this (checked through /proc on Linux). */
  umask?: number;
  /** The gid before the drop: `setgid(formerGid)` must now fail too. */
  formerGid?: number;
}

const sorted = (ids: Iterable<number>): number[] => [...new Set(ids)].sort((a, b) => a - b);
const same = (a: Iterable<number>, b: Iterable<number>): boolean => sorted(a).join(",") === sorted(b).join(",");
const list = (ids: Iterable<number>): string => `[${sorted(ids).join(",")}]`;

function checkStatus(where: string, status: ProcStatus, expected: DropExpectation): void {
  const { uid, gid } = status;
  const uids = [uid.real, uid.effective, uid.saved, uid.filesystem];
  if (!uids.every((id) => id === expected.uid)) {
    throw new PrivdropVerifyError(
      `${where}-uid`,
      `Uid: (real, effective, saved, fs) is ${uids.join(" ")}, expected ${expected.uid} in all four`,
    );
  }
  const gids = [gid.real, gid.effective, gid.saved, gid.filesystem];
  if (!gids.every((id) => id === expected.gid)) {
    throw new PrivdropVerifyError(
      `${where}-gid`,
      `Gid: (real, effective, saved, fs) is ${gids.join(" ")}, expected ${expected.gid} in all four`,
    );
  }
  if (!same(status.groups, expected.groups)) {
    throw new PrivdropVerifyError(
      `${where}-groups`,
      `Groups: is ${list(status.groups)}, expected ${list(expected.groups)}`,
    );
  }
  const caps = status.capabilities;
  if (caps.permitted !== 0n || caps.effective !== 0n || (caps.ambient ?? 0n) !== 0n) {
    throw new PrivdropVerifyError(
      `${where}-caps`,
      `capabilities remain (CapPrm ${caps.permitted.toString(16)}, CapEff ${caps.effective.toString(16)}, CapAmb ${(caps.ambient ?? 0n).toString(16)}), expected none`,
    );
  }
}

function readOwnStatus(check: string): ProcStatus {
  try {
    return readProcStatus("self");
  } catch (error) {
    throw new PrivdropVerifyError(check, `cannot read /proc/self/status: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Credentials are per thread in the kernel; libc's setuid changes every thread. Check each. */
function checkThreads(expected: DropExpectation): void {
  let tids: string[];
  try {
    tids = readdirSync("/proc/self/task");
  } catch (error) {
    throw new PrivdropVerifyError("threads", `cannot list /proc/self/task: ${(error as Error).message}`, {
      cause: error,
    });
  }
  for (const tid of tids) {
    let status: ProcStatus;
    try {
      status = readStatusFile(`/proc/self/task/${tid}/status`);
    } catch (error) {
      // A thread that ended between readdir and read is gone, not privileged.
      const code = (error as { cause?: { code?: string } }).cause?.code;
      if (code === "ENOENT" || code === "ESRCH") continue;
      throw new PrivdropVerifyError(
        "threads",
        `cannot read /proc/self/task/${tid}/status: ${(error as Error).message}`,
        { cause: error },
      );
    }
    try {
      checkStatus("thread", status, expected);
    } catch (error) {
      throw new PrivdropVerifyError("threads", `thread ${tid}: ${(error as Error).message}`, { cause: error });
    }
  }
}

/** `attempt` must throw EPERM: anything else means the process may still be privileged. */
function mustFail(check: string, call: string, attempt: () => void): void {
  let succeeded = false;
  try {
    attempt();
    succeeded = true;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== "EPERM") {
      throw new PrivdropVerifyError(
        check,
        `${call} failed with ${code ?? String(error)} instead of EPERM, so it proves nothing`,
        { cause: error },
      );
    }
  }
  if (succeeded)
    throw new PrivdropVerifyError(
      check,
      `${call} succeeded: the process can still regain privileges (and now has); exit at once`,
    );
}

/**
 * Checks that this process runs as `expected` and cannot get its privileges back, in this order:
 * `uid`, `euid`, `gid`, `egid` (process.get*id), `groups` (process.getgroups), on Linux
 * `proc-status-uid`, `proc-status-gid` (all four ids), `proc-status-groups`, `proc-status-caps`
 * (no permitted, effective or ambient capability), `umask`, `threads` (every thread's status),
 * then `regain-setuid` (setuid(0)), `regain-seteuid`, `regain-setgid` (setgid(0)),
 * `regain-setgid-former` (setgid(formerGid)) and `regain-setgroups` (setgroups([0])), each of
 * which must fail with EPERM.
 * @throws {PrivdropVerifyError} `ECHO_ERR_PRIVDROP_VERIFY`; its `check` names the first check that failed.
 */
export function verifyDropped(expected: DropExpectation): void {
  const p = process;
  if (
    typeof p.getuid !== "function" ||
    typeof p.setuid !== "function" ||
    typeof p.setgid !== "function" ||
    typeof p.setgroups !== "function" ||
    typeof p.seteuid !== "function" ||
    typeof p.getgroups !== "function"
  ) {
    throw new PrivdropError(
      PrivdropErrorCodes.UNSUPPORTED,
      `cannot verify credentials on ${process.platform}: process.getuid/setuid are not available`,
    );
  }
  const ids: [string, () => number, number][] = [
    ["uid", () => p.getuid!(), expected.uid],
    ["euid", () => p.geteuid!(), expected.uid],
    ["gid", () => p.getgid!(), expected.gid],
    ["egid", () => p.getegid!(), expected.gid],
  ];
  for (const [check, get, want] of ids) {
    const got = get();
    if (got !== want) throw new PrivdropVerifyError(check, `process.get${check}() is ${got}, expected ${want}`);
  }
  // Node adds the effective gid to getgroups() when the kernel's list lacks it.
  const groups = p.getgroups();
  if (!same(groups, [...expected.groups, expected.gid])) {
    throw new PrivdropVerifyError(
      "groups",
      `process.getgroups() is ${list(groups)}, expected ${list([...expected.groups, expected.gid])} (the groups asked for plus the gid)`,
    );
  }
  if (process.platform === "linux") {
    const status = readOwnStatus("proc-status");
    checkStatus("proc-status", status, expected);
    if (expected.umask !== undefined && status.umask !== undefined && status.umask !== expected.umask) {
      throw new PrivdropVerifyError(
        "umask",
        `Umask: is ${status.umask.toString(8).padStart(4, "0")}, expected ${expected.umask.toString(8).padStart(4, "0")}`,
      );
    }
    checkThreads(expected);
  }
  mustFail("regain-setuid", "process.setuid(0)", () => p.setuid!(0));
  mustFail("regain-seteuid", "process.seteuid(0)", () => p.seteuid!(0));
  if (expected.gid !== 0) mustFail("regain-setgid", "process.setgid(0)", () => p.setgid!(0));
  if (expected.formerGid !== undefined && expected.formerGid !== expected.gid && expected.formerGid !== 0) {
    const former = expected.formerGid;
    mustFail("regain-setgid-former", `process.setgid(${former})`, () => p.setgid!(former));
  }
  mustFail("regain-setgroups", "process.setgroups([0])", () => p.setgroups!([0]));
}
