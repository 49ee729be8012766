// Workers drop privileges through @echo/privdrop before loading the handler and accepting; the
// master binds and stays root. Needs root (the CI machine runs as root).
import { afterEach, describe, expect, it } from "vitest";
import { PreforkServer, type PreforkOptions, type WorkerInfo } from "@echo/prefork";
import { expectNoOrphans, fixture, roundTrip, trackWorkers } from "./helpers.js";

const isRoot = process.getuid?.() === 0;
const quiet = { info: () => {}, error: () => {} };
const servers: { server: PreforkServer; pids: Set<number> }[] = [];

function make(options: PreforkOptions): PreforkServer {
  const server = new PreforkServer({
    logger: quiet,
    execArgv: [],
    workers: 2,
    handler: fixture("uid.mjs"),
    ...options,
  });
  servers.push({ server, pids: trackWorkers(server).pids });
  return server;
}

afterEach(async () => {
  for (const { server, pids } of servers.splice(0)) {
    await server.close({ timeout: 0 });
    expectNoOrphans(pids);
  }
});

describe.skipIf(!isRoot)("privilege drop in every worker", () => {
  it("each worker serves as nobody with the umask asked for; the master stays root", async () => {
    const server = make({ schedule: "round-robin", privileges: { user: "nobody", umask: 0o027 } });
    const drops: string[] = [];
    server.on("workerListening", (_info: WorkerInfo, dropped?: string) => drops.push(dropped ?? ""));
    const { port } = (await server.listen()) as { port: number };
    expect(drops).toHaveLength(2);
    for (const line of drops)
      expect(line).toMatch(/^dropped privileges: uid 0→65534 \(nobody\), gid 0→\d+ .*umask \d{4}→0027$/);
    const replies = new Set<string>();
    for (let i = 0; i < 4; i++) replies.add((await roundTrip(port, "?")).toString());
    expect([...replies].sort()).toEqual([
      expect.stringMatching(/^Process-1 65534:\d+ 0027\n$/),
      expect.stringMatching(/^Process-2 65534:\d+ 0027\n$/),
    ]);
    expect(process.getuid!()).toBe(0);
  });

  it("binds port 7 in the master as root, workers serve it as nobody", async (context) => {
    const server = make({ schedule: "os", port: 7, workers: 1, privileges: { user: "nobody" } });
    const address = await server.listen().catch((error: { code?: string }) => {
      // Another test on this machine may hold port 7; that is not what this test is about.
      if (error.code === "ECHO_ERR_ADDR_IN_USE") context.skip();
      throw error;
    });
    expect(address).toMatchObject({ port: 7 });
    expect((await roundTrip(7, "?")).toString()).toMatch(/^Process-1 65534:/);
  });

  it("an unknown user: listen() rejects with privdrop's typed error, no worker left", async () => {
    const server = make({ privileges: { user: "no-such-user-echo" } });
    await expect(server.listen()).rejects.toMatchObject({
      code: "ECHO_ERR_PRIVDROP_UNKNOWN_USER",
      message: expect.stringMatching(/no-such-user-echo/),
    });
    await server.finished;
  });
});
