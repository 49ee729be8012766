/**
 * Small helpers shared by the two CLIs: argument parsing with flag-named errors, and exits.
 * @module
 */
import { parseArgs } from "node:util";
import { EchoClientError, invalidArg } from "../errors.js";
import { parseEndpointFlag, type ProxyHeaderOption } from "../proxy-header.js";

/** A flag of a CLI, for parsing and `--help`. */
export interface Flag {
  type: "string" | "boolean";
  short?: string;
  value?: string;
  description: string;
}

/** Parses `argv` strictly; unknown flags and missing values become `ECHO_ERR_INVALID_ARG` errors. */
export function parseFlags(
  argv: string[],
  flags: Record<string, Flag>,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const [name, flag] of Object.entries(flags))
    options[name] = flag.short ? { type: flag.type, short: flag.short } : { type: flag.type };
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    return { values, positionals };
  } catch (error) {
    throw invalidArg((error as Error).message);
  }
}

/** `--help` text. */
export function formatUsage(usage: string, summary: string, flags: Record<string, Flag>): string {
  const lines = Object.entries(flags).map(([name, f]) => {
    const left = `  ${f.short ? `-${f.short}, ` : "    "}--${name}${f.value ? ` ${f.value}` : ""}`;
    return `${left.padEnd(30)}${f.description}`;
  });
  return `${usage}\n\n${summary}\n\nOptions:\n${lines.join("\n")}\n`;
}

/** Parses an integer flag value; `undefined` stays `undefined`. */
export function integerFlag(flag: string, raw: string | boolean | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== "string" || !/^\d+$/.test(raw))
    throw invalidArg(`--${flag} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** Parses a positive decimal number flag value (seconds). */
export function numberFlag(flag: string, raw: string | boolean | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== "string" || !/^\d+(\.\d+)?$/.test(raw))
    throw invalidArg(`--${flag} must be a number, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** Parses a size such as `64`, `4k`/`4K`/`4KiB` (×1024) or `8m`/`8M`/`8MiB` (×1048576). */
export function sizeFlag(flag: string, raw: string | boolean | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const match = typeof raw === "string" ? /^(\d+)\s*(b|k|kb|kib|m|mb|mib)?$/i.exec(raw) : null;
  if (match === null)
    throw invalidArg(`--${flag} must be a byte count such as 64, 4k or 8M, got ${JSON.stringify(raw)}`);
  const unit = (match[2] ?? "b").toLowerCase();
  return Number(match[1]) * (unit.startsWith("m") ? 1048576 : unit.startsWith("k") ? 1024 : 1);
}

/** Prints `name: message (CODE)` on stderr and sets the exit code: 2 for usage errors, 1 otherwise. */
export function reportFailure(name: string, error: unknown): void {
  if (error instanceof EchoClientError) {
    process.stderr.write(`${name}: ${error.message} (${error.code})\n`);
    process.exitCode = error.code === "ECHO_ERR_INVALID_ARG" ? 2 : 1;
  } else {
    process.stderr.write(`${name}: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}

/** The `--proxy-header` and `--proxy-source` flags, shared by both CLIs. */
export const proxyFlags: Record<string, Flag> = {
  "proxy-header": {
    type: "string",
    value: "v1|v2",
    description: "send a PROXY protocol header first (for servers behind a proxy)",
  },
  "proxy-source": {
    type: "string",
    value: "ADDR:PORT",
    description: "client address the header announces (default: the connection's own)",
  },
};

/** The `proxyHeader` option from `--proxy-header` and `--proxy-source`; `undefined` without them. */
export function proxyHeaderFlag(values: Record<string, string | boolean | undefined>): ProxyHeaderOption | undefined {
  const version = values["proxy-header"];
  const source = values["proxy-source"];
  if (version === undefined) {
    if (source !== undefined) throw invalidArg("--proxy-source needs --proxy-header v1|v2");
    return undefined;
  }
  if (version !== "v1" && version !== "v2")
    throw invalidArg(`--proxy-header must be v1 or v2, got ${JSON.stringify(version)}`);
  if (source === undefined) return version;
  return { version: version === "v1" ? 1 : 2, source: parseEndpointFlag("--proxy-source", source as string) };
}
