#!/usr/bin/env node
// The `node:http` baseline: the hello server a user writes by hand with Node's HTTP module.
//   node node-http-hello.mjs [--port P] [--host H]
// Prints `node-http listening on HOST:PORT (model http, pid P)`; exits on SIGTERM/SIGINT.
import http from "node:http";
import { flag, serve } from "./flags.mjs";

const host = flag("host", "127.0.0.1");
const port = Number(flag("port", "0"));

const server = http.createServer((req, res) => {
  res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": "13" });
  res.end("Hello, world\n");
});
server.keepAliveTimeout = 30_000;
serve(server, "node-http", "http", host, port);
