/**
 * Listening for a transport: TCP, UDP, or both on one port number (as inetd serves echo).
 * @module
 */
import type { Socket as DatagramSocket } from "node:dgram";
import type { Server } from "node:net";
import { AddressInUseError } from "../errors.js";
import { listenServer } from "../internal/listen.js";
import type { NormalizedListenOptions } from "../options.js";
import { bindDatagramSocket, type BindDatagramOptions } from "./bind.js";
import type { Transport } from "./contract.js";

/** Tries of a free port for `both` with port 0, when the UDP port of a fresh TCP port is taken. */
const BOTH_TRIES = 16;

/** What {@link listenTransport} bound. */
export interface TransportListeners {
  /** True when `server` is listening (transport `tcp` or `both`). */
  tcp: boolean;
  /** The bound datagram socket (transport `udp` or `both`). */
  udp: DatagramSocket | undefined;
}

/**
 * Binds what `transport` asks for: `server` for TCP, a datagram socket for UDP, both on the
 * same port number for `both` (port 0: a free TCP port whose UDP twin is free too).
 * @throws {AddressInUseError} {@link PermissionDeniedError} {@link ListenError}
 */
export async function listenTransport(
  transport: Transport,
  listen: NormalizedListenOptions,
  server: Server,
  options: { tcp?: Record<string, unknown>; udp?: BindDatagramOptions } = {},
): Promise<TransportListeners> {
  if (transport === "tcp") {
    await listenServer(server, listen, options.tcp);
    return { tcp: true, udp: undefined };
  }
  if (transport === "udp") return { tcp: false, udp: await bindDatagramSocket(listen, options.udp) };
  for (let attempt = 1; ; attempt++) {
    await listenServer(server, listen, options.tcp);
    const bound = server.address();
    const port = typeof bound === "object" && bound !== null ? bound.port : listen.port;
    try {
      return { tcp: true, udp: await bindDatagramSocket({ ...listen, port }, options.udp) };
    } catch (error) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!(error instanceof AddressInUseError) || listen.port !== 0 || attempt >= BOTH_TRIES) throw error;
    }
  }
}
