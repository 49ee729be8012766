import { describe, expect, it } from "vitest";
import { ensureDebianPackages, findCommand, whyNoInstall } from "../src/index.js";

describe("findCommand", () => {
  it("finds an executable on PATH and by absolute path, and nothing for a name that is not there", () => {
    const sh = findCommand("sh");
    expect(sh).toMatch(/^\/.*\/sh$/);
    expect(findCommand(sh!)).toBe(sh);
    expect(findCommand("echo-no-such-command-here")).toBeUndefined();
    expect(findCommand("/no/such/file")).toBeUndefined();
  });
});

describe("ensureDebianPackages", () => {
  it("returns commands that are already there without running apt-get", () => {
    const lines: string[] = [];
    const result = ensureDebianPackages([{ command: "sh", package: "dash" }], { log: (l) => lines.push(l) });
    expect(result).toEqual({ found: { sh: findCommand("sh") }, installed: [], missing: [] });
    expect(lines).toEqual([]);
  });

  it("reports a missing command with the reason when this process may not install", () => {
    // ECHO_NO_APT=1 stands for a machine where installing is not allowed (this file runs in its own process).
    process.env.ECHO_NO_APT = "1";
    try {
      expect(ensureDebianPackages([{ command: "echo-no-such-command-here", package: "echo-none" }])).toEqual({
        found: {},
        installed: [],
        missing: [
          { command: "echo-no-such-command-here", package: "echo-none", reason: "ECHO_NO_APT=1 forbids installing" },
        ],
      });
    } finally {
      delete process.env.ECHO_NO_APT;
    }
  });

  it("says why it would not install here, or nothing when it could", () => {
    const why = whyNoInstall();
    if (process.getuid?.() === 0 && findCommand("apt-get")) expect(why).toBeUndefined();
    else expect(why).toMatch(/root|apt-get|linux/);
  });

  it.each([
    [[], /tools must be a non-empty array/],
    [
      [{ command: "wrk; rm -rf /", package: "wrk" }],
      /tools\[0\]\.command must be a command name or path, got "wrk; rm -rf \/"/,
    ],
    [[{ command: "wrk", package: "Wrk Tool" }], /tools\[0\]\.package must be a Debian package name, got "Wrk Tool"/],
  ])("rejects bad tools %j with a message naming the field", (tools, message) => {
    expect(() => ensureDebianPackages(tools as never)).toThrow(message);
  });
});
