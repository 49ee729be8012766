// Socket activation for real (systemd-socket-activate, and a port below 1024 as nobody): see @echo/test-utils.
import { fileURLToPath } from "node:url";
import { socketActivationTests } from "@echo/test-utils";

socketActivationTests(
  fileURLToPath(new URL("../dist/cli.js", import.meta.url)),
  [
    { name: "selector epoll", args: ["--selector", "epoll"] },
    { name: "selector select", args: ["--selector", "select"] },
  ],
  19,
);
