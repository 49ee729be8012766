/**
 * The article's tour, runnable: each server model is started on a free loopback port and talked
 * to with `@echo/client`, printing what the article printed. Every step is bounded and the tour
 * ends by itself.
 * @module
 */
import { EchoClient } from "@echo/client";
import { EchoServer, type ServerAddress } from "@echo/core";
import { PreforkServer } from "@echo/prefork";
import { SelectorServer, type SelectorKind } from "@echo/selector";
import { ThreadedServer } from "@echo/threaded";
import { contrast, contrastModels, type ContrastResult } from "./contrast.js";
import { privdropStep } from "./privdrop-step.js";

const log = (line: string): void => void process.stdout.write(`${line}\n`);
const serverLog = { info: (m: string) => log(`  server: ${m}`), error: (m: string) => log(`  server error: ${m}`) };

function target(address: ServerAddress): { host: string; port: number } {
  if (address.kind !== "tcp") throw new Error("the tour listens on TCP");
  return { host: address.host, port: address.port };
}

async function once(): Promise<void> {
  log("1. Basic server (model once): accept one connection, echo it, exit");
  const server = new EchoServer({ model: "once", logConnections: true, logger: serverLog });
  const address = target(await server.listen());
  log(`  server bound to ${address.host}:${address.port}`);
  const client = await EchoClient.connect(address);
  const reply = await client.request("Hello, world");
  log(`  client: Received ${JSON.stringify(reply.toString())}`);
  await client.close();
  await server.finished;
  log("  server: served its one connection and finished");
}

async function iterative(): Promise<void> {
  log("2. Socket server (model iterative, handler upper): one client at a time");
  const server = new EchoServer({ model: "iterative", handler: "upper", logConnections: true, logger: serverLog });
  const address = target(await server.listen());
  const first = await EchoClient.connect(address);
  const second = await EchoClient.connect(address);
  const secondReply = second.request("i waited my turn");
  log(`  client 1: Received ${JSON.stringify((await first.request("hello world")).toString())}`);
  log(`  stats while client 1 is served: ${JSON.stringify(server.stats())}`);
  await first.close();
  log(`  client 2: Received ${JSON.stringify((await secondReply).toString())}`);
  await second.close();
  await server.close();
}

async function asyncModel(): Promise<void> {
  log("3. Event loop (model async): every client at once on one thread");
  const server = new EchoServer({ model: "async", handler: "whoami", logger: serverLog });
  const address = target(await server.listen());
  const clients = await Promise.all(Array.from({ length: 20 }, () => EchoClient.connect(address)));
  // whoami answers with more bytes than it got: send, half-close, read until the server closes.
  const replies = await Promise.all(
    clients.map(async (c, i) => {
      const reply = c.readUntilEnd();
      await c.send(`client ${i}`);
      await c.end();
      return reply;
    }),
  );
  log(`  20 clients served concurrently; first reply ${JSON.stringify(replies[0]!.toString())}`);
  await Promise.all(clients.map((c) => c.close()));
  const stats = server.stats();
  await server.close();
  log(`  stats: accepted ${stats.accepted}, bytes in ${stats.bytesIn}, bytes out ${stats.bytesOut}`);
}

/** Sends one line per client, half-closes, and returns each whole reply (whoami adds a prefix). */
async function whoamiReplies(address: { host: string; port: number }, clients: number): Promise<string[]> {
  const connected = await Promise.all(Array.from({ length: clients }, () => EchoClient.connect(address)));
  return Promise.all(
    connected.map(async (c, i) => {
      const reply = c.readUntilEnd();
      await c.send(`hello ${i}`);
      await c.end();
      return (await reply).toString();
    }),
  );
}

function servedBy(replies: string[]): string {
  const counts = new Map<string, number>();
  for (const reply of replies) {
    const who = reply.slice(0, reply.indexOf(":"));
    counts.set(who, (counts.get(who) ?? 0) + 1);
  }
  return [...counts]
    .sort()
    .map(([who, n]) => `${who} ×${n}`)
    .join(", ");
}

