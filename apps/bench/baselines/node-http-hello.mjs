#!/usr/bin/env node
// The `node:http` baseline: the hello server a user writes by hand with Node's HTTP module.
//   node node-http-hello.mjs [--port P] [--host H]
// Prints `node-http listening on HOST:PORT (model http, pid P)`; exits on SIGTERM/SIGINT.
import http from "node:http";

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const host = flag("host", "127.0.0.1");
const port = Number(flag("port", "0"));

const server = http.createServer((req, res) => {
  res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": "13" });
  res.end("Hello, world\n");
});
server.keepAliveTimeout = 30_000;
server.listen({ host, port, backlog: 4096 }, () => {
  const a = server.address();
  process.stdout.write(`node-http listening on ${a.address}:${a.port} (model http, pid ${process.pid})\n`);
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 500).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
