/**
 * Python's `selectors`, on real `epoll`, `poll` and `select`: register descriptors with the
 * events you want and data of your own, then `select()` tells you which are ready.
 *
 * Calls are synchronous: `select()` blocks the calling thread (use it in a worker thread, or
 * with timeout 0). Descriptors are plain numbers, such as those from {@link listenSocket},
 * {@link acceptSocket} or {@link createPipe}.
 * @module
 */
import { InvalidArgumentError } from "@echo/core";
import {
  AlreadyRegisteredError,
  FdSetSizeError,
  IoUringUnavailableError,
  NotRegisteredError,
  SelectorClosedError,
  SystemCallError,
} from "./errors.js";
import { native, type NativeHandle } from "./internal/native.js";
import { Event, Kind, SelOp } from "./internal/protocol.js";

const binding = native();

/** Readable (or at EOF, or in error). */
export const EVENT_READ = Event.READ;
/** Writable (or in error). */
export const EVENT_WRITE = Event.WRITE;

/** `select()` cannot watch descriptors at or above this (1024 on Linux). */
export const FD_SETSIZE: number = binding.FD_SETSIZE;

/** What a selector remembers of a registered descriptor. */
export interface SelectorKey<T = unknown> {
  /** The descriptor. */
  readonly fd: number;
  /** The events watched: a mask of {@link EVENT_READ} and {@link EVENT_WRITE}. */
  readonly events: number;
  /** Your data, returned with every event. */
  readonly data: T;
}

/** One ready descriptor: its key and the events that are ready (a subset of `key.events`). */
export type SelectorEvent<T = unknown> = [key: SelectorKey<T>, events: number];

function checkFd(fd: unknown): number {
  if (typeof fd !== "number" || !Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
    throw new InvalidArgumentError(`fd must be a non-negative integer descriptor, got ${String(fd)}`);
  }
  return fd;
}

function checkEvents(events: unknown): number {
  if (
    typeof events !== "number" ||
    !Number.isInteger(events) ||
    events <= 0 ||
    (events & ~(EVENT_READ | EVENT_WRITE)) !== 0
  ) {
    throw new InvalidArgumentError(`events must be EVENT_READ, EVENT_WRITE or both (1, 2 or 3), got ${String(events)}`);
  }
  return events;
}

function toTimeout(timeoutMs: number | null | undefined): number {
  if (timeoutMs === undefined || timeoutMs === null) return -1;
  if (typeof timeoutMs !== "number" || Number.isNaN(timeoutMs)) {
    throw new InvalidArgumentError(`timeoutMs must be a number, null or undefined, got ${String(timeoutMs)}`);
  }
  if (timeoutMs <= 0) return 0;
  return Math.min(Math.ceil(timeoutMs), 0x7fffffff);
}

/**
 * What every selector does; the subclasses only pick the system call. Use
 * {@link DefaultSelector} unless you want a particular one.
 */
export abstract class BaseSelector<T = unknown> {
  /** `epoll`, `poll`, `select` or `io_uring`. */
  abstract readonly kind: "epoll" | "poll" | "select" | "io_uring";
  private handle: NativeHandle | undefined;
  private readonly keys = new Map<number, SelectorKey<T>>();
  private out = new Int32Array(64);

  protected constructor(kind: number) {
    try {
      this.handle = binding.selCreate(kind);
    } catch (error) {
      throw new SystemCallError(error);
    }
  }

  private open(method: string): NativeHandle {
    if (!this.handle) throw new SelectorClosedError(method);
    return this.handle;
  }

  /** Checks a descriptor before it is added; `SelectSelector` refuses those past FD_SETSIZE. */
  protected checkRegister(_fd: number): void {}

  /**
   * Starts watching `fd` for `events`, remembering `data`.
   * @throws {AlreadyRegisteredError} `fd` is registered already.
   * @throws {FdSetSizeError} (SelectSelector) `fd` is at or above FD_SETSIZE.
   * @throws {SystemCallError} the OS refused it (a closed descriptor: `EBADF`).
   */
  register(fd: number, events: number, data?: T): SelectorKey<T> {
    const handle = this.open("register");
    checkFd(fd);
    checkEvents(events);
    if (this.keys.has(fd)) throw new AlreadyRegisteredError(fd);
    this.checkRegister(fd);
    try {
      binding.selCtl(handle, SelOp.REGISTER, fd, events);
    } catch (error) {
      throw new SystemCallError(error);
    }
    const key: SelectorKey<T> = Object.freeze({ fd, events, data: data as T });
    this.keys.set(fd, key);
    return key;
  }

  /**
   * Stops watching `fd`; returns its key. Unregister before closing a descriptor.
   * @throws {NotRegisteredError} `fd` is not registered.
   */
  unregister(fd: number): SelectorKey<T> {
    const handle = this.open("unregister");
    const key = this.keys.get(checkFd(fd));
    if (!key) throw new NotRegisteredError(fd);
    this.keys.delete(fd);
    try {
      binding.selCtl(handle, SelOp.UNREGISTER, fd, 0);
    } catch {
      // The descriptor was closed before it was unregistered: epoll forgot it already.
    }
    return key;
  }

