/**
 * What a server costs, read from /proc: CPU time (utime + stime) and resident memory of every
 * process of a server (the root process and all its descendants), and its open descriptors.
 * @module
 */
import { readFileSync, readdirSync } from "node:fs";

/** Clock ticks per second of /proc/PID/stat times (USER_HZ; 100 on every Linux we run on). */
export const CLOCK_TICKS = 100;

const PAGE_SIZE = 4096;

/** The fields of /proc/PID/stat the bench uses. */
export interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime in clock ticks (all threads of the process). */
  cpuTicks: number;
  /** Resident set size in bytes. */
  rssBytes: number;
}

/** Parses one /proc/PID/stat line. The command name is in parentheses and may hold spaces. */
export function parseStat(line: string): ProcStat {
  const close = line.lastIndexOf(")");
  const pid = Number.parseInt(line, 10);
  // Fields after the command name, numbered from 3 (state) as in proc(5).
  const rest = line.slice(close + 2).split(" ");
  const field = (n: number): number => Number(rest[n - 3]);
  return { pid, ppid: field(4), cpuTicks: field(14) + field(15), rssBytes: field(24) * PAGE_SIZE };
}

/** Reads /proc/PID/stat, or undefined when the process is gone. */
export function readStat(pid: number): ProcStat | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/** Every live process on the machine as pid → ppid. */
function processTable(): Map<number, number> {
  const table = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat) table.set(stat.pid, stat.ppid);
  }
  return table;
}

/** The pid and the pids of all its live descendants (children, grandchildren…), root first. */
export function processTree(root: number): number[] {
  const table = processTable();
  if (!table.has(root)) return [];
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of table) {
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** A reading of a whole server at one instant. */
export interface ServerSample {
  /** The processes read (root first). */
  pids: number[];
  /** CPU time of all of them, in microseconds. */
  cpuUs: number;
  /** Sum of their resident set sizes, in bytes. */
  rssBytes: number;
}

/** Reads CPU time and RSS of a server's whole process tree. */
export function sampleServer(root: number): ServerSample {
  const pids = processTree(root);
  let ticks = 0;
  let rss = 0;
  const seen: number[] = [];
  for (const pid of pids) {
    const stat = readStat(pid);
    if (!stat) continue;
    seen.push(pid);
    ticks += stat.cpuTicks;
    rss += stat.rssBytes;
  }
  return { pids: seen, cpuUs: (ticks * 1e6) / CLOCK_TICKS, rssBytes: rss };
}

/** Run time of a process's live threads from the scheduler (`/proc/PID/task/TID/schedstat`), µs. */
export function schedRunUs(pid: number): number | undefined {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  let ns = 0;
  for (const tid of tasks) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread ended
    }
  }
  return ns / 1000;
}

/** One process's CPU counters at one instant. */
export interface CpuReading {
  /** utime + stime from /proc/PID/stat, µs (tick-sampled, includes threads that ended). */
  statUs: number;
  /** Sum of the live threads' scheduler run time, µs (exact, misses threads that ended). */
  schedUs: number;
}

/** CPU counters of every process of a server's tree, by pid. */
export function cpuByPid(root: number): Map<number, CpuReading> {
  const map = new Map<number, CpuReading>();
  for (const pid of processTree(root)) {
    const stat = readStat(pid);
    if (!stat) continue;
    map.set(pid, { statUs: (stat.cpuTicks * 1e6) / CLOCK_TICKS, schedUs: schedRunUs(pid) ?? 0 });
  }
  return map;
}

/** CPU used between two readings of a server, in µs, with both sources. */
export interface CpuDelta {
  /** The figure the bench uses: per process the larger of the two deltas, summed. */
  cpuUs: number;
  /** Sum of the /proc/PID/stat deltas alone. */
  statUs: number;
  /** Sum of the schedstat deltas alone. */
  schedUs: number;
}

/**
 * CPU used between two readings, counting the processes alive at the end (a process that
 * started in between counts from zero). Per process the larger of the stat and schedstat deltas
 * is taken: stat is sampled at clock ticks and, on this kind of VM, misses most of the time of
 * processes that run in short bursts; schedstat is exact but forgets threads that ended.
 */
export function cpuDelta(before: Map<number, CpuReading>, after: Map<number, CpuReading>): CpuDelta {
  let cpuUs = 0;
  let statUs = 0;
  let schedUs = 0;
  for (const [pid, a] of after) {
    const b = before.get(pid) ?? { statUs: 0, schedUs: 0 };
    const ds = Math.max(0, a.statUs - b.statUs);
    const dr = Math.max(0, a.schedUs - b.schedUs);
    statUs += ds;
    schedUs += dr;
    cpuUs += Math.max(ds, dr);
  }
  return { cpuUs, statUs, schedUs };
}

/** Open file descriptors of a server's whole process tree (sockets included). */
export function countDescriptors(root: number): number {
  let n = 0;
  for (const pid of processTree(root)) {
    try {
      n += readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      // gone
    }
  }
  return n;
}
