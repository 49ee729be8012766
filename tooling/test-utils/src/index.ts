/**
 * Helpers the echo tests share. Private to the workspace: a test package lists
 * `"@echo/test-utils": "workspace:*"` in its devDependencies.
 * @module
 */
export { ensureDebianPackages, findCommand, whyNoInstall } from "./debian.js";
export type { DebianTool, EnsureDebianOptions, EnsureDebianResult } from "./debian.js";
export { activatedRoundTrip, freeLowPort, freePort } from "./activation.js";
export type { ActivatedRun } from "./activation.js";
export { socketActivationTests } from "./activation-suite.js";
export { makeTestPki, readPem } from "./pki.js";
export type { CertPair, TestPki } from "./pki.js";