async function threaded(): Promise<void> {
  log("4. Threads (ThreadedServer, handler whoami): each thread its own event loop");
  const server = new ThreadedServer({ threads: 2, handler: "whoami", logger: serverLog });
  const address = target(await server.listen());
  const replies = await whoamiReplies(address, 16);
  log(`  client: Received ${JSON.stringify(replies[0])}`);
  log(`  16 clients served by: ${servedBy(replies)}`);
  await server.close();
}

async function prefork(): Promise<void> {
  log("5. Multiprocessing (PreforkServer, 4 workers, round-robin): a supervised master and its workers");
  const server = new PreforkServer({ workers: 4, schedule: "round-robin", handler: "whoami", logger: serverLog });
  const address = target(await server.listen());
  const replies = await whoamiReplies(address, 16);
  log(`  client: Received ${JSON.stringify(replies[0])}`);
  log(`  16 clients served by: ${servedBy(replies)}`);
  await server.close();
}

async function selectors(): Promise<void> {
  log("6. Blocking and polling via selector (SelectorServer): select, poll and epoll for real");
  for (const selector of ["select", "poll", "epoll"] as SelectorKind[]) {
    const server = new SelectorServer({ selector, handler: "upper", logger: serverLog });
    const address = target(await server.listen());
    const client = await EchoClient.connect(address);
    const reply = await client.request(`served by ${selector}`);
    await client.close();
    await server.close();
    log(`  ${selector.padEnd(6)} client: Received ${JSON.stringify(reply.toString())}`);
  }
}

async function privileges(): Promise<void> {
  log(
    "7. Privilege drop (model async, echo-server --user nobody): bind a port below 1024 as root, then serve as nobody",
  );
  const result = await privdropStep();
  if (!result.ran) {
    log(`  skipped: ${result.reason}`);
    return;
  }
  log(`  server bound to 127.0.0.1:${result.port} as root (pid ${result.pid}), then ${result.dropLine}`);
  log(`  the server's own /proc/${result.pid}/status:`);
  for (const line of result.statusLines)
    log(
      `    ${line.replace(/\s+/g, " ").trim()}${line.startsWith("Groups:") && line.trim() === "Groups:" ? " (none)" : ""}`,
    );
  log(`  client: Received ${JSON.stringify(result.reply)}`);
}

const seconds = (ms: number): string => (ms / 1000).toFixed(2);

function describeContrast(r: ContrastResult): string {
  const side =
    r.heldAtOnce >= 2
      ? `side by side: up to ${r.heldAtOnce} held at once`
      : "queued: one at a time, the others waited in line";
  return `${r.model.padEnd(9)} (${r.setup}) wall ${seconds(r.wallMs)} s; ${side}; replies at ${r.replyMs.map(seconds).join(", ")} s`;
}

async function contrastRun(): Promise<void> {
  log("8. Contrast: five clients connect at once; the handler (hold) holds each request 200 ms");
  const results: ContrastResult[] = [];
  for (const model of contrastModels) {
    const result = await contrast(model);
    results.push(result);
    log(`  ${describeContrast(result)}`);
    log(`  ${model.padEnd(9)} client: Received ${JSON.stringify(result.firstReply)}`);
  }
  const base = results.find((r) => r.model === "async")!;
  log(
    `  wall time relative to async: ${results.map((r) => `${r.model} ${(r.wallMs / base.wallMs).toFixed(1)}×`).join(", ")}`,
  );
}

/** Runs every step of the tour in order; resolves when the last server has closed. */
export async function runTour(): Promise<void> {
  await once();
  await iterative();
  await asyncModel();
  await threaded();
  await prefork();
  await selectors();
  await privileges();
  await contrastRun();
  log("Tour complete.");
}
