import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

/** The tour's whole output; it must exit 0 by itself. */
let out = "";

/** The contrast line of one model: its wall time in seconds and what it did. */
function contrastLine(model: string): { wall: number; line: string } {
  const match = new RegExp(`^ {2}${model} +\\(.*\\) wall (\\d+\\.\\d+) s; .*$`, "m").exec(out);
  if (!match) throw new Error(`no contrast line for ${model} in:\n${out}`);
  return { wall: Number(match[1]), line: match[0] };
}

describe("the demo tour", () => {
  beforeAll(async () => {
    const child = spawn(process.execPath, [CLI], { stdio: ["ignore", "pipe", "inherit"] });
    child.stdout.on("data", (d) => (out += d));
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
  }, 120_000);

  it("runs every step, prints what the article printed, and ends by itself", () => {
    expect(out).toMatch(/server: Connected by 127\.0\.0\.1:\d+/);
    expect(out).toContain('client: Received "Hello, world"');
    expect(out).toContain('client 1: Received "HELLO WORLD"');
    expect(out).toContain('client 2: Received "I WAITED MY TURN"');
    expect(out).toMatch(/"queued":1/);
    expect(out).toContain('first reply "MainThread: client 0"');
    expect(out).toMatch(/16 clients served by: Thread-[12] ×\d+/);
    expect(out).toMatch(/16 clients served by: Process-1 ×4, Process-2 ×4, Process-3 ×4, Process-4 ×4/);
    for (const selector of ["select", "poll", "epoll"])
      expect(out).toContain(`client: Received "SERVED BY ${selector.toUpperCase()}"`);
    expect(out).toContain("Tour complete.");
  });

  it("drops privileges as root and shows the server's own /proc status; says why not otherwise", () => {
    expect(out).toContain("7. Privilege drop");
    if (process.getuid?.() !== 0) {
      expect(out).toMatch(/^ {2}skipped: .*needs root/m);
      return;
    }
    const port = Number(/server bound to 127\.0\.0\.1:(\d+) as root/.exec(out)?.[1]);
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThan(1024);
    // Real, effective, saved and filesystem ids: all nobody / nogroup.
    expect(out).toMatch(/^ {4}Uid: 65534 65534 65534 65534$/m);
    expect(out).toMatch(/^ {4}Gid: 65534 65534 65534 65534$/m);
    expect(out).toMatch(/^ {4}Groups: \(none\)$/m);
    expect(out).toMatch(/^ {4}Umask: 0007$/m);
    expect(out).toContain('client: Received "DROPPED TO NOBODY"');
  });

  it("contrasts the models: iterative queues five clients, the others serve them side by side", () => {
    const iterative = contrastLine("iterative");
    // Five holds of 200 ms in a row cannot take less than a second.
    expect(iterative.wall).toBeGreaterThanOrEqual(0.95);
    expect(iterative.line).toContain("queued: one at a time");
    for (const model of ["async", "threaded", "prefork", "selector"]) {
      const other = contrastLine(model);
      expect(other.line).toMatch(/side by side: up to [2-5] held at once/);
      expect(out).toMatch(
        new RegExp(
          `^ {2}${model} +client: Received "(MainThread|Thread-\\d|Process-\\d|SelectorThread): client \\d"$`,
          "m",
        ),
      );
    }
    // A coarse ratio: async holds the five at once, so iterative takes several times as long.
    expect(iterative.wall).toBeGreaterThanOrEqual(3 * contrastLine("async").wall);
    expect(out).toMatch(/^ {2}iterative +client: Received "MainThread: client \d"$/m);
  });
});
