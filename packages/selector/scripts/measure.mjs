// Server CPU per round trip, the figure ../../shared/tools/README.md describes: 64-byte echo over
// 50 persistent connections driven by ref-echo-load, reading utime+stime of the server process
// from /proc/PID/stat before and after each run. Servers run side by side on their own ports;
// runs are interleaved (A B C … A B C …) and the medians are printed with ratios to the C
// reference. Not a test: run it by hand after `pnpm build` (needs /tmp/echo-ref, see tools/).
//
//   node scripts/measure.mjs [--rounds 3] [--duration 5] [--idle 0] [--only epoll,poll,...]
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { readFileSync } from "node:fs";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "5" },
    idle: { type: "string", default: "0" },
    conns: { type: "string", default: "50" },
    size: { type: "string", default: "64" },
    only: { type: "string" },
    ref: { type: "string", default: "/tmp/echo-ref" },
  },
});
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "dist", "cli.js");
const tick = 100; // USER_HZ on Linux
const netServer = `const net=require("net");net.createServer({noDelay:true},s=>{s.on("data",d=>s.write(d));s.on("error",()=>{})}).listen(+process.argv[1],"127.0.0.1",()=>console.log("listening"))`;
const many = ["--max-connections", "20000", "--idle-timeout", "0"];
// The article's selectors loop in Python, persistent connections (a baseline, like ref-echo-server).
const pythonSelectors = `
import selectors, socket, sys
sel = selectors.DefaultSelector()
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1])))
l.listen(4096)
l.setblocking(False)
sel.register(l, selectors.EVENT_READ)
print("listening", flush=True)
while True:
    for key, events in sel.select():
        if key.fileobj is l:
            try:
                c, _ = l.accept()
            except BlockingIOError:
                continue
            c.setblocking(False)
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sel.register(c, selectors.EVENT_READ)
        else:
            c = key.fileobj
            try:
                data = c.recv(65536)
            except (BlockingIOError, ConnectionError):
                data = b""
            if data:
                try:
                    c.send(data)
                except (BlockingIOError, ConnectionError):
                    data = b""
            if not data:
                sel.unregister(c)
                c.close()
`;

const all = [
  { name: "ref-echo-server 1", cmd: (p) => [join(values.ref, "ref-echo-server"), ["1", String(p)]] },
  {
    name: "selector epoll",
    cmd: (p) => [process.execPath, [cli, "--port", String(p), "--selector", "epoll", ...many]],
  },
  {
    name: "selector epoll (JS handler)",
    cmd: (p) => [process.execPath, [cli, "--port", String(p), "--selector", "epoll", "--no-fast-path", ...many]],
  },
  {
    name: "selector io_uring",
    cmd: (p) => [process.execPath, [cli, "--port", String(p), "--selector", "io_uring", ...many]],
  },
  {
    name: "selector io_uring (JS handler)",
    cmd: (p) => [process.execPath, [cli, "--port", String(p), "--selector", "io_uring", "--no-fast-path", ...many]],
  },
  {
    name: "selector epoll, 2 loops",
    cmd: (p) => [process.execPath, [cli, "--port", String(p), "--selector", "epoll", "--loops", "2", ...many]],
  },
  {
    name: "selector epoll (JS handler), 2 loops",
    cmd: (p) => [
      process.execPath,
      [cli, "--port", String(p), "--selector", "epoll", "--no-fast-path", "--loops", "2", ...many],
    ],
  },
  { name: "selector poll", cmd: (p) => [process.execPath, [cli, "--port", String(p), "--selector", "poll", ...many]] },
  {
    name: "selector poll (JS handler)",
    cmd: (p) => [process.execPath, [cli, "--port", String(p), "--selector", "poll", "--no-fast-path", ...many]],
  },
  {
    name: "selector select",
    cmd: (p) => [process.execPath, [cli, "--port", String(p), "--selector", "select", ...many]],
  },
  {
    name: "selector select (JS handler)",
    cmd: (p) => [process.execPath, [cli, "--port", String(p), "--selector", "select", "--no-fast-path", ...many]],
  },
  { name: "node net on('data')→write", cmd: (p) => [process.execPath, ["-e", netServer, String(p)]] },
  { name: "python selectors (article)", cmd: (p) => ["python3", ["-c", pythonSelectors, String(p)]] },
];
const only = values.only?.split(",");
const servers = all.filter((s) => !only || only.some((o) => s.name.includes(o)));

