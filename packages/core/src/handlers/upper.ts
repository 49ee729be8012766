/**
 * `upper`: echoes with ASCII letters upper-cased, the article's `socketserver` example.
 * Other bytes pass through unchanged, so binary data and UTF-8 survive.
 * @module
 */
import { defineHandler } from "../handler.js";

export default defineHandler({
  name: "upper",
  onData(conn, data) {
    const out = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const b = data[i]!;
      out[i] = b >= 0x61 && b <= 0x7a ? b - 0x20 : b;
    }
    conn.write(out);
  },
});
