// Usage: node bench/reload-kill.mjs (after the build). Loopback only; every loop is bounded.
// Reload and kill under continuous bounded load, both schedules: counts of connections attempted/failed.
import { PreforkServer } from "@echo/prefork";
import net from "node:net";
const rt = (port, payload) =>
  new Promise((res, rej) => {
    const s = net.connect(port, "127.0.0.1");
    const c = [];
    s.setTimeout(15000, () => s.destroy(new Error("timeout")));
    s.on("data", (d) => c.push(d));
    s.on("close", () => (Buffer.concat(c).equals(payload) ? res() : rej(new Error("mismatch"))));
    s.on("error", rej);
    s.end(payload);
  });
async function underLoad(schedule, action, label) {
  const server = new PreforkServer({
    schedule,
    workers: 4,
    execArgv: [],
    logger: { info() {}, error() {} },
    backoffInitial: 50,
  });
  const { port } = await server.listen();
  let attempted = 0,
    failed = 0,
    stop = false;
  const deadline = Date.now() + 60_000;
  const payload = Buffer.alloc(512, "z");
  const loops = Array.from({ length: 16 }, async () => {
    while (!stop && attempted < 100_000 && Date.now() < deadline) {
      attempted++;
      try {
        await rt(port, payload);
      } catch {
        failed++;
      }
    }
  });
  await new Promise((r) => setTimeout(r, 300));
  await action(server);
  await new Promise((r) => setTimeout(r, 300));
  stop = true;
  await Promise.all(loops);
  console.log(`${label.padEnd(28)} ${schedule.padEnd(11)} attempted ${attempted}, failed ${failed}`);
  await server.close();
}
const wait = (s, ev, f) =>
  new Promise((r) => {
    const l = (...a) => {
      if (f(...a)) {
        s.off(ev, l);
        r(a);
      }
    };
    s.on(ev, l);
  });
for (const schedule of ["os", "round-robin", "os", "round-robin"]) {
  await underLoad(
    schedule,
    async (s) => {
      for (let i = 0; i < 5; i++) await s.reload();
    },
    "5 reloads, 4 workers, c=16",
  );
  await underLoad(
    schedule,
    async (s) => {
      for (let i = 0; i < 3; i++) {
        const v = s.workers().find((w) => w.state === "listening");
        const rep = wait(
          s,
          "workerListening",
          (w) => w.pid !== v.pid && !s.workers().some((x) => x.pid === w.pid && x.startedAt < v.startedAt),
        );
        process.kill(v.pid, "SIGKILL");
        await rep;
      }
    },
    "3 SIGKILLs, 4 workers, c=16",
  );
}
