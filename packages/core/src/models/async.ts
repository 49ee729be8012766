/**
 * `async`: Node's natural model. Every connection is served at once on one thread's event loop.
 * @internal
 */
import type { Socket } from "node:net";
import type { Model, ModelHost } from "./model.js";

export function asyncModel(host: ModelHost): Model {
  return {
    pauseOnConnect: false,
    admit(socket: Socket) {
      if (host.active >= host.maxConnections) host.reject(socket);
      else host.serve(socket, () => {});
    },
    shutdown() {},
  };
}
