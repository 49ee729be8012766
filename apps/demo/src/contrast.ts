/**
 * The contrast run: five clients connect at once to a server whose handler holds each request
 * for 200 ms, and the wall time shows which models make them wait in line.
 * @module
 */
import { fileURLToPath } from "node:url";
import { EchoClient } from "@echo/client";
import { EchoServer, type ServerAddress } from "@echo/core";
import { PreforkServer } from "@echo/prefork";
import { SelectorServer } from "@echo/selector";
import { ThreadedServer } from "@echo/threaded";

/** The models the contrast run compares, in the order it runs them. */
export const contrastModels = ["iterative", "async", "threaded", "prefork", "selector"] as const;

/** One of {@link contrastModels}. */
export type ContrastModel = (typeof contrastModels)[number];

/** What one model did with the five clients. */
export interface ContrastResult {
  model: ContrastModel;
  /** How the model was set up, e.g. `2 threads`. */
  setup: string;
  /** Milliseconds from the first connect to the last reply. */
  wallMs: number;
  /** Milliseconds from the first connect to each client's reply, in the order they came. */
  replyMs: number[];
  /** The most requests the server held at the same time (1: queued; 5: all side by side). */
  heldAtOnce: number;
  /** The first client's reply, as received. */
  firstReply: string;
}

/** The handler module the run serves: it answers `<worker>: <data>` after `holdMs`. */
export const holdHandler = fileURLToPath(new URL("./handlers/hold.js", import.meta.url));

interface Running {
  address: ServerAddress;
  setup: string;
  close(): Promise<void>;
}

const quiet = { info: () => undefined, error: (m: string) => process.stderr.write(`${m}\n`) };

async function start(model: ContrastModel, holdMs: number): Promise<Running> {
  const common = { handler: holdHandler, handlerOptions: { ms: holdMs }, logger: quiet };
  switch (model) {
    case "iterative":
    case "async": {
      const server = new EchoServer({ ...common, model });
      return { address: await server.listen(), setup: "one thread", close: () => server.close() };
    }
    case "threaded": {
      const server = new ThreadedServer({ ...common, threads: 2 });
      return { address: await server.listen(), setup: "2 threads", close: () => server.close() };
    }
    case "prefork": {
      const server = new PreforkServer({ ...common, workers: 2 });
      return { address: await server.listen(), setup: "2 worker processes", close: () => server.close() };
    }
    case "selector": {
      const server = new SelectorServer({ ...common, selector: "epoll" });
      return { address: await server.listen(), setup: "epoll", close: () => server.close() };
    }
  }
}

/**
 * The most replies whose holds overlapped: a reply at time r was held during (r - hold, r].
 * Only half the hold counts: a reply seen late by a busy client cannot make back-to-back holds
 * (iterative: each starts after the one before has ended) look like overlapping ones, while
 * holds served side by side end within milliseconds of each other.
 */
function maxOverlap(replyMs: readonly number[], holdMs: number): number {
  const window = holdMs * 0.5;
  let best = 0;
  for (const r of replyMs) best = Math.max(best, replyMs.filter((other) => other > r - window && other <= r).length);
  return best;
}

/**
 * Runs the five clients against one model. Every client connects, sends one line, half-closes
 * and reads the whole reply; the server is closed before this resolves.
 */
export async function contrast(model: ContrastModel, clients = 5, holdMs = 200): Promise<ContrastResult> {
  const server = await start(model, holdMs);
  try {
    if (server.address.kind !== "tcp") throw new Error("the contrast run listens on TCP");
    const target = { host: server.address.host, port: server.address.port };
    const t0 = performance.now();
    const replies = await Promise.all(
      Array.from({ length: clients }, async (_, i) => {
        const client = await EchoClient.connect(target);
        try {
          const reply = client.readUntilEnd({ timeout: 30_000 });
          await client.send(`client ${i}`);
          await client.end();
          const text = (await reply).toString();
          return { text, at: performance.now() - t0 };
        } finally {
          await client.close();
        }
      }),
    );
    const wallMs = performance.now() - t0;
    const replyMs = replies.map((r) => r.at).sort((a, b) => a - b);
    return {
      model,
      setup: server.setup,
      wallMs,
      replyMs,
      heldAtOnce: maxOverlap(replyMs, holdMs),
      firstReply: replies[0]!.text,
    };
  } finally {
    await server.close();
  }
}
