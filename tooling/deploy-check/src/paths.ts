/**
 * Where the deploy docs and their examples are.
 * @module
 */
import { fileURLToPath } from "node:url";

/** The repository's root directory, with a trailing slash. */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** docs/deploy.md. */
export const deployDoc = fileURLToPath(new URL("../../../docs/deploy.md", import.meta.url));

/** docs/deploy/, where every example is a file of its own. */
export const deployDir = fileURLToPath(new URL("../../../docs/deploy/", import.meta.url));

/** An example's path by its name in docs/deploy/. */
export function example(name: string): string {
  return `${deployDir}${name}`;
}
