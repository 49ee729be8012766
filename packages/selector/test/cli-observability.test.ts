// --metrics and --log-format on echo-selector: the checks every server CLI shares (@echo/conformance).
import { fileURLToPath } from "node:url";
import { cliObservabilitySuite } from "@echo/conformance";

cliObservabilitySuite({
  name: "echo-selector",
  entry: fileURLToPath(new URL("../dist/cli.js", import.meta.url)),
  args: [],
  model: "selector",
});
