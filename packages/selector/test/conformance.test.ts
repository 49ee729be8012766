import { conformanceSuite, observabilitySuite, type ObservedStartOptions, type StartOptions } from "@echo/conformance";
import * as core from "@echo/core";
import { SelectorServer, type SelectorKind } from "@echo/selector";
import { fileURLToPath } from "node:url";
import { quiet } from "./helpers.js";
import { ioUringUnavailable } from "./io-uring.js";

const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

function target(selector: SelectorKind, echoFastPath: boolean, loops = 1) {
  return {
    name: `selector ${selector}${echoFastPath ? "" : " (echo through JavaScript)"}${loops > 1 ? `, ${loops} loops` : ""}`,
    errors: core,
    concurrent: true,
    worker: loops > 1 ? /^SelectorThread-[1-9]\d*$/ : /^SelectorThread$/,
    cli: {
      command: process.execPath,
      args: [
        cli,
        "--selector",
        selector,
        ...(echoFastPath ? [] : ["--no-fast-path"]),
        ...(loops > 1 ? ["--loops", String(loops)] : []),
      ],
    },
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

function observed(selector: SelectorKind, echoFastPath: boolean, loops = 1) {
  return {
    name: `selector ${selector}${echoFastPath ? "" : " (echo through JavaScript)"}${loops > 1 ? `, ${loops} loops` : ""}`,
    model: "selector",
    // With several loops, lines from the server itself carry its workerName, a loop's its own.
    worker: loops > 1 ? /^SelectorThread(-[1-9]\d*)?$/ : /^SelectorThread$/,
    async start(options: ObservedStartOptions) {
      const server = new SelectorServer({ selector, echoFastPath, loops, host: "127.0.0.1", port: 0, ...options });
      const address = await server.listen();
      if (address.kind !== "tcp") throw new Error("expected a TCP address");
      return {
        address: { host: address.host, port: address.port },
        metrics: server.metricsAddress()!,
        close: () => server.close(),
      };
    },
  };
}

// The fast path serves echo inside the C loop: lifetimes and counters must still be exact.
observabilitySuite(observed("epoll", true));
observabilitySuite(observed("poll", false));

// io_uring, completion based: with the C echo fast path and with echo as a JS handler. Where the
// kernel refuses io_uring, server.test.ts checks the typed refusal instead.
if (!ioUringUnavailable) {
  conformanceSuite(target("io_uring", true));
  conformanceSuite(target("io_uring", false));
  observabilitySuite(observed("io_uring", true));
}

// Two loops on one port (SO_REUSEPORT; a Unix socket path is shared): the same contract.
conformanceSuite(target("epoll", true, 2));
conformanceSuite(target("epoll", false, 2));
observabilitySuite(observed("epoll", true, 2));
