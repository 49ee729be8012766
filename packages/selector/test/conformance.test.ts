import { conformanceSuite, type StartOptions } from "@echo/conformance";
import * as core from "@echo/core";
import { SelectorServer, type SelectorKind } from "@echo/selector";
import { quiet } from "./helpers.js";

function target(selector: SelectorKind, echoFastPath: boolean, loops = 1) {
  return {
    name: `selector ${selector}${echoFastPath ? "" : " (echo through JavaScript)"}${loops > 1 ? `, ${loops} loops` : ""}`,
    errors: core,
    concurrent: true,
    worker: loops > 1 ? /^SelectorThread-[1-9]\d*$/ : /^SelectorThread$/,
    async start(options: StartOptions) {
      const server = new SelectorServer({
        selector,
        echoFastPath,
        loops,
        host: "127.0.0.1",
        port: 0,
        logger: quiet,
        ...options,
      });
      const address = await server.listen();
      return {
        address: address.kind === "unix" ? { path: address.path } : { host: address.host, port: address.port },
        stats: () => server.stats(),
        close: () => server.close(),
      };
    },
  };
}

// epoll with the C echo fast path, and with echo run as a JS handler: both must behave the same.
conformanceSuite(target("epoll", true));
conformanceSuite(target("epoll", false));
conformanceSuite(target("poll", false));
conformanceSuite(target("select", true));
// Two loops on one port (SO_REUSEPORT; a Unix socket path is shared): the same contract.
conformanceSuite(target("epoll", true, 2));
conformanceSuite(target("epoll", false, 2));
