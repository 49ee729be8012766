/**
 * `echo-demo web`: a small HTTP server (node:http, no framework) serving the page, its ES
 * modules and uPlot, a Server-Sent Events stream per page, and the JSON actions the page sends.
 * Every page gets a {@link Lab}; the lab ends when the page's event stream closes.
 * @module
 */
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { InvalidArgumentError, type EchoError } from "@echo/core";
import { Lab } from "./lab.js";
import {
  asBody,
  parseIdle,
  parseLoadSpec,
  parseModelSpec,
  parsePid,
  MAX_IDLE,
  MAX_LOAD_CONNECTIONS,
  MAX_LOAD_SECONDS,
  MAX_WORKERS,
} from "./requests.js";

/** Options of {@link startWebDemo}. */
export interface WebDemoOptions {
  /** Interface to bind. @default "127.0.0.1" */
  host?: string;
  /** TCP port; 0 picks a free one. @default 0 */
  port?: number;
}

/** A running web view. */
export interface WebDemo {
  /** Where the page is, e.g. `http://127.0.0.1:41234/`. */
  readonly url: string;
  /** Child processes that pages started and that are alive now. */
  childPids(): number[];
  /** Ends every page's lab and stops serving; resolves when every child process has exited. */
  close(): Promise<void>;
}

/** The page's files (apps/demo/web), next to dist/. */
const WEB_DIR = fileURLToPath(new URL("../web/", import.meta.url));
const require = createRequire(import.meta.url);
const STATIC: Record<string, string> = {
  "/": join(WEB_DIR, "index.html"),
  "/app.js": join(WEB_DIR, "app.js"),
  "/view.js": join(WEB_DIR, "view.js"),
  "/charts.js": join(WEB_DIR, "charts.js"),
  "/style.css": join(WEB_DIR, "style.css"),
  "/vendor/uPlot.esm.js": require.resolve("uplot/dist/uPlot.esm.js"),
  "/vendor/uPlot.min.css": require.resolve("uplot/dist/uPlot.min.css"),
};
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};
const MAX_BODY = 16 * 1024;
const TICK_MS = 1000;

/** A request the page got wrong: answered with `status` and the message. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, `the request body is over ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(`the request body is not JSON: ${(error as Error).message}`);
  }
  return asBody(value);
}

/** Maps an error to an HTTP status: bad input 400, wrong moment 409, the rest 500. */
function statusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  const code = (error as EchoError | undefined)?.code;
  if (code === "ECHO_ERR_INVALID_ARG") return 400;
  if (code === "ECHO_ERR_SERVER_STATE") return 409;
  return 500;
}

/**
 * Starts the web view.
 * @throws {AddressInUseError} and other listen errors of `node:http`.
 */
export async function startWebDemo(options: WebDemoOptions = {}): Promise<WebDemo> {
  const labs = new Map<string, Lab>();
  /** Labs not yet closed, those whose page has gone included, until their children exit. */
  const everyLab = new Set<Lab>();
  const streams = new Set<ServerResponse>();

  function events(req: IncomingMessage, res: ServerResponse): void {
    const lab = new Lab(randomUUID());
    labs.set(lab.id, lab);
    everyLab.add(lab);
    streams.add(res);
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
    });
    const limits = {
      maxWorkers: MAX_WORKERS,
      maxLoadConnections: MAX_LOAD_CONNECTIONS,
      maxLoadSeconds: MAX_LOAD_SECONDS,
      maxIdle: MAX_IDLE,
    };
    res.write(`event: hello\ndata: ${JSON.stringify({ session: lab.id, limits })}\n\n`);
    let pending = false;
    const push = async (): Promise<void> => {
      if (pending) return;
      pending = true;
      try {
        const state = await lab.snapshot();
        if (!res.destroyed) res.write(`event: state\ndata: ${JSON.stringify(state)}\n\n`);
      } finally {
        pending = false;
      }
    };
    const timer = setInterval(() => void push(), TICK_MS);
    void push();
    // The page is gone (closed, reloaded, navigated away): end everything it started.
    req.socket.once("close", () => {
      clearInterval(timer);
      streams.delete(res);
      labs.delete(lab.id);
      void lab.close().finally(() => everyLab.delete(lab));
    });
  }

  function labOf(body: Record<string, unknown>): Lab {
    const id = body.session;
    if (typeof id !== "string" || id === "")
      throw new InvalidArgumentError("session is missing: the page gets one from /events");
    const lab = labs.get(id);
    if (!lab) throw new HttpError(404, `no session ${JSON.stringify(id)}: its page was closed`);
    return lab;
  }

  const actions: Record<string, (lab: Lab, body: Record<string, unknown>) => unknown> = {
    "/api/start": async (lab, body) => {
      const spec = parseModelSpec(body);
      await lab.start(spec);
      return lab.snapshot();
    },
    "/api/load": (lab, body) => lab.startLoad(parseLoadSpec(body)),
    "/api/load/stop": async (lab) => {
      await lab.stopLoad();
      return {};
    },
    "/api/prefork/kill": (lab, body) => lab.kill(parsePid(body)),
    "/api/prefork/reload": (lab) => lab.reload(),
    "/api/prefork/add": (lab) => lab.addWorker(),
    "/api/prefork/remove": (lab) => lab.removeWorker(),
    "/api/selector/compare": (lab, body) => lab.compareSelectors(parseIdle(body)),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const file = STATIC[path];
    if (file !== undefined) {
      if (req.method !== "GET" && req.method !== "HEAD") throw new HttpError(405, `${path} answers GET only`);
      const body = await readFile(file);
      res.writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "cache-control": "no-store",
      });
      res.end(req.method === "HEAD" ? undefined : body);
      return;
    }
    if (path === "/events") {
      if (req.method !== "GET") throw new HttpError(405, "/events answers GET only");
      events(req, res);
      return;
    }
    const action = actions[path];
    if (!action) throw new HttpError(404, `no such page or action: ${path}`);
    if (req.method !== "POST") throw new HttpError(405, `${path} answers POST only, with a JSON body`);
    const body = await readJson(req);
    send(res, 200, await action(labOf(body), body));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = statusOf(error);
      send(res, status, {
        error: {
          code: (error as EchoError).code ?? (status === 500 ? "ECHO_ERR_INTERNAL" : `HTTP_${status}`),
          message: error.message,
        },
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 0 }, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}/`,
    childPids: () => [...everyLab].flatMap((lab) => lab.childPids()),
    close() {
      closing ??= (async () => {
        const open = [...labs.values()];
        labs.clear();
        server.close();
        for (const res of streams) res.destroy();
        server.closeAllConnections();
        await Promise.allSettled(open.map((lab) => lab.close()));
        await Promise.allSettled([...everyLab].map((lab) => lab.close()));
      })();
      return closing;
    },
  };
}
