// The nginx HTTP baseline the selector is measured against (issue 14): it starts from the
// bench's own model definition, answers the same hello as the Node baselines, and stop() leaves
// no nginx process behind.
import { request } from "node:http";
import { ensureDebianPackages } from "@echo/test-utils";
import { describe, expect, it } from "vitest";
import { nginxModel } from "../src/nginx.js";
import { freePort, startServer } from "../src/server-process.js";

const { missing } = ensureDebianPackages([{ command: "nginx", package: "nginx-light" }]);
if (missing.length)
  console.warn(`[echo] nginx stays missing: ${missing.map((m) => m.reason).join("; ")}; the nginx test is skipped`);

function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(missing.length > 0)("the nginx baseline", () => {
  it("serves the 13-byte hello with one worker, and stop() ends master and worker", async () => {
    const model = nginxModel();
    expect(model.available()).toEqual({ ok: true });
    const server = await startServer(model.command("http", await freePort()));
    let pids: number[] = [];
    try {
      expect(await get(server.port)).toEqual({ status: 200, body: "Hello, world\n" });
      pids = server.pids();
      // The master and its one worker.
      expect(pids).toHaveLength(2);
    } finally {
      await server.stop();
    }
    expect(pids.filter(alive)).toEqual([]);
  });
});
