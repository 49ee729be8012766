// Each drop happens in its own child process (a drop cannot be undone): the fixture binds a
// plain net echo server as root, drops, and the test checks the result from outside.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  defaultGroupGid,
  echoRoundTrip,
  getentGid,
  isRoot,
  killFixtures,
  needsRoot,
  port7Hosts,
  runFixture,
  statusLines,
  type FixtureEvent,
} from "./helpers.js";

const linux = process.platform === "linux";
const dirs: string[] = [];

afterEach(async () => {
  await killFixtures();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temporary directory the dropped child may write to (sticky and world-writable, like /tmp). */
function writableDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "privdrop-"));
  chmodSync(dir, 0o1777);
  dirs.push(dir);
  return dir;
}

describe.skipIf(!isRoot || !linux)(`dropping as root, port 7${needsRoot}`, () => {
  it("binds 127.0.0.1:7, drops to nobody, and still echoes on port 7", async () => {
    const run = runFixture("serve-and-drop.mjs", { hosts: port7Hosts(), port: 7, startGroups: [0, 4, 100] });
    const listening = await run.next("listening");
    const serving = await run.next("serving");
    const { address, port } = listening.address as { address: string; port: number };
    expect(port).toBe(7);
    expect(listening.before).toMatchObject({ uid: { real: 0, effective: 0, saved: 0 }, groups: [0, 4, 100] });

    expect(await echoRoundTrip(address, 7, "hello from the test\n")).toBe("hello from the test\n");

    const pid = run.child.pid!;
    const gid = defaultGroupGid();
    const lines = statusLines(pid);
    expect(lines.uid).toBe("Uid:\t65534\t65534\t65534\t65534");
    expect(lines.gid).toBe(`Gid:\t${gid}\t${gid}\t${gid}\t${gid}`);
    expect(lines.groups).toMatch(/^Groups:\s*$/);

    const result = serving.result as {
      dropped: boolean;
      from: unknown;
      to: { uid: number; gid: number; groups: number[]; user: string };
    };
    expect(result.dropped).toBe(true);
    expect(result.from).toEqual({ uid: 0, gid: 0, groups: [0, 4, 100] });
    expect(result.to).toMatchObject({ uid: 65534, gid, groups: [], user: "nobody" });
    expect(serving.line).toMatch(
      /^dropped privileges: uid 0→65534 \(nobody\), gid \d+→\d+ \(\w+\), groups \[0,4,100\]→\[\], umask \d{4}→0007$/,
    );

    run.child.kill("SIGTERM");
    expect(await run.exit).toEqual({ code: 0, signal: null });
    expect((await run.next("closed")).accepted).toBe(1);
  });

  it("sets umask 0007: a file created after the drop is 0660 or stricter and owned by nobody", async () => {
    const dir = writableDir();
    const run = runFixture("serve-and-drop.mjs", { hosts: port7Hosts(), port: 7, dir });
    const serving = await run.next("serving");
    expect((serving.after as { umask: number }).umask).toBe(0o007);
    expect((serving.result as { umask: { to: number } }).umask.to).toBe(0o007);
    const file = serving.file as { mode: number; uid: number; gid: number };
    expect(file.mode & ~0o660).toBe(0);
    expect(file.mode).toBe(0o660);
    expect(file.uid).toBe(65534);
    expect(file.gid).toBe(defaultGroupGid());
  });

  it("cannot regain root: setuid(0), seteuid(0), setgid(0), setgroups([0]) fail and port 8 cannot be bound", async () => {
    const run = runFixture("serve-and-drop.mjs", { hosts: port7Hosts(), port: 7, bindAfter: 8 });
    const serving = await run.next("serving");
    expect(serving.regain).toEqual({ setuid: "EPERM", seteuid: "EPERM", setgid: "EPERM", setgroups: "EPERM" });
    expect(serving.bindAfter).toBe("EACCES");
    expect(statusLines(run.child.pid!).uid).toBe("Uid:\t65534\t65534\t65534\t65534");
  });

  it("applies --group, --umask and an explicit supplementary group list", async () => {
    const users = getentGid("users") ?? 100;
    const run = runFixture("serve-and-drop.mjs", {
      port: 0,
      options: { user: "nobody", group: users, umask: "0027", supplementaryGroups: [users, 65534] },
    });
    const serving = await run.next("serving");
    const lines = statusLines(run.child.pid!);
    expect(lines.gid).toBe(`Gid:\t${users}\t${users}\t${users}\t${users}`);
    expect(
      lines.groups
        .replace(/^Groups:/, "")
        .trim()
        .split(/\s+/)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual([users, 65534].sort((a, b) => a - b));
    expect((serving.after as { umask: number }).umask).toBe(0o027);
    expect(serving.line).toMatch(/umask \d{4}→0027$/);
  });

  it("supplementaryGroups 'initgroups' gives the user's groups plus the target group", async () => {
    const gid = defaultGroupGid();
    const run = runFixture("drop-once.mjs", { options: { supplementaryGroups: "initgroups" } });
    const event = await run.next("result");
    // nobody is a member of no group, so initgroups leaves only the target group.
    expect((event.after as { groups: number[] }).groups).toEqual([gid]);
    expect((event.result as { to: { groups: number[] } }).to.groups).toEqual([gid]);
    expect(await run.exit).toEqual({ code: 0, signal: null });
  });

  async function expectRefused(options: unknown, code: string, message: RegExp): Promise<FixtureEvent> {
    const run = runFixture("serve-and-drop.mjs", { hosts: port7Hosts(), port: 7, options });
    const failed = await run.next("drop-error");
    expect(failed.code).toBe(code);
    expect(failed.message).toMatch(message);
    // Nothing was changed before the error: still root, same groups, same umask.
    const before = (await run.next("listening")).before;
    expect(failed.after).toEqual(before);
    expect(failed.accepted).toBe(0);
    expect((await run.exit).code).toBe(1);
    expect(run.events.map((e) => e.event)).toEqual(["listening", "drop-error"]);
    return failed;
  }

  it("an unknown user exits non-zero with ECHO_ERR_PRIVDROP_UNKNOWN_USER and never serves", async () => {
    await expectRefused(
      { user: "no-such-user-privdrop" },
      "ECHO_ERR_PRIVDROP_UNKNOWN_USER",
      /unknown user "no-such-user-privdrop"/,
    );
  });

  it("an unknown group exits non-zero with ECHO_ERR_PRIVDROP_UNKNOWN_GROUP and never serves", async () => {
    await expectRefused(
      { group: "no-such-group-privdrop" },
      "ECHO_ERR_PRIVDROP_UNKNOWN_GROUP",
      /unknown group "no-such-group-privdrop"/,
    );
  });

  it("an unknown supplementary group is refused before anything changes", async () => {
    await expectRefused(
      { supplementaryGroups: ["no-such-group-privdrop"] },
      "ECHO_ERR_PRIVDROP_UNKNOWN_GROUP",
      /no-such-group-privdrop/,
    );
  });

  it("refuses to 'drop' to uid 0 or gid 0", async () => {
    await expectRefused({ user: "root" }, "ECHO_ERR_INVALID_ARG", /options\.user "root" is uid 0/);
    await expectRefused({ group: 0 }, "ECHO_ERR_INVALID_ARG", /options\.group "root" is gid 0/);
  });

  it("drops every thread of the process: worker threads listening before the main thread drops run as nobody too", async () => {
    const gid = defaultGroupGid();
    const run = runFixture("drop-with-threads.mjs");
    const event = await run.next("threads");
    expect(event.reports).toEqual([
      { uid: 65534, euid: 65534, gid, groups: [gid] },
      { uid: 65534, euid: 65534, gid, groups: [gid] },
    ]);
    const tasks = event.tasks as { uid: string; gid: string; groups: string }[];
    // main thread, two workers and libuv/V8 helper threads
    expect(tasks.length).toBeGreaterThan(3);
    for (const task of tasks) {
      expect(task.uid).toBe("Uid:\t65534\t65534\t65534\t65534");
      expect(task.gid).toBe(`Gid:\t${gid}\t${gid}\t${gid}\t${gid}`);
      expect(task.groups).toMatch(/^Groups:\s*$/);
    }
    expect((await run.exit).code).toBe(0);
  });

  it("verifyDropped names the failed check: uid while still root", async () => {
    const run = runFixture("drop-once.mjs", { verifyOnly: { uid: 65534, gid: 65534, groups: [] } });
    const event = await run.next("error");
    expect(event).toMatchObject({ name: "PrivdropVerifyError", code: "ECHO_ERR_PRIVDROP_VERIFY", check: "uid" });
    expect(event.message).toBe("privilege drop verification failed: check uid: process.getuid() is 0, expected 65534");
    expect((await run.exit).code).toBe(1);
  });

  it("verifyDropped names the failed check: groups when the list differs", async () => {
    const gid = defaultGroupGid();
    const run = runFixture("drop-once.mjs", { verifyAfter: { uid: 65534, gid, groups: [4242] } });
    const event = await run.next("error");
    expect(event).toMatchObject({ code: "ECHO_ERR_PRIVDROP_VERIFY", check: "groups" });
    const expected = [gid, 4242].sort((a, b) => a - b).join(",");
    expect(event.message).toBe(
      `privilege drop verification failed: check groups: process.getgroups() is [${gid}], expected [${expected}] (the groups asked for plus the gid)`,
    );
  });

  it("verifyDropped names the failed check: proc-status-groups when only the kernel list differs", async () => {
    const gid = defaultGroupGid();
    // Expecting the gid itself as a supplementary group: getgroups() agrees (Node adds the egid), /proc does not.
    const run = runFixture("drop-once.mjs", { verifyAfter: { uid: 65534, gid, groups: [gid] } });
    const event = await run.next("error");
    expect(event).toMatchObject({ code: "ECHO_ERR_PRIVDROP_VERIFY", check: "proc-status-groups" });
    expect(event.message).toMatch(/Groups: is \[\], expected \[\d+\]/);
  });
});

describe.skipIf(!linux)("in a worker thread (root or not)", () => {
  it("throws ECHO_ERR_PRIVDROP_WORKER_THREAD in a worker thread and changes nothing", async () => {
    const run = runFixture("drop-in-worker.mjs");
    const event = await run.next("worker");
    expect(event).toMatchObject({ outcome: "threw", name: "PrivdropError", code: "ECHO_ERR_PRIVDROP_WORKER_THREAD" });
    expect(event.message).toMatch(/worker thread/);
    const uid = process.getuid!();
    expect((event.main as { uid: { real: number; effective: number } }).uid).toMatchObject({
      real: uid,
      effective: uid,
    });
    expect((await run.exit).code).toBe(0);
  });
});

describe.skipIf(!linux)("not running as root", () => {
  it("returns dropped:false with a reason and changes nothing", async () => {
    const asNobody = isRoot ? { uid: 65534, gid: defaultGroupGid() } : {};
    const run = runFixture("drop-once.mjs", { options: { user: "nobody" } }, asNobody);
    const event = await run.next("result");
    const result = event.result as { dropped: boolean; reason: string };
    expect(result.dropped).toBe(false);
    expect(result.reason).toMatch(
      /^not running as root \(uid \d+, euid \d+\), so there is nothing to drop; nothing was changed/,
    );
    expect(event.line).toBe(`privileges not dropped: ${result.reason}`);
    expect(event.after).toEqual(event.before);
    expect((await run.exit).code).toBe(0);
  });

  it("still reports an unknown user when not root, without changing anything", async () => {
    const asNobody = isRoot ? { uid: 65534, gid: defaultGroupGid() } : {};
    const run = runFixture("drop-once.mjs", { options: { user: "no-such-user-privdrop" } }, asNobody);
    const event = await run.next("error");
    expect(event.code).toBe("ECHO_ERR_PRIVDROP_UNKNOWN_USER");
    expect(event.after).toEqual(event.before);
  });
});
