/**
 * systemd socket activation: the listening sockets a service manager (systemd, or
 * `systemd-socket-activate`) opened and bound before starting this process, passed as file
 * descriptors 3, 4, … and described by `LISTEN_FDS`, `LISTEN_PID` and `LISTEN_FDNAMES`. With them a
 * server can serve port 7 without ever running as root.
 * @module
 */
import { fstatSync } from "node:fs";
import { SocketActivationError } from "./activation-error.js";

/** The first passed descriptor (`SD_LISTEN_FDS_START`): 0–2 are standard input, output and error. */
export const LISTEN_FDS_START = 3;

/** One socket passed by the service manager. `server.listen({ fd: socket.fd })` serves on it. */
export interface ActivatedSocket {
  /** The file descriptor, from 3 on. */
  readonly fd: number;
  /** Its name from `LISTEN_FDNAMES` (a unit's `FileDescriptorName=`, or `--fdname`); `"unknown"` when unnamed. */
  readonly name: string;
  /** Its position among the passed sockets, from 0. */
  readonly index: number;
}

/** Options of {@link listenFds} and {@link activatedSocket}. */
export interface ListenFdsOptions {
  /** Where to read the variables from. @default process.env */
  env?: Record<string, string | undefined>;
  /** The pid `LISTEN_PID` must name. @default process.pid */
  pid?: number;
  /**
   * Remove `LISTEN_FDS`, `LISTEN_PID` and `LISTEN_FDNAMES` from `env` after reading them, so
   * child processes do not take the sockets for theirs (as `sd_listen_fds(1)` does).
   * @default true
   */
  unsetEnvironment?: boolean;
}

/** Which passed socket {@link activatedSocket} returns: by name, by index, or the only one. */
export type ActivationSelector = { name: string } | { index: number };

const MAX_FDS = 4096;

/**
 * The sockets passed to this process, as `sd_listen_fds_with_names()` reads them: none when
 * `LISTEN_FDS` or `LISTEN_PID` is unset or `LISTEN_PID` names another process (the variables were
 * inherited). The variables are removed after reading (see {@link ListenFdsOptions.unsetEnvironment}),
 * so call this once.
 *
 * @throws {SocketActivationError} `ECHO_ERR_SOCKET_ACTIVATION` (`invalid-environment`) when a
 *   variable is malformed, or `LISTEN_FDNAMES` does not name every descriptor.
 */
export function listenFds(options: ListenFdsOptions = {}): ActivatedSocket[] {
  return read(options).sockets;
}

/**
 * The passed socket to listen on: the one named `select.name`, the one at `select.index`, or,
 * without `select`, the only one. Returns `{ fd, name, index }`; `server.listen({ fd })` takes it.
 *
 * @example
 * ```ts
 * const { fd } = activatedSocket({ name: "echo" });
 * net.createServer(onConnection).listen({ fd });
 * ```
 * @throws {SocketActivationError} `ECHO_ERR_SOCKET_ACTIVATION` with `reason` `not-activated`,
 *   `pid-mismatch`, `invalid-environment`, `not-found` (no such name or index, or several sockets
 *   and no selector) or `not-a-socket`.
 */
