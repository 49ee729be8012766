#!/usr/bin/env node
/**
 * The article's tour, runnable: each server model is started on a free loopback port and talked
 * to with `@echo/client`, printing what the article printed. Every step is bounded and the tour
 * exits by itself.
 */
import { EchoClient } from "@echo/client";
import { EchoServer, type ServerAddress } from "@echo/core";

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
  const replies = await Promise.all(clients.map((c, i) => c.request(`client ${i}`)));
  log(`  20 clients served concurrently; first reply ${JSON.stringify(replies[0]!.toString())}`);
  await Promise.all(clients.map((c) => c.close()));
  const stats = server.stats();
  await server.close();
  log(`  stats: accepted ${stats.accepted}, bytes in ${stats.bytesIn}, bytes out ${stats.bytesOut}`);
}

await once();
await iterative();
await asyncModel();
log("Tour complete.");
