/**
 * The flags every echo server CLI shares, parsed and validated the same way everywhere.
 * @module
 */
import { parseArgs } from "node:util";
import { InvalidArgumentError } from "../errors.js";
import { logFormats, type LogFormat } from "../observability/log-format.js";
import { parseMetricsAddress } from "../observability/metrics-address.js";
import type { ProxyOptions } from "../kit/proxy-options.js";
import { transports } from "../datagram/contract.js";
import { parseDatagramRate, type DatagramOptions } from "../datagram/options.js";
import type { LimitOptions, ListenOptions } from "../options.js";

/**
 * One flag of a server CLI's table. The kind decides how its value is parsed and checked:
 * - `integer`: decimal digits only, in [`min`, `max`]; parsed to a number (or one of the words in
 *   `or`, such as `auto`, kept as that string);
 * - `choice`: one of `choices`; `default` when the flag is absent;
 * - `boolean`: present or not;
 * - `string`: any value.
 * A bad value is a usage error naming the flag (the CLI exits 2).
 */
export type FlagSpec = (
  | { kind: "integer"; min: number; max?: number; or?: readonly string[] }
  | { kind: "choice"; choices: readonly string[]; default?: string }
  | { kind: "boolean" }
  | { kind: "string" }
) & {
  /** One line for `--help`. */
  description: string;
  /** Placeholder in `--help`, such as `N`. @default for a choice, its choices joined by `|` */
  value?: string;
};

/** A parsed flag value: a number for `integer`, a string for `choice`/`string`, true for `boolean`. */
export type FlagValue = string | number | boolean | undefined;

/** Privilege-drop flags (`--user`, `--group`, `--umask`). */
export interface PrivilegeArgs {
  user?: string;
  group?: string;
  umask?: number;
}

/** What {@link parseServerArgs} returns. */
export interface ServerArgs {
  /** Listen and limit options, ready for a server constructor. */
  options: ListenOptions &
    LimitOptions &
    ProxyOptions &
    DatagramOptions & { handler: string; logConnections: boolean; logFormat: LogFormat; metrics?: string };
  /** `--mode`, when the CLI has modes. */
  mode: string | undefined;
  /** `--user` / `--group` / `--umask`, when any was given. */
  privileges: PrivilegeArgs | undefined;
  /** Values of the CLI's own extra flags, parsed by their kind (absent: `undefined`, or a choice's default). */
  extra: Record<string, FlagValue>;
  /** `--help` was given. */
  help: boolean;
}

