import { closeSync, openSync, writeSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import {
  DefaultSelector,
  EVENT_READ,
  EVENT_WRITE,
  EpollSelector,
  FD_SETSIZE,
  PollSelector,
  SelectSelector,
  IoUringSelector,
  createPipe,
  type BaseSelector,
} from "@echo/selector";
import { ioUringUnavailable } from "./io-uring.js";

const backends = [
  ["epoll", () => new EpollSelector<string>()],
  ["poll", () => new PollSelector<string>()],
  ["select", () => new SelectSelector<string>()],
  ...(ioUringUnavailable ? [] : ([["io_uring", () => new IoUringSelector<string>()]] as const)),
] as const;

const fds: number[] = [];
function pipe(): [number, number] {
  const p = createPipe();
  fds.push(...p);
  return p;
}
afterEach(() => {
  for (const fd of fds.splice(0)) {
    try {
      closeSync(fd);
    } catch {
      // closed by the test
    }
  }
});

describe.each(backends)("%s selector", (kind, make) => {
  let sel: BaseSelector<string>;
  afterEach(() => sel?.close());

  it("registers with data, reports readiness with the key, and getKey/getMap agree", () => {
    sel = make();
    expect(sel.kind).toBe(kind);
    const [r, w] = pipe();
    const key = sel.register(r, EVENT_READ, "reader");
    expect(key).toEqual({ fd: r, events: EVENT_READ, data: "reader" });
    expect(sel.getKey(r)).toBe(key);
    expect([...sel.getMap().keys()]).toEqual([r]);
    expect(sel.select(0)).toEqual([]);
    writeSync(w, "x");
    expect(sel.select(0)).toEqual([[key, EVENT_READ]]);
  });

  it("register twice throws ECHO_ERR_ALREADY_REGISTERED", () => {
    sel = make();
    const [r] = pipe();
    sel.register(r, EVENT_READ);
    expect(() => sel.register(r, EVENT_WRITE)).toThrow(
      expect.objectContaining({ code: "ECHO_ERR_ALREADY_REGISTERED" }),
    );
  });

  it("unregister, modify and getKey of an unknown descriptor throw ECHO_ERR_NOT_REGISTERED", () => {
    sel = make();
    const [r] = pipe();
    for (const call of [() => sel.unregister(r), () => sel.modify(r, EVENT_READ), () => sel.getKey(r)]) {
      expect(call).toThrow(expect.objectContaining({ code: "ECHO_ERR_NOT_REGISTERED" }));
    }
    sel.register(r, EVENT_READ, "a");
    expect(sel.unregister(r).data).toBe("a");
    expect(() => sel.unregister(r)).toThrow(expect.objectContaining({ code: "ECHO_ERR_NOT_REGISTERED" }));
    expect(sel.getMap().size).toBe(0);
  });

  it("rejects bad events and descriptors naming the argument", () => {
    sel = make();
    const [r] = pipe();
    expect(() => sel.register(r, 0)).toThrow(/events must be EVENT_READ, EVENT_WRITE or both/);
    expect(() => sel.register(r, 4)).toThrow(expect.objectContaining({ code: "ECHO_ERR_INVALID_ARG" }));
    expect(() => sel.register(-1, EVENT_READ)).toThrow(/fd must be a non-negative integer descriptor/);
  });

  it("modify changes the events watched and the data", () => {
    sel = make();
    const [, w] = pipe();
    sel.register(w, EVENT_READ, "quiet");
    expect(sel.select(0)).toEqual([]);
    const key = sel.modify(w, EVENT_WRITE, "writer");
    expect(key.data).toBe("writer");
    expect(sel.select(0)).toEqual([[key, EVENT_WRITE]]);
    const both = sel.modify(w, EVENT_READ | EVENT_WRITE, "both");
    expect(sel.select(0)).toEqual([[both, EVENT_WRITE]]);
  });

  it("a positive timeout waits and returns nothing when nothing is ready", () => {
    sel = make();
    const [r] = pipe();
    sel.register(r, EVENT_READ);
    const started = performance.now();
    expect(sel.select(60)).toEqual([]);
    // A coarse lower bound only: the call did wait rather than poll.
    expect(performance.now() - started).toBeGreaterThanOrEqual(30);
  });

  it("with no timeout it blocks until another thread makes a descriptor ready", async () => {
    sel = make();
    const [r, w] = pipe();
    const key = sel.register(r, EVENT_READ, "wake");
    const waker = new Worker(
      `const { workerData } = require("node:worker_threads"); setTimeout(() => require("node:fs").writeSync(workerData.fd, "!"), 50);`,
      { eval: true, workerData: { fd: w } },
    );
    try {
      expect(sel.select()).toEqual([[key, EVENT_READ]]);
      expect(sel.select(null)).toEqual([[key, EVENT_READ]]);
    } finally {
      await waker.terminate();
    }
  });

  it("a hang-up wakes a reader", () => {
    sel = make();
    const [r, w] = pipe();
    const key = sel.register(r, EVENT_READ);
    closeSync(w);
    expect(sel.select(0)).toEqual([[key, EVENT_READ]]);
  });

  it("close is idempotent, keeps the descriptors open, and every other call then throws ECHO_ERR_SELECTOR_CLOSED", () => {
    sel = make();
    const [r, w] = pipe();
    sel.register(r, EVENT_READ);
    if (kind === "epoll" || kind === "io_uring") expect(sel.fileno()).toBeGreaterThanOrEqual(0);
    else expect(sel.fileno()).toBe(-1);
    sel.close();
    sel.close();
    for (const call of [
      () => sel.register(w, EVENT_WRITE),
      () => sel.unregister(r),
      () => sel.modify(r, EVENT_READ),
      () => sel.select(0),
      () => sel.getKey(r),
      () => sel.getMap(),
      () => sel.fileno(),
    ]) {
      expect(call).toThrow(expect.objectContaining({ code: "ECHO_ERR_SELECTOR_CLOSED" }));
    }
    expect(writeSync(w, "still open")).toBe(10);
  });

  it("registering a closed descriptor throws ECHO_ERR_SYSCALL (EBADF) on epoll, or is reported by select/poll", () => {
    sel = make();
    const [r] = pipe();
    closeSync(r);
    if (kind === "epoll" || kind === "io_uring") {
      expect(() => sel.register(r, EVENT_READ)).toThrow(
        expect.objectContaining({ code: "ECHO_ERR_SYSCALL", errno: "EBADF" }),
      );
    } else {
      sel.register(r, EVENT_READ);
      if (kind === "select")
        expect(() => sel.select(0)).toThrow(expect.objectContaining({ code: "ECHO_ERR_SYSCALL", errno: "EBADF" }));
      else expect(sel.select(0)).toHaveLength(1); // poll reports POLLNVAL as readiness, as Python's does
    }
  });
});

describe("DefaultSelector", () => {
  it("is epoll on Linux", () => {
    const sel = new DefaultSelector();
    expect(sel.kind).toBe(process.platform === "linux" ? "epoll" : "poll");
    sel.close();
  });
});

describe("FD_SETSIZE", () => {
  it("SelectSelector refuses a descriptor at or above 1024 with ECHO_ERR_FD_SETSIZE; poll and epoll take it", () => {
    expect(FD_SETSIZE).toBe(1024);
    const opened: number[] = [];
    try {
      let fd = -1;
      while (fd < FD_SETSIZE + 5) {
        fd = openSync("/dev/null", "r");
        opened.push(fd);
      }
      const select = new SelectSelector();
      expect(() => select.register(fd, EVENT_READ)).toThrow(
        expect.objectContaining({
          code: "ECHO_ERR_FD_SETSIZE",
          fd,
          message: expect.stringMatching(/FD_SETSIZE \(1024\).*PollSelector or EpollSelector/),
        }),
      );
      expect(select.getMap().size).toBe(0);
      select.close();
      const [r] = pipe();
      const poll = new PollSelector();
      poll.register(fd, EVENT_READ);
      expect(poll.select(0).length).toBe(1); // /dev/null is always readable
      poll.close();
      const epoll = new EpollSelector();
      // epoll refuses regular files (EPERM) whatever their number; use a pipe past 1024 instead.
      expect(r).toBeGreaterThanOrEqual(FD_SETSIZE);
      epoll.register(r, EVENT_READ);
      epoll.close();
    } finally {
      for (const fd of opened) closeSync(fd);
    }
  });
});