export function activatedSocket(select?: ActivationSelector, options: ListenFdsOptions = {}): ActivatedSocket {
  const { sockets, status, listenPid, pid } = read(options);
  if (status === "not-activated") {
    throw new SocketActivationError(
      "not-activated",
      "no socket was passed: LISTEN_FDS and LISTEN_PID are not set (start the server from a systemd .socket unit or systemd-socket-activate)",
    );
  }
  if (status === "pid-mismatch") {
    throw new SocketActivationError(
      "pid-mismatch",
      `the passed sockets are for process ${listenPid}, not this one (${pid}): LISTEN_PID was inherited`,
    );
  }
  let found: ActivatedSocket;
  if (select === undefined) {
    if (sockets.length !== 1) {
      throw new SocketActivationError(
        "not-found",
        `${sockets.length} sockets were passed (${sockets.map((s) => s.name).join(", ")}): choose one by name or index`,
      );
    }
    found = sockets[0] as ActivatedSocket;
  } else if ("name" in select) {
    const named = sockets.find((s) => s.name === select.name);
    if (named === undefined)
      throw new SocketActivationError(
        "not-found",
        `no passed socket is named ${JSON.stringify(select.name)} (passed: ${sockets.map((s) => s.name).join(", ") || "none"})`,
      );
    found = named;
  } else {
    const at = Number.isSafeInteger(select.index) ? sockets[select.index] : undefined;
    if (at === undefined)
      throw new SocketActivationError(
        "not-found",
        `no passed socket has index ${String(select.index)}: ${sockets.length} passed (indexes from 0)`,
      );
    found = at;
  }
  checkSocket(found.fd);
  return found;
}

/**
 * Checks that `fd` (a descriptor given explicitly, as `--listen-fd N` does) is an open socket,
 * and returns what `server.listen()` takes.
 * @throws {SocketActivationError} `ECHO_ERR_SOCKET_ACTIVATION` (`not-a-socket`, or
 *   `invalid-environment` when `fd` is not a non-negative integer).
 */
export function listenFdHandle(fd: number): { fd: number } {
  if (!Number.isSafeInteger(fd) || fd < 0)
    throw new SocketActivationError(
      "invalid-environment",
      `the listen fd must be a non-negative integer, got ${String(fd)}`,
    );
  checkSocket(fd);
  return { fd };
}

function checkSocket(fd: number): void {
  let isSocket: boolean;
  try {
    isSocket = fstatSync(fd).isSocket();
  } catch (error) {
    throw new SocketActivationError(
      "not-a-socket",
      `file descriptor ${fd} is not open (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      { cause: error },
    );
  }
  if (!isSocket) throw new SocketActivationError("not-a-socket", `file descriptor ${fd} is not a socket`);
}

interface Reading {
  sockets: ActivatedSocket[];
  status: "ok" | "not-activated" | "pid-mismatch";
  listenPid: number;
  pid: number;
}

function read(options: ListenFdsOptions): Reading {
  const env = options.env ?? process.env;
  const pid = options.pid ?? process.pid;
  const fdsText = env.LISTEN_FDS;
  const pidText = env.LISTEN_PID;
  const namesText = env.LISTEN_FDNAMES;
  if (options.unsetEnvironment ?? true) {
    delete env.LISTEN_FDS;
    delete env.LISTEN_PID;
    delete env.LISTEN_FDNAMES;
  }
  if (fdsText === undefined || pidText === undefined)
    return { sockets: [], status: "not-activated", listenPid: 0, pid };
  if (!/^[1-9][0-9]*$/.test(pidText))
    throw new SocketActivationError(
      "invalid-environment",
      `LISTEN_PID must be a process id, got ${JSON.stringify(pidText)}`,
    );
  const listenPid = Number(pidText);
  if (listenPid !== pid) return { sockets: [], status: "pid-mismatch", listenPid, pid };
  if (!/^(0|[1-9][0-9]*)$/.test(fdsText) || Number(fdsText) > MAX_FDS) {
    throw new SocketActivationError(
      "invalid-environment",
      `LISTEN_FDS must be a count of descriptors from 0 to ${MAX_FDS}, got ${JSON.stringify(fdsText)}`,
    );
  }
  const count = Number(fdsText);
  const names = namesText === undefined ? [] : namesText.split(":");
  if (namesText !== undefined && names.length !== count) {
    throw new SocketActivationError(
      "invalid-environment",
      `LISTEN_FDNAMES names ${names.length} descriptor(s) but LISTEN_FDS is ${count}`,
    );
  }
  const sockets = Array.from({ length: count }, (_, index) => ({
    fd: LISTEN_FDS_START + index,
    name: names[index] || "unknown",
    index,
  }));
  return { sockets, status: "ok", listenPid, pid };
}
