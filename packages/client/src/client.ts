/**
 * `EchoClient`: one connection to an echo server, with promise-based send/receive/request.
 * @module
 */
import type net from "node:net";
import { ClientErrorCodes, EchoClientError, invalidArg } from "./errors.js";
import { checkProxyTarget, connectSocket } from "./internal/connect.js";
import { normalizeProxyHeader, type ProxyHeaderOption } from "./proxy-header.js";
import { toSocketError } from "./internal/socket-errors.js";
import { describe, formatTarget, resolveTarget, type EchoTarget, type ResolvedTarget } from "./target.js";

/** Options of {@link EchoClient.connect}. */
export interface ConnectOptions {
  /** Milliseconds to wait for the connection to be established; 0 waits as long as the OS does. @default 10000 */
  timeout?: number;
  /** Disable Nagle's algorithm (`TCP_NODELAY`), so small writes leave at once. Ignored for Unix sockets. @default true */
  noDelay?: boolean;
  /**
   * Send a PROXY protocol header first, as a proxy would: `"v1"`/`"v2"` announce this
   * connection's own addresses, `{ version, source, destination? }` the ones given. For servers
   * that expect a proxy in front of them. The header counts in `bytesWritten`.
   * @default undefined (no header)
   */
  proxyHeader?: ProxyHeaderOption;
}

/** Options of {@link EchoClient.request}. */
export interface RequestOptions {
  /** Milliseconds for the whole round trip; 0 for none. On expiry the client is closed. @default 0 */
  timeout?: number;
  /** Reject with `ECHO_ERR_MISMATCH` when the reply differs from what was sent. @default false */
  verify?: boolean;
}

/** Options of {@link EchoClient.receive} and {@link EchoClient.readUntilEnd}. */
export interface ReceiveOptions {
  /** Milliseconds to wait; 0 for no limit. On expiry the client is closed. @default 0 */
  timeout?: number;
}

/** Data accepted by {@link EchoClient.send}: bytes, or a string sent as UTF-8. */
export type Payload = Uint8Array | string;

type Reader =
  | { kind: "exact"; size: number; target: Buffer; filled: number; settle: Settle<Buffer> }
  | { kind: "any"; settle: Settle<Buffer | null> }
  | { kind: "end"; chunks: Buffer[]; settle: Settle<Buffer> };

interface Settle<T> {
  resolve(value: T): void;
  reject(error: EchoClientError): void;
  timer: NodeJS.Timeout | undefined;
}

/** While no read is pending, the client stops reading from the socket past this many buffered bytes. */
const PAUSE_AT = 1024 * 1024;

/**
 * One connection to an echo server. Create it with {@link EchoClient.connect}.
 *
 * Reads are served in the order they were asked for, so several `request()` calls may be in
 * flight at once (pipelining): each resolves with its own share of the echoed stream.
 *
 * @example
 * ```ts
 * const client = await EchoClient.connect({ host: "127.0.0.1", port: 9999 });
 * const reply = await client.request("hello");
 * await client.close();
 * ```
 */
export class EchoClient {
  readonly #socket: net.Socket;
  readonly #where: string;
  readonly #target: ResolvedTarget;
  readonly #readers: Reader[] = [];
  readonly #buffered: Buffer[] = [];
  #bufferedBytes = 0;
  #ended = false;
  #closed = false;
  #writeEnded = false;
  #error: EchoClientError | undefined;
  readonly #closedPromise: Promise<void>;

