import { describe, expect, it } from "vitest";
import { DatagramUnsupportedError } from "@echo/core";
import { dgramHasReusePort } from "@echo/core/model-kit";
import { ThreadedServer } from "@echo/threaded";

describe("threaded UDP", () => {
  it.skipIf(dgramHasReusePort())(
    "refuses transport udp/both with a typed error naming the Node.js version needed",
    () => {
      for (const transport of ["udp", "both"] as const) {
        let error: unknown;
        try {
          new ThreadedServer({ threads: 2, transport });
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(DatagramUnsupportedError);
        expect((error as DatagramUnsupportedError).code).toBe("ECHO_ERR_DATAGRAM_UNSUPPORTED");
        expect((error as Error).message).toContain("22.12.0");
        expect((error as DatagramUnsupportedError).running).toBe(process.versions.node);
      }
    },
  );

  it.runIf(dgramHasReusePort())("refuses accept shared with UDP, naming both options", () => {
    expect(() => new ThreadedServer({ threads: 2, transport: "udp", accept: "shared" })).toThrow(
      /options.accept "shared".*options.transport "udp"/,
    );
  });
});
