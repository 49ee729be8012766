/**
 * The echo load of the persistent, new-connection, CPU and C10k scenarios: `@echo/client`'s
 * `runLoad` by default (`--loader client`). Two deliberate alternatives cross-check it:
 * `--loader internal`, the bench's own small byte-checking loop, which shares no code with the
 * client (so a change of figures after a client change can be told apart from a server change),
 * and `--loader ref`, the C `ref-echo-load`.
 * @module
 */
import { runLoad } from "@echo/client";
import { refTools } from "../paths.js";
import { refLoad } from "./external.js";
import { internalLoad, type InternalLoadOptions } from "./internal.js";
import type { LoadResult } from "./types.js";

/** Options of {@link echoLoad}: the same as the internal loop's. */
export type EchoLoadOptions = InternalLoadOptions;

/** Which generator drives echo load. */
export type EchoLoader = "client" | "internal" | "ref";

/** The loaders `--loader` accepts. */
export const echoLoaders: readonly EchoLoader[] = ["client", "internal", "ref"];

const toolNames: Record<EchoLoader, string> = {
  client: "@echo/client runLoad",
  internal: "internal",
  ref: "ref-echo-load",
};

let loader: EchoLoader = "client";

/** Chooses the echo load generator (`--loader`). Rejects `ref` when ref-echo-load cannot be had. */
export function setEchoLoader(choice: EchoLoader): void {
  if (!echoLoaders.includes(choice))
    throw new Error(`--loader must be ${echoLoaders.join(", ")}, got ${JSON.stringify(choice)}`);
  if (choice === "ref" && !refTools.load())
    throw new Error(`--loader ref: ref-echo-load is not available (${refTools.why()})`);
  loader = choice;
}

/** The name of the generator {@link echoLoad} uses now. */
export function echoLoadTool(): string {
  return toolNames[loader];
}

/** Runs echo load with the chosen generator. */
export async function echoLoad(options: EchoLoadOptions): Promise<LoadResult> {
  const newConnection = options.newConnection ?? false;
  if (loader === "ref") {
    return refLoad({
      binary: refTools.load()!,
      port: options.port,
      connections: options.connections,
      size: options.size,
      seconds: options.durationMs / 1000,
      newConnection,
    });
  }
  if (loader === "internal") return internalLoad(options);
  const r = await runLoad({
    host: options.host,
    port: options.port,
    connections: options.connections,
    size: options.size,
    duration: options.durationMs / 1000,
    newConnection,
  });
  return {
    tool: toolNames.client,
    done: r.roundTrips,
    seconds: r.elapsed,
    rps: r.roundTripsPerSecond,
    p50Us: r.latency.p50,
    p99Us: r.latency.p99,
    maxUs: r.latency.max,
    errors: r.errors,
    mismatches: r.mismatches,
  };
}
