import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EchoError, ErrorCodes } from "@echo/core";
import { ThreadExitError, ThreadStartError, ThreadedErrorCodes } from "@echo/threaded";

describe("error codes", () => {
  it("the README's Errors table lists every code of this package, and only codes that exist", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("## Errors"), readme.indexOf("\n## ", readme.indexOf("## Errors") + 1));
    const documented = [...section.matchAll(/^\| `(ECHO_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]!);
    const own = Object.values(ThreadedErrorCodes);
    const known = new Set<string>([...Object.values(ErrorCodes), ...own]);
    for (const code of own) expect(documented).toContain(code);
    for (const code of documented) expect(known.has(code), code).toBe(true);
  });

  it("every error class is an EchoError with its code and name", () => {
    const start = new ThreadStartError("Thread-2", "no listener");
    expect(start).toBeInstanceOf(EchoError);
    expect(start).toMatchObject({
      code: "ECHO_ERR_THREAD_START",
      name: "ThreadStartError",
      thread: "Thread-2",
      message: "Thread-2 could not start: no listener",
    });
    const exit = new ThreadExitError("Thread-1", 7, new Error("boom"));
    expect(exit).toBeInstanceOf(EchoError);
    expect(exit).toMatchObject({
      code: "ECHO_ERR_THREAD_EXIT",
      name: "ThreadExitError",
      thread: "Thread-1",
      exitCode: 7,
      message: "Thread-1 exited with code 7: boom",
    });
    expect(new ThreadExitError("Thread-3", 1).message).toBe("Thread-3 exited with code 1");
    expect(new ThreadExitError("Thread-2", 1, { errno: 5 }).message).toBe("Thread-2 exited with code 1: { errno: 5 }");
  });
});