/** The flags every server CLI takes. */
export const commonFlags: Readonly<Record<string, FlagSpec>> = {
  host: { kind: "string", value: "HOST", description: "interface to bind (default 127.0.0.1; :: for all, IPv6 too)" },
  port: { kind: "integer", min: 0, max: 65535, value: "PORT", description: "TCP port, 0 for any free one (default 0)" },
  path: { kind: "string", value: "PATH", description: "listen on a Unix domain socket instead of TCP" },
  handler: {
    kind: "string",
    value: "NAME|PATH",
    description: "echo, upper, whoami, http-hello, or a module path (default echo)",
  },
  "max-connections": { kind: "integer", min: 1, value: "N", description: "connections open at once (default 10000)" },
  "idle-timeout": {
    kind: "integer",
    min: 0,
    value: "MS",
    description: "close a client silent this long; 0 disables (default 60000)",
  },
  "max-buffered": {
    kind: "integer",
    min: 1024,
    value: "BYTES",
    description: "output held per connection before reading pauses (default 1048576)",
  },
  "close-timeout": {
    kind: "integer",
    min: 0,
    value: "MS",
    description: "how long shutdown waits for connections (default 10000)",
  },
  "log-connections": { kind: "boolean", description: "log one line per connection (Connected by ADDR:PORT)" },
  // PROXY protocol and socket activation (issue 11).
  "proxy-protocol": {
    kind: "boolean",
    description: "expect a PROXY protocol v1/v2 header first on every connection (needs --trusted-proxies)",
  },
  "trusted-proxies": {
    kind: "string",
    value: "ADDR|CIDR[,…]",
    description: "who may send a PROXY header; others are closed without a reply",
  },
  "proxy-header-timeout": {
    kind: "integer",
    min: 1,
    value: "MS",
    description: "time a connection has to send its PROXY header (default 3000)",
  },
  "listen-fd": {
    kind: "string",
    value: "N|auto",
    description: "serve on an inherited listening socket; auto: the one systemd passed (LISTEN_FDS)",
  },
  user: {
    kind: "string",
    value: "USER",
    description: "after binding, drop root privileges to USER (needs @echo/privdrop)",
  },
  group: {
    kind: "string",
    value: "GROUP",
    description: "group to drop to (default: nogroup, else nobody, else USER's group)",
  },
  umask: { kind: "string", value: "OCTAL", description: "umask after dropping (default 0007)" },
  // --- observability (issue 12) ---
  metrics: {
    kind: "string",
    value: "HOST:PORT",
    description: "serve /metrics /healthz /readyz /stats over HTTP here (PORT alone: on 127.0.0.1)",
  },
  "log-format": {
    kind: "choice",
    choices: logFormats,
    default: "text",
    description: "text (default) or json: one JSON object per line, through pino",
  },
  // Datagrams (UDP, RFC 862): the transport and its safety limits.
  transport: {
    kind: "choice",
    choices: transports,
    default: "tcp",
    description: "tcp, udp, or both on the same port number (default tcp)",
  },
  "max-datagram": {
    kind: "integer",
    min: 1,
    max: 65507,
    value: "BYTES",
    description: "larger datagrams are dropped and counted as truncated (default 65507)",
  },
  "max-datagrams-per-address": {
    kind: "string",
    value: "N/SECONDS",
    description: "per-source UDP rate limit, e.g. 100/1 (default off)",
  },
  help: { kind: "boolean", description: "print this help" },
};

/**
 * Parses one flag's raw value by its kind.
 * @throws {InvalidArgumentError} the value does not fit; the message names the flag.
 */
export function parseFlag(flag: string, spec: FlagSpec, raw: string | boolean | undefined): FlagValue {
  if (spec.kind === "boolean") return raw === true;
  if (raw === undefined) return spec.kind === "choice" ? spec.default : undefined;
  const text = String(raw);
  if (spec.kind === "integer") {
    const { min, max = Number.MAX_SAFE_INTEGER } = spec;
    if (spec.or?.includes(text)) return text;
    if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
      const words = spec.or?.length ? ` or ${spec.or.join(", ")}` : "";
      throw new InvalidArgumentError(
        `--${flag} must be an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? "" : ` to ${max}`}${words}, got ${JSON.stringify(text)}`,
      );
    }
    return Number(text);
  }
  if (spec.kind === "choice" && !spec.choices.includes(text)) {
    throw new InvalidArgumentError(`--${flag} must be one of ${spec.choices.join(", ")}, got ${JSON.stringify(text)}`);
  }
  return text;
}

