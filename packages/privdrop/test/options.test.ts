// Option validation runs before anything is looked up or changed, so these run in-process.
import { describe, expect, it } from "vitest";
import { DEFAULT_UMASK, dropPrivileges, normalizeDropOptions, resolveDropTarget } from "@echo/privdrop";

function invalid(options: unknown, message: string): void {
  expect(() => normalizeDropOptions(options)).toThrow(
    expect.objectContaining({ code: "ECHO_ERR_INVALID_ARG", message }),
  );
  // dropPrivileges validates first, whatever the process is.
  expect(() => dropPrivileges(options as never)).toThrow(
    expect.objectContaining({ code: "ECHO_ERR_INVALID_ARG", message }),
  );
}

describe("normalizeDropOptions", () => {
  it("fills in the defaults", () => {
    expect(normalizeDropOptions()).toEqual({
      user: "nobody",
      group: undefined,
      umask: 0o007,
      supplementaryGroups: "none",
    });
    expect(DEFAULT_UMASK).toBe(0o007);
  });

  it("accepts names, numeric ids, octal strings and group lists", () => {
    expect(
      normalizeDropOptions({ user: 65534, group: "65534", umask: "0027", supplementaryGroups: ["users", 100] }),
    ).toEqual({
      user: 65534,
      group: "65534",
      umask: 0o027,
      supplementaryGroups: ["users", 100],
    });
    expect(normalizeDropOptions({ umask: 0o077, supplementaryGroups: "initgroups" })).toMatchObject({
      umask: 0o077,
      supplementaryGroups: "initgroups",
    });
  });

  it("rejects options that are not an object", () => {
    invalid("nobody", 'options must be an object, got "nobody"');
    invalid(null, "options must be an object, got null");
  });

  it("rejects unknown options", () => {
    invalid(
      { users: "nobody" },
      "options.users is not an option of dropPrivileges (known: user, group, umask, supplementaryGroups)",
    );
  });

  it("rejects a user that is neither a name nor an id", () => {
    invalid({ user: true }, "options.user must be a name or an integer id, got true");
    invalid({ user: () => "root" }, "options.user must be a name or an integer id, got a function");
    invalid({ user: -1 }, "options.user must be a name or an integer id from 0 to 4294967294, got -1");
    invalid({ user: 1.5 }, "options.user must be a name or an integer id from 0 to 4294967294, got 1.5");
    invalid(
      { user: "4294967295" },
      'options.user must be a name or an integer id from 0 to 4294967294, got "4294967295"',
    );
  });

  it("rejects an empty or malformed user name", () => {
    invalid({ user: "" }, "options.user must not be empty");
    invalid(
      { user: "-n" },
      'options.user must be a user or group name (no colon, comma, whitespace, control character or leading dash, at most 256 characters), got "-n"',
    );
    invalid(
      { user: "a:b" },
      'options.user must be a user or group name (no colon, comma, whitespace, control character or leading dash, at most 256 characters), got "a:b"',
    );
  });

  it("rejects a malformed group", () => {
    invalid({ group: {} }, "options.group must be a name or an integer id, got an object");
    invalid(
      { group: "no group" },
      'options.group must be a user or group name (no colon, comma, whitespace, control character or leading dash, at most 256 characters), got "no group"',
    );
  });

  it("rejects a bad umask", () => {
    invalid({ umask: 0o1000 }, "options.umask must be an integer from 0 to 0o777 (511), got 512");
    invalid({ umask: -1 }, "options.umask must be an integer from 0 to 0o777 (511), got -1");
    invalid({ umask: "0089" }, 'options.umask must be an octal string such as "0007", got "0089"');
    invalid({ umask: "1777" }, 'options.umask must be an octal string such as "0007", got "1777"');
    invalid({ umask: null }, "options.umask must be a number or an octal string, got null");
  });

  it("rejects bad supplementary groups", () => {
    invalid(
      { supplementaryGroups: "all" },
      'options.supplementaryGroups must be "none", "initgroups" or an array of group names or ids, got "all"',
    );
    invalid(
      { supplementaryGroups: ["users", false] },
      "options.supplementaryGroups[1] must be a name or an integer id, got false",
    );
  });
});

describe("resolveDropTarget", () => {
  it("looks up without changing anything", () => {
    const before = [process.getuid?.(), process.getgid?.()];
    const target = resolveDropTarget({ user: "nobody", umask: 0o077 });
    expect(target).toMatchObject({ user: "nobody", uid: 65534, groups: [], supplementaryGroups: "none", umask: 0o077 });
    expect(["nogroup", "nobody"]).toContain(target.group);
    expect([process.getuid?.(), process.getgid?.()]).toEqual(before);
  });

  it("names the unknown user or group", () => {
    expect(() => resolveDropTarget({ user: "no-such-user-privdrop" })).toThrow(
      expect.objectContaining({
        code: "ECHO_ERR_PRIVDROP_UNKNOWN_USER",
        message: 'unknown user "no-such-user-privdrop": not in the user database (getent passwd, /etc/passwd)',
      }),
    );
    expect(() => resolveDropTarget({ group: "no-such-group-privdrop" })).toThrow(
      expect.objectContaining({
        code: "ECHO_ERR_PRIVDROP_UNKNOWN_GROUP",
        message: 'unknown group "no-such-group-privdrop": not in the group database (getent group, /etc/group)',
      }),
    );
  });

  it("refuses root as a target", () => {
    expect(() => resolveDropTarget({ user: 0 })).toThrow(
      expect.objectContaining({
        code: "ECHO_ERR_INVALID_ARG",
        message: 'options.user "0" is uid 0 (root): dropping to root drops nothing',
      }),
    );
    expect(() => resolveDropTarget({ group: "0" })).toThrow(
      expect.objectContaining({
        code: "ECHO_ERR_INVALID_ARG",
        message: 'options.group "root" is gid 0 (root\'s group): choose an unprivileged group',
      }),
    );
  });

  it("accepts a numeric id that is in no database", () => {
    expect(resolveDropTarget({ user: 4_000_000, group: 4_000_001 })).toMatchObject({
      user: "4000000",
      uid: 4_000_000,
      group: "4000001",
      gid: 4_000_001,
    });
  });

  it("needs a named user for initgroups", () => {
    expect(() => resolveDropTarget({ user: 4_000_000, supplementaryGroups: "initgroups" })).toThrow(
      expect.objectContaining({
        code: "ECHO_ERR_INVALID_ARG",
        message:
          'options.supplementaryGroups "initgroups" needs a user in the user database, but uid 4000000 has no entry',
      }),
    );
  });
});
