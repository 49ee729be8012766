/**
 * Backing off when `accept` runs out of descriptors (EMFILE/ENFILE), so a listener never spins.
 * @module
 */
import { closeSync, openSync } from "node:fs";
import type { Server } from "node:net";
import { listenServer } from "../internal/listen.js";
import type { Logger, NormalizedListenOptions } from "../options.js";

/** How often a listener checks that descriptors are left (one open and close of /dev/null). */
const PROBE_MS = 100;
/** Descriptors that must be free before accepting resumes. */
const HEADROOM = 8;

/**
 * Opens /dev/null up to `want` times and closes them again; returns how many opened, or the
 * exhaustion error when none could.
 */
function freeDescriptors(want: number): number | Error {
  const fds: number[] = [];
  try {
    for (let i = 0; i < want; i++) fds.push(openSync("/dev/null", "r"));
  } catch (error) {
    if (!isDescriptorExhaustion(error)) throw error;
    if (fds.length === 0) return error as Error;
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  return fds.length;
}

/** The codes of "out of descriptors": the process's limit (EMFILE) or the system's (ENFILE). */
const EXHAUSTION_CODES = new Set(["EMFILE", "ENFILE"]);

/** Whether `error` is an accept failure for lack of descriptors (EMFILE or ENFILE). */
export function isDescriptorExhaustion(error: unknown): boolean {
  const e = error as { code?: unknown; errno?: unknown; cause?: { code?: unknown } } | null;
  const code = e?.code;
  if (typeof code === "string" && EXHAUSTION_CODES.has(code)) return true;
  // Core's typed listen errors keep the system error as their cause.
  const cause = e?.cause?.code;
  return typeof cause === "string" && EXHAUSTION_CODES.has(cause);
}

/** What {@link AcceptBackoff} pauses and resumes, and where it reports. */
export interface AcceptBackoffOptions {
  /** Who is backing off, for log lines (`Thread-1`, `MainThread`). */
  name: string;
  logger: Logger;
  /** Counters; `acceptErrors` grows by one per failed accept. */
  stats: { acceptErrors: number };
  /** Stops accepting now (closes this listener's descriptor). Called once per pause. */
  pause(): void;
  /** Starts accepting again; a rejection (still out of descriptors) backs off once more. */
  resume(): Promise<void>;
  /** First pause in ms (default 20); each pause of one episode doubles it. */
  minDelayMs?: number;
  /** Longest pause in ms (default 1000). */
  maxDelayMs?: number;
}

/**
 * libuv answers EMFILE with its reserve-descriptor trick (free a spare descriptor, accept and
 * close the pending connection, take the spare back), one spare per event loop. Several loops
 * in one process (worker threads accepting on one socket) race for the freed descriptor, and a
 * loop that loses it has no spare left: from then on the pending connection keeps the listener
 * readable, `accept` fails with EMFILE on every turn of the loop, and nothing reaches
 * JavaScript (no `error` event). Such a listener spins its core until a descriptor frees up.
 *
 * So a listener checks every 100 ms that a descriptor can still be opened ({@link AcceptBackoff.watch});
 * listener `error` events with EMFILE/ENFILE ({@link AcceptBackoff.handle}) count too. Feed
 * every accepted connection to {@link AcceptBackoff.accepted}. On the first failure of an episode it logs one line,
 * pauses accepting (the listener's descriptor is closed, which ends libuv's loop; pending clients
 * wait in the kernel's queue) and resumes after a short interval that doubles while the episode
 * lasts (20 ms up to 1 s). The first connection accepted after that ends the episode, with one
 * more log line. Every failed accept counts in `stats.acceptErrors`.
 */
export class AcceptBackoff {
  private readonly minDelay: number;
  private readonly maxDelay: number;
  private delay: number;
  private episodeStart: number | undefined;
  private episodeErrors = 0;
  private paused = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private probe: NodeJS.Timeout | undefined;

  constructor(private readonly o: AcceptBackoffOptions) {
    this.minDelay = o.minDelayMs ?? 20;
    this.maxDelay = o.maxDelayMs ?? 1000;
    this.delay = this.minDelay;
  }

  /** True while an episode lasts (from the first failure to the next accepted connection). */
  get exhausted(): boolean {
    return this.episodeStart !== undefined;
  }

  /**
   * Takes a listener `error`. Returns true when it was descriptor exhaustion (counted, and
   * accepting paused); false for anything else, which the caller reports as before.
   */
  handle(error: unknown): boolean {
    if (!isDescriptorExhaustion(error)) return false;
    this.o.stats.acceptErrors++;
    this.episodeErrors++;
    if (this.episodeStart === undefined) {
      this.episodeStart = performance.now();
      const e = error as { code: string; cause?: { code?: string } };
      const code = EXHAUSTION_CODES.has(e.code) ? e.code : (e.cause?.code ?? e.code);
      this.o.logger.error(
        `[echo] ${this.o.name}: out of file descriptors (${code}) on accept: pausing accept, retrying every ${this.minDelay}-${this.maxDelay} ms until descriptors free up`,
      );
    }
    if (!this.paused && !this.stopped) {
      this.paused = true;
      this.o.pause();
      this.schedule();
    }
    return true;
  }

  /** Takes each accepted connection: the first one after a pause ends the episode. */
  accepted(): void {
    if (this.episodeStart === undefined || this.paused) return;
    const ms = Math.round(performance.now() - this.episodeStart);
    this.o.logger.error(
      `[echo] ${this.o.name}: accepting again after ${ms} ms out of descriptors (${this.episodeErrors} failed accepts)`,
    );
    this.episodeStart = undefined;
    this.episodeErrors = 0;
    this.delay = this.minDelay;
  }

  /** Starts the periodic descriptor check (unref'd: it never keeps a process alive). */
  watch(): void {
    if (this.probe || this.stopped) return;
    this.probe = setInterval(() => {
      if (this.paused) return;
      const free = freeDescriptors(1);
      if (free instanceof Error) this.handle(free);
    }, PROBE_MS).unref();
  }

  /** Cancels the check and a pending resume (the server is closing). */
  stop(): void {
    this.stopped = true;
    if (this.probe) clearInterval(this.probe);
    this.probe = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    const wait = this.delay;
    this.delay = Math.min(this.maxDelay, this.delay * 2);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      // Resume only with some room: with a single free descriptor the next accept exhausts it again.
      const free = freeDescriptors(HEADROOM);
      if (free instanceof Error || free < HEADROOM) {
        this.o.stats.acceptErrors++;
        this.episodeErrors++;
        this.schedule();
        return;
      }
      this.o.resume().then(
        () => {
          this.paused = false;
        },
        (error: unknown) => {
          if (this.stopped) return;
          if (isDescriptorExhaustion(error)) {
            this.o.stats.acceptErrors++;
            this.episodeErrors++;
          } else {
            this.o.logger.error(
              `[echo] ${this.o.name}: could not resume accepting: ${(error as Error)?.message ?? String(error)}`,
            );
          }
          this.schedule();
        },
      );
    }, wait);
  }
}

/** What {@link listenerBackoff} needs besides the listener. */
export interface ListenerBackoffOptions {
  /** Names the listener in the log line (`MainThread`, `master`…). */
  name: string;
  logger: Logger;
  /** Where exhaustion episodes are counted. */
  stats: { acceptErrors: number };
  /** Whether the server still wants to accept (false once it is closing). */
  active: () => boolean;
}

/**
 * An {@link AcceptBackoff} for a `net.Server` that is listening on `listen`: pausing closes the
 * listener, so waiting clients queue in the kernel's backlog; resuming listens again on the same
 * address (`port` is the bound one, which matters when `listen.port` was 0). Already watching.
 */
export function listenerBackoff(
  server: Server,
  listen: NormalizedListenOptions,
  boundPort: number | undefined,
  o: ListenerBackoffOptions,
): AcceptBackoff {
  const again = boundPort === undefined ? listen : { ...listen, port: boundPort };
  const backoff = new AcceptBackoff({
    name: o.name,
    logger: o.logger,
    stats: o.stats,
    pause: () => {
      if (server.listening) server.close();
    },
    resume: () => (o.active() && !server.listening ? listenServer(server, again) : Promise.resolve()),
  });
  backoff.watch();
  return backoff;
}
