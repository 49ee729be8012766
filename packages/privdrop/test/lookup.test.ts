import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { findGroup, findUser, lookupGroup, lookupUser } from "@echo/privdrop";
import { fixture } from "./helpers.js";

describe("lookupUser / lookupGroup", () => {
  it("finds users and groups by name and by id through getent", () => {
    expect(lookupUser("root")).toEqual({ name: "root", uid: 0, gid: 0, source: "getent" });
    expect(lookupUser(65534)).toMatchObject({ name: "nobody", uid: 65534 });
    expect(lookupUser("65534")).toMatchObject({ name: "nobody", uid: 65534 });
    expect(lookupGroup("root")).toMatchObject({ name: "root", gid: 0 });
    expect(lookupGroup(0)).toMatchObject({ name: "root", gid: 0 });
  });

  it("accepts numeric ids that are in no database", () => {
    expect(lookupUser(4_000_000)).toEqual({ name: undefined, uid: 4_000_000, gid: undefined, source: "numeric" });
    expect(lookupGroup("4000001")).toEqual({ name: undefined, gid: 4_000_001, members: [], source: "numeric" });
  });

  it("throws typed errors naming an unknown user or group", () => {
    expect(() => lookupUser("no-such-user-privdrop")).toThrow(
      expect.objectContaining({ code: "ECHO_ERR_PRIVDROP_UNKNOWN_USER" }),
    );
    expect(() => lookupGroup("no-such-group-privdrop")).toThrow(
      expect.objectContaining({ code: "ECHO_ERR_PRIVDROP_UNKNOWN_GROUP" }),
    );
    expect(findUser("no-such-user-privdrop")).toBeUndefined();
    expect(findGroup("no-such-group-privdrop")).toBeUndefined();
  });

  it("falls back to /etc/passwd and /etc/group when getent is not on PATH", () => {
    const run = (kind: string, ...names: string[]): unknown =>
      JSON.parse(
        execFileSync(process.execPath, [fixture("lookup.mjs"), kind, ...names], {
          encoding: "utf8",
          env: { PATH: "/nonexistent" },
        }),
      );
    expect(run("user", "root", "0", "no-such-user-privdrop")).toEqual([
      { name: "root", uid: 0, gid: 0, source: "files" },
      { name: "root", uid: 0, gid: 0, source: "files" },
      null,
    ]);
    expect(run("group", "root", "no-such-group-privdrop")).toEqual([
      { name: "root", gid: 0, members: [], source: "files" },
      null,
    ]);
  });
});
