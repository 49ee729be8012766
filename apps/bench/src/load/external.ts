/**
 * External load tools run as child processes: the C `ref-echo-load`, `ab` and `wrk`. Each is
 * bounded by its own duration and killed if it overstays.
 * @module
 */
import { spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { LoadResult } from "./types.js";

/** The absolute path of an executable named `command` in a PATH directory, or undefined. No shell runs. */
export function which(command: string): string | undefined {
  if (!command || command.includes("/")) return undefined;
  const candidates = (process.env.PATH ?? "")
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, command));
  return candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return statSync(path).isFile();
    } catch {
      return false;
    }
  });
}

/** Runs a command, collecting stdout; kills it after `timeoutMs`. Rejects on a non-zero exit. */
export function runTool(
  command: string,
  args: readonly string[],
  timeoutMs: number,
  onSpawn?: (pid: number) => void,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-2048)));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("spawn", () => onSpawn?.(child.pid!));
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else
        reject(
          new Error(
            `${command} ${signal ? `killed by ${signal} (over ${timeoutMs} ms)` : `exited ${code}`}: ${err.trim().split("\n").slice(-2).join(" | ")}`,
          ),
        );
    });
  });
}

/** Parses ref-echo-load's one line `rps=… p50_us=… p99_us=… max_us=… errors=… mismatch=… done=…`. */
export function parseRefLoad(output: string, seconds: number): LoadResult {
  const field = (name: string): number => {
    const m = new RegExp(`\\b${name}=(-?[\\d.]+)`).exec(output);
    if (!m) throw new Error(`ref-echo-load printed no ${name}=: ${output.trim()}`);
    return Number(m[1]);
  };
  const done = field("done");
  const num = (v: number): number => (v < 0 ? Number.NaN : v);
  return {
    tool: "ref-echo-load",
    done,
    seconds,
    rps: done / seconds,
    p50Us: num(field("p50_us")),
    p99Us: num(field("p99_us")),
    maxUs: num(field("max_us")),
    errors: field("errors"),
    mismatches: field("mismatch"),
  };
}

/** Options for ref-echo-load. */
export interface RefLoadOptions {
  binary: string;
  port: number;
  connections: number;
  size: number;
  seconds: number;
  newConnection?: boolean;
  idle?: number;
  /** Called with its pid once started. */
  onSpawn?: (pid: number) => void;
}

/** Runs the C load generator. */
export async function refLoad(o: RefLoadOptions): Promise<LoadResult> {
  const args = [
    "-h",
    "127.0.0.1",
    "-p",
    String(o.port),
    "-c",
    String(o.connections),
    "-s",
    String(o.size),
    "-d",
    String(o.seconds),
  ];
  if (o.newConnection) args.push("-x");
  if (o.idle) args.push("-i", String(o.idle));
  const out = await runTool(o.binary, args, o.seconds * 1000 + 60_000, o.onSpawn);
  return parseRefLoad(out, o.seconds);
}

/** Converts "1.23ms", "450.00us", "2s", "12" (ms for ab) to microseconds. */
export function toMicros(value: string, defaultUnit: "ms" | "us" = "ms"): number {
  const m = /^([\d.]+)\s*(us|ms|s|m)?$/.exec(value.trim());
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  const unit = m[2] ?? defaultUnit;
  return unit === "us" ? n : unit === "ms" ? n * 1000 : unit === "s" ? n * 1e6 : n * 60e6;
}

/** Parses `ab`'s report. */
export function parseAb(output: string, seconds: number): LoadResult {
  const num = (re: RegExp): number => {
    const m = re.exec(output);
    return m ? Number(m[1]) : Number.NaN;
  };
  const done = num(/Complete requests:\s+(\d+)/);
  if (!Number.isFinite(done)) throw new Error(`ab printed no "Complete requests": ${output.slice(0, 200)}`);
  const failed = num(/Failed requests:\s+(\d+)/) || 0;
  const non2xx = num(/Non-2xx responses:\s+(\d+)/) || 0;
  const taken = num(/Time taken for tests:\s+([\d.]+)/);
  const pct = (p: string): number => toMicros(String(num(new RegExp(`^\\s*${p}%\\s+(\\d+)`, "m"))), "ms");
  return {
    tool: "ab",
    done,
    seconds: taken || seconds,
    rps: num(/Requests per second:\s+([\d.]+)/),
    p50Us: pct("50"),
    p99Us: pct("99"),
    maxUs: pct("100"),
    errors: failed + non2xx,
    mismatches: 0,
  };
}

/** Parses `wrk --latency`'s report. */
export function parseWrk(output: string, seconds: number): LoadResult {
  const m = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(output);
  if (!m) throw new Error(`wrk printed no "requests in": ${output.slice(0, 200)}`);
  const done = Number(m[1]);
  const taken = toMicros(`${m[2]}${m[3]}`) / 1e6;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? Number.NaN);
  const pct = (p: string): number => {
    const r = new RegExp(`^\\s*${p}%\\s+([\\d.]+(?:us|ms|s|m))`, "m").exec(output);
    return r ? toMicros(r[1]!) : Number.NaN;
  };
  const maxM = /Latency\s+[\d.]+\w+\s+[\d.]+\w+\s+([\d.]+(?:us|ms|s|m))/.exec(output);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const errs = socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(output)?.[1] ?? 0);
  return {
    tool: "wrk",
    done,
    seconds: taken || seconds,
    rps,
    p50Us: pct("50"),
    p99Us: pct("99"),
    maxUs: maxM ? toMicros(maxM[1]!) : Number.NaN,
    errors: errs + non2xx,
    mismatches: 0,
  };
}

/** Runs `ab -k` (HTTP/1.0 keep-alive) for `seconds`. */
export async function abLoad(binary: string, port: number, connections: number, seconds: number): Promise<LoadResult> {
  // -t implies -n 50000; a larger -n after it lets the time limit decide.
  const secs = Math.max(1, Math.round(seconds));
  const out = await runTool(
    binary,
    [
      "-k",
      "-q",
      "-c",
      String(connections),
      "-t",
      String(secs),
      "-n",
      "100000000",
      "-s",
      "10",
      `http://127.0.0.1:${port}/`,
    ],
    secs * 1000 + 30_000,
  );
  return parseAb(out, secs);
}

/** Runs `wrk` with one thread for `seconds`. */
export async function wrkLoad(binary: string, port: number, connections: number, seconds: number): Promise<LoadResult> {
  const secs = Math.max(1, Math.round(seconds));
  const out = await runTool(
    binary,
    ["-t1", `-c${connections}`, `-d${secs}s`, "--latency", `http://127.0.0.1:${port}/`],
    secs * 1000 + 30_000,
  );
  return parseWrk(out, secs);
}
