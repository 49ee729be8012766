import { describe, expect, it } from "vitest";
import { formatDropResult, formatUmask } from "@echo/privdrop";

describe("formatDropResult", () => {
  it("prints a drop on one line", () => {
    const line = formatDropResult({
      dropped: true,
      from: { uid: 0, gid: 0, groups: [] },
      to: { uid: 65534, gid: 65534, groups: [], user: "nobody", group: "nogroup" },
      umask: { from: 0o022, to: 0o007 },
    });
    expect(line).toBe("dropped privileges: uid 0→65534 (nobody), gid 0→65534 (nogroup), groups []→[], umask 0022→0007");
  });

  it("lists groups and leaves out names that are only ids", () => {
    const line = formatDropResult({
      dropped: true,
      from: { uid: 0, gid: 0, groups: [0, 4] },
      to: { uid: 4000000, gid: 100, groups: [100, 65534], user: "4000000", group: "users" },
      umask: { from: 0o077, to: 0o027 },
    });
    expect(line).toBe(
      "dropped privileges: uid 0→4000000, gid 0→100 (users), groups [0,4]→[100,65534], umask 0077→0027",
    );
  });

  it("says why nothing was dropped", () => {
    expect(formatDropResult({ dropped: false, reason: "not running as root" })).toBe(
      "privileges not dropped: not running as root",
    );
  });

  it("formats umasks as four octal digits", () => {
    expect(formatUmask(0)).toBe("0000");
    expect(formatUmask(0o777)).toBe("0777");
  });
});
