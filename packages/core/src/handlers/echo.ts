/**
 * `echo`: sends every byte back as it arrives, then closes when the client has finished.
 * @module
 */
import { defineHandler } from "../handler.js";

export default defineHandler({
  name: "echo",
  onData(conn, data) {
    conn.write(data);
  },
});
