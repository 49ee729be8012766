import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as core from "@echo/core";

describe("error codes", () => {
  it("every code is documented in the README's Errors table, and every documented code exists", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("## Errors"));
    const documented = new Set([...section.matchAll(/^\| `(ECHO_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]));
    const codes = new Set<string>(Object.values(core.ErrorCodes));
    expect([...documented].sort()).toEqual([...codes].sort());
  });

  it("every error class is an EchoError with its code and name", () => {
    const made: [core.EchoError, string, string][] = [
      [new core.InvalidArgumentError("x"), "ECHO_ERR_INVALID_ARG", "InvalidArgumentError"],
      [new core.AddressInUseError("127.0.0.1:1"), "ECHO_ERR_ADDR_IN_USE", "AddressInUseError"],
      [new core.PermissionDeniedError("127.0.0.1:7", 7), "ECHO_ERR_PERMISSION_DENIED", "PermissionDeniedError"],
      [new core.ListenError("x"), "ECHO_ERR_LISTEN", "ListenError"],
      [new core.ServerStateError("x"), "ECHO_ERR_SERVER_STATE", "ServerStateError"],
      [new core.HandlerLoadError("h", "x"), "ECHO_ERR_HANDLER_LOAD", "HandlerLoadError"],
      [new core.HandlerError("onData", new Error("x")), "ECHO_ERR_HANDLER", "HandlerError"],
      [new core.IdleTimeoutError(1), "ECHO_ERR_IDLE_TIMEOUT", "IdleTimeoutError"],
      [new core.MaxConnectionsError(1), "ECHO_ERR_MAX_CONNECTIONS", "MaxConnectionsError"],
      [new core.CloseTimeoutError(1, 1), "ECHO_ERR_CLOSE_TIMEOUT", "CloseTimeoutError"],
    ];
    for (const [error, code, name] of made) {
      expect(error).toBeInstanceOf(core.EchoError);
      expect(error.code).toBe(code);
      expect(error.name).toBe(name);
    }
  });

  it("a permission error on a low port says why and points to privilege dropping", () => {
    expect(new core.PermissionDeniedError("0.0.0.0:7", 7).message).toMatch(
      /below 1024.*--user nobody.*@echo\/privdrop/,
    );
  });
});
