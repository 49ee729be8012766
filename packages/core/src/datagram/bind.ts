/**
 * Binding a `dgram` socket with OS errors turned into the same typed errors as TCP listening,
 * and the Node.js version check for `reusePort`.
 * @module
 */
import { createSocket, type Socket } from "node:dgram";
import { isIP } from "node:net";
import { EchoError, ErrorCodes } from "../errors.js";
import { toListenError } from "../internal/listen.js";
import type { NormalizedListenOptions } from "../options.js";

/** A model cannot serve UDP on this Node.js version; `required` names the version needed. */
export class DatagramUnsupportedError extends EchoError {
  /** The Node.js versions that can, such as `22.12.0 (or 23.1.0)`. */
  readonly required: string;
  /** The running Node.js version. */
  readonly running: string;

  constructor(what: string, required: string, running: string = process.versions.node) {
    super(
      ErrorCodes.DATAGRAM_UNSUPPORTED,
      `${what} needs Node.js ${required} or newer (dgram reusePort); this is Node.js ${running}`,
    );
    this.name = "DatagramUnsupportedError";
    this.required = required;
    this.running = running;
  }
}

/** True when this Node.js's `dgram.createSocket` takes `reusePort` (22.12+ on 22, 23.1+). */
export function dgramHasReusePort(version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/** The versions {@link dgramHasReusePort} accepts, for messages. */
export const reusePortNodeVersions = "22.12.0 (on 22) or 23.1.0";

/** Options of {@link bindDatagramSocket}. */
export interface BindDatagramOptions {
  /** SO_REUSEPORT: several sockets share the port and the kernel spreads datagrams. Needs {@link dgramHasReusePort}. */
  reusePort?: boolean;
  /** In a cluster worker, false shares the master's handle (the default for dgram). @default false */
  exclusive?: boolean;
  /** Receive buffer (SO_RCVBUF) in bytes. */
  recvBufferSize?: number;
}

/**
 * Creates and binds a UDP socket for `listen.host`/`listen.port` (`udp6` for an IPv6 host).
 * @throws {AddressInUseError} {@link PermissionDeniedError} {@link ListenError} {@link DatagramUnsupportedError}
 */
export async function bindDatagramSocket(
  listen: NormalizedListenOptions,
  options: BindDatagramOptions = {},
): Promise<Socket> {
  if (options.reusePort && !dgramHasReusePort())
    throw new DatagramUnsupportedError("a datagram socket with reusePort", reusePortNodeVersions);
  const type = isIP(listen.host) === 6 ? "udp6" : "udp4";
  const socket = createSocket({
    type,
    ...(type === "udp6" ? { ipv6Only: listen.ipv6Only } : {}),
    ...(options.reusePort ? { reusePort: true } : {}),
    ...(options.recvBufferSize !== undefined ? { recvBufferSize: options.recvBufferSize } : {}),
  } as Parameters<typeof createSocket>[0]);
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      socket.close();
      reject(toListenError(error, listen));
    };
    socket.once("error", onError);
    socket.bind({ address: listen.host, port: listen.port, exclusive: options.exclusive ?? false }, () => {
      socket.off("error", onError);
      resolve();
    });
  });
  return socket;
}
