#!/usr/bin/env node
/**
 * `echo-client`: sends a message to an echo server and prints what comes back.
 * @module
 */
import { EchoClient } from "../client.js";
import { invalidArg } from "../errors.js";
import {
  formatUsage,
  integerFlag,
  parseFlags,
  proxyFlags,
  proxyHeaderFlag,
  reportFailure,
  type Flag,
} from "../internal/cli.js";
import type { EchoTarget } from "../target.js";

const NAME = "echo-client";
const flags: Record<string, Flag> = {
  host: { type: "string", value: "HOST", description: "server host or address, IPv4 or IPv6 (default 127.0.0.1)" },
  port: { type: "string", short: "p", value: "PORT", description: "server TCP port" },
  path: { type: "string", value: "PATH", description: "server Unix socket path (instead of --port)" },
  timeout: { type: "string", value: "MS", description: "limit for connecting and for the whole reply (default 10000)" },
  ...proxyFlags,
  help: { type: "boolean", description: "print this help" },
};
const usage = formatUsage(
  `Usage: ${NAME} [--host HOST] --port PORT [--timeout MS] MESSAGE...\n       ${NAME} --path SOCKET [--timeout MS] MESSAGE...`,
  "Sends MESSAGE (the words joined by spaces; standard input when no MESSAGE is given), ends its side of\n" +
    "the connection, and prints everything the server sends back until it closes. Exits 1 on a\n" +
    "connection error (refused, timeout, reset), 2 on bad arguments.",
  flags,
);

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, flags);
  if (values.help === true) {
    process.stdout.write(usage);
    return;
  }
  const port = integerFlag("port", values.port);
  const path = values.path as string | undefined;
  if (port === undefined && path === undefined) throw invalidArg("--port or --path is required (see --help)");
  if (port !== undefined && path !== undefined) throw invalidArg("--port and --path cannot both be given");
  if (port !== undefined && (port < 1 || port > 65535))
    throw invalidArg(`--port must be an integer from 1 to 65535, got ${port}`);
  const timeout = integerFlag("timeout", values.timeout) ?? 10_000;
  const proxyHeader = proxyHeaderFlag(values);
  let message: Buffer;
  if (positionals.length > 0) message = Buffer.from(positionals.join(" "), "utf8");
  else if (process.stdin.isTTY)
    throw invalidArg("no MESSAGE given (give words to send, or pipe data into standard input)");
  else message = await readStdin();

  const target: EchoTarget =
    path !== undefined ? { path } : { host: (values.host as string | undefined) ?? "127.0.0.1", port: port as number };
  const client = await EchoClient.connect(target, proxyHeader === undefined ? { timeout } : { timeout, proxyHeader });
  try {
    const reply = client.readUntilEnd({ timeout });
    reply.catch(() => undefined); // awaited below; a failed send must not leave it unhandled
    await client.send(message);
    await client.end();
    const received = await reply;
    process.stdout.write(received);
    if (received.length === 0 || received[received.length - 1] !== 0x0a) process.stdout.write("\n");
  } finally {
    await client.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => reportFailure(NAME, error));
