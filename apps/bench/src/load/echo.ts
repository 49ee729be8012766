/**
 * The echo load of the persistent, new-connection, CPU and C10k scenarios. By default
 * `@echo/client`'s `runLoad` when the installed client has it, otherwise the bench's internal
 * loop; `--loader ref` uses the C `ref-echo-load` instead.
 * @module
 */
import { refTools } from "../paths.js";
import { refLoad } from "./external.js";
import { internalLoad, type InternalLoadOptions } from "./internal.js";
import type { LoadResult } from "./types.js";

/** Options of {@link echoLoad}: the same as the internal loop's. */
export type EchoLoadOptions = InternalLoadOptions;

/** Which generator drives echo load. */
export type EchoLoader = "auto" | "client" | "internal" | "ref";

/** The part of `@echo/client`'s `runLoad` the bench uses. */
interface RunLoad {
  (options: { host: string; port: number; connections: number; size: number; duration: number; newConnection: boolean }): Promise<{
    roundTrips: number;
    roundTripsPerSecond: number;
    elapsed: number;
    latency: { p50: number; p99: number; max: number };
    errors: number;
    mismatches: number;
  }>;
}

let loader: EchoLoader = "auto";
let runLoadPromise: Promise<RunLoad | undefined> | undefined;

/** `@echo/client`'s runLoad, or undefined while the installed client has none. */
export function clientRunLoad(): Promise<RunLoad | undefined> {
  runLoadPromise ??= import("@echo/client").then(
    (m: Record<string, unknown>) => (typeof m.runLoad === "function" ? (m.runLoad as RunLoad) : undefined),
    () => undefined,
  );
  return runLoadPromise;
}

/** Chooses the echo load generator (`--loader`). Rejects a choice that is not available. */
export async function setEchoLoader(choice: EchoLoader): Promise<void> {
  if (choice === "client" && !(await clientRunLoad())) throw new Error("--loader client: the installed @echo/client has no runLoad yet");
  if (choice === "ref" && !refTools.load) throw new Error(`--loader ref: ${refTools.dir}/ref-echo-load is not built (sh shared/tools/build.sh ${refTools.dir})`);
  loader = choice;
}

/** The name of the generator {@link echoLoad} uses now. */
export async function echoLoadTool(): Promise<string> {
  if (loader === "ref") return "ref-echo-load";
  if (loader === "internal") return "internal";
  return (await clientRunLoad()) ? "@echo/client runLoad" : "internal";
}

/** Runs echo load with the chosen generator. */
export async function echoLoad(options: EchoLoadOptions): Promise<LoadResult> {
  if (loader === "ref") {
    return refLoad({ binary: refTools.load!, port: options.port, connections: options.connections, size: options.size, seconds: options.durationMs / 1000, newConnection: options.newConnection ?? false });
  }
  const runLoad = loader === "internal" ? undefined : await clientRunLoad();
  if (!runLoad) return internalLoad(options);
  const r = await runLoad({ host: options.host, port: options.port, connections: options.connections, size: options.size, duration: options.durationMs / 1000, newConnection: options.newConnection ?? false });
  return { tool: "@echo/client runLoad", done: r.roundTrips, seconds: r.elapsed, rps: r.roundTripsPerSecond, p50Us: r.latency.p50, p99Us: r.latency.p99, maxUs: r.latency.max, errors: r.errors, mismatches: r.mismatches };
}
