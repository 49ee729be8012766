import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { fileURLToPath } from "node:url";

/** A test fixture's absolute path. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/** A line-oriented client: `request("x")` sends `x\n` and resolves with the next line. */
export class LineClient {
  private buffer = "";
  private readonly waiting: ((line: string) => void)[] = [];
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.buffer += chunk;
      let at: number;
      while ((at = this.buffer.indexOf("\n")) >= 0) {
        const line = this.buffer.slice(0, at);
        this.buffer = this.buffer.slice(at + 1);
        this.waiting.shift()?.(line);
      }
    });
    socket.on("error", () => {});
    this.closed = once(socket, "close").then(() => undefined);
  }

  static async open(port: number, host = "127.0.0.1"): Promise<LineClient> {
    const socket = connect({ port, host });
    await once(socket, "connect");
    return new LineClient(socket);
  }

  /** Sends one line; resolves with the reply line, rejects if the connection closes first. */
  request(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.socket.destroyed) {
        reject(new Error("connection closed"));
        return;
      }
      const onClose = (): void => reject(new Error("connection closed"));
      this.socket.once("close", onClose);
      this.waiting.push((reply) => {
        this.socket.off("close", onClose);
        resolve(reply);
      });
      this.socket.write(`${line}\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Counts how many of `names` answered, e.g. `{ "Thread-1": 3, … }`. */
export function tally(names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of names) out[name] = (out[name] ?? 0) + 1;
  return out;
}

/** The thread named by a whoami reply (`Thread-2: hi` → `Thread-2`). */
export function threadOf(reply: string): string {
  return reply.slice(0, reply.indexOf(":"));
}

/**
 * Opens connections in bursts of `burst`, keeping them open, until every one of `threads`
 * names has answered whoami or `max` connections are open. Returns the clients and who served
 * each.
 */
export async function openUntilEveryThread(
  port: number,
  threads: number,
  max = 400,
  burst = 20,
  host = "127.0.0.1",
): Promise<{ clients: LineClient[]; names: string[] }> {
  const clients: LineClient[] = [];
  const names: string[] = [];
  while (clients.length < max && new Set(names).size < threads) {
    const batch = await Promise.all(Array.from({ length: burst }, () => LineClient.open(port, host)));
    const replies = await Promise.all(batch.map((c) => c.request("hi")));
    clients.push(...batch);
    names.push(...replies.map(threadOf));
  }
  return { clients, names };
}
