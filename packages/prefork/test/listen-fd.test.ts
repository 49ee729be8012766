// Socket activation for real: systemd-socket-activate binds, then execs the CLI with the socket
// as fd 3 (`--listen-fd auto`); through setpriv the server runs as nobody from its first
// instruction and still serves a port below 1024.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { activatedRoundTrip, freeLowPort, freePort } from "@echo/test-utils";
import { describe, expect, it } from "vitest";

const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const has = (command: string): boolean => {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};
const usable = has("systemd-socket-activate") && has("setpriv") && process.getuid?.() === 0;

const cases = [
  { name: "prefork os", args: ["--workers", "2", "--schedule", "os"] },
  { name: "prefork round-robin", args: ["--workers", "2", "--schedule", "round-robin"] },
];

describe.skipIf(!usable)("socket activation (systemd-socket-activate, --listen-fd auto)", () => {
  for (const { name, args } of cases) {
    it(`${name}: serves the passed socket, byte for byte`, async () => {
      const payload = Buffer.from(`activated ${name}\n`);
      const run = await activatedRoundTrip({ port: await freePort(), script: cli, args: ["--listen-fd", "auto", ...args], payload });
      expect(run.reply.equals(payload), run.output).toBe(true);
      expect(run.output).toMatch(/listening on 127\.0\.0\.1:\d+/);
      expect(run.exitCode, run.output).toBe(0);
    });

    it(`${name}: serves a port below 1024 as nobody (uid 65534 from the start, no capabilities)`, async () => {
      // 7 for core; each package its own, since packages test at the same time.
      const port = await freeLowPort(13);
      const payload = Buffer.from(`low port ${name}\n`);
      const run = await activatedRoundTrip({ port, script: cli, args: ["--listen-fd", "auto", ...args], nobody: true, payload });
      expect(run.reply.equals(payload), run.output).toBe(true);
      expect(run.uid).toEqual([65534, 65534, 65534, 65534]);
      expect(run.gid).toEqual([65534, 65534, 65534, 65534]);
      expect(run.capEff).toBe("0000000000000000");
      expect(run.output).toContain(`listening on 127.0.0.1:${port}`);
    });
  }
});
