/**
 * The socket-activation tests every server CLI runs: `systemd-socket-activate` binds and execs
 * the CLI with the socket as fd 3 (`--listen-fd auto`); through setpriv the server runs as
 * nobody from its first instruction and still serves a port below 1024.
 * @module
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { activatedRoundTrip, freeLowPort, freePort } from "./activation.js";

const has = (command: string): boolean => {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

/**
 * Registers the tests for `cli` (a built CLI script) with each case's extra arguments.
 * `lowPort` is the port below 1024 to try first (7 for core; packages test at the same time,
 * so each takes its own, and another free one is used when it is taken).
 */
export function socketActivationTests(
  cli: string,
  cases: readonly { name: string; args: readonly string[] }[],
  lowPort: number,
): void {
  const usable = has("systemd-socket-activate") && has("setpriv") && process.getuid?.() === 0;
  describe.skipIf(!usable)("socket activation (systemd-socket-activate, --listen-fd auto)", () => {
    for (const { name, args } of cases) {
      it(`${name}: serves the passed socket, byte for byte`, async () => {
        const payload = Buffer.from(`activated ${name}\n`);
        const run = await activatedRoundTrip({
          port: await freePort(),
          script: cli,
          args: ["--listen-fd", "auto", ...args],
          payload,
        });
        expect(run.reply.equals(payload), run.output).toBe(true);
        expect(run.output).toMatch(/listening on 127\.0\.0\.1:\d+/);
        expect(run.exitCode, run.output).toBe(0);
      });

      it(`${name}: serves a port below 1024 as nobody (uid 65534 from the start, no capabilities)`, async () => {
        const port = await freeLowPort(lowPort);
        const payload = Buffer.from(`low port ${name}\n`);
        const run = await activatedRoundTrip({
          port,
          script: cli,
          args: ["--listen-fd", "auto", ...args],
          nobody: true,
          payload,
        });
        expect(run.reply.equals(payload), run.output).toBe(true);
        expect(run.uid).toEqual([65534, 65534, 65534, 65534]);
        expect(run.gid).toEqual([65534, 65534, 65534, 65534]);
        expect(run.capEff).toBe("0000000000000000");
        expect(run.output).toContain(`listening on 127.0.0.1:${port}`);
      });
    }
  });
}
