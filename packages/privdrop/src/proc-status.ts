/**
 * Reads the kernel's view of a process's credentials from `/proc/<pid>/status` (Linux).
 * @module
 */
import { readFileSync } from "node:fs";
import { PrivdropError, PrivdropErrorCodes } from "./errors.js";

/** The four ids Linux keeps per process, in the order of the `Uid:`/`Gid:` lines. */
export interface IdSet {
  real: number;
  effective: number;
  saved: number;
  /** The filesystem id (`setfsuid`), which follows the effective id unless changed. */
  filesystem: number;
}

/** The capability sets of the `Cap*` lines, as bit masks. */
export interface CapabilitySets {
  inheritable: bigint;
  permitted: bigint;
  effective: bigint;
  bounding: bigint;
  /** Missing on kernels before 4.3. */
  ambient: bigint | undefined;
}

/** What {@link readProcStatus} returns. */
export interface ProcStatus {
  /** The `Name:` line (the thread's command name). */
  name: string;
  /** The `Pid:` line (the thread id when read from `/proc/<pid>/task/<tid>/status`). */
  pid: number;
  uid: IdSet;
  gid: IdSet;
  /** The supplementary groups (`Groups:`), exactly as the kernel holds them. */
  groups: number[];
  /** The `Umask:` line; missing on kernels before 4.7. */
  umask: number | undefined;
  capabilities: CapabilitySets;
  /** The `NoNewPrivs:` line; missing on kernels before 4.10. */
  noNewPrivs: boolean | undefined;
}

function idSet(line: string | undefined, label: string): IdSet {
  const ids = (line ?? "").trim().split(/\s+/).map(Number);
  if (ids.length !== 4 || !ids.every(Number.isInteger)) {
    throw new PrivdropError(
      PrivdropErrorCodes.PROC_STATUS,
      `cannot parse the ${label}: line of /proc status: ${JSON.stringify(line)}`,
    );
  }
  const [real, effective, saved, filesystem] = ids as [number, number, number, number];
  return { real, effective, saved, filesystem };
}

function capability(line: string | undefined, label: string): bigint {
  if (line === undefined || !/^[0-9a-f]+$/i.test(line.trim())) {
    throw new PrivdropError(
      PrivdropErrorCodes.PROC_STATUS,
      `cannot parse the ${label}: line of /proc status: ${JSON.stringify(line)}`,
    );
  }
  return BigInt(`0x${line.trim()}`);
}

/**
 * Parses the text of a `/proc/<pid>/status` file.
 * @throws {PrivdropError} `ECHO_ERR_PRIVDROP_PROC_STATUS` when a credential line is missing or malformed.
 */
export function parseProcStatus(text: string): ProcStatus {
  const lines = new Map<string, string>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) lines.set(line.slice(0, colon), line.slice(colon + 1));
  }
  const groupsLine = lines.get("Groups");
  if (groupsLine === undefined)
    throw new PrivdropError(PrivdropErrorCodes.PROC_STATUS, "the /proc status has no Groups: line");
  const groups = groupsLine.trim() === "" ? [] : groupsLine.trim().split(/\s+/).map(Number);
  if (!groups.every(Number.isInteger))
    throw new PrivdropError(
      PrivdropErrorCodes.PROC_STATUS,
      `cannot parse the Groups: line of /proc status: ${JSON.stringify(groupsLine)}`,
    );
  const umask = lines.get("Umask");
  const noNewPrivs = lines.get("NoNewPrivs");
  const ambient = lines.get("CapAmb");
  return {
    name: (lines.get("Name") ?? "").trim(),
    pid: Number((lines.get("Pid") ?? "").trim()),
    uid: idSet(lines.get("Uid"), "Uid"),
    gid: idSet(lines.get("Gid"), "Gid"),
    groups,
    umask: umask === undefined ? undefined : parseInt(umask.trim(), 8),
    capabilities: {
      inheritable: capability(lines.get("CapInh"), "CapInh"),
      permitted: capability(lines.get("CapPrm"), "CapPrm"),
      effective: capability(lines.get("CapEff"), "CapEff"),
      bounding: capability(lines.get("CapBnd"), "CapBnd"),
      ambient: ambient === undefined ? undefined : capability(ambient, "CapAmb"),
    },
    noNewPrivs: noNewPrivs === undefined ? undefined : noNewPrivs.trim() === "1",
  };
}

/**
 * Reads and parses `/proc/<pid>/status` (Linux only): the real, effective, saved and filesystem
 * uid and gid, the supplementary groups, the umask and the capability sets.
 * @param pid a process id, or `"self"` (the default) for this process.
 * @throws {PrivdropError} `ECHO_ERR_PRIVDROP_PROC_STATUS` when the file cannot be read or parsed.
 */
export function readProcStatus(pid: number | "self" = "self"): ProcStatus {
  if (pid !== "self" && (!Number.isInteger(pid) || pid <= 0)) {
    throw new PrivdropError(
      PrivdropErrorCodes.INVALID_ARG,
      `pid must be a positive integer or "self", got ${String(pid)}`,
    );
  }
  return readStatusFile(`/proc/${pid}/status`);
}

/** Reads and parses a status file by path, such as `/proc/self/task/<tid>/status`. @internal */
export function readStatusFile(path: string): ProcStatus {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new PrivdropError(PrivdropErrorCodes.PROC_STATUS, `cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return parseProcStatus(text);
}
