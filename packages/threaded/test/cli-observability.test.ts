// --metrics and --log-format on echo-threaded: the checks every server CLI shares (@echo/conformance).
import { fileURLToPath } from "node:url";
import { cliObservabilitySuite } from "@echo/conformance";

cliObservabilitySuite({
  name: "echo-threaded",
  entry: fileURLToPath(new URL("../dist/cli.js", import.meta.url)),
  args: ["--threads", "2"],
  model: "threaded",
});