function modeFlag(config: { modes?: readonly string[]; defaultMode?: string }): Record<string, FlagSpec> {
  if (!config.modes) return {};
  return {
    mode: {
      kind: "choice",
      choices: config.modes,
      ...(config.defaultMode !== undefined ? { default: config.defaultMode } : {}),
      description: "concurrency model",
    },
  };
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
  const table: Record<string, FlagSpec> = { ...commonFlags, ...modeFlag(config), ...(config.extra ?? {}) };
  const spec: Record<string, { type: "string" | "boolean" }> = {};
  for (const [name, flag] of Object.entries(table))
    spec[name] = { type: flag.kind === "boolean" ? "boolean" : "string" };
  let raw: Record<string, string | boolean | undefined>;
  try {
    raw = parseArgs({ args: [...argv], options: spec, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  const values: Record<string, FlagValue> = {};
  for (const [name, flag] of Object.entries(table)) values[name] = parseFlag(name, flag, raw[name]);
  const str = (name: string): string | undefined => values[name] as string | undefined;
  const int = (name: string): number | undefined => values[name] as number | undefined;
  if (config.modes && values.mode === undefined) {
    throw new InvalidArgumentError(`--mode must be one of ${config.modes.join(", ")}, got undefined`);
  }
  const mode = str("mode");
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
    logFormat: values["log-format"] as LogFormat,
  };
  const assign = <K extends keyof ServerArgs["options"]>(key: K, value: ServerArgs["options"][K] | undefined): void => {
    if (value !== undefined) options[key] = value;
  };
  assign("host", str("host"));
  assign("port", int("port"));
  assign("path", str("path"));
  assign("maxConnections", int("max-connections"));
  assign("idleTimeout", int("idle-timeout"));
  assign("maxBuffered", int("max-buffered"));
  assign("closeTimeout", int("close-timeout"));
  const metrics = str("metrics");
  if (metrics !== undefined) {
    // Checked here so that a bad value is a usage error (exit 2) before anything starts.
    parseMetricsAddress(metrics, "--metrics");
    options.metrics = metrics;
  }
  if (values["proxy-protocol"] === true) options.proxyProtocol = true;
  assign("trustedProxies", str("trusted-proxies"));
  assign("proxyHeaderTimeout", int("proxy-header-timeout"));
  const listenFd = str("listen-fd");
  if (listenFd !== undefined) {
    if (listenFd !== "auto" && !/^\d+$/.test(listenFd))
      throw new InvalidArgumentError(
        `--listen-fd must be a descriptor number or auto, got ${JSON.stringify(listenFd)}`,
      );
    const clash = ["host", "port", "path"].filter((name) => values[name] !== undefined);
    if (clash.length > 0)
      throw new InvalidArgumentError(
        `--listen-fd cannot be combined with --${clash.join(", --")}: the passed socket is already bound`,
      );
    options.listenFd = listenFd === "auto" ? "auto" : Number(listenFd);
  }
  if (options.trustedProxies !== undefined && options.proxyProtocol !== true)
    throw new InvalidArgumentError("--trusted-proxies needs --proxy-protocol");
  if (options.proxyProtocol === true && options.trustedProxies === undefined)
    throw new InvalidArgumentError("--proxy-protocol needs --trusted-proxies ADDR|CIDR[,…]");
  if (str("transport") !== "tcp") assign("transport", str("transport") as DatagramOptions["transport"]);
  assign("maxDatagram", int("max-datagram"));
  const rate = str("max-datagrams-per-address");
  if (rate !== undefined) assign("maxDatagramsPerAddress", parseDatagramRate("--max-datagrams-per-address", rate));
  const extra: ServerArgs["extra"] = {};
  for (const name of Object.keys(config.extra ?? {})) extra[name] = values[name];
  return { options, mode, privileges, extra, help: values.help === true };
}

/** Formats `--help` text for a server CLI. */
export function formatHelp(
  name: string,
  summary: string,
  config: { modes?: readonly string[]; extra?: Record<string, FlagSpec> } = {},
): string {
  const flags: [string, FlagSpec][] = [];
  flags.push(
    ...Object.entries(modeFlag(config)),
    ...Object.entries(config.extra ?? {}),
    ...Object.entries(commonFlags),
  );
  const lines = flags.map(([flag, f]) => {
    const placeholder = f.value ?? (f.kind === "choice" ? f.choices.join("|") : undefined);
    const left = `  --${flag}${placeholder ? ` ${placeholder}` : ""}`;
    return `${left.padEnd(34)}${f.description}`;
  });
  return `Usage: ${name} [options]\n\n${summary}\n\nOptions:\n${lines.join("\n")}\n`;
}
