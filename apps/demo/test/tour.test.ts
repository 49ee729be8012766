import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

describe("the demo tour", () => {
  it("runs every step, prints what the article printed, and exits 0 by itself", async () => {
    const child = spawn(process.execPath, [fileURLToPath(new URL("../dist/tour.js", import.meta.url))], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
    expect(out).toMatch(/server: Connected by 127\.0\.0\.1:\d+/);
    expect(out).toContain('client: Received "Hello, world"');
    expect(out).toContain('client 1: Received "HELLO WORLD"');
    expect(out).toContain('client 2: Received "I WAITED MY TURN"');
    expect(out).toMatch(/"queued":1/);
    expect(out).toContain('first reply "MainThread: client 0"');
    expect(out).toMatch(/16 clients served by: Thread-[12] ×\d+/);
    expect(out).toMatch(/16 clients served by: Process-1 ×4, Process-2 ×4, Process-3 ×4, Process-4 ×4/);
    for (const selector of ["select", "poll", "epoll"]) expect(out).toContain(`client: Received "SERVED BY ${selector.toUpperCase()}"`);
    expect(out).toContain("Tour complete.");
  });
});
