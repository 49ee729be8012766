// The systemd units pass `systemd-analyze verify`. Without systemd as PID 1 (a container, CI)
// verify still loads and checks units, but it also wants every unit they pull in and an
// executable at each ExecStart= path: the check runs in a scratch root (--root) holding a copy
// of the host's system units, the example units, and stand-in executables at their ExecStart
// paths (that the flags exist is the flags test's job, against the real CLIs).
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { example } from "../src/index.js";
import { run, tool } from "./tools.js";

const units = ["echo.socket", "echo.service", "echo-cap.service"];
const analyze = tool("systemd-analyze", "systemd");
const systemUnits = ["/usr/lib/systemd/system", "/lib/systemd/system"].find((d) =>
  existsSync(join(d, "sysinit.target")),
);
const root = mkdtempSync(join(tmpdir(), "echo-deploy-systemd-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Lays out the scratch root with `files` (name → unit text) and verifies them. */
function verify(files: Record<string, string>): { status: number | null; output: string } {
  const dir = join(root, "etc/systemd/system");
  rmSync(root, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(systemUnits!, join(root, "usr/lib/systemd/system"), { recursive: true, dereference: false });
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, name), text);
    for (const m of text.matchAll(/^ExecStart=[-@:+!]*(\/\S+)/gm)) {
      const exe = join(root, m[1]!);
      mkdirSync(dirname(exe), { recursive: true });
      writeFileSync(exe, "#!/bin/sh\n");
      chmodSync(exe, 0o755);
    }
  }
  return run(
    "path" in analyze ? analyze.path : "systemd-analyze",
    ["verify", `--root=${root}`, "--man=no", ...Object.keys(files)],
    root,
  );
}

const read = (name: string): string => readFileSync(example(name), "utf8");
const skip =
  "skip" in analyze
    ? analyze.skip
    : systemUnits
      ? undefined
      : "no system units (sysinit.target) on this machine to verify against";

describe.skipIf(skip !== undefined)(`systemd units${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it("pass systemd-analyze verify with nothing to say", () => {
    const result = verify(Object.fromEntries(units.map((u) => [u, read(u)])));
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });

  it("the check can fail: a misspelt directive and a bad value are reported", () => {
    const bad = read("echo.service")
      .replace("NoNewPrivileges=yes", "NoNewPrivilege=yes")
      .replace("ProtectSystem=strict", "ProtectSystem=strictly");
    const result = verify({ "echo.socket": read("echo.socket"), "echo.service": bad });
    expect(result.output).toMatch(/Unknown key 'NoNewPrivilege'/);
    expect(result.output).toMatch(/protect system value.*strictly/i);
  });
});

describe("systemd units' content", () => {
  const directives = (text: string): Map<string, string[]> => {
    const map = new Map<string, string[]>();
    for (const m of text.matchAll(/^(\w+)=(.*)$/gm)) map.set(m[1]!, [...(map.get(m[1]!) ?? []), m[2]!]);
    return map;
  };

  it("the socket unit hands one listening socket to echo.service", () => {
    const d = directives(read("echo.socket"));
    expect(d.get("ListenStream")).toEqual(["7"]);
    expect(d.get("Accept")).toEqual(["no"]);
    expect(d.get("Service")).toEqual(["echo.service"]);
  });

  for (const name of ["echo.service", "echo-cap.service"]) {
    it(`${name} runs as a dynamic user that can gain nothing`, () => {
      const d = directives(read(name));
      expect(d.get("DynamicUser")).toEqual(["yes"]);
      expect(d.get("NoNewPrivileges")).toEqual(["yes"]);
      expect(d.get("ProtectSystem")).toEqual(["strict"]);
      expect(d.get("LimitNOFILE")?.[0]).toMatch(/^\d+$/);
      expect(d.get("ExecStart")?.[0]).not.toMatch(/--user\b/);
    });
  }

  it("echo.service takes its socket from systemd and holds no capability", () => {
    const d = directives(read("echo.service"));
    expect(d.get("ExecStart")?.[0]).toMatch(/--listen-fd auto/);
    expect(d.get("CapabilityBoundingSet")).toEqual([""]);
    expect(d.get("Requires")).toEqual(["echo.socket"]);
  });

  it("echo-cap.service binds port 7 itself with CAP_NET_BIND_SERVICE only", () => {
    const d = directives(read("echo-cap.service"));
    expect(d.get("AmbientCapabilities")).toEqual(["CAP_NET_BIND_SERVICE"]);
    expect(d.get("CapabilityBoundingSet")).toEqual(["CAP_NET_BIND_SERVICE"]);
    expect(d.get("ExecStart")?.[0]).toMatch(/--port 7\b/);
  });

  it("systemd waits longer than the server's close timeout before SIGKILL", () => {
    for (const name of ["echo.service", "echo-cap.service"]) {
      const d = directives(read(name));
      const stopS = Number(/^(\d+)s$/.exec(d.get("TimeoutStopSec")?.[0] ?? "")?.[1]);
      const closeMs = Number(/--close-timeout (\d+)/.exec(d.get("ExecStart")![0]!)?.[1]);
      expect(stopS * 1000, name).toBeGreaterThan(closeMs);
    }
  });
});
