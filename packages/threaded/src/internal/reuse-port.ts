/**
 * Whether `net.Server.listen()` honours `reusePort` (Node >= 22.12 / 23.1 on Linux). Found by
 * trying, not from the version: older Node ignores the option, so a second listener on the same
 * port fails with EADDRINUSE.
 * @internal
 */
import { createServer, type Server } from "node:net";

let cached: Promise<boolean> | undefined;

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port, reusePort: true } as never, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

async function probe(): Promise<boolean> {
  const first = createServer();
  const second = createServer();
  try {
    await listen(first, 0);
    const address = first.address();
    if (address === null || typeof address === "string") return false;
    await listen(second, address.port);
    return true;
  } catch {
    return false;
  } finally {
    if (first.listening) first.close();
    if (second.listening) second.close();
  }
}

/** Resolves true when this Node can put several listeners on one port with `reusePort`. */
export function reusePortSupported(): Promise<boolean> {
  cached ??= probe();
  return cached;
}
