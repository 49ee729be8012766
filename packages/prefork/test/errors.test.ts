import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EchoError, ErrorCodes } from "@echo/core";
import { CrashLoopError, PreforkErrorCodes, ScheduleConflictError, WorkerBootError } from "@echo/prefork";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const errors = readme.slice(readme.indexOf("## Errors"), readme.indexOf("## Limitations"));

describe("error codes", () => {
  it("every prefork code is in the README's Errors table, and every code in the table exists", () => {
    const documented = new Set([...errors.matchAll(/^\| `(ECHO_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]));
    expect([...documented].sort()).toEqual(Object.values(PreforkErrorCodes).sort());
  });

  it("the README names every core code that applies", () => {
    for (const code of Object.values(ErrorCodes)) expect(errors).toContain(`\`${code}\``);
  });

  it("every error class is an EchoError with its code and name", () => {
    const made: [EchoError, string, string][] = [
      [new WorkerBootError("Process-1", "x"), "ECHO_ERR_WORKER_BOOT", "WorkerBootError"],
      [new CrashLoopError(3, 60_000, "x"), "ECHO_ERR_CRASH_LOOP", "CrashLoopError"],
      [new ScheduleConflictError("os", "x"), "ECHO_ERR_SCHEDULE_CONFLICT", "ScheduleConflictError"],
    ];
    for (const [error, code, name] of made) {
      expect(error).toBeInstanceOf(EchoError);
      expect(error.code).toBe(code);
      expect(error.name).toBe(name);
    }
    expect(new WorkerBootError("Process-2", "exited before listening (exit code 1)").message).toBe(
      "worker Process-2 failed to start: exited before listening (exit code 1)",
    );
  });
});
