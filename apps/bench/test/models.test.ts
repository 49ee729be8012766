import { describe, expect, it } from "vitest";
import { builtinModels, packageBin, parseBaselineFlag, selectModels, splitCommand } from "../src/models.js";
import { parseListeningLine, startServer } from "../src/server-process.js";
import { appFile } from "../src/paths.js";

describe("models", () => {
  it("finds a built CLI through its package's bin, and says why when it is missing", () => {
    const core = packageBin("@echo/core", "echo-server");
    expect("path" in core && core.path.endsWith("dist/cli/echo-server.js")).toBe(true);
    expect(packageBin("@echo/core", "nope")).toEqual({ note: "@echo/core has no `nope` CLI yet" });
    expect(packageBin("@echo/not-a-package", "x")).toEqual({ note: "@echo/not-a-package is not installed" });
  });

  it("selects by name and by group, and rejects unknown names", () => {
    const all = builtinModels();
    expect(selectModels(all, ["core"]).map((m) => m.name)).toEqual(["core-iterative", "core-async"]);
    expect(selectModels(all, ["node-net", "python-selectors"]).map((m) => m.name)).toEqual([
      "node-net",
      "python-selectors",
    ]);
    expect(() => selectModels(all, ["core-asink"])).toThrow(/--models: unknown core-asink/);
  });

  it("parses --baseline NAME=COMMAND with {port} and quotes", () => {
    const m = parseBaselineFlag(`ref=/bin/echo "a b" {port}`);
    expect(m.name).toBe("ref");
    expect(m.needsPort).toBe(true);
    expect(m.command("echo", 4321)).toEqual({ command: "/bin/echo", args: ["a b", "4321"], port: 4321 });
    expect(splitCommand(`x 'y z' w`)).toEqual(["x", "y z", "w"]);
    expect(() => parseBaselineFlag("=cmd")).toThrow("--baseline must be NAME=COMMAND");
    expect(() => parseBaselineFlag("a b=cmd")).toThrow("--baseline name must be letters");
    expect(parseBaselineFlag("gone=/no/such/server {port}").available()).toEqual({
      ok: false,
      note: "/no/such/server does not exist",
    });
  });
});

describe("server processes", () => {
  it("reads the port from the listening line every CLI prints", () => {
    expect(parseListeningLine("echo-server listening on 127.0.0.1:4567 (model async, handler echo, pid 1)")).toEqual({
      host: "127.0.0.1",
      port: 4567,
    });
    expect(parseListeningLine("x listening on [::1]:80 (model m)")).toEqual({ host: "::1", port: 80 });
    expect(parseListeningLine("starting up")).toBeUndefined();
  });

  it("starts core's echo-server, learns its pid and port, and stops it", async () => {
    const core = builtinModels().find((m) => m.name === "core-async")!;
    const server = await startServer(core.command("echo", 0));
    try {
      expect(server.port).toBeGreaterThan(0);
      expect(server.pids()).toEqual([server.pid]);
      expect(server.commandLine).toContain("--mode async");
    } finally {
      await server.stop();
    }
    expect(server.exited()).toBe(true);
  });

  it("rejects with the server's own words when it exits before listening", async () => {
    await expect(
      startServer({ command: process.execPath, args: [appFile("baselines/node-net-echo.mjs"), "--mode", "bogus"] }),
    ).rejects.toThrow(/exited before listening: node-net: --mode must be echo, http or cpu, got bogus/);
  });
});
