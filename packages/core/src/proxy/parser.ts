/**
 * `ProxyHeaderParser`: an incremental (push-style) parser of the PROXY protocol header, v1 and
 * v2, for the receiving side of a connection behind a proxy.
 * @module
 */
import { InvalidArgumentError, ServerStateError } from "../errors.js";
import type { ProxyHeaderReason } from "./errors.js";
import type { ProxyHeader } from "./header.js";
import { decodeV1, V1_MAX_LENGTH, V1_SIGNATURE } from "./v1.js";
import { checkV2Prefix, decodeV2, V2_FIXED_LENGTH, V2_SIGNATURE } from "./v2.js";

/** Options of {@link ProxyHeaderParser}. */
export interface ProxyHeaderParserOptions {
  /**
   * The longest v2 header accepted, in bytes (16 fixed bytes plus the address block and TLVs).
   * A header that declares more is rejected (`too-long`) as soon as its length field arrives,
   * so at most this many bytes are ever buffered. From 232 (room for AF_UNIX addresses) to 65551.
   * @default 2048
   */
  maxV2Length?: number;
  /** Accept v1 (text) headers. @default true */
  v1?: boolean;
  /** Accept v2 (binary) headers. @default true */
  v2?: boolean;
}

/** The smallest and largest {@link ProxyHeaderParserOptions.maxV2Length}. */
export const MAX_V2_LENGTH_RANGE = { min: V2_FIXED_LENGTH + 216, max: V2_FIXED_LENGTH + 0xffff } as const;

/**
 * What {@link ProxyHeaderParser.feed} found:
 * - `needMore`: the bytes so far are a valid beginning; feed the next chunk.
 * - `done`: a complete, valid header; `rest` is what followed it in the last chunk (the first
 *   application bytes, possibly empty), a view on that chunk: copy it when the chunk's memory is
 *   reused (an `onread` buffer).
 * - `error`: not a valid header; `reason` is stable, `message` explains. Close the connection.
 */
export type ProxyParseResult =
  | { readonly status: "needMore" }
  | { readonly status: "done"; readonly header: ProxyHeader; readonly rest: Buffer }
  | { readonly status: "error"; readonly reason: ProxyHeaderReason; readonly message: string };

const NEED_MORE: ProxyParseResult = Object.freeze({ status: "needMore" });

const enum State {
  Detect,
  V1,
  V2Fixed,
  V2Body,
  Finished,
}

const CR = 0x0d;
const LF = 0x0a;

/**
 * Parses the PROXY header at the start of a connection from chunks as they arrive: a header may
 * come one byte at a time. Each call to {@link feed} returns `needMore`, `done` or `error`; no
 * input throws. Memory is bounded: a v1 line is at most 107 bytes, a v2 header at most
 * {@link ProxyHeaderParserOptions.maxV2Length}; bytes are copied only up to the header's end.
 *
 * A bad header is refused at the first byte that proves it bad: a connection that does not
 * start with `P` or `\r` fails on its first byte.
 *
 * @example
 * ```ts
 * const parser = new ProxyHeaderParser();
 * socket.on("data", function onData(chunk) {
 *   const r = parser.feed(chunk);
 *   if (r.status === "needMore") return;
 *   socket.off("data", onData);
 *   if (r.status === "error") return socket.destroy();
 *   serve(socket, r.header.source ?? { address: socket.remoteAddress, port: socket.remotePort }, r.rest);
 * });
 * ```
 */
export class ProxyHeaderParser {
  readonly #maxV2: number;
  readonly #v1: boolean;
  readonly #v2: boolean;
  #state = State.Detect;
  /** The header's bytes so far (signature bytes included). */
  #buffer: Buffer = Buffer.alloc(0);
  #filled = 0;
  #received = 0;

