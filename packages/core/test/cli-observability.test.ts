// --metrics and --log-format on echo-server: the checks every server CLI shares (@echo/conformance).
import { fileURLToPath } from "node:url";
import { cliObservabilitySuite } from "@echo/conformance";

cliObservabilitySuite({
  name: "echo-server",
  entry: fileURLToPath(new URL("../dist/cli/echo-server.js", import.meta.url)),
  args: [],
  model: "async",
});
