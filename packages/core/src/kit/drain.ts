/**
 * "Drain, then destroy at the deadline": how every model closes the connections it holds.
 * @module
 */
import type { Socket } from "node:net";
import { CloseTimeoutError } from "../errors.js";

/** What {@link drainConnections} needs from the model. */
export interface DrainOptions {
  /** Milliseconds open connections may take to finish. */
  timeout: number;
  /** How many connections are open now. */
  open(): number;
  /** Destroys every connection still open (called once, at the deadline). */
  destroy(): void;
  /** Called at the deadline, before `destroy`, with the error to log. */
  onTimeout?(error: CloseTimeoutError): void;
  /** Called once, synchronously, when the last connection is gone. */
  onDrained?(): void;
}

/** A drain in progress. */
export interface Drain {
  /** Tell the drain that a connection has closed. */
  closed(): void;
  /** Resolves once no connection is open (destroyed at the deadline if need be). */
  readonly done: Promise<void>;
}

/**
 * Waits for open connections to finish; at `timeout` ms, reports a {@link CloseTimeoutError}
 * and destroys the rest. Call `closed()` whenever a connection closes. With no connection open
 * it is drained at once.
 */
export function drainConnections(options: DrainOptions): Drain {
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  let timer: NodeJS.Timeout | undefined;
  let drained = false;
  const check = (): void => {
    if (drained || options.open() > 0) return;
    drained = true;
    clearTimeout(timer);
    options.onDrained?.();
    resolve();
  };
  check();
  if (!drained) {
    timer = setTimeout(() => {
      options.onTimeout?.(new CloseTimeoutError(options.timeout, options.open()));
      options.destroy();
    }, options.timeout);
  }
  return { closed: check, done };
}

/**
 * {@link drainConnections} over a set of `net.Socket`s that the model removes sockets from as
 * they close (calling `closed()` then): at the deadline every socket left is destroyed.
 */
export function drainSockets(
  sockets: ReadonlySet<Socket>,
  options: Pick<DrainOptions, "timeout" | "onTimeout" | "onDrained">,
): Drain {
  return drainConnections({
    ...options,
    open: () => sockets.size,
    destroy: () => sockets.forEach((socket) => socket.destroy()),
  });
}
