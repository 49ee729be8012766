import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { constants as osConstants, tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as turn } from "node:timers/promises";
import { getSystemErrorName } from "node:util";
import { describe, expect, it } from "vitest";
import {
  DefaultSelector,
  EVENT_READ,
  EVENT_WRITE,
  WOULD_BLOCK,
  acceptSocket,
  closeSocket,
  getPeerName,
  getSockName,
  listenSocket,
  recvInto,
  sendFrom,
  shutdownSocket,
} from "@echo/selector";
import { collectAll } from "./helpers.js";

describe("raw sockets", () => {
  it("listen, accept, recv and send on descriptors; would-block is a value", async () => {
    const lfd = listenSocket({ host: "127.0.0.1", port: 0 });
    try {
      const local = getSockName(lfd);
      expect(local).toMatchObject({ address: "127.0.0.1", family: "IPv4" });
      const port = (local as { port: number }).port;
      expect(acceptSocket(lfd)).toBe(WOULD_BLOCK);
      const client = connect({ port, host: "127.0.0.1" });
      await once(client, "connect");
      let fd = WOULD_BLOCK;
      for (let i = 0; i < 100 && fd === WOULD_BLOCK; i++) {
        fd = acceptSocket(lfd);
        if (fd === WOULD_BLOCK) await turn();
      }
      expect(fd).toBeGreaterThan(0);
      expect(getPeerName(fd)).toEqual({ address: "127.0.0.1", port: client.localPort, family: "IPv4" });
      const buf = Buffer.alloc(16);
      expect(recvInto(fd, buf)).toBe(WOULD_BLOCK);
      client.write("ping");
      let n = WOULD_BLOCK;
      for (let i = 0; i < 100 && n === WOULD_BLOCK; i++) {
        n = recvInto(fd, buf, 2, 10);
        if (n === WOULD_BLOCK) await turn();
      }
      expect(buf.subarray(2, 2 + n).toString()).toBe("ping");
      const reply = collectAll(client);
      expect(sendFrom(fd, Buffer.from("xxpongxx"), 2, 4)).toBe(4);
      shutdownSocket(fd, "write");
      client.end();
      expect((await reply).toString()).toBe("pong");
      expect(recvInto(fd, buf)).toBe(0);
      closeSocket(fd);
      expect(() => closeSocket(fd)).toThrow(expect.objectContaining({ code: "ECHO_ERR_SYSCALL", errno: "EBADF" }));
    } finally {
      closeSocket(lfd);
    }
  });

  it("names an errno as Node does, one a short hand-written table lacked too (ENOTDIR, once reported as EIO)", () => {
    let thrown: unknown;
    try {
      listenSocket({ path: "/dev/null/echo.sock" });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toEqual(
      expect.objectContaining({ code: "ECHO_ERR_SYSCALL", errno: "ENOTDIR", syscall: "bind unix" }),
    );
    const cause = (thrown as { cause: { errno: number } }).cause;
    expect(cause.errno).toBe(-osConstants.errno.ENOTDIR);
    expect(getSystemErrorName(cause.errno)).toBe("ENOTDIR");
  });

  it("reports an address in use as ECHO_ERR_SYSCALL EADDRINUSE", () => {
    const lfd = listenSocket({ port: 0 });
    try {
      const { port } = getSockName(lfd) as { port: number };
      expect(() => listenSocket({ port })).toThrow(
        expect.objectContaining({ code: "ECHO_ERR_SYSCALL", errno: "EADDRINUSE", syscall: "bind" }),
      );
    } finally {
      closeSocket(lfd);
    }
  });

  it("listens on IPv6 ::1 and on a Unix socket path", () => {
    const v6 = listenSocket({ host: "::1", port: 0 });
    expect(getSockName(v6)).toMatchObject({ address: "::1", family: "IPv6" });
    closeSocket(v6);
    const dir = mkdtempSync(join(tmpdir(), "echo-sel-"));
    try {
      const path = join(dir, "s.sock");
      const unix = listenSocket({ path });
      expect(getSockName(unix)).toEqual({ path });
      closeSocket(unix);
      // The file is left behind, as by a crashed server: listening again replaces it.
      const again = listenSocket({ path });
      closeSocket(again);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs the article's selector echo server in a few lines", async () => {
    const sel = new DefaultSelector<{ out: Buffer[] } | "listener">();
    const lfd = listenSocket({ port: 0 });
    const { port } = getSockName(lfd) as { port: number };
    sel.register(lfd, EVENT_READ, "listener");
    const buf = Buffer.alloc(65536);
    let served = 0;
    const clients = Array.from({ length: 5 }, async (_, i) => {
      const s = connect({ port, host: "127.0.0.1" });
      await once(s, "connect");
      const reply = collectAll(s);
      s.end(`client ${i}`);
      return (await reply).toString();
    });
    const all = Promise.all(clients).finally(() => (served = -1));
    for (let spins = 0; served >= 0 && spins < 10_000; spins++) {
      for (const [key, events] of sel.select(0)) {
        if (key.data === "listener") {
          for (let fd = acceptSocket(lfd); fd !== WOULD_BLOCK; fd = acceptSocket(lfd))
            sel.register(fd, EVENT_READ, { out: [] });
          continue;
        }
        const state = key.data;
        if (events & EVENT_WRITE && state.out.length > 0) {
          const chunk = state.out[0]!;
          const n = sendFrom(key.fd, chunk);
          if (n === chunk.length) state.out.shift();
          else if (n > 0) state.out[0] = chunk.subarray(n);
          if (state.out.length === 0) sel.modify(key.fd, EVENT_READ, state);
        }
        // Reads after writes: EOF closes, and output read before it has been sent first.
        if (events & EVENT_READ) {
          const n = recvInto(key.fd, buf);
          if (n === 0 && state.out.length === 0) {
            sel.unregister(key.fd);
            closeSocket(key.fd);
            served++;
            continue;
          }
          if (n === 0) continue;
          if (n > 0) state.out.push(Buffer.from(buf.subarray(0, n)));
          sel.modify(key.fd, EVENT_READ | EVENT_WRITE, state);
        }
      }
      await turn();
    }
    expect(await all).toEqual(["client 0", "client 1", "client 2", "client 3", "client 4"]);
    for (const fd of sel.getMap().keys()) if (fd !== lfd) closeSocket(fd);
    sel.close();
    closeSocket(lfd);
  });
});
