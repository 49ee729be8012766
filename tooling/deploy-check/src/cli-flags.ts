/**
 * The flags the deploy examples give the server CLIs, and the flags those CLIs really have
 * (from their `--help`, run from the built packages).
 * @module
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** The server CLIs and the package each comes from. */
export const serverClis = {
  "echo-server": "@echo/core",
  "echo-threaded": "@echo/threaded",
  "echo-prefork": "@echo/prefork",
  "echo-selector": "@echo/selector",
} as const;

/** A server CLI's name. */
export type ServerCli = keyof typeof serverClis;

const require = createRequire(import.meta.url);

/** The built entry of a server CLI. */
export function cliPath(cli: ServerCli): string {
  const manifestPath = require.resolve(`${serverClis[cli]}/package.json`);
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { bin: Record<string, string> };
  return join(dirname(manifestPath), manifest.bin[cli]!);
}

/** What a CLI's `--help` says: its flags and the defaults it names (`(default 10000)`). */
export interface CliHelp {
  flags: Set<string>;
  defaults: Map<string, string>;
}

/** Runs `CLI --help` and reads its flags. */
export function cliHelp(cli: ServerCli): CliHelp {
  const text = execFileSync(process.execPath, [cliPath(cli), "--help"], { encoding: "utf8", timeout: 30_000 });
  const flags = new Set<string>();
  const defaults = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^\s+(--[a-z][\w-]*)\b.*?(?:\(default:? ([^);,]+)[);,])?\s*$/.exec(line);
    if (!m) continue;
    flags.add(m[1]!);
    if (m[2]) defaults.set(m[1]!, m[2].trim());
  }
  return { flags, defaults };
}

/** One command line of a server CLI found in a document. */
export interface UsedCommand {
  cli: ServerCli;
  /** Flags as written (`--listen-fd`), values dropped. */
  flags: string[];
  /** The flag values given (`--close-timeout 10000` or `--close-timeout=10000`). */
  values: Map<string, string>;
  /** Where it was found: file and line. */
  where: string;
}

const CLI = /(?:^|[\s/"'`[])(echo-server|echo-threaded|echo-prefork|echo-selector)(?=[\s"'`\]]|$)/g;

/**
 * Every server command line in a text (unit files, shell snippets, prose): on each line, the
 * flags after a CLI's name up to the next CLI's name. A name given no flags is not a command.
 */
export function commandsIn(text: string, file: string): UsedCommand[] {
  const out: UsedCommand[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    const found = [...line.matchAll(CLI)];
    for (const [j, m] of found.entries()) {
      const end = found[j + 1]?.index ?? line.length;
      const words = line
        .slice(m.index + m[0].length, end)
        .split(/[\s"'`,\]]+/)
        .filter(Boolean);
      const parsed = parseWords(words);
      if (parsed.flags.length > 0) out.push({ cli: m[1] as ServerCli, ...parsed, where: `${file}:${i + 1}` });
    }
  }
  return out;
}

/** Parses the words after a CLI's name into flags and values. */
export function parseWords(words: readonly string[]): { flags: string[]; values: Map<string, string> } {
  const flags: string[] = [];
  const values = new Map<string, string>();
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (!w.startsWith("--")) continue;
    const eq = w.indexOf("=");
    const flag = eq > 0 ? w.slice(0, eq) : w;
    flags.push(flag);
    if (eq > 0) values.set(flag, w.slice(eq + 1));
    else if (words[i + 1] !== undefined && !words[i + 1]!.startsWith("--")) values.set(flag, words[i + 1]!);
  }
  return { flags, values };
}
