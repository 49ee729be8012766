/**
 * `@echo/conformance`: the tests every echo server model passes, written once.
 * @packageDocumentation
 */
export { conformanceSuite, fixtures } from "./suite.js";
export { proxySuite } from "./proxy-suite.js";
export type { ConformanceTarget, CoreErrors, RunningTarget, StartOptions, SuiteStats } from "./suite.js";
export { open, collect, readExactly, roundTrip, randomBytes, write } from "./net-helpers.js";
export type { TargetAddress } from "./net-helpers.js";
export type { CliCommand } from "./exhaustion.js";
export { observabilitySuite, killedWorkerSuite, parseMetrics, get } from "./observability.js";
export type { ObservabilityTarget, ObservedRunning, ObservedStartOptions, LineLogger } from "./observability.js";
export { cliObservabilitySuite } from "./cli-observability.js";
export type { CliTarget } from "./cli-observability.js";
export { datagramSuite } from "./datagram-suite.js";
export type {
  DatagramStartOptions,
  DatagramTarget,
  RunningDatagramTarget,
  SuiteDatagramStats,
} from "./datagram-suite.js";
export { datagramRoundTrip, openPeer } from "./dgram-helpers.js";
export type { DatagramPeer } from "./dgram-helpers.js";
