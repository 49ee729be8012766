// Socket activation for real (systemd-socket-activate, and a port below 1024 as nobody): see @echo/test-utils.
import { fileURLToPath } from "node:url";
import { socketActivationTests } from "@echo/test-utils";

socketActivationTests(
  fileURLToPath(new URL("../dist/cli/echo-server.js", import.meta.url)),
  [
    { name: "async", args: [] },
    { name: "iterative", args: ["--mode", "iterative"] },
  ],
  7,
);
