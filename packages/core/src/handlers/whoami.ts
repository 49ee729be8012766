/**
 * `whoami`: replies `<worker>: <data>` for every chunk, naming the thread or process that
 * served it, as the article's `ThreadingTCPServer` example does (`Thread-1: hello`); over UDP,
 * one such reply per datagram.
 * @module
 */
import { Buffer } from "node:buffer";
import { defineHandler } from "../handler.js";

export default defineHandler((context) => {
  const prefix = Buffer.from(`${context.worker}: `);
  return {
    name: "whoami",
    onData(conn, data) {
      conn.write(Buffer.concat([prefix, data]));
    },
    onDatagram(datagram, data) {
      datagram.reply(Buffer.concat([prefix, data]));
    },
  };
});
