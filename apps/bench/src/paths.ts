/**
 * Where the bench's own files are, from src/ (tests) and dist/ (the built CLI) alike: both sit
 * one level below the app's root.
 * @module
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The app's root directory (apps/bench). */
export const appRoot = fileURLToPath(new URL("../", import.meta.url));

/** A file of the app by its path from the app's root. */
export function appFile(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url));
}

/** The CPU-bound fixture handler (built by tsup). */
export const cpuHandlerPath = appFile("dist/fixtures/cpu-handler.js");

/** The reference instruments built by `sh shared/tools/build.sh /tmp/echo-ref`, when present. */
export const refTools = {
  dir: process.env.ECHO_REF_DIR ?? "/tmp/echo-ref",
  get server(): string | undefined {
    const path = `${this.dir}/ref-echo-server`;
    return existsSync(path) ? path : undefined;
  },
  get load(): string | undefined {
    const path = `${this.dir}/ref-echo-load`;
    return existsSync(path) ? path : undefined;
  },
};
