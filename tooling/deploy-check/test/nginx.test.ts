// The nginx config is a complete nginx.conf with a stream {} block: it passes `nginx -t` and
// sends the PROXY protocol upstream.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { example } from "../src/index.js";
import { run, tool } from "./tools.js";

const nginx = tool("nginx", "libnginx-mod-stream");
const config = readFileSync(example("nginx.conf"), "utf8");
const dir = mkdtempSync(join(tmpdir(), "echo-deploy-nginx-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Debian builds the stream module as a dynamic module in its own package; the config loads it
// from /etc/nginx/modules-enabled as Debian's own nginx.conf does.
function why(): string | undefined {
  if ("skip" in nginx) return nginx.skip;
  const dynamic = run(nginx.path, ["-V"]).output.includes("--with-stream=dynamic");
  if (dynamic && !existsSync("/etc/nginx/modules-enabled/50-mod-stream.conf"))
    return "nginx's stream module is not installed (Debian package libnginx-mod-stream)";
  return undefined;
}
const skip = why();

// -t parses the config and opens its files; it binds nothing. The pid file and the error log go
// to scratch places, so the check needs no /run or /var/log.
const test = (text: string): { status: number | null; output: string } => {
  const file = join(dir, "nginx.conf");
  writeFileSync(file, text);
  return run("path" in nginx ? nginx.path : "nginx", [
    "-t",
    "-c",
    file,
    "-e",
    "stderr",
    "-g",
    `pid ${join(dir, "nginx.pid")};`,
  ]);
};

describe.skipIf(skip !== undefined)(`nginx -t${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it("accepts the config", () => {
    const result = test(config);
    expect(result.output).toMatch(/test is successful/);
    expect(result.output).not.toMatch(/\[warn\]|\[emerg\]/);
    expect(result.status).toBe(0);
  });

  it("the check can fail: a misspelt directive is refused", () => {
    const result = test(config.replace("proxy_protocol on;", "proxy_protocl on;"));
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/unknown directive "proxy_protocl"/);
  });
});

describe("nginx config's content", () => {
  it("proxies TCP in a stream {} block with proxy_protocol on", () => {
    const stream = config.slice(config.indexOf("stream {"));
    expect(config).toMatch(/^stream \{$/m);
    expect(stream).toMatch(/^\s+proxy_protocol on;$/m);
    expect(stream).toMatch(/^\s+proxy_pass echo_servers;$/m);
    expect(config).not.toMatch(/^http \{/m);
  });
});
