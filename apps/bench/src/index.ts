/**
 * The bench's building blocks, for its tests and for scripts that drive it.
 * @module
 */
export {
  CLOCK_TICKS,
  parseStat,
  readStat,
  processTree,
  sampleServer,
  cpuByPid,
  cpuDelta,
  schedRunUs,
  countDescriptors,
} from "./proc.js";
export type { ProcStat, ServerSample, CpuReading, CpuDelta } from "./proc.js";
export { median, quantileSorted, summarize, relativeSpread, noiseVerdict, ratio } from "./stats.js";
export type { Summary, Verdict } from "./stats.js";
export { interleave } from "./schedule.js";
export type { ScheduledRun } from "./schedule.js";
export { startServer, parseListeningLine, freePort } from "./server-process.js";
export type { RunningServer, ServerCommand } from "./server-process.js";
export {
  builtinModels,
  externalModel,
  parseBaselineFlag,
  selectModels,
  packageBin,
  python3,
  splitCommand,
  parallelism,
} from "./models.js";
export type { ModelDefinition, Workload, Availability, ModelGroup } from "./models.js";
export { builtinScenarios, measureAround, waitForDescriptors, ECHO_SIZE } from "./scenarios.js";
export type { ScenarioDefinition, Measurement } from "./scenarios.js";
export { presets, planFor } from "./presets.js";
export type { Preset, Plan } from "./presets.js";
export { runBench, summarizeRuns } from "./runner.js";
export type { BenchOptions, Progress } from "./runner.js";
export { SCHEMA, validateResults, toJson } from "./results.js";
export type { BenchResults, RunRecord, SummaryRecord, ModelRecord, ScenarioRecord } from "./results.js";
export { portablePath, portableText, portableResults, pythonVersion, machineContext } from "./portable.js";
export type { PortableContext } from "./portable.js";
export { appRoot, repoRoot, refTools, createRefTools, findRefBuildScript } from "./paths.js";
export type { RefTools } from "./paths.js";
export { echoLoad, echoLoadTool, setEchoLoader, echoLoaders } from "./load/echo.js";
export type { EchoLoader } from "./load/echo.js";
export { writeOutputs, writeDocPage, markdownReport, terminalReport, charts, articleNumbers } from "./report.js";
export { barChart, groupedChart, formatNumber } from "./svg.js";
export { compareResults, formatComparison, readResults } from "./compare.js";
export type { Change } from "./compare.js";
export { internalLoad, payload } from "./load/internal.js";
export { parseAb, parseWrk, parseRefLoad, toMicros, which } from "./load/external.js";
export { openIdle } from "./load/idle.js";
export type { LoadResult } from "./load/types.js";
export { runSoak, soakVerdict, soakModelNames, sampleTimes, defaultSampleEvery, RSS_GROWTH_LIMIT } from "./soak/run.js";
export type { SoakOptions, SoakResults, SoakModelResult, SoakSample } from "./soak/run.js";
export { converse, conversationKinds } from "./soak/conversation.js";
export type { ConversationKind, ConversationResult, ConversationOptions } from "./soak/conversation.js";
export { seededRandom } from "./soak/random.js";
export type { Random } from "./soak/random.js";
export { soakMarkdown, writeSoak, portableSoak, secondHalfGrowth } from "./soak/report.js";
