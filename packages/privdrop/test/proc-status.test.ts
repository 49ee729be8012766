import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseProcStatus, readProcStatus } from "@echo/privdrop";

const sample = [
  "Name:\tnode",
  "Umask:\t0007",
  "State:\tS (sleeping)",
  "Pid:\t4242",
  "Uid:\t65534\t65534\t65534\t65534",
  "Gid:\t65533\t65533\t65533\t65532",
  "Groups:\t100 65534 ",
  "CapInh:\t0000000000000000",
  "CapPrm:\t0000000000000000",
  "CapEff:\t0000000000000000",
  "CapBnd:\t000001ffffffffff",
  "CapAmb:\t0000000000000000",
  "NoNewPrivs:\t1",
  "",
].join("\n");

describe("parseProcStatus", () => {
  it("reads ids, groups, umask and capabilities", () => {
    expect(parseProcStatus(sample)).toEqual({
      name: "node",
      pid: 4242,
      uid: { real: 65534, effective: 65534, saved: 65534, filesystem: 65534 },
      gid: { real: 65533, effective: 65533, saved: 65533, filesystem: 65532 },
      groups: [100, 65534],
      umask: 0o007,
      capabilities: { inheritable: 0n, permitted: 0n, effective: 0n, bounding: 0x1ffffffffffn, ambient: 0n },
      noNewPrivs: true,
    });
  });

  it("reads an empty Groups line as no groups, and tolerates old kernels without Umask/CapAmb/NoNewPrivs", () => {
    const old = sample.replace("Groups:\t100 65534 ", "Groups:\t").replace(/^(Umask|CapAmb|NoNewPrivs):.*\n/gm, "");
    expect(parseProcStatus(old)).toMatchObject({
      groups: [],
      umask: undefined,
      noNewPrivs: undefined,
      capabilities: { ambient: undefined },
    });
  });

  it("throws ECHO_ERR_PRIVDROP_PROC_STATUS on a missing or malformed credential line", () => {
    expect(() => parseProcStatus(sample.replace(/^Uid:.*$/m, "Uid:\t1\t2"))).toThrow(
      expect.objectContaining({
        code: "ECHO_ERR_PRIVDROP_PROC_STATUS",
        message: 'cannot parse the Uid: line of /proc status: "\\t1\\t2"',
      }),
    );
    expect(() => parseProcStatus(sample.replace(/^Groups:.*\n/m, ""))).toThrow(
      expect.objectContaining({ code: "ECHO_ERR_PRIVDROP_PROC_STATUS" }),
    );
  });
});

describe.skipIf(process.platform !== "linux")("readProcStatus", () => {
  it("reads this process and agrees with process.getuid/getgid", () => {
    const status = readProcStatus();
    expect(status.pid).toBe(process.pid);
    expect(status.uid.real).toBe(process.getuid!());
    expect(status.gid.effective).toBe(process.getegid!());
    expect(readProcStatus(process.pid)).toEqual(status);
    const raw = readFileSync("/proc/self/status", "utf8").match(/^Umask:\t(\d+)$/m);
    if (raw) expect(status.umask).toBe(parseInt(raw[1]!, 8));
  });

  it("rejects a bad pid and reports a missing process", () => {
    expect(() => readProcStatus(0)).toThrow(
      expect.objectContaining({
        code: "ECHO_ERR_INVALID_ARG",
        message: 'pid must be a positive integer or "self", got 0',
      }),
    );
    expect(() => readProcStatus(2 ** 31 - 1)).toThrow(
      expect.objectContaining({
        code: "ECHO_ERR_PRIVDROP_PROC_STATUS",
        message: expect.stringMatching(/^cannot read \/proc\/2147483647\/status: ENOENT/),
      }),
    );
  });
});
