/**
 * A child process that opens N idle connections to an echo server and holds them, so that the
 * server's descriptors are not mixed with the client's in one process (select() refuses every
 * descriptor at or above FD_SETSIZE, whoever holds the low ones).
 *
 * `node idle-holder.js HOST PORT COUNT` prints one JSON line `{"opened":N,"failed":F}` once every
 * connection is up, then holds them until its standard input closes (the parent is gone or done),
 * a SIGTERM, or 120 s: it never outlives its parent for long.
 * @module
 */
import { connect, type Socket } from "node:net";

const [host, portText, countText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
if (!host || !Number.isInteger(port) || !Number.isInteger(count) || count < 1) {
  process.stderr.write("usage: idle-holder.js HOST PORT COUNT\n");
  process.exit(2);
}

const sockets: Socket[] = [];
const exit = (): void => {
  for (const socket of sockets) socket.destroy();
  process.exit(0);
};
process.stdin.on("end", exit).on("close", exit).resume();
process.once("SIGTERM", exit);
setTimeout(exit, 120_000).unref();

function open(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => resolve(true));
    // A close by the server (select refusing the descriptor) is expected: nothing to do.
    socket.on("error", () => resolve(false));
    socket.on("data", () => undefined);
    sockets.push(socket);
  });
}

let opened = 0;
let failed = 0;
// 100 connects in flight at a time: the listen backlog never overflows.
for (let started = 0; started < count; started += 100) {
  const batch = await Promise.all(Array.from({ length: Math.min(100, count - started) }, open));
  for (const ok of batch) {
    if (ok) opened++;
    else failed++;
  }
}
process.stdout.write(`${JSON.stringify({ opened, failed })}\n`);
