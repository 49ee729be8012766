/**
 * `echo`: sends every byte back as it arrives, then closes when the client has finished; over
 * UDP, sends every datagram back unchanged (RFC 862).
 * @module
 */
import { defineHandler } from "../handler.js";

export default defineHandler({
  name: "echo",
  onData(conn, data) {
    conn.write(data);
  },
  onDatagram(datagram, data) {
    datagram.reply(data);
  },
});
