/**
 * `upper`: echoes with ASCII letters upper-cased, the article's `socketserver` example.
 * Other bytes pass through unchanged, so binary data and UTF-8 survive. Over UDP, one reply per datagram.
 * @module
 */
import { defineHandler } from "../handler.js";

function upper(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    out[i] = b >= 0x61 && b <= 0x7a ? b - 0x20 : b;
  }
  return out;
}

export default defineHandler({
  name: "upper",
  onData(conn, data) {
    conn.write(upper(data));
  },
  onDatagram(datagram, data) {
    datagram.reply(upper(data));
  },
});
