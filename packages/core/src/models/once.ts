/**
 * `once`: accept one connection, serve it to the end, then the server is done; the article's
 * first server. The listener closes as soon as the connection is accepted.
 * @internal
 */
import type { Socket } from "node:net";
import type { Model, ModelHost } from "./model.js";

export function onceModel(host: ModelHost): Model {
  let taken = false;
  return {
    pauseOnConnect: false,
    admit(socket: Socket) {
      if (taken) {
        // Raced in before the listener closed: this server serves exactly one.
        host.reject(socket);
        return;
      }
      taken = true;
      host.stopAccepting();
      host.serve(socket, () => host.finish());
    },
    shutdown() {},
  };
}