  /**
   * Opens a connection.
   * @param target `{ host, port }` (TCP, IPv4 or IPv6; host defaults to `127.0.0.1`) or `{ path }` (Unix socket).
   * @throws {EchoClientError} `ECHO_ERR_INVALID_ARG` for bad options; `ECHO_ERR_CONNECT_REFUSED`,
   *   `ECHO_ERR_CONNECT_TIMEOUT`, `ECHO_ERR_RESET` or `ECHO_ERR_CONNECT` when connecting fails.
   */
  static async connect(target: EchoTarget, options: ConnectOptions = {}): Promise<EchoClient> {
    const resolved = resolveTarget(target);
    if (options === null || typeof options !== "object")
      throw invalidArg(`options must be an object, got ${describe(options)}`);
    const timeout = checkTimeout("options.timeout", options.timeout, 10_000);
    if (options.noDelay !== undefined && typeof options.noDelay !== "boolean") {
      throw invalidArg(`options.noDelay must be a boolean, got ${describe(options.noDelay)}`);
    }
    const proxyHeader = normalizeProxyHeader(options.proxyHeader);
    checkProxyTarget(resolved, proxyHeader);
    const socket = await connectSocket(resolved, timeout, options.noDelay ?? true, proxyHeader);
    return new EchoClient(socket, resolved, kPrivate);
  }

