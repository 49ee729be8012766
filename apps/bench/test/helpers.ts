import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

/** A node child running `code`, with its stdout lines awaitable. */
export function nodeChild(code: string): {
  child: ChildProcess;
  line(match: string): Promise<void>;
  kill(): Promise<void>;
} {
  const child = spawn(process.execPath, ["-e", code], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout });
  const seen: string[] = [];
  const waiters: { match: string; resolve: () => void }[] = [];
  lines.on("line", (l) => {
    seen.push(l);
    for (const w of waiters.filter((w) => l.includes(w.match))) w.resolve();
  });
  return {
    child,
    line: (match) =>
      seen.some((l) => l.includes(match))
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            waiters.push({ match, resolve });
            child.once("exit", () => reject(new Error(`child exited before printing ${match}`)));
          }),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, "exit");
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

/** A temporary directory removed by the returned function. */
export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "echo-bench-test-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * An absolute path of this machine in a report: a slash after a space, a quote, `=`, `(` or a
 * line's start, then a name; or a file:// URL. Kernel interfaces (/proc/PID/stat, which the
 * method names) are the same on every machine and allowed.
 */
export const ABSOLUTE_PATH = /(?:^|[\s'"`=(])\/(?!(?:proc|sys|dev)\b)[\w.~$-]|file:\/\//m;

/** The first absolute path in `text` with some context around it, or "" when there is none. */
export function firstAbsolutePath(text: string): string {
  const found = ABSOLUTE_PATH.exec(text);
  return found ? `…${text.slice(Math.max(0, found.index - 60), found.index + 60)}…` : "";
}
