import { describe, expect, it } from "vitest";

/**
 * The main entry is what users rely on. Adding a name here is a decision: put helpers for model
 * packages in `@echo/core/model-kit` instead.
 */
const expected = [
  "AddressInUseError",
  "CloseTimeoutError",
  "EchoError",
  "EchoServer",
  "ErrorCodes",
  "HandlerError",
  "HandlerLoadError",
  "IdleTimeoutError",
  "InvalidArgumentError",
  "ListenError",
  "MaxConnectionsError",
  "PermissionDeniedError",
  "ServerStateError",
  "builtinHandlers",
  "coreModels",
  "createServer",
  "defaultLimits",
  "defineHandler",
  "formatAddress",
];

describe("public entry", () => {
  it("@echo/core exports exactly the user-facing names, at most 30, no validator or CLI helper", async () => {
    const names = Object.keys(await import("@echo/core")).sort();
    expect(names).toEqual([...expected].sort());
    expect(names.length).toBeLessThanOrEqual(30);
    expect(
      names.filter((name) => /^(check|normalize|parse|run|load|listen|to|from)[A-Z]|Cli|cli|Args|Privdrop/.test(name)),
    ).toEqual([]);
  });

  it("@echo/core/model-kit holds what model packages share", async () => {
    const kit = await import("@echo/core/model-kit");
    for (const name of [
      "normalizeModelOptions",
      "parseServerArgs",
      "runServerCli",
      "drainConnections",
      "toWire",
      "fromWire",
      "serveSocket",
      "listenServer",
      "loadHandler",
    ]) {
      expect(typeof (kit as Record<string, unknown>)[name]).toBe("function");
    }
  });
});
