/**
 * The flags every echo server CLI shares, parsed and validated the same way everywhere.
 * @module
 */
import { parseArgs } from "node:util";
import { InvalidArgumentError } from "../errors.js";
import type { LimitOptions, ListenOptions } from "../options.js";

/** A flag definition for {@link parseServerArgs}'s `extra`. */
export interface FlagSpec {
  type: "string" | "boolean";
  /** One line for `--help`. */
  description: string;
  /** Placeholder in `--help`, such as `N`. */
  value?: string;
}

/** Privilege-drop flags (`--user`, `--group`, `--umask`). */
export interface PrivilegeArgs {
  user?: string;
  group?: string;
  umask?: number;
}

/** What {@link parseServerArgs} returns. */
export interface ServerArgs {
  /** Listen and limit options, ready for a server constructor. */
  options: ListenOptions & LimitOptions & { handler: string; logConnections: boolean };
  /** `--mode`, when the CLI has modes. */
  mode: string | undefined;
  /** `--user` / `--group` / `--umask`, when any was given. */
  privileges: PrivilegeArgs | undefined;
  /** Values of the CLI's own extra flags. */
  extra: Record<string, string | boolean | undefined>;
  /** `--help` was given. */
  help: boolean;
}

/** The common flags, for `--help`. */
export const commonFlags: Record<string, FlagSpec> = {
  host: { type: "string", value: "HOST", description: "interface to bind (default 127.0.0.1; :: for all, IPv6 too)" },
  port: { type: "string", value: "PORT", description: "TCP port, 0 for any free one (default 0)" },
  path: { type: "string", value: "PATH", description: "listen on a Unix domain socket instead of TCP" },
  handler: { type: "string", value: "NAME|PATH", description: "echo, upper, whoami, http-hello, or a module path (default echo)" },
  "max-connections": { type: "string", value: "N", description: "connections open at once (default 10000)" },
  "idle-timeout": { type: "string", value: "MS", description: "close a client silent this long; 0 disables (default 60000)" },
  "max-buffered": { type: "string", value: "BYTES", description: "output held per connection before reading pauses (default 1048576)" },
  "close-timeout": { type: "string", value: "MS", description: "how long shutdown waits for connections (default 10000)" },
  "log-connections": { type: "boolean", description: "log one line per connection (Connected by ADDR:PORT)" },
  user: { type: "string", value: "USER", description: "after binding, drop root privileges to USER (needs @echo/privdrop)" },
  group: { type: "string", value: "GROUP", description: "group to drop to (default: nogroup, else nobody, else USER's group)" },
  umask: { type: "string", value: "OCTAL", description: "umask after dropping (default 0007)" },
  help: { type: "boolean", description: "print this help" },
};

function integerFlag(flag: string, raw: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new InvalidArgumentError(`--${flag} must be an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? "" : ` to ${max}`}, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/**
 * Parses a server CLI's arguments: the common flags, `--mode` when `modes` is given, and the
 * CLI's own `extra` flags.
 * @throws {InvalidArgumentError} an unknown flag or a bad value; the message names the flag.
 */
export function parseServerArgs(
  argv: readonly string[],
  config: { modes?: readonly string[]; defaultMode?: string; extra?: Record<string, FlagSpec> } = {},
): ServerArgs {
  const spec: Record<string, { type: "string" | "boolean" }> = {};
  for (const [name, flag] of Object.entries({ ...commonFlags, ...(config.extra ?? {}) })) spec[name] = { type: flag.type };
  if (config.modes) spec.mode = { type: "string" };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options: spec, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  const str = (name: string): string | undefined => values[name] as string | undefined;
  let mode: string | undefined;
  if (config.modes) {
    mode = str("mode") ?? config.defaultMode;
    if (mode === undefined || !config.modes.includes(mode)) {
      throw new InvalidArgumentError(`--mode must be one of ${config.modes.join(", ")}, got ${JSON.stringify(str("mode"))}`);
    }
  }
  const umaskRaw = str("umask");
  if (umaskRaw !== undefined && !/^0?[0-7]{1,3}$/.test(umaskRaw)) {
    throw new InvalidArgumentError(`--umask must be an octal mode such as 0007, got ${JSON.stringify(umaskRaw)}`);
  }
  const privileges: PrivilegeArgs | undefined =
    str("user") !== undefined || str("group") !== undefined || umaskRaw !== undefined
      ? {
          ...(str("user") !== undefined ? { user: str("user") } : {}),
          ...(str("group") !== undefined ? { group: str("group") } : {}),
          ...(umaskRaw !== undefined ? { umask: parseInt(umaskRaw, 8) } : {}),
        }
      : undefined;
  const options: ServerArgs["options"] = {
    handler: str("handler") ?? "echo",
    logConnections: values["log-connections"] === true,
  };
  const assign = <K extends keyof ServerArgs["options"]>(key: K, value: ServerArgs["options"][K] | undefined): void => {
    if (value !== undefined) options[key] = value;
  };
  assign("host", str("host"));
  assign("port", integerFlag("port", str("port"), 0, 65535));
  assign("path", str("path"));
  assign("maxConnections", integerFlag("max-connections", str("max-connections"), 1));
  assign("idleTimeout", integerFlag("idle-timeout", str("idle-timeout"), 0));
  assign("maxBuffered", integerFlag("max-buffered", str("max-buffered"), 1024));
  assign("closeTimeout", integerFlag("close-timeout", str("close-timeout"), 0));
  const extra: ServerArgs["extra"] = {};
  for (const name of Object.keys(config.extra ?? {})) extra[name] = values[name];
  return { options, mode, privileges, extra, help: values.help === true };
}

/** Formats `--help` text for a server CLI. */
export function formatHelp(name: string, summary: string, config: { modes?: readonly string[]; extra?: Record<string, FlagSpec> } = {}): string {
  const flags: [string, FlagSpec][] = [];
  if (config.modes) flags.push(["mode", { type: "string", value: config.modes.join("|"), description: "concurrency model" }]);
  flags.push(...Object.entries(config.extra ?? {}), ...Object.entries(commonFlags));
  const lines = flags.map(([flag, f]) => {
    const left = `  --${flag}${f.value ? ` ${f.value}` : ""}`;
    return `${left.padEnd(34)}${f.description}`;
  });
  return `Usage: ${name} [options]\n\n${summary}\n\nOptions:\n${lines.join("\n")}\n`;
}
