/**
 * A lab: what one open page runs (a model server, a load burst, prefork actions, a selector
 * comparison) and the state it is shown every second. Closing the lab ends all of it.
 * @module
 */
import { InvalidArgumentError, ServerStateError } from "@echo/core";
import { LOAD_SIZE, LoadBurst, type LoadState } from "./load-burst.js";
import { startModel, type Box, type ModelServer } from "./model-server.js";
import type { LoadSpec, ModelSpec } from "./requests.js";
import { SelectorComparison, type CompareState } from "./selector-compare.js";

/** A box as the page shows it: the server's counters plus a rate over the last second. */
export interface BoxView extends Box {
  /** Round trips per second: bytes the server echoed over the last second ÷ the load's payload size. */
  roundTripsPerSecond: number;
}

/** One prefork action and what it cost. */
export interface ActionRecord {
  id: number;
  /** `kill`, `reload`, `add` or `remove`. */
  kind: string;
  /** What was asked, e.g. `SIGKILL Process-2 (pid 4711)`. */
  what: string;
  status: "running" | "done" | "failed";
  /** What happened, e.g. `Process-4 (pid 4730) replaced it in 0.21 s`. */
  detail: string;
  /** Connections of the running load that failed during the action; null when no load ran. */
  failedConnections: number | null;
}

/** Everything the page shows, pushed every second. */
export interface LabState {
  session: string;
  /** `Date.now()` of this snapshot. */
  time: number;
  server: { spec: ModelSpec; label: string; address: string; masterPid: number } | null;
  starting: boolean;
  boxes: BoxView[];
  /** Round trips per second over every box (the servers' counters, not the client's). */
  roundTripsPerSecond: number;
  /** Round trips served since the server started (its bytes out ÷ the payload size). */
  roundTrips: number;
  load: LoadState | null;
  actions: ActionRecord[];
  compare: CompareState | null;
  /** Child processes this page started that are alive now (prefork workers, idle holders). */
  children: number[];
  /** The last thing that went wrong, for the page to show. */
  error: string | null;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One page's lab. */
export class Lab {
  readonly id: string;
  private server: ModelServer | undefined;
  private starting: Promise<void> | undefined;
  private load: LoadBurst | undefined;
  private comparison: SelectorComparison | undefined;
  private readonly actions: ActionRecord[] = [];
  private nextAction = 1;
  private busy: Promise<unknown> | undefined;
  private previous = new Map<string, { bytesOut: number; at: number }>();
  private error: string | null = null;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(id: string) {
    this.id = id;
  }

  /** Child processes alive now: prefork workers and idle-connection holders. */
  childPids(): number[] {
    return [...(this.server?.childPids() ?? []), ...(this.comparison?.childPids() ?? [])];
  }

  /** Stops what runs and starts `spec`; resolves once it listens. */
  async start(spec: ModelSpec): Promise<void> {
    this.assertOpen();
    if (this.starting) throw new ServerStateError("a server is starting already; wait for it");
    const run = async (): Promise<void> => {
      await this.stopServer();
      this.error = null;
      const server = await startModel(spec);
      if (this.closed) {
        await server.close();
        return;
      }
      this.server = server;
    };
    this.starting = run().finally(() => (this.starting = undefined));
    try {
      await this.starting;
    } catch (error) {
      this.error = `starting ${spec.model} failed: ${(error as Error).message}`;
      throw error;
    }
  }

  /** Starts a load burst against the running server. */
  startLoad(spec: LoadSpec): LoadState {
    this.assertOpen();
    const server = this.requireServer("a load");
    if (this.load?.running) throw new ServerStateError("a load is running already; stop it first");
    this.load = new LoadBurst(server.address, spec);
    return this.load.state();
  }

  /** Stops the load burst, if one runs. */
  async stopLoad(): Promise<void> {
    await this.load?.stop();
  }

  /**
   * SIGKILLs a prefork worker (when `pid` is absent, the one with the most open connections at
   * its last heartbeat) and waits for its replacement.
   */
  kill(pid: number | undefined): Promise<ActionRecord> {
    const prefork = this.requirePrefork("kill");
    const workers = prefork.workers().filter((w) => w.state === "listening");
    const busiest = (): (typeof workers)[number] | undefined =>
      [...workers].sort((a, b) => b.stats.active - a.stats.active)[0];
    const victim = pid === undefined ? busiest() : workers.find((w) => w.pid === pid);
    if (!victim && pid === undefined) throw new ServerStateError("there is no listening worker to kill");
    if (!victim)
      throw new InvalidArgumentError(
        `pid ${pid} is not a listening worker of this server (its workers: ${workers.map((w) => w.pid).join(", ")})`,
      );
    return this.action("kill", `SIGKILL ${victim.name} (pid ${victim.pid})`, async () => {
      const before = new Set(prefork.workers().map((w) => w.pid));
      const t0 = performance.now();
      process.kill(victim.pid, "SIGKILL");
      const deadline = t0 + 20_000;
      while (performance.now() < deadline) {
        const fresh = prefork.workers().find((w) => !before.has(w.pid) && w.state === "listening");
        if (fresh)
          return `${fresh.name} (pid ${fresh.pid}) replaced it in ${((performance.now() - t0) / 1000).toFixed(2)} s`;
        await sleep(25);
      }
      throw new Error("no replacement was listening after 20 s");
    });
  }

