/**
 * Opens many idle connections (the C10k scenario's 10,000) and holds them until closed.
 * Bounded: connects run at most `parallel` at a time, each with a timeout.
 * @module
 */
import net from "node:net";

/** Idle connections held open. */
export interface IdleConnections {
  /** How many are open. */
  opened: number;
  /** How many failed to open. */
  failed: number;
  close(): void;
}

/** Opens `count` connections that send nothing. */
export async function openIdle(
  host: string,
  port: number,
  count: number,
  parallel = 256,
  timeoutMs = 5000,
): Promise<IdleConnections> {
  const sockets: net.Socket[] = [];
  let failed = 0;
  let next = 0;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => socket.destroy(new Error("connect timeout")), timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        sockets.push(socket);
        resolve();
      });
      socket.once("error", () => {
        clearTimeout(timer);
        failed++;
        resolve();
      });
      // An idle socket the server drops is simply gone; nothing is pending on it.
      socket.on("error", () => {});
    });
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return {
    get opened() {
      return sockets.filter((s) => !s.destroyed).length;
    },
    failed,
    close() {
      for (const s of sockets) s.destroy();
      sockets.length = 0;
    },
  };
}