  /**
   * Changes the events and/or data of a registered `fd`; returns the new key.
   * @throws {NotRegisteredError} `fd` is not registered.
   */
  modify(fd: number, events: number, data?: T): SelectorKey<T> {
    const handle = this.open("modify");
    const key = this.keys.get(checkFd(fd));
    if (!key) throw new NotRegisteredError(fd);
    checkEvents(events);
    if (events !== key.events) {
      try {
        binding.selCtl(handle, SelOp.MODIFY, fd, events);
      } catch (error) {
        throw new SystemCallError(error);
      }
    }
    const next: SelectorKey<T> = Object.freeze({ fd, events, data: data as T });
    this.keys.set(fd, next);
    return next;
  }

  /**
   * Waits until a registered descriptor is ready, or `timeoutMs` passes: `undefined`/`null`
   * waits forever, `0` or less only polls. Returns the ready ones (maybe none on timeout).
   * Blocks the calling thread.
   */
  select(timeoutMs?: number | null): SelectorEvent<T>[] {
    const handle = this.open("select");
    const timeout = toTimeout(timeoutMs);
    const want = Math.max(this.keys.size, 1) * 2;
    if (this.out.length < want) this.out = new Int32Array(want);
    let n: number;
    try {
      n = binding.selWait(handle, timeout, this.out.length === want ? this.out : this.out.subarray(0, want));
    } catch (error) {
      throw new SystemCallError(error);
    }
    const ready: SelectorEvent<T>[] = [];
    for (let i = 0; i < n; i++) {
      const key = this.keys.get(this.out[2 * i]!);
      if (!key) continue;
      const events = this.out[2 * i + 1]! & key.events;
      if (events) ready.push([key, events]);
    }
    return ready;
  }

  /**
   * The key of a registered `fd`.
   * @throws {NotRegisteredError} `fd` is not registered.
   */
  getKey(fd: number): SelectorKey<T> {
    this.open("getKey");
    const key = this.keys.get(fd);
    if (!key) throw new NotRegisteredError(fd);
    return key;
  }

  /** A read-only view of every registered descriptor and its key. */
  getMap(): ReadonlyMap<number, SelectorKey<T>> {
    this.open("getMap");
    return this.keys;
  }

  /**
   * The selector's own descriptor (epoll's, or the io_uring ring's), or -1 for poll and select,
   * which have none.
   */
  fileno(): number {
    return binding.selFileno(this.open("fileno"));
  }

  /**
   * Frees the selector (closes epoll's descriptor). The registered descriptors stay open.
   * Calling it again does nothing; any other method then throws {@link SelectorClosedError}.
   */
  close(): void {
    if (!this.handle) return;
    binding.selClose(this.handle);
    this.handle = undefined;
    this.keys.clear();
  }

  /** `using sel = new DefaultSelector()` closes it. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** `epoll(7)`: cost per wait follows the ready descriptors, not the registered ones. Linux only. */
export class EpollSelector<T = unknown> extends BaseSelector<T> {
  readonly kind = "epoll" as const;
  constructor() {
    super(Kind.EPOLL);
  }
}

/** `poll(2)`: any number of descriptors, but every wait scans them all. */
export class PollSelector<T = unknown> extends BaseSelector<T> {
  readonly kind = "poll" as const;
  constructor() {
    super(Kind.POLL);
  }
}

/** `select(2)`: scans every descriptor, and refuses any at or above FD_SETSIZE (1024). */
export class SelectSelector<T = unknown> extends BaseSelector<T> {
  readonly kind = "select" as const;
  constructor() {
    super(Kind.SELECT);
  }

  protected override checkRegister(fd: number): void {
    if (fd >= FD_SETSIZE) throw new FdSetSizeError(fd, FD_SETSIZE);
  }
}

/**
 * io_uring readiness: one `IORING_OP_POLL_ADD` per registered descriptor, armed again before
 * each wait, so it is level-triggered like the others. Linux 6.1 or later, where io_uring is
 * allowed. `fileno()` is the ring's descriptor.
 * @throws {IoUringUnavailableError} this kernel or process refuses io_uring (the reason says why).
 */
export class IoUringSelector<T = unknown> extends BaseSelector<T> {
  readonly kind = "io_uring" as const;
  constructor() {
    const reason = binding.ioUringUnavailable();
    if (reason !== null) throw new IoUringUnavailableError(reason);
    super(Kind.IO_URING);
  }
}

/** The best selector here: {@link EpollSelector} on Linux, else {@link PollSelector}. */
export const DefaultSelector: typeof EpollSelector | typeof PollSelector =
  process.platform === "linux" ? EpollSelector : PollSelector;
