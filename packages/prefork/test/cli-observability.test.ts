// --metrics and --log-format on echo-prefork: the checks every server CLI shares (@echo/conformance).
import { fileURLToPath } from "node:url";
import { cliObservabilitySuite } from "@echo/conformance";

cliObservabilitySuite({
  name: "echo-prefork",
  entry: fileURLToPath(new URL("../dist/cli.js", import.meta.url)),
  args: ["--workers", "2"],
  model: "prefork",
});
