// The HAProxy config passes `haproxy -c` and says what the docs promise: TCP mode, a PROXY v2
// header to every server, and health checks on each.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { example } from "../src/index.js";
import { run, tool } from "./tools.js";

const haproxy = tool("haproxy", "haproxy");
const config = readFileSync(example("haproxy.cfg"), "utf8");
const dir = mkdtempSync(join(tmpdir(), "echo-deploy-haproxy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const check = (text: string): { status: number | null; output: string } => {
  const file = join(dir, "haproxy.cfg");
  writeFileSync(file, text);
  return run("path" in haproxy ? haproxy.path : "haproxy", ["-c", "-f", file]);
};

describe.skipIf("skip" in haproxy)(`haproxy -c${"skip" in haproxy ? ` (skipped: ${haproxy.skip})` : ""}`, () => {
  it("accepts the config", () => {
    const result = check(config);
    expect(result.output).toMatch(/Configuration file is valid/);
    expect(result.output).not.toMatch(/\[WARNING\]|\[ALERT\]/);
    expect(result.status).toBe(0);
  });

  it("the check can fail: a misspelt server option is refused", () => {
    const result = check(config.replace("send-proxy-v2 check port 9101", "send-proxy-v3 check port 9101"));
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/send-proxy-v3/);
  });
});

describe("HAProxy config's content", () => {
  const lines = config
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter(Boolean);

  it("proxies TCP, not HTTP", () => {
    expect(lines).toContain("mode tcp");
    expect(lines.some((l) => l.startsWith("mode http"))).toBe(false);
  });

  it("sends a PROXY v2 header to every server and health-checks each on /readyz", () => {
    const servers = lines.filter((l) => l.startsWith("server "));
    expect(servers.length).toBeGreaterThanOrEqual(2);
    for (const s of servers) expect(s.split(/\s+/)).toEqual(expect.arrayContaining(["send-proxy-v2", "check"]));
    expect(lines).toContain("http-check send meth GET uri /readyz");
  });
});
