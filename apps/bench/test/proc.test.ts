import { afterEach, describe, expect, it } from "vitest";
import { countDescriptors, cpuByPid, cpuDelta, parseStat, processTree, readStat, sampleServer } from "../src/proc.js";
import { nodeChild } from "./helpers.js";

// Burns `ms` of this process's own CPU (as the process itself counts it) when told to.
const BURNER = `
const burn = (ms) => { const end = process.cpuUsage().user / 1000 + ms; let x = 0; while (process.cpuUsage().user / 1000 < end) x++; return x; };
console.log("ready");
process.stdin.on("data", () => { burn(300); console.log("burnt"); });
`;

const children: { kill(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.kill()));
});

describe("/proc accounting", () => {
  it("parses a stat line whose command name holds spaces and parentheses", () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[4 - 3] = "77"; // ppid
    fields[14 - 3] = "120"; // utime
    fields[15 - 3] = "30"; // stime
    fields[24 - 3] = "10"; // rss pages
    const stat = parseStat(`4242 (my (odd) name) ${fields.join(" ")}`);
    expect(stat).toEqual({ pid: 4242, ppid: 77, cpuTicks: 150, rssBytes: 10 * 4096 });
  });

  it("counts the CPU a real busy child spends between two readings, and not before", async () => {
    const c = nodeChild(BURNER);
    children.push(c);
    await c.line("ready");
    const pid = c.child.pid!;
    const before = cpuByPid(pid);
    const idleAfter = cpuByPid(pid);
    // Nothing ran in between: far less than the 300 ms the burn takes.
    expect(cpuDelta(before, idleAfter).cpuUs).toBeLessThan(100_000);
    c.child.stdin!.write("go\n");
    await c.line("burnt");
    const after = cpuByPid(pid);
    const delta = cpuDelta(before, after);
    // The child counted 300 ms of user time itself; /proc must see at least most of it.
    expect(delta.cpuUs).toBeGreaterThanOrEqual(250_000);
    expect(delta.cpuUs).toBeLessThan(5_000_000);
    expect(delta.cpuUs).toBe(Math.max(delta.statUs, delta.schedUs));
    expect(readStat(pid)?.rssBytes).toBeGreaterThan(1_000_000);
  });

  it("accounts every process of a tree: a master and the busy workers it started", async () => {
    const master = nodeChild(`
const { spawn } = require("node:child_process");
const workers = [0, 1].map(() => spawn(process.execPath, ["-e", ${JSON.stringify(BURNER)}], { stdio: ["pipe", "pipe", "inherit"] }));
let ready = 0, burnt = 0;
for (const w of workers) w.stdout.on("data", (d) => {
  if (String(d).includes("ready") && ++ready === 2) console.log("ready " + workers.map((x) => x.pid).join(" "));
  if (String(d).includes("burnt") && ++burnt === 2) console.log("burnt");
});
process.stdin.on("data", () => workers.forEach((w) => w.stdin.write("go\\n")));
process.on("SIGTERM", () => { workers.forEach((w) => w.kill("SIGKILL")); process.exit(0); });
`);
    children.push({
      kill: async () => {
        for (const pid of processTree(master.child.pid!).slice(1)) process.kill(pid, "SIGKILL");
        await master.kill();
      },
    });
    await master.line("ready");
    const pid = master.child.pid!;
    const tree = processTree(pid);
    expect(tree[0]).toBe(pid);
    expect(tree).toHaveLength(3);
    const before = cpuByPid(pid);
    master.child.stdin!.write("go\n");
    await master.line("burnt");
    const delta = cpuDelta(before, cpuByPid(pid));
    // Two workers burnt 300 ms each; the master alone did almost nothing.
    expect(delta.cpuUs).toBeGreaterThanOrEqual(500_000);
    expect(sampleServer(pid).pids).toHaveLength(3);
    expect(countDescriptors(pid)).toBeGreaterThan(3);
  });

  it("returns nothing for a process that does not exist", () => {
    expect(processTree(2 ** 22 + 1)).toEqual([]);
    expect(readStat(2 ** 22 + 1)).toBeUndefined();
  });
});