  /** Zero-downtime reload (what SIGHUP does): a new generation of workers replaces the old. */
  reload(): Promise<ActionRecord> {
    const prefork = this.requirePrefork("reload");
    return this.action("reload", "reload (SIGHUP): a new generation of workers, then the old ones stop", async () => {
      const before = new Set(prefork.workers().map((w) => w.pid));
      const t0 = performance.now();
      await prefork.reload();
      const fresh = prefork.workers().filter((w) => !before.has(w.pid));
      return `${fresh.map((w) => `${w.name} (pid ${w.pid})`).join(", ")} took over in ${((performance.now() - t0) / 1000).toFixed(2)} s`;
    });
  }

  /** One worker more (what SIGTTIN does). */
  addWorker(): Promise<ActionRecord> {
    const prefork = this.requirePrefork("add a worker");
    return this.action("add", "add a worker (SIGTTIN)", async () => {
      const info = await prefork.addWorker();
      return `${info.name} (pid ${info.pid}) is listening; ${prefork.workerCount} workers`;
    });
  }

  /** One worker less (what SIGTTOU does): the oldest stops gracefully. */
  removeWorker(): Promise<ActionRecord> {
    const prefork = this.requirePrefork("remove a worker");
    if (prefork.workerCount <= 1) throw new ServerStateError("the last worker cannot be removed");
    return this.action("remove", "remove a worker (SIGTTOU)", async () => {
      const info = await prefork.removeWorker();
      return `${info.name} (pid ${info.pid}) finished its connections and exited; ${prefork.workerCount} worker${prefork.workerCount === 1 ? "" : "s"}`;
    });
  }

  /**
   * Starts the selector comparison with `idle` idle connections. A running load is stopped
   * first: it would share the CPU with what is measured.
   */
  async compareSelectors(idle: number): Promise<CompareState> {
    this.assertOpen();
    if (this.comparison?.state.running) throw new ServerStateError("a comparison is running already");
    await this.load?.stop();
    this.comparison = new SelectorComparison(idle);
    return this.comparison.state;
  }

  /** The state the page shows now, from the server's own counters. */
  async snapshot(): Promise<LabState> {
    const server = this.server;
    let boxes: BoxView[] = [];
    let roundTrips = 0;
    if (server) {
      try {
        const now = performance.now();
        const raw = await server.boxes();
        const next = new Map<string, { bytesOut: number; at: number }>();
        boxes = raw.map((b) => {
          const before = this.previous.get(b.key);
          next.set(b.key, { bytesOut: b.bytesOut, at: now });
          const rate =
            before && now > before.at ? ((b.bytesOut - before.bytesOut) / LOAD_SIZE / (now - before.at)) * 1000 : 0;
          return { ...b, roundTripsPerSecond: Math.max(0, Math.round(rate)) };
        });
        this.previous = next;
        roundTrips = Math.floor((await server.totalBytesOut()) / LOAD_SIZE);
      } catch (error) {
        // The server closed while it was asked (the page switched models): no boxes this second.
        if (this.server === server) this.error = (error as Error).message;
      }
    }
    return {
      session: this.id,
      time: Date.now(),
      server:
        server === undefined
          ? null
          : {
              spec: server.spec,
              label: server.label,
              address: `${server.address.host}:${server.address.port}`,
              masterPid: process.pid,
            },
      starting: this.starting !== undefined,
      boxes,
      roundTripsPerSecond: boxes.reduce((sum, b) => sum + b.roundTripsPerSecond, 0),
      roundTrips,
      load: this.load?.state() ?? null,
      actions: this.actions.slice(-8),
      compare: this.comparison?.state ?? null,
      children: this.childPids(),
      error: this.error,
    };
  }

  /** Ends everything this lab started; resolves when every child process has exited. */
  close(): Promise<void> {
    this.closed = true;
    this.closing ??= (async () => {
      await Promise.allSettled([this.starting, this.comparison?.stop()]);
      await this.stopServer();
    })();
    return this.closing;
  }

  private async stopServer(): Promise<void> {
    await this.load?.stop();
    const server = this.server;
    this.server = undefined;
    this.previous.clear();
    await server?.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new ServerStateError("this page's session has ended");
  }

  private requireServer(what: string): ModelServer {
    if (!this.server) throw new ServerStateError(`${what} needs a running server: start a model first`);
    return this.server;
  }

  private requirePrefork(what: string): NonNullable<ModelServer["prefork"]> {
    this.assertOpen();
    const server = this.requireServer(what);
    if (!server.prefork)
      throw new ServerStateError(`${what} needs a prefork server; the running model is ${server.spec.model}`);
    if (this.busy) throw new ServerStateError("another prefork action is running; wait for it");
    return server.prefork;
  }

  /**
   * Runs a prefork action and counts the load's connection failures from its start until the
   * load's second after it ends (a killed worker's clients fail within it).
   */
  private async action(kind: string, what: string, act: () => Promise<string>): Promise<ActionRecord> {
    const record: ActionRecord = {
      id: this.nextAction++,
      kind,
      what,
      status: "running",
      detail: "",
      failedConnections: null,
    };
    this.actions.push(record);
    // The page shows the last few; memory stays bounded however long the page stays open.
    if (this.actions.length > 50) this.actions.splice(0, this.actions.length - 50);
    const load = this.load?.running ? this.load : undefined;
    const errorsBefore = load?.errors ?? 0;
    const run = (async () => {
      let status: ActionRecord["status"] = "done";
      try {
        record.detail = await act();
      } catch (error) {
        record.detail = (error as Error).message;
        status = "failed";
      }
      // The record stays "running" until its cost is known.
      if (load) {
        await load.nextSlice();
        record.failedConnections = load.errors - errorsBefore;
      }
      record.status = status;
    })();
    this.busy = run.finally(() => (this.busy = undefined));
    await run;
    return record;
  }
}