function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14 and 15)
}

async function startServer(server, port) {
  const [cmd, args] = server.cmd(port);
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
  if (server.name.startsWith("ref-")) await new Promise((r) => setTimeout(r, 300));
  else {
    // A listener, not `for await … break`: breaking out destroys the pipe, and a server that
    // writes again (Python's print writes its end separately) dies of EPIPE.
    await new Promise((resolve, reject) => {
      let out = "";
      const onData = (chunk) => {
        out += chunk;
        if (!out.includes("listening")) return;
        child.stdout.off("data", onData);
        child.off("exit", onExit);
        resolve();
      };
      const onExit = (code) => reject(new Error(`${server.name} exited (${code}) before listening`));
      child.stdout.on("data", onData);
      child.once("exit", onExit);
    });
  }
  child.stdout.resume();
  return child;
}

async function load(port) {
  const args = ["-p", String(port), "-c", values.conns, "-s", values.size, "-d", values.duration];
  if (values.idle !== "0") args.push("-i", values.idle);
  const child = spawn(join(values.ref, "ref-echo-load"), args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  await once(child, "exit");
  const fields = Object.fromEntries(
    out
      .trim()
      .split(/\s+/)
      .map((kv) => kv.split("=")),
  );
  return {
    rps: Number(fields.rps),
    done: Number(fields.done),
    errors: Number(fields.errors),
    mismatch: Number(fields.mismatch),
    line: out.trim(),
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = new Map(servers.map((s) => [s.name, []]));
// A port nobody listens on: ref-echo-server uses SO_REUSEPORT, so a second one on the same port
// (another user's) would silently take half of the load.
async function freePort() {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const probe = createServer();
    const ok = await new Promise((resolve) => {
      probe.once("error", () => resolve(false));
      probe.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (ok) {
      await new Promise((resolve) => probe.close(resolve));
      return port;
    }
  }
}
const running = [];
for (const server of servers) {
  server.port = await freePort();
  server.child = await startServer(server, server.port);
  running.push(server.child);
}
try {
  for (const server of servers) await load(server.port).catch(() => {}); // warm-up (JIT, allocations)
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const server of servers) {
      const before = cpuTicks(server.child.pid);
      const r = await load(server.port);
      const cpuUs = ((cpuTicks(server.child.pid) - before) * 1e6) / tick;
      const usPerRt = r.done > 0 ? cpuUs / r.done : NaN;
      results.get(server.name).push({ usPerRt, rps: r.rps });
      console.log(`round ${round} ${server.name.padEnd(30)} ${usPerRt.toFixed(2)} µs/rt  ${r.line}`);
    }
  }
} finally {
  for (const child of running) child.kill("SIGTERM");
}
const refName = servers.find((s) => s.name.startsWith("ref-"))?.name;
const refMedian = refName ? median(results.get(refName).map((r) => r.usPerRt)) : undefined;
console.log(
  `\nmedians of ${values.rounds} interleaved runs, ${values.conns} conns x ${values.size} B, ${values.duration} s each${values.idle !== "0" ? `, ${values.idle} idle connections` : ""}:`,
);
for (const [name, runs] of results) {
  const us = median(runs.map((r) => r.usPerRt));
  const rps = median(runs.map((r) => r.rps));
  const ratio = refMedian ? `  ${(us / refMedian).toFixed(2)}x ref` : "";
  console.log(
    `${name.padEnd(30)} ${us.toFixed(2).padStart(6)} µs/rt ${String(Math.round(rps)).padStart(8)} rps${ratio}`,
  );
}
