/**
 * Helpers of the deploy docs' checks.
 * @module
 */
export { repoRoot, deployDoc, deployDir, example } from "./paths.js";
export { quotedFiles, syncQuotes } from "./quoted.js";
export { serverClis, cliPath, cliHelp, commandsIn, parseWords } from "./cli-flags.js";
export type { ServerCli, CliHelp, UsedCommand } from "./cli-flags.js";
