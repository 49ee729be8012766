/**
 * `iterative`: one connection at a time, the others waiting their turn, like the article's
 * accept loop and Python's `socketserver.TCPServer`.
 *
 * Node accepts continuously, so waiting connections are accepted paused (nothing is read from
 * them) and queued in order; the queue counts against `maxConnections`.
 * @internal
 */
import type { Socket } from "node:net";
import type { Model, ModelHost } from "./model.js";

export function iterativeModel(host: ModelHost, onQueueChange: (length: number) => void): Model {
  const queue: Socket[] = [];
  let busy = false;

  const next = (): void => {
    const socket = queue.shift();
    onQueueChange(queue.length);
    if (!socket) {
      busy = false;
      return;
    }
    if (socket.destroyed) {
      next();
      return;
    }
    busy = true;
    host.serve(socket, next);
  };

  return {
    pauseOnConnect: true,
    admit(socket: Socket) {
      if (host.active + queue.length >= host.maxConnections) {
        host.reject(socket);
        return;
      }
      queue.push(socket);
      onQueueChange(queue.length);
      if (!busy) next();
    },
    shutdown() {
      for (const socket of queue.splice(0)) socket.destroy();
      onQueueChange(0);
    },
  };
}
