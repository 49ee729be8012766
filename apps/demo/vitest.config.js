import { config } from "@echo/vitest-config";

// Sized for a loaded 2-core CI machine: the tour runs every model, the browser test starts
// Chromium and runs prefork, a load and the selector comparison. Installing Chromium on a fresh
// machine gets its own hook timeout in the browser test. One file at a time: the tour's contrast
// run compares wall times, and should not share the two cores with Chromium.
export default config({ test: { testTimeout: 240_000, hookTimeout: 120_000, fileParallelism: false } });
