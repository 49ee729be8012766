#!/usr/bin/env node
// The Node `net` baseline: what a user writes by hand, one process, `on('data') → write`.
//   node node-net-echo.mjs [--port P] [--host H] [--mode echo|http|cpu]
// echo: echoes every chunk. cpu: about 1 ms of the bench's fixed CPU work per chunk, then echo.
// http: a minimal keep-alive responder (one canned 200 per request header block), for the HTTP
// scenarios. Prints `node-net listening on HOST:PORT (model M, pid P)`; exits on SIGTERM/SIGINT.
import net from "node:net";
import { flag, serve } from "./flags.mjs";

const host = flag("host", "127.0.0.1");
const port = Number(flag("port", "0"));
const mode = flag("mode", "echo");

const BODY = "Hello, world\n";
const RESPONSE = Buffer.from(
  `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`,
);
const RESPONSE_10 = Buffer.from(
  `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${BODY.length}\r\nConnection: keep-alive\r\n\r\n${BODY}`,
);

let onConnection;
if (mode === "echo") {
  onConnection = (socket) => {
    socket.on("data", (data) => socket.write(data));
    socket.on("error", () => socket.destroy());
  };
} else if (mode === "cpu") {
  const { burn } = await import(new URL("../dist/fixtures/cpu-handler.js", import.meta.url).href);
  let sink = 0;
  onConnection = (socket) => {
    socket.on("data", (data) => {
      sink ^= burn(data[0] ?? 1);
      socket.write(data);
    });
    socket.on("error", () => socket.destroy());
    socket.on("close", () => void sink);
  };
} else if (mode === "http") {
  // Counts complete header blocks; the load tools send no bodies. HTTP/1.0 clients (ab -k)
  // get an explicit keep-alive header.
  onConnection = (socket) => {
    let tail = "";
    socket.on("data", (data) => {
      const text = tail + data.toString("latin1");
      let start = 0;
      let end;
      while ((end = text.indexOf("\r\n\r\n", start)) >= 0) {
        const http10 = text.startsWith("HTTP/1.0", text.indexOf("\r\n", start) - 8);
        socket.write(http10 ? RESPONSE_10 : RESPONSE);
        start = end + 4;
      }
      tail = text.slice(start);
    });
    socket.on("error", () => socket.destroy());
  };
} else {
  process.stderr.write(`node-net: --mode must be echo, http or cpu, got ${mode}\n`);
  process.exit(2);
}

serve(net.createServer({ noDelay: true }, onConnection), "node-net", `net ${mode}`, host, port);
