#!/usr/bin/env node
// Interleaved comparison of echo-load against the C ref-echo-load (see shared/tools/README.md).
// Starts ref-echo-server with THREADS threads on 127.0.0.1, then runs C, ours, C, ours, ... for
// ROUNDS rounds of SECONDS each, 64-byte payloads, 50 persistent connections, and prints every
// run plus the medians, the ratio, and each load generator's CPU time per round trip.
//
// Usage: node bench/compare-ref.mjs [--ref-dir /tmp/echo-ref] [--threads 1] [--rounds 5]
//                                   [--seconds 5] [--port 19990] [--load-threads 1[,2...]] [--extra "..."]
// With several --load-threads values, each round runs C and then echo-load once per value.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";

const { values } = parseArgs({
  options: {
    "ref-dir": { type: "string", default: "/tmp/echo-ref" },
    threads: { type: "string", default: "1" },
    rounds: { type: "string", default: "5" },
    seconds: { type: "string", default: "5" },
    port: { type: "string", default: "19990" },
    connections: { type: "string", default: "50" },
    size: { type: "string", default: "64" },
    "load-threads": { type: "string", default: "1" },
    extra: { type: "string", default: "" },
  },
});
const refDir = values["ref-dir"];
const server = `${refDir}/ref-echo-server`;
const refLoad = `${refDir}/ref-echo-load`;
if (!existsSync(server) || !existsSync(refLoad)) {
  console.error(`missing ${server} or ${refLoad}: build them with sh shared/tools/build.sh ${refDir}`);
  process.exit(2);
}
const echoLoad = fileURLToPath(new URL("../dist/cli/echo-load.js", import.meta.url));
const { port, seconds, connections, size } = values;

/** Runs a shell command and returns its stdout and the CPU seconds (user+sys) it used. */
function timed(command) {
  const r = spawnSync("bash", ["-c", `${command}; times`], { encoding: "utf8" });
  const lines = r.stdout.trim().split("\n");
  const times = lines.pop(); // children's "XmY.YYYs XmZ.ZZZs"
  const cpu = [...times.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
  lines.pop(); // the shell's own line
  return { out: lines.join("\n"), cpu, stderr: r.stderr };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const srv = spawn(server, [values.threads, port], { stdio: "ignore" });
await sleep(300);
const c = [];
const variants = values["load-threads"].split(",").map((t) => ({ threads: t, runs: [] }));
try {
  for (let round = 1; round <= Number(values.rounds); round++) {
    const a = timed(`${refLoad} -p ${port} -c ${connections} -s ${size} -d ${seconds}`);
    const rps = Number(/rps=(\d+)/.exec(a.out)?.[1]);
    const done = Number(/done=(\d+)/.exec(a.out)?.[1]);
    c.push({ rps, cpuUs: (a.cpu * 1e6) / done });
    let line = `round ${round}: ref-echo-load ${Math.round(rps)} rt/s (${c.at(-1).cpuUs.toFixed(2)} µs CPU/rt)`;
    for (const v of variants) {
      const b = timed(
        `${process.execPath} ${echoLoad} -p ${port} -c ${connections} -s ${size} -d ${seconds} -t ${v.threads} ${values.extra} --json`,
      );
      const result = JSON.parse(b.out);
      v.runs.push({ rps: result.roundTripsPerSecond, cpuUs: (b.cpu * 1e6) / result.roundTrips });
      line += `  echo-load -t ${v.threads} ${Math.round(result.roundTripsPerSecond)} rt/s (${v.runs.at(-1).cpuUs.toFixed(2)} µs CPU/rt, mismatches ${result.mismatches}, errors ${result.errors})`;
    }
    console.log(line);
  }
} finally {
  srv.kill("SIGTERM");
}
const mc = median(c.map((x) => x.rps));
console.log(
  `server threads ${values.threads}, ${values.rounds} rounds of ${seconds} s, ${connections} connections, ${size} B: ` +
    `median ref-echo-load ${Math.round(mc)} rt/s (${median(c.map((x) => x.cpuUs)).toFixed(2)} µs CPU/rt)`,
);
for (const v of variants) {
  const mo = median(v.runs.map((x) => x.rps));
  const ratios = v.runs.map((x, i) => x.rps / c[i].rps);
  console.log(
    `  echo-load -t ${v.threads}: median ${Math.round(mo)} rt/s (${median(v.runs.map((x) => x.cpuUs)).toFixed(2)} µs CPU/rt), ` +
      `ratio of medians ${(mo / mc).toFixed(3)}, median of per-round ratios ${median(ratios).toFixed(3)}`,
  );
}
