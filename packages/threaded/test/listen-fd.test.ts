// Socket activation for real (systemd-socket-activate, and a port below 1024 as nobody): see @echo/test-utils.
import { fileURLToPath } from "node:url";
import { socketActivationTests } from "@echo/test-utils";

socketActivationTests(
  fileURLToPath(new URL("../dist/cli.js", import.meta.url)),
  [{ name: "threaded", args: ["--threads", "2"] }],
  9,
);
