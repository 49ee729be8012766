#!/usr/bin/env node
// The UDP echo table (issue 18): 64 B datagrams, 50 flows, each server under the same load, in
// interleaved rounds; server CPU read from /proc (every process of the server) before and after.
// Usage: node apps/bench/scripts/udp-table.mjs [--rounds 3] [--seconds 3] [--load ref|echo-load|both]
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "3" },
    load: { type: "string", default: "ref" },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "../../..");
const refDir = process.env.ECHO_REF_DIR ?? join(root, ".cache/echo-ref");
/** The first shared/tools/build.sh in the repository's parent directory or above. */
function buildScript() {
  for (let dir = dirname(root); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "shared/tools/build.sh"))) return join(dir, "shared/tools/build.sh");
    if (dirname(dir) === dir) throw new Error("shared/tools/build.sh not found above the repository; set ECHO_REF_DIR");
  }
}
if (!existsSync(join(refDir, "ref-udp-echo-load"))) execFileSync("sh", [buildScript(), refDir], { stdio: "inherit" });
const tmp = mkdtempSync(join(tmpdir(), "echo-udp-bench-"));
const TICK = 100; // USER_HZ
const node = process.execPath;

const servers = {
  "core async": (p) => [
    node,
    join(root, "packages/core/dist/cli/echo-server.js"),
    "--transport",
    "udp",
    "--port",
    String(p),
  ],
  "prefork 2": (p) => [
    node,
    join(root, "packages/prefork/dist/cli.js"),
    "--workers",
    "2",
    "--transport",
    "udp",
    "--port",
    String(p),
  ],
  "hand-written dgram echo": (p) => [node, join(here, "../baselines/dgram-echo.mjs"), String(p)],
  "Python socketserver.UDPServer": (p) => ["python3", join(here, "../baselines/python-udpserver.py"), String(p)],
  "xinetd built-in echo": (p) => {
    const conf = join(tmp, `xinetd-${p}.conf`);
    writeFileSync(
      conf,
      `defaults\n{\n}\nservice echo\n{\n type = INTERNAL UNLISTED\n id = echo-dgram\n socket_type = dgram\n protocol = udp\n port = ${p}\n bind = 127.0.0.1\n wait = yes\n user = root\n cps = 1000000 1\n instances = UNLIMITED\n}\n`,
    );
    return ["xinetd", "-dontfork", "-f", conf, "-pidfile", join(tmp, `xinetd-${p}.pid`)];
  },
  "ref-udp-echo-server (1 thread)": (p) => [join(refDir, "ref-udp-echo-server"), "1", String(p)],
};

function tree(pid) {
  const out = [pid];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(...tree(Number(entry)));
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}
function cpuTicks(pids) {
  let t = 0;
  for (const pid of pids) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, "utf8")
        .slice(readFileSync(`/proc/${pid}/stat`, "utf8").lastIndexOf(")") + 2)
        .split(" ");
      t += Number(f[11]) + Number(f[12]);
    } catch {
      // the process ended meanwhile
    }
  }
  return t;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitUdp(port) {
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync(
        node,
        [
          join(root, "packages/client/dist/cli/echo-client.js"),
          "--udp",
          "--port",
          String(port),
          "--timeout",
          "100",
          "--retries",
          "0",
          "up?",
        ],
        { stdio: "ignore" },
      );
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`no UDP echo on ${port}`);
}
function runLoad(kind, port) {
  if (kind === "ref") {
    const out = execFileSync(
      join(refDir, "ref-udp-echo-load"),
      ["-p", String(port), "-c", "50", "-s", "64", "-d", String(seconds)],
      { encoding: "utf8" },
    );
    const m = Object.fromEntries(
      out
        .trim()
        .split(/\s+/)
        .map((kv) => kv.split("=")),
    );
    return { done: Number(m.done), pps: Number(m.pps), lost: Number(m.lost) };
  }
  const out = execFileSync(
    node,
    [
      join(root, "packages/client/dist/cli/echo-load.js"),
      "--udp",
      "-p",
      String(port),
      "-c",
      "50",
      "-s",
      "64",
      "-d",
      String(seconds),
      "--loss-timeout",
      "200",
      "--json",
    ],
    { encoding: "utf8" },
  );
  const r = JSON.parse(out);
  return { done: r.roundTrips, pps: r.roundTripsPerSecond, lost: r.lost, loadCpu: r.cost.cpuPerRoundTripUs };
}

const loads = values.load === "both" ? ["ref", "echo-load"] : [values.load];
const results = {};
let port = 20000 + Math.floor(Math.random() * 20000);
for (let round = 0; round < rounds; round++) {
  for (const [name, cmd] of Object.entries(servers)) {
    for (const load of loads) {
      const p = port++;
      const [bin, ...args] = cmd(p);
      const child = spawn(bin, args, { stdio: "ignore" });
      try {
        await waitUdp(p);
        await sleep(200);
        const pids = tree(child.pid);
        const before = cpuTicks(pids);
        const r = runLoad(load, p);
        const after = cpuTicks(tree(child.pid));
        const us = (((after - before) / TICK) * 1e6) / Math.max(1, r.done);
        (results[`${name}|${load}`] ??= []).push({ ...r, us });
        process.stderr.write(
          `round ${round + 1} ${name} (${load}): ${Math.round(r.pps)} dgram/s, ${us.toFixed(1)} µs CPU/dgram, lost ${r.lost}\n`,
        );
      } finally {
        child.kill("SIGTERM");
        await new Promise((r) => child.once("exit", r));
      }
    }
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const lines = ["| server | load | datagrams/s | server CPU µs/datagram | lost |", "|---|---|---:|---:|---:|"];
for (const [key, runs] of Object.entries(results)) {
  const [name, load] = key.split("|");
  lines.push(
    `| ${name} | ${load === "ref" ? "ref-udp-echo-load" : "echo-load --udp"} | ${Math.round(median(runs.map((r) => r.pps))).toLocaleString("en-US")} | ${median(runs.map((r) => r.us)).toFixed(1)} | ${median(runs.map((r) => r.lost))} |`,
  );
}
process.stdout.write(
  `${lines.join("\n")}\n\n(${rounds} interleaved rounds of ${seconds} s, medians; 64 B, 50 flows)\n`,
);
