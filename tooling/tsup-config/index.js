// Shared tsup settings: every package builds ESM for Node 20 into a clean dist/. A package's
// tsup.config.js passes only what is its own (entries, declaration entries) to one of these.

/** @typedef {import("tsup").Options} Options */

const base = {
  format: ["esm"],
  target: "node20",
  platform: "node",
  clean: true,
};

/**
 * A published library: shared chunks, source maps, and declarations for `src/index.ts` unless
 * `dts` names the entries that are public.
 * @param {Options} options the package's own settings (at least `entry`); they win over the defaults
 * @returns {Options}
 */
export function library(options) {
  return { ...base, splitting: true, sourcemap: true, dts: { entry: ["src/index.ts"] }, ...options };
}

/**
 * A private app (a bin run from the repository): no declarations, no source maps.
 * @param {Options} options the app's own settings (at least `entry`)
 * @returns {Options}
 */
export function app(options) {
  return { ...base, ...options };
}
