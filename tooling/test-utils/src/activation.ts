/**
 * Running a server CLI the way systemd starts it: `systemd-socket-activate` binds the port,
 * waits for the first connection and execs the server with the socket as descriptor 3
 * (`LISTEN_FDS=1`); optionally through `setpriv` so the server runs as nobody from its first
 * instruction and never holds root.
 * @module
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";

/** What {@link activatedRoundTrip} saw. */
export interface ActivatedRun {
  /** The bytes the server sent back for the payload. */
  reply: Buffer;
  /** The server's `Uid:` and `Gid:` lines (real, effective, saved, fs) and `CapEff`, read while it served. */
  uid: number[];
  gid: number[];
  capEff: string;
  /** stdout and stderr of the activator and the server. */
  output: string;
  /** The server's exit code after SIGTERM. */
  exitCode: number | null;
}

/** A free TCP port on 127.0.0.1 (from a bind to port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * `preferred` when it can be bound on 127.0.0.1 now, else another free port below 1024 (tests
 * of several packages run at once: give each its own preferred port).
 */
export async function freeLowPort(preferred = 7): Promise<number> {
  const canBind = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const probe = createServer();
      probe.once("error", () => resolve(false));
      probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
    });
  if (await canBind(preferred)) return preferred;
  for (let port = 1000; port > 512; port--) if (await canBind(port)) return port;
  throw new Error("no free port below 1024 on 127.0.0.1");
}

function ids(status: string, key: string): number[] {
  const line = status.split("\n").find((l) => l.startsWith(`${key}:`));
  return line === undefined
    ? []
    : line
        .slice(key.length + 1)
        .trim()
        .split(/\s+/)
        .map(Number);
}

/**
 * Starts `node script args…` under `systemd-socket-activate -l 127.0.0.1:PORT` (through
 * `setpriv --reuid=65534 --regid=65534 --clear-groups` when `nobody`), makes one connection
 * (which triggers the exec), sends `payload`, reads as many bytes back, reads the server's
 * /proc status while it serves, then stops it with SIGTERM. Bounded by `timeoutMs`.
 */
export async function activatedRoundTrip(o: {
  port: number;
  script: string;
  args: readonly string[];
  nobody?: boolean;
  payload?: Buffer;
  timeoutMs?: number;
}): Promise<ActivatedRun> {
  const payload = o.payload ?? Buffer.from("socket-activated\n");
  const drop = o.nobody ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
  const child = spawn(
    "systemd-socket-activate",
    ["-l", `127.0.0.1:${o.port}`, ...drop, process.execPath, o.script, ...o.args],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  // "close", not "exit": every byte of output has been read by then.
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  const timer = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs ?? 30_000);
  try {
    // The activator binds before anything else; retry the connect until it listens.
    const socket = await new Promise<Socket>((resolve, reject) => {
      const attempt = (left: number): void => {
        const s = connect(o.port, "127.0.0.1");
        s.once("connect", () => resolve(s));
        s.once("error", (error) => {
          if (left <= 0 || child.exitCode !== null)
            reject(new Error(`cannot connect to 127.0.0.1:${o.port}: ${error.message}\n${output}`));
          else setTimeout(() => attempt(left - 1), 50);
        });
      };
      attempt(200);
    });
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let got = 0;
      socket.on("data", (d: Buffer) => {
        chunks.push(d);
        got += d.length;
        if (got >= payload.length) resolve(Buffer.concat(chunks));
      });
      socket.once("close", () => reject(new Error(`closed after ${got} bytes\n${output}`)));
      socket.write(payload);
    });
    // systemd-socket-activate (and setpriv) exec in place: the child's pid is the server's.
    const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
    socket.destroy();
    // Threads or workers may serve before the CLI has printed its line and set up its SIGTERM
    // handler: stop it only once it says it listens.
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (/ listening on /.test(output) || child.exitCode !== null) resolve();
        else setTimeout(check, 20);
      };
      check();
    });
    child.kill("SIGTERM");
    const exitCode = await exited;
    const capLine = status.split("\n").find((l) => l.startsWith("CapEff:")) ?? "";
    return {
      reply,
      uid: ids(status, "Uid"),
      gid: ids(status, "Gid"),
      capEff: capLine.slice(7).trim(),
      output,
      exitCode,
    };
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}
