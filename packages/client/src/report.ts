/**
 * Human-readable rendering of a {@link LoadResult}, as `echo-load` prints it.
 * @module
 */
import type { DatagramLoadResult } from "./datagram-load.js";
import type { LoadResult } from "./load.js";
import { saturationWarning, type LoadCost } from "./load-cost.js";

const int = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const dec = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** Formats a byte count as `64 B`, `4 KiB`, `8 MiB` (exact binary units when they divide). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1048576 && bytes % 1048576 === 0) return `${bytes / 1048576} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

/** The multi-line report `echo-load` prints without `--json`. */
export function formatLoadReport(result: LoadResult): string {
  const l = result.latency;
  const codes = Object.entries(result.errorCodes)
    .map(([code, n]) => `${code} ${int.format(n)}`)
    .join(", ");
  const mode = result.newConnection ? "new connection per round trip" : "persistent";
  return [
    `echo-load ${result.target}: ${int.format(result.connections)} connection(s), ${formatBytes(result.size)} payload, ` +
      `pipeline ${result.pipeline}, ${mode}, ${result.threads} thread(s)`,
    `  ${dec.format(result.elapsed)} s, ${int.format(result.roundTrips)} round trips (stopped by ${result.stoppedBy})`,
    `  ${int.format(result.roundTripsPerSecond)} round trips/s, ${dec.format(result.mibPerSecond)} MiB/s`,
    `  latency (µs): p50 ${int.format(l.p50)}  p90 ${int.format(l.p90)}  p99 ${int.format(l.p99)}  p99.9 ${int.format(l.p999)}  max ${int.format(l.max)}`,
    `  errors ${int.format(result.errors)}${codes ? ` (${codes})` : ""}, mismatches ${int.format(result.mismatches)}, connections opened ${int.format(result.connects)}`,
    ...costLines(result.cost, false),
  ].join("\n");
}

function costLines(cost: LoadCost, udp: boolean): string[] {
  const threads = cost.threads.map((t) => `${t.name} ${Math.round(t.busy * 100)}%`).join(", ");
  const warning = saturationWarning(cost, udp);
  return [
    `  load generator: ${dec.format(cost.cpuPerRoundTripUs)} µs CPU per round trip, busy ${threads}`,
    ...(warning ? [`  ${warning}`] : []),
  ];
}

/** The multi-line report `echo-load --udp` prints without `--json`. */
export function formatDatagramLoadReport(result: DatagramLoadResult): string {
  const l = result.latency;
  const codes = Object.entries(result.errorCodes)
    .map(([code, n]) => `${code} ${int.format(n)}`)
    .join(", ");
  return [
    `echo-load ${result.target}: ${int.format(result.flows)} flow(s), ${formatBytes(result.size)} datagrams, window ${result.window}`,
    `  ${dec.format(result.elapsed)} s, ${int.format(result.sent)} sent, ${int.format(result.roundTrips)} round trips (stopped by ${result.stoppedBy})`,
    `  ${int.format(result.roundTripsPerSecond)} round trips/s`,
    `  latency (µs): p50 ${int.format(l.p50)}  p90 ${int.format(l.p90)}  p99 ${int.format(l.p99)}  p99.9 ${int.format(l.p999)}  max ${int.format(l.max)}`,
    `  lost ${int.format(result.lost)}, reordered ${int.format(result.reordered)}, late ${int.format(result.late)}, mismatches ${int.format(result.mismatches)}, errors ${int.format(result.errors)}${codes ? ` (${codes})` : ""}`,
    ...costLines(result.cost, true),
  ].join("\n");
}
