/**
 * One soak client conversation: a connection that does one of four things to the server, every
 * echoed byte checked against what was sent.
 *
 * - `echo`: a few messages of random size, each waited for, then a clean close.
 * - `disconnect`: a message sent and the connection dropped before (or while) the echo arrives,
 *   with a FIN or a RST; what did arrive must be a prefix of what was sent.
 * - `half-close`: a message, then `end()` at once (the client's write side shut); the whole echo
 *   must still arrive, then the server's FIN.
 * - `slow-reader`: a large message read in small bites with pauses, so the server meets
 *   back-pressure and must hold its output bounded.
 * @module
 */
import net from "node:net";
import type { Random } from "./random.js";

/** What a soak conversation does. */
export type ConversationKind = "echo" | "disconnect" | "half-close" | "slow-reader";

/** Every kind, in report order. */
export const conversationKinds: readonly ConversationKind[] = ["echo", "disconnect", "half-close", "slow-reader"];

/** How one conversation went. */
export interface ConversationResult {
  kind: ConversationKind;
  /** Bytes echoed back and checked. */
  bytes: number;
  /** Whether an echoed byte differed from the one sent, or more came back than was sent. */
  mismatch: boolean;
  /** Why a conversation that should have completed did not (error, timeout, early close). */
  failure?: string;
}

/** Options of {@link converse}. */
export interface ConversationOptions {
  host: string;
  port: number;
  kind: ConversationKind;
  random: Random;
  /** Gives up on a conversation that has not finished after this long (counted as failed). */
  timeoutMs: number;
}

/** Random bytes of `size` from the soak's seeded generator (a shifted or foreign echo is caught). */
function message(random: Random, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += 4) {
    const word = random.uint32();
    for (let j = 0; j < 4 && i + j < size; j++) b[i + j] = (word >>> (8 * j)) & 0xff;
  }
  return b;
}

/** Runs one conversation; never rejects. */
export function converse(options: ConversationOptions): Promise<ConversationResult> {
  const { host, port, kind, random, timeoutMs } = options;
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    const sent: Buffer[] = [];
    let sentBytes = 0;
    let received = 0;
    let mismatch = false;
    let finished = false;
    // Where the next echoed byte must come from: chunk `at`, offset `offset` in it.
    let at = 0;
    let offset = 0;
    // echo: messages still to send after the current one; disconnect: bytes after which to drop.
    let rounds = kind === "echo" ? random.int(1, 8) : 0;
    let roundEnd = 0;
    let dropAfter = kind === "disconnect" ? random.int(0, 4096) : 0;

    const finish = (failure?: string): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ kind, bytes: received, mismatch, ...(failure && !mismatch ? { failure } : {}) });
    };
    const timer = setTimeout(
      () => finish(`no end within ${timeoutMs} ms (${received} of ${sentBytes} bytes back)`),
      timeoutMs,
    );

    const send = (size: number): void => {
      const chunk = message(random, size);
      sent.push(chunk);
      sentBytes += size;
      roundEnd = sentBytes;
      socket.write(chunk);
    };
    const check = (data: Buffer): void => {
      let i = 0;
      while (i < data.length) {
        const expected = sent[at];
        if (!expected) {
          mismatch = true; // more bytes than were sent
          return;
        }
        const n = Math.min(expected.length - offset, data.length - i);
        if (expected.compare(data, i, i + n, offset, offset + n) !== 0) {
          mismatch = true;
          return;
        }
        i += n;
        offset += n;
        if (offset === expected.length) {
          // The checked chunk is no longer needed: keep memory flat across long conversations.
          sent[at] = Buffer.alloc(0);
          at++;
          offset = 0;
        }
      }
    };

    socket.on("connect", () => {
      if (kind === "echo") send(random.int(1, 16 * 1024));
      else if (kind === "disconnect") {
        send(random.int(1, 64 * 1024));
        dropAfter = Math.min(dropAfter, sentBytes);
        if (dropAfter === 0) drop();
      } else if (kind === "half-close") {
        send(random.int(1, 128 * 1024));
        socket.end();
      } else send(random.int(64 * 1024, 2 * 1024 * 1024));
    });
    const drop = (): void => {
      // Half the drops are a RST (data unread, linger 0), half a plain close.
      if (random.int(0, 1) === 0) socket.resetAndDestroy();
      else socket.destroy();
      finish();
    };
    socket.on("data", (data: Buffer) => {
      received += data.length;
      check(data);
      if (mismatch) return finish();
      if (kind === "echo" && received === roundEnd) {
        if (rounds-- > 1) send(random.int(1, 16 * 1024));
        else socket.end();
      } else if (kind === "disconnect" && received >= dropAfter) drop();
      else if (kind === "slow-reader") {
        socket.pause();
        setTimeout(() => socket.resume(), random.int(0, 5));
        if (received === sentBytes) socket.end();
      }
    });
    socket.on("end", () => {
      // The server's FIN: every byte sent must be back by now (a disconnect was finished earlier).
      if (kind === "disconnect") return finish();
      finish(received === sentBytes ? undefined : `server closed after ${received} of ${sentBytes} bytes`);
    });
    socket.on("error", (error: NodeJS.ErrnoException) =>
      finish(
        kind === "disconnect" ? undefined : `${error.code ?? error.message} after ${received} of ${sentBytes} bytes`,
      ),
    );
    socket.on("close", () =>
      finish(kind === "disconnect" ? undefined : `closed after ${received} of ${sentBytes} bytes`),
    );
  });
}
