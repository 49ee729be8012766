// The minimal hand-written `dgram` load loop: FLOWS sockets, one datagram in flight each, a
// sequence number in the first 8 bytes, every reply compared; prints CPU µs per round trip.
// Usage: node min-dgram-load.mjs PORT [FLOWS=50] [SIZE=64] [SECONDS=5]
import { randomFillSync } from "node:crypto";
import { createSocket } from "node:dgram";

const [port, flows = 50, size = 64, seconds = 5] = process.argv.slice(2).map(Number);
const template = randomFillSync(Buffer.allocUnsafe(size));
let trips = 0;
let mismatches = 0;
let running = true;
const sockets = [];
for (let i = 0; i < flows; i++) {
  const socket = createSocket("udp4");
  let seq = 0;
  const send = () => {
    const out = Buffer.allocUnsafe(size);
    template.copy(out, 8, 8);
    out.writeUInt32BE(i, 0);
    out.writeUInt32BE(++seq, 4);
    socket.send(out, port, "127.0.0.1");
  };
  socket.on("message", (reply) => {
    if (reply.length !== size || reply.readUInt32BE(4) !== seq || template.compare(reply, 8, size, 8, size) !== 0)
      mismatches++;
    else trips++;
    if (running) send();
  });
  socket.bind(0, "127.0.0.1", send);
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
  for (const s of sockets) s.close();
}, seconds * 1000);
