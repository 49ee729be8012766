// The minimal hand-written `net` load loop echo-load's cost is compared with: N connections, each
// sends SIZE bytes, waits for the whole echo, compares it, repeats; prints CPU µs per round trip.
// Usage: node min-net-load.mjs PORT [CONNECTIONS=50] [SIZE=64] [SECONDS=5]
import { randomFillSync } from "node:crypto";
import { connect } from "node:net";

const [port, conns = 50, size = 64, seconds = 5] = process.argv.slice(2).map(Number);
const payload = randomFillSync(Buffer.allocUnsafe(size));
let trips = 0;
let mismatches = 0;
let running = true;
const sockets = [];
for (let i = 0; i < conns; i++) {
  const socket = connect({ host: "127.0.0.1", port, noDelay: true });
  let got = 0;
  socket.on("data", (chunk) => {
    if (payload.compare(chunk, 0, chunk.length, got, got + chunk.length) !== 0) mismatches++;
    got += chunk.length;
    if (got >= size) {
      got = 0;
      trips++;
      if (running) socket.write(payload);
    }
  });
  socket.on("connect", () => socket.write(payload));
  sockets.push(socket);
}
const cpu0 = process.cpuUsage();
const t0 = performance.now();
setTimeout(() => {
  running = false;
  const cpu = process.cpuUsage(cpu0);
  const elapsed = (performance.now() - t0) / 1000;
  process.stdout.write(
    `${JSON.stringify({ roundTrips: trips, rps: trips / elapsed, mismatches, cpuPerRoundTripUs: (cpu.user + cpu.system) / trips })}\n`,
  );
  for (const s of sockets) s.destroy();
}, seconds * 1000);