  /** @throws {InvalidArgumentError} `ECHO_ERR_INVALID_ARG` for bad options, naming the option. */
  constructor(options: ProxyHeaderParserOptions = {}) {
    this.#maxV2 = options.maxV2Length ?? 2048;
    this.#v1 = options.v1 ?? true;
    this.#v2 = options.v2 ?? true;
    validate(options, this.#maxV2, this.#v1, this.#v2);
  }

  /** Bytes fed so far that belong to the header (what a header timeout reports). */
  get received(): number {
    return this.#received;
  }

  /** `true` once `feed` has returned `done` or `error`. */
  get finished(): boolean {
    return this.#state === State.Finished;
  }

  /**
   * Consumes the next chunk of the connection.
   * @throws {ServerStateError} `ECHO_ERR_SERVER_STATE` when called after `done` or `error`
   *   (a misuse, never caused by the input).
   */
  feed(chunk: Uint8Array): ProxyParseResult {
    if (this.#state === State.Finished)
      throw new ServerStateError("ProxyHeaderParser.feed() called after the header was complete or rejected");
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let at = 0;
    while (at < bytes.length) {
      switch (this.#state) {
        case State.Detect: {
          const first = bytes[at] as number;
          if (first === V1_SIGNATURE[0] && this.#v1) {
            this.#state = State.V1;
            this.#buffer = Buffer.allocUnsafe(V1_MAX_LENGTH);
          } else if (first === V2_SIGNATURE[0] && this.#v2) {
            this.#state = State.V2Fixed;
            this.#buffer = Buffer.allocUnsafe(V2_FIXED_LENGTH);
          } else {
            return this.#fail(
              "signature",
              `the connection starts with byte 0x${first.toString(16).padStart(2, "0")}, not a PROXY ${this.#expected()} header`,
            );
          }
          break;
        }
        case State.V1: {
          const r = this.#takeV1(bytes, at);
          if (typeof r !== "number") return r;
          at = r;
          break;
        }
        case State.V2Fixed: {
          const r = this.#takeV2Fixed(bytes, at);
          if (typeof r !== "number") return r;
          at = r;
          break;
        }
        case State.V2Body: {
          const n = Math.min(this.#buffer.length - this.#filled, bytes.length - at);
          bytes.copy(this.#buffer, this.#filled, at, at + n);
          this.#filled += n;
          this.#received += n;
          at += n;
          if (this.#filled === this.#buffer.length) {
            const decoded = decodeV2(this.#buffer);
            return decoded.ok ? this.#done(decoded.header, bytes, at) : this.#fail(decoded.reason, decoded.message);
          }
          break;
        }
      }
    }
    return NEED_MORE;
  }

  /** Copies v1 bytes up to the LF; returns the next offset, or a result. */
  #takeV1(bytes: Buffer, start: number): number | ProxyParseResult {
    let at = start;
    while (at < bytes.length) {
      const c = bytes[at] as number;
      const i = this.#filled;
      if (i < V1_SIGNATURE.length) {
        if (c !== V1_SIGNATURE[i])
          return this.#fail(
            "signature",
            `byte ${i} is 0x${c.toString(16).padStart(2, "0")}: not the "PROXY " a v1 header starts with`,
          );
      } else if (c === LF) {
        if (this.#buffer[i - 1] !== CR) return this.#fail("syntax", "a v1 line must end with CRLF, not a lone LF");
      } else if (i > 0 && this.#buffer[i - 1] === CR) {
        return this.#fail("syntax", "a CR inside a v1 line must be followed by LF");
      } else if ((c < 0x20 || c > 0x7e) && c !== CR) {
        return this.#fail("syntax", `byte 0x${c.toString(16).padStart(2, "0")} at ${i} is not printable US-ASCII`);
      }
      if (i === V1_MAX_LENGTH - 1 && c !== LF)
        return this.#fail("too-long", `no CRLF within the ${V1_MAX_LENGTH} bytes a v1 line may take`);
      this.#buffer[i] = c;
      this.#filled = i + 1;
      this.#received++;
      at++;
      if (c === LF) {
        const decoded = decodeV1(this.#buffer.subarray(0, this.#filled));
        return decoded.ok ? this.#done(decoded.header, bytes, at) : this.#fail(decoded.reason, decoded.message);
      }
    }
    return at;
  }

  /** Copies the 16 fixed v2 bytes, checking each as it comes; then sizes the body buffer. */
  #takeV2Fixed(bytes: Buffer, start: number): number | ProxyParseResult {
    let at = start;
    while (at < bytes.length && this.#filled < V2_FIXED_LENGTH) {
      const c = bytes[at] as number;
      const i = this.#filled;
      if (i < V2_SIGNATURE.length && c !== V2_SIGNATURE[i]) {
        return this.#fail("signature", `byte ${i} is 0x${c.toString(16).padStart(2, "0")}: not the v2 signature`);
      }
      this.#buffer[i] = c;
      this.#filled = i + 1;
      this.#received++;
      at++;
      const bad = checkV2Prefix(this.#buffer, this.#filled);
      if (bad !== null) return this.#fail(bad.reason, bad.message);
    }
    if (this.#filled < V2_FIXED_LENGTH) return at;
    const total = V2_FIXED_LENGTH + (((this.#buffer[14] as number) << 8) | (this.#buffer[15] as number));
    if (total > this.#maxV2)
      return this.#fail("too-long", `the v2 header declares ${total} bytes, more than the ${this.#maxV2} accepted`);
    const full = Buffer.allocUnsafe(total);
    this.#buffer.copy(full, 0, 0, V2_FIXED_LENGTH);
    this.#buffer = full;
    if (total === V2_FIXED_LENGTH) {
      const decoded = decodeV2(full);
      return decoded.ok ? this.#done(decoded.header, bytes, at) : this.#fail(decoded.reason, decoded.message);
    }
    this.#state = State.V2Body;
    return at;
  }

  #expected(): string {
    return this.#v1 && this.#v2 ? "v1 or v2" : this.#v1 ? "v1" : "v2";
  }

  #done(header: ProxyHeader, chunk: Buffer, at: number): ProxyParseResult {
    this.#state = State.Finished;
    return { status: "done", header, rest: chunk.subarray(at) };
  }

  #fail(reason: ProxyHeaderReason, message: string): ProxyParseResult {
    this.#state = State.Finished;
    this.#buffer = Buffer.alloc(0);
    return { status: "error", reason, message };
  }
}

function validate(options: ProxyHeaderParserOptions, maxV2: number, v1: boolean, v2: boolean): void {
  if (options === null || typeof options !== "object") throw new InvalidArgumentError(`options must be an object`);
  const { min, max } = MAX_V2_LENGTH_RANGE;
  if (!Number.isSafeInteger(maxV2) || maxV2 < min || maxV2 > max) {
    throw new InvalidArgumentError(
      `options.maxV2Length must be an integer from ${min} to ${max}, got ${String(options.maxV2Length)}`,
    );
  }
  if (typeof v1 !== "boolean")
    throw new InvalidArgumentError(`options.v1 must be a boolean, got ${String(options.v1)}`);
  if (typeof v2 !== "boolean")
    throw new InvalidArgumentError(`options.v2 must be a boolean, got ${String(options.v2)}`);
  if (!v1 && !v2) throw new InvalidArgumentError("options.v1 and options.v2 cannot both be false");
}

/**
 * Parses a header from one buffer: `needMore` means `bytes` end before the header does.
 * @param bytes The first bytes of a connection.
 */
export function parseProxyHeader(bytes: Uint8Array, options?: ProxyHeaderParserOptions): ProxyParseResult {
  return new ProxyHeaderParser(options).feed(bytes);
}
