/**
 * Starts the model the page picked, in this process (prefork's workers are child processes),
 * and reads its boxes, one per thread or worker process, from the server's own stats.
 * @module
 */
import { EchoServer, type ServerAddress, type StatsSnapshot } from "@echo/core";
import { PreforkServer } from "@echo/prefork";
import { SelectorServer } from "@echo/selector";
import { ThreadedServer } from "@echo/threaded";
import type { ModelSpec } from "./requests.js";

/** One thread or worker process, as the server's own counters describe it. */
export interface Box {
  /** Stable while the thread or process lives: its pid, or its thread id. */
  key: string;
  /** `MainThread`, `Thread-2`, `Process-4`, `SelectorThread`. */
  name: string;
  pid: number;
  /** Worker threads only: the thread id. */
  threadId?: number;
  /** `listening`, or prefork's `starting` / `stopping`. */
  state: string;
  /** Connections open now. */
  open: number;
  /** Connections accepted since the thread or process started. */
  accepted: number;
  /** Bytes written back to clients since it started. */
  bytesOut: number;
}

/** A running model, whatever kind. */
export interface ModelServer {
  readonly spec: ModelSpec;
  /** Shown as the server's title, e.g. `prefork: 3 worker processes, schedule os`. */
  readonly label: string;
  readonly address: { host: string; port: number };
  /** The prefork server, for kill, reload, add and remove. */
  readonly prefork: PreforkServer | undefined;
  /** Reads every box from the server's stats now. */
  boxes(): Box[] | Promise<Box[]>;
  /** Bytes written to clients over the server's life, exited workers included. */
  totalBytesOut(): number | Promise<number>;
  /** Child processes alive now (prefork's workers). */
  childPids(): number[];
  /** Closes at once: open connections are destroyed. */
  close(): Promise<void>;
}

const quiet = { info: () => undefined, error: () => undefined };

function tcp(address: ServerAddress): { host: string; port: number } {
  if (address.kind !== "tcp") throw new Error("the web view's servers listen on TCP");
  return { host: address.host, port: address.port };
}

function box(key: string, name: string, pid: number, state: string, stats: StatsSnapshot, threadId?: number): Box {
  return {
    key,
    name,
    pid,
    threadId,
    state,
    open: stats.active + stats.queued,
    accepted: stats.accepted,
    bytesOut: stats.bytesOut,
  };
}

/**
 * Starts a server for `spec` on 127.0.0.1, any free port, serving `echo`.
 * @throws whatever the model's `listen()` throws; nothing is left running then.
 */
export async function startModel(spec: ModelSpec): Promise<ModelServer> {
  switch (spec.model) {
    case "async": {
      const server = new EchoServer({ model: "async", logger: quiet });
      const address = tcp(await server.listen());
      return {
        spec,
        label: "async: one event loop serves every connection",
        address,
        prefork: undefined,
        boxes: () => [box("main", "MainThread", process.pid, "listening", server.stats())],
        totalBytesOut: () => server.stats().bytesOut,
        childPids: () => [],
        close: () => server.close({ timeout: 0 }),
      };
    }
    case "threaded": {
      const server = new ThreadedServer({ threads: spec.threads, logger: quiet });
      const address = tcp(await server.listen());
      return {
        spec,
        label: `threaded: ${spec.threads} worker thread${spec.threads === 1 ? "" : "s"}, each with its own event loop (accept path ${server.acceptPath})`,
        address,
        prefork: undefined,
        boxes: () =>
          server
            .threadStats()
            .map((t) =>
              box(
                `thread-${t.threadId}`,
                t.name,
                process.pid,
                t.listening ? "listening" : "starting",
                t.stats,
                t.threadId,
              ),
            ),
        totalBytesOut: () => server.stats().bytesOut,
        childPids: () => [],
        close: () => server.close({ timeout: 0 }),
      };
    }
    case "prefork": {
      const server = new PreforkServer({
        workers: spec.workers,
        schedule: spec.schedule,
        logger: quiet,
        backoffInitial: 100,
        closeTimeout: 2000,
      });
      // Every pid forked and not yet exited, so that nothing outlives the page or this process.
      const alive = new Set<number>();
      server.on("fork", (info: { pid: number }) => alive.add(info.pid));
      server.on("exit", (info: { pid: number }) => alive.delete(info.pid));
      // A crash loop stops the server; the page then shows no boxes, and the error is logged.
      server.on("error", () => undefined);
      let address: { host: string; port: number };
      try {
        address = tcp(await server.listen());
      } catch (error) {
        await server.close({ timeout: 0 });
        throw error;
      }
      return {
        spec,
        label: `prefork: ${spec.workers} worker process${spec.workers === 1 ? "" : "es"} under a supervising master (pid ${process.pid}), schedule ${spec.schedule}`,
        address,
        prefork: server,
        async boxes() {
          const fresh = new Map((await server.stats()).workers.map((w) => [w.pid, w.stats]));
          return server
            .workers()
            .filter((w) => w.state !== "exited")
            .map((w) => box(String(w.pid), w.name, w.pid, w.state, fresh.get(w.pid) ?? w.stats));
        },
        totalBytesOut: async () => (await server.stats()).bytesOut,
        childPids: () => [...alive],
        close: () => server.close({ timeout: 0 }),
      };
    }
    case "selector": {
      const server = new SelectorServer({ selector: spec.selector, logger: quiet });
      const address = tcp(await server.listen());
      return {
        spec,
        label: `selector: one ${spec.selector}() readiness loop in C on its own thread`,
        address,
        prefork: undefined,
        boxes: () => [box("loop", `SelectorThread (${server.backend})`, process.pid, "listening", server.stats())],
        totalBytesOut: () => server.stats().bytesOut,
        childPids: () => [],
        close: () => server.close({ timeout: 0 }),
      };
    }
  }
}
