/**
 * Duplicating a listening descriptor so each thread owns its own descriptor of one socket.
 * @internal
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** A libuv TCP handle as Node hands it over an IPC channel (`net.Native`). */
export interface NativeHandle {
  readonly fd: number;
  close(callback?: () => void): void;
}

/** Where the helper lives once built: next to the worker entry, under dist/internal/. */
export function helperPathFrom(baseUrl: string): string {
  const path = fileURLToPath(new URL("./internal/fd-helper.js", baseUrl));
  if (!existsSync(path)) throw new Error(`the descriptor helper ${path} is missing (is @echo/threaded built?)`);
  return path;
}

/**
 * Gives the calling thread its own descriptor of the socket behind `fd` (a process-wide
 * number the caller keeps open until this resolves): a child process inherits `fd` and sends
 * it back over IPC, which the kernel delivers as a new descriptor owned by this thread's handle.
 */
export function duplicateListener(fd: number, helperPath: string, timeoutMs = 20_000): Promise<NativeHandle> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [helperPath], {
      stdio: ["ignore", "ignore", "inherit", "ipc", fd],
      serialization: "json",
    });
    let settled = false;
    let received: NativeHandle | undefined;
    const finish = (error: Error | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        received?.close();
        if (child.connected) child.disconnect();
        if (child.exitCode === null && child.signalCode === null) child.kill();
        reject(error);
      } else resolve(received!);
    };
    const timer = setTimeout(
      () => finish(new Error(`the descriptor helper did not finish within ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.once("message", (message: { type?: string }, handle: unknown) => {
      if (settled) {
        // Too late (we gave up): close what arrived rather than leak a descriptor.
        (handle as NativeHandle | undefined)?.close?.();
        return;
      }
      if (message?.type !== "echo-threaded-listener" || !handle || typeof (handle as NativeHandle).fd !== "number") {
        finish(new Error("the descriptor helper sent no listener"));
        return;
      }
      received = handle as NativeHandle;
      // Disconnecting ends the helper. We wait for it to be gone: while it lives it holds the
      // socket too, and a server that has closed must not leave it listening in a helper.
      child.disconnect();
    });
    child.once("error", (error) => finish(error));
    child.once("exit", (code, signal) => {
      if (received) finish(undefined);
      else finish(new Error(`the descriptor helper exited (${signal ?? code}) before sending the listener`));
    });
  });
}
