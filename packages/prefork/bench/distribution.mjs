// Usage: node bench/distribution.mjs [connections=2000] [concurrency=16] [workers=4] [reps=3] (after the build).
// Per-worker distribution, both schedules, interleaved repetitions (os rr os rr os rr).
import { PreforkServer } from "@echo/prefork";
import net from "node:net";
const N = Number(process.argv[2] ?? 2000),
  C = Number(process.argv[3] ?? 16),
  W = Number(process.argv[4] ?? 4),
  REPS = Number(process.argv[5] ?? 3);
const rt = (port) =>
  new Promise((res, rej) => {
    const s = net.connect(port, "127.0.0.1");
    s.on("data", () => {});
    s.on("close", res);
    s.on("error", rej);
    s.end("x".repeat(64));
  });
for (let rep = 0; rep < REPS; rep++)
  for (const schedule of ["os", "round-robin"]) {
    const server = new PreforkServer({ schedule, workers: W, execArgv: [], logger: { info() {}, error() {} } });
    const { port } = await server.listen();
    let made = 0,
      failed = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: C }, async () => {
        while (made < N) {
          made++;
          try {
            await rt(port);
          } catch {
            failed++;
          }
        }
      }),
    );
    const ms = performance.now() - t0;
    const s = await server.stats();
    const per = s.workers.map((w) => w.stats.accepted);
    console.log(
      `rep ${rep} ${schedule.padEnd(11)} ${N} conns c=${C} workers=${W}: per worker [${per.join(", ")}] max/min ${(Math.max(...per) / Math.max(1, Math.min(...per))).toFixed(2)}, failed ${failed}, ${((N / ms) * 1000).toFixed(0)} conn/s`,
    );
    await server.close();
  }