  /** @internal Use {@link EchoClient.connect}. */
  constructor(socket: net.Socket, target: ResolvedTarget, key: symbol) {
    if (key !== kPrivate) throw new TypeError("use EchoClient.connect() to create a client");
    this.#socket = socket;
    this.#target = target;
    this.#where = formatTarget(target);
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("end", () => this.#onEnd());
    socket.on("error", (error) => this.#fail(toSocketError(error, this.#where)));
    this.#closedPromise = new Promise((resolve) => {
      socket.on("close", () => {
        this.#closed = true;
        this.#fail(
          this.#error ?? new EchoClientError(ClientErrorCodes.CLOSED, `the connection to ${this.#where} is closed`),
        );
        resolve();
      });
    });
  }

  /** The server, as `host:port`, `[v6]:port` or the socket path. */
  get target(): string {
    return this.#where;
  }

  /** `"tcp"` or `"unix"`. */
  get transport(): "tcp" | "unix" {
    return this.#target.kind;
  }

  /** The local port of a TCP connection; `undefined` for a Unix socket. */
  get localPort(): number | undefined {
    return this.#socket.localPort;
  }

  /** Bytes received so far. */
  get bytesRead(): number {
    return this.#socket.bytesRead;
  }

  /** Bytes written so far (handed to the socket). */
  get bytesWritten(): number {
    return this.#socket.bytesWritten;
  }

  /** `true` once the connection is closed (by `close()`, an error, or the server). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Writes `data` (a string is sent as UTF-8). Resolves once the bytes are handed to the kernel.
   * @throws {EchoClientError} `ECHO_ERR_SOCKET` after `end()`/`close()`; `ECHO_ERR_RESET` if the server reset the connection.
   */
  send(data: Payload): Promise<void> {
    let bytes: Buffer;
    try {
      bytes = toBuffer(data, "data");
      this.#checkWritable();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#write(bytes);
  }

  /**
   * Sends `data` and resolves with exactly `data.length` bytes read back. Writing and reading run
   * concurrently, so payloads of any size (8 MiB and more) cannot deadlock on full socket buffers.
   * @throws {EchoClientError} `ECHO_ERR_CLOSED` if the server closes first, `ECHO_ERR_RESET`,
   *   `ECHO_ERR_TIMEOUT`, `ECHO_ERR_MISMATCH` (with `verify`), `ECHO_ERR_SOCKET` after `end()`/`close()`.
   */
  async request(data: Payload, options: RequestOptions = {}): Promise<Buffer> {
    const bytes = toBuffer(data, "data");
    const timeout = checkTimeout("options.timeout", options.timeout, 0);
    if (options.verify !== undefined && typeof options.verify !== "boolean") {
      throw invalidArg(`options.verify must be a boolean, got ${describe(options.verify)}`);
    }
    this.#checkWritable();
    // Queue the read before writing: replies are matched to requests by order.
    const reply = this.#read<Buffer>(
      { kind: "exact", size: bytes.length, target: Buffer.allocUnsafe(bytes.length), filled: 0, settle: settle() },
      "request",
      timeout,
    );
    const written = this.#write(bytes);
    const [echo] = await Promise.all([reply, written]);
    if (options.verify === true && !echo.equals(bytes)) {
      const at = firstDifference(echo, bytes);
      throw new EchoClientError(
        ClientErrorCodes.MISMATCH,
        `the echo from ${this.#where} differs from what was sent at byte ${at} of ${bytes.length}`,
      );
    }
    return echo;
  }

  /**
   * Reads from the connection. With `size`, resolves with exactly `size` bytes (rejecting with
   * `ECHO_ERR_CLOSED` if the server closes first). Without, resolves with the next bytes that
   * arrive, or `null` once the server has closed its side.
   */
  receive(size: number, options?: ReceiveOptions): Promise<Buffer>;
  receive(size?: undefined, options?: ReceiveOptions): Promise<Buffer | null>;
  receive(size?: number, options: ReceiveOptions = {}): Promise<Buffer | null> {
    try {
      const timeout = checkTimeout("options.timeout", options.timeout, 0);
      if (size === undefined) return this.#read<Buffer | null>({ kind: "any", settle: settle() }, "receive", timeout);
      if (!Number.isSafeInteger(size) || size < 0)
        throw invalidArg(`size must be a non-negative integer, got ${describe(size)}`);
      return this.#read<Buffer>(
        { kind: "exact", size, target: Buffer.allocUnsafe(size), filled: 0, settle: settle() },
        "receive",
        timeout,
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Resolves with every byte the server sends until it closes its side of the connection. */
  readUntilEnd(options: ReceiveOptions = {}): Promise<Buffer> {
    try {
      const timeout = checkTimeout("options.timeout", options.timeout, 0);
      return this.#read<Buffer>({ kind: "end", chunks: [], settle: settle() }, "readUntilEnd", timeout);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Half-closes: sends FIN after any pending writes, so the server sees end of input. Reading
   * goes on (`readUntilEnd()`). Resolves once the FIN is handed to the kernel.
   */
  end(): Promise<void> {
    if (this.#writeEnded || this.#closed) return Promise.resolve();
    this.#writeEnded = true;
    return new Promise((resolve) => {
      this.#socket.end(() => resolve());
      // If the socket dies before the FIN is flushed there is nothing left to wait for.
      void this.#closedPromise.then(() => resolve());
    });
  }

  /** Closes the connection at once; pending operations reject with `ECHO_ERR_SOCKET`. Resolves when closed. Idempotent. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#fail(new EchoClientError(ClientErrorCodes.SOCKET, `the client for ${this.#where} was closed`));
      this.#socket.destroy();
    }
    return this.#closedPromise;
  }

  #checkWritable(): void {
    if (this.#error !== undefined && this.#error.code !== ClientErrorCodes.CLOSED) throw this.#error;
    if (this.#ended) {
      throw new EchoClientError(
        ClientErrorCodes.CLOSED,
        `cannot write to ${this.#where}: the server closed the connection`,
      );
    }
    if (this.#writeEnded || this.#closed) {
      throw new EchoClientError(
        ClientErrorCodes.SOCKET,
        `cannot write to ${this.#where}: the client has ended or closed its side`,
      );
    }
  }

  #write(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#socket.write(bytes, (error) => {
        if (error) reject(toSocketError(this.#error ?? error, this.#where));
        else resolve();
      });
    });
  }

  #read<T>(reader: Reader, what: string, timeout: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const s = reader.settle as Settle<T>;
      s.resolve = (value) => {
        if (s.timer !== undefined) clearTimeout(s.timer);
        resolve(value);
      };
      s.reject = (error) => {
        if (s.timer !== undefined) clearTimeout(s.timer);
        reject(error);
      };
      if (reader.kind === "exact" && reader.size === 0) {
        s.resolve(reader.target as T);
        return;
      }
      if (this.#readers.length === 0 && this.#serveFromBuffer(reader)) {
        this.#maybeResume();
        return;
      }
      if (this.#error !== undefined && !(this.#ended && this.#error.code === ClientErrorCodes.CLOSED)) {
        s.reject(this.#error);
        return;
      }
      if (this.#ended) {
        this.#finishAtEnd(reader);
        return;
      }
      if (timeout > 0) {
        s.timer = setTimeout(() => {
          this.#fail(
            new EchoClientError(
              ClientErrorCodes.TIMEOUT,
              `${what} on the connection to ${this.#where} timed out after ${timeout} ms`,
            ),
          );
          this.#socket.destroy();
        }, timeout);
      }
      this.#readers.push(reader);
      this.#maybeResume();
    });
  }

  #maybeResume(): void {
    if (this.#socket.isPaused() && (this.#readers.length > 0 || this.#bufferedBytes < PAUSE_AT)) this.#socket.resume();
  }

  /** Serves a new reader from buffered bytes. Returns true when it is satisfied. */
  #serveFromBuffer(reader: Reader): boolean {
    while (this.#buffered.length > 0) {
      const chunk = this.#buffered.shift() as Buffer;
      this.#bufferedBytes -= chunk.length;
      const used = this.#feed(reader, chunk);
      if (used < chunk.length) {
        const rest = chunk.subarray(used);
        this.#buffered.unshift(rest);
        this.#bufferedBytes += rest.length;
      }
      if (this.#isDone(reader)) return true;
    }
    return false;
  }

  /** Gives `chunk` to `reader`; returns how many bytes it took. Settles the reader when satisfied. */
  #feed(reader: Reader, chunk: Buffer): number {
    switch (reader.kind) {
      case "exact": {
        const n = Math.min(reader.size - reader.filled, chunk.length);
        chunk.copy(reader.target, reader.filled, 0, n);
        reader.filled += n;
        if (reader.filled === reader.size) reader.settle.resolve(reader.target);
        return n;
      }
      case "any":
        reader.settle.resolve(chunk);
        return chunk.length;
      case "end":
        reader.chunks.push(chunk);
        return chunk.length;
    }
  }

  #isDone(reader: Reader): boolean {
    return reader.kind === "any" || (reader.kind === "exact" && reader.filled === reader.size);
  }

  #onData(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && this.#readers.length > 0) {
      const reader = this.#readers[0] as Reader;
      offset += this.#feed(reader, offset === 0 ? chunk : chunk.subarray(offset));
      if (this.#isDone(reader)) this.#readers.shift();
    }
    if (offset < chunk.length) {
      this.#buffered.push(offset === 0 ? chunk : chunk.subarray(offset));
      this.#bufferedBytes += chunk.length - offset;
      if (this.#bufferedBytes >= PAUSE_AT) this.#socket.pause();
    }
  }

  #onEnd(): void {
    this.#ended = true;
    for (const reader of this.#readers.splice(0)) this.#finishAtEnd(reader);
  }

  /** Settles a reader once the server has closed its side. */
  #finishAtEnd(reader: Reader): void {
    switch (reader.kind) {
      case "exact":
        if (reader.size === 0) reader.settle.resolve(reader.target);
        else
          reader.settle.reject(
            new EchoClientError(
              ClientErrorCodes.CLOSED,
              `the server at ${this.#where} closed the connection after ${reader.filled} of ${reader.size} expected bytes`,
            ),
          );
        break;
      case "any":
        reader.settle.resolve(null);
        break;
      case "end":
        reader.settle.resolve(Buffer.concat(reader.chunks));
        break;
    }
  }

  /** Records the first error and rejects every pending reader with it. */
  #fail(error: EchoClientError): void {
    if (this.#error === undefined || this.#error.code === ClientErrorCodes.CLOSED) this.#error = error;
    for (const reader of this.#readers.splice(0)) {
      if (this.#ended) this.#finishAtEnd(reader);
      else reader.settle.reject(this.#error);
    }
  }
}

const kPrivate = Symbol("EchoClient");

function settle<T>(): Settle<T> {
  return { resolve: () => undefined, reject: () => undefined, timer: undefined };
}

function toBuffer(data: unknown, name: string): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw invalidArg(`${name} must be a string, a Buffer or a Uint8Array, got ${describe(data)}`);
}

function checkTimeout(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw invalidArg(`${name} must be a non-negative integer (milliseconds), got ${describe(value)}`);
  }
  return value;
}

function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}
