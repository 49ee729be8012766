// Other code set node:cluster up first with SCHED_RR: cluster fixes that policy for the whole
// process, so schedule "os" cannot be had (a loud error), while "round-robin" (dealt by our
// master, not by cluster) still works. Its own file: vitest gives each file its own process.
import cluster from "node:cluster";
import { describe, expect, it } from "vitest";
import { PreforkServer, ScheduleConflictError } from "@echo/prefork";
import { expectNoOrphans, trackWorkers, whoami } from "./helpers.js";

describe("a process whose cluster was set up by someone else with SCHED_RR", () => {
  it("schedule os throws ECHO_ERR_SCHEDULE_CONFLICT; round-robin still serves", async () => {
    cluster.schedulingPolicy = cluster.SCHED_RR;
    cluster.setupPrimary({ exec: "/nonexistent-other-app.js" });
    expect(() => new PreforkServer({ schedule: "os" })).toThrow(ScheduleConflictError);
    expect(() => new PreforkServer({ schedule: "os" })).toThrow(
      expect.objectContaining({
        code: "ECHO_ERR_SCHEDULE_CONFLICT",
        message: expect.stringMatching(/use schedule "round-robin"/),
      }),
    );
    const server = new PreforkServer({
      schedule: "round-robin",
      workers: 2,
      execArgv: [],
      handler: "whoami",
      logger: { info() {}, error() {} },
    });
    const { pids } = trackWorkers(server);
    const { port } = (await server.listen()) as { port: number };
    const names = new Set<string>();
    for (let i = 0; i < 4; i++) names.add(await whoami(port));
    expect(names).toEqual(new Set(["Process-1", "Process-2"]));
    await server.close();
    expectNoOrphans(pids);
  });
});
