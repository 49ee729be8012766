/**
 * `http-hello`: a minimal, correct HTTP/1.1 responder that answers every request with
 * `200 Hello, world`, so that autocannon, ab and wrk can load every model.
 *
 * It honours keep-alive (HTTP/1.1 by default, HTTP/1.0 with `Connection: keep-alive`), skips
 * request bodies announced by `Content-Length`, handles pipelined requests, and bounds what it
 * buffers: a header block over 16 KiB gets `431` and the connection is closed.
 * @module
 */
import { Buffer } from "node:buffer";
import { defineHandler, type Connection } from "../handler.js";

const MAX_HEADER_BYTES = 16 * 1024;
const BODY = "Hello, world\n";
const KEEP_ALIVE_11 = Buffer.from(
  `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`,
);
const KEEP_ALIVE_10 = Buffer.from(
  `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${BODY.length}\r\nConnection: keep-alive\r\n\r\n${BODY}`,
);
const CLOSE = Buffer.from(
  `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${BODY.length}\r\nConnection: close\r\n\r\n${BODY}`,
);

function errorResponse(status: string): Buffer {
  return Buffer.from(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
}

interface ParseState {
  /** Unparsed bytes of the current header block. */
  pending: Buffer;
  /** Request body bytes still to skip. */
  bodyLeft: number;
  /** Whether to close after the current request's body is skipped. */
  closeAfterBody: boolean;
}

const HEADER_END = Buffer.from("\r\n\r\n");
const EMPTY = Buffer.alloc(0);

/** Answers one parsed header block; returns false when the connection is being closed. */
function respond(conn: Connection, head: string, state: ParseState): boolean {
  // Lines are walked in place (no split): this runs once per request, on the hot path.
  let lineEnd = head.indexOf("\r\n");
  if (lineEnd < 0) lineEnd = head.length;
  const requestLine = /^([A-Z]+) (\S+) HTTP\/1\.([01])$/.exec(head.slice(0, lineEnd));
  if (!requestLine) {
    conn.end(errorResponse("400 Bad Request"));
    return false;
  }
  const minor = requestLine[3];
  let connection = "";
  let contentLength = 0;
  while (lineEnd < head.length) {
    const start = lineEnd + 2;
    lineEnd = head.indexOf("\r\n", start);
    if (lineEnd < 0) lineEnd = head.length;
    const colon = head.indexOf(":", start);
    if (colon < 0 || colon >= lineEnd || colon === start) {
      conn.end(errorResponse("400 Bad Request"));
      return false;
    }
    const name = head.slice(start, colon).trim();
    // Only three header names matter; skip the others without lower-casing them or their values.
    if (name.length !== 10 && name.length !== 14 && name.length !== 17) continue;
    const lower = name.toLowerCase();
    if (lower !== "connection" && lower !== "content-length" && lower !== "transfer-encoding") continue;
    const value = head.slice(colon + 1, lineEnd).trim();
    if (lower === "connection") connection = value.toLowerCase();
    else if (lower === "content-length") {
      if (!/^\d{1,15}$/.test(value)) {
        conn.end(errorResponse("400 Bad Request"));
        return false;
      }
      contentLength = Number(value);
    } else {
      conn.end(errorResponse("501 Not Implemented"));
      return false;
    }
  }
  const keepAlive = minor === "1" ? !connection.includes("close") : connection.includes("keep-alive");
  if (keepAlive) conn.write(minor === "1" ? KEEP_ALIVE_11 : KEEP_ALIVE_10);
  else conn.write(CLOSE);
  state.bodyLeft = contentLength;
  state.closeAfterBody = !keepAlive;
  return true;
}

export default defineHandler({
  name: "http-hello",
  onConnection(conn) {
    const state: ParseState = { pending: EMPTY, bodyLeft: 0, closeAfterBody: false };
    conn.state = state;
  },
  onData(conn, data) {
    const state = conn.state as ParseState;
    let chunk =
      state.pending.length > 0
        ? Buffer.concat([state.pending, data])
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data.buffer, data.byteOffset, data.length);
    if (state.pending.length > 0) state.pending = EMPTY;
    while (chunk.length > 0) {
      if (state.bodyLeft > 0) {
        const skip = Math.min(state.bodyLeft, chunk.length);
        state.bodyLeft -= skip;
        chunk = chunk.subarray(skip);
        continue;
      }
      if (state.closeAfterBody) {
        conn.end();
        return;
      }
      const end = chunk.indexOf(HEADER_END);
      if (end < 0) {
        if (chunk.length > MAX_HEADER_BYTES) {
          conn.end(errorResponse("431 Request Header Fields Too Large"));
          return;
        }
        // Copy: `data` is only valid during this call.
        state.pending = Buffer.from(chunk);
        return;
      }
      if (end > MAX_HEADER_BYTES) {
        conn.end(errorResponse("431 Request Header Fields Too Large"));
        return;
      }
      if (!respond(conn, chunk.toString("latin1", 0, end), state)) return;
      // The usual case, one whole request per chunk, needs no view on the (empty) rest.
      if (end + HEADER_END.length === chunk.length) break;
      chunk = chunk.subarray(end + HEADER_END.length);
    }
    if (state.closeAfterBody && state.bodyLeft === 0) conn.end();
  },
});
