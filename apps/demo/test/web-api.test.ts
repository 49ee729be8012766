import { afterEach, beforeAll, afterAll, describe, expect, it } from "vitest";
import { allGone, alive, openEvents, post, startWeb, type EventStream, type WebProcess } from "./web-process.js";

interface State {
  server: { spec: { model: string } } | null;
  boxes: { pid: number; name: string; state: string }[];
  children: number[];
  compare: { running: boolean; rows: unknown[] } | null;
}

/** One `echo-demo web` and one open page for a describe block; the web view must exit 0 at the end. */
function sharedPage(): { web: WebProcess; page: EventStream } {
  const ctx = {} as { web: WebProcess; page: EventStream };
  beforeAll(async () => {
    ctx.web = await startWeb();
    ctx.page = await openEvents(ctx.web.url);
  });
  afterAll(async () => {
    ctx.page?.close();
    expect(await ctx.web?.stop()).toBe(0);
  });
  return ctx;
}

describe("echo-demo web: requests", () => {
  const ctx = sharedPage();

  it("serves the page, its modules and uPlot", async () => {
    const { web } = ctx;
    for (const [path, type] of [
      ["/", "text/html"],
      ["/app.js", "text/javascript"],
      ["/view.js", "text/javascript"],
      ["/charts.js", "text/javascript"],
      ["/style.css", "text/css"],
      ["/vendor/uPlot.esm.js", "text/javascript"],
      ["/vendor/uPlot.min.css", "text/css"],
    ]) {
      const res = await fetch(new URL(path!, web.url));
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type"), path).toContain(type);
    }
    expect(await (await fetch(new URL("/vendor/uPlot.esm.js", web.url))).text()).toContain("export");
  });

  it("answers a bad request with 400 and a message that says what is wrong", async () => {
    const { web, page } = ctx;
    const session = page.session;
    const cases: [string, unknown, RegExp][] = [
      ["/api/start", { session, model: "prefork", workers: 0 }, /^workers must be an integer from 1 to 16, got 0$/],
      [
        "/api/start",
        { session, model: "prefork", workers: 10000 },
        /^workers must be an integer from 1 to 16, got 10000$/,
      ],
      [
        "/api/start",
        { session, model: "prefork", workers: "3", schedule: "fair" },
        /^schedule must be one of os, round-robin, got "fair"$/,
      ],
      [
        "/api/start",
        { session, model: "threaded", threads: 2.5 },
        /^threads must be an integer from 1 to 16, got 2.5$/,
      ],
      [
        "/api/start",
        { session, model: "forking" },
        /^unknown model "forking": choose one of async, threaded, prefork, selector$/,
      ],
      ["/api/start", { session }, /^unknown model nothing: choose one of/],
      [
        "/api/start",
        { session, model: "selector", selector: "kqueue" },
        /^selector must be one of epoll, poll, select, got "kqueue"$/,
      ],
      ["/api/load", { session, connections: 0 }, /^connections must be an integer from 1 to 1000, got 0$/],
      [
        "/api/load",
        { session, connections: 10, seconds: 100000 },
        /^seconds must be an integer from 1 to 120, got 100000$/,
      ],
      ["/api/selector/compare", { session, idle: -1 }, /^idle must be an integer from 1 to 5000, got -1$/],
      ["/api/start", "{not json", /^the request body is not JSON/],
      ["/api/start", [1, 2], /^the request body must be a JSON object, got an array$/],
      ["/api/start", { model: "async" }, /^session is missing/],
    ];
    for (const [path, body, message] of cases) {
      const { status, json } = await post(web.url, path, body);
      const error = json.error as { code: string; message: string };
      expect(status, JSON.stringify(body)).toBe(400);
      expect(error.code).toBe("ECHO_ERR_INVALID_ARG");
      expect(error.message).toMatch(message);
    }
  });

  it("answers 409 for an action that does not fit what runs, 404 for unknown paths and sessions", async () => {
    const { web, page } = ctx;
    const session = page.session;
    let res = await post(web.url, "/api/load", { session, connections: 5, seconds: 5 });
    expect(res.status).toBe(409);
    expect((res.json.error as { message: string }).message).toBe("a load needs a running server: start a model first");
    res = await post(web.url, "/api/start", { session, model: "async" });
    expect(res.status).toBe(200);
    res = await post(web.url, "/api/prefork/kill", { session });
    expect(res.status).toBe(409);
    expect((res.json.error as { message: string }).message).toBe(
      "kill needs a prefork server; the running model is async",
    );
    res = await post(web.url, "/api/start", { session: "no-such-session", model: "async" });
    expect(res.status).toBe(404);
    expect((await fetch(new URL("/nothing-here", web.url))).status).toBe(404);
    expect((await fetch(new URL("/api/start", web.url))).status).toBe(405);
  });
});

describe("echo-demo web: prefork actions under load", () => {
  const ctx = sharedPage();

  interface Action {
    kind: string;
    status: string;
    detail: string;
    failedConnections: number | null;
  }

  const listening = (s: State): number[] => s.boxes.filter((b) => b.state === "listening").map((b) => b.pid);

  it("reloads to a new generation, adds and removes workers, and says what each cost the load", async () => {
    const { web, page } = ctx;
    const session = page.session;
    expect(
      (await post(web.url, "/api/start", { session, model: "prefork", workers: 2, schedule: "round-robin" })).status,
    ).toBe(200);
    const first = listening(await page.until<State>((s) => listening(s).length === 2, "two workers"));
    expect((await post(web.url, "/api/load", { session, connections: 8, seconds: 60 })).status).toBe(200);

    let res = await post(web.url, "/api/prefork/kill", { session, pid: 1 });
    expect(res.status).toBe(400);
    expect((res.json.error as { message: string }).message).toMatch(
      /^pid 1 is not a listening worker of this server \(its workers: \d+, \d+\)$/,
    );

    res = await post(web.url, "/api/prefork/reload", { session });
    expect(res.status).toBe(200);
    const reload = res.json as unknown as Action;
    expect(reload.status).toBe("done");
    expect(reload.detail).toMatch(/^Process-3 \(pid \d+\), Process-4 \(pid \d+\) took over in \d+\.\d+ s$/);
    expect(typeof reload.failedConnections).toBe("number");
    const second = listening(
      await page.until<State>(
        (s) => listening(s).length === 2 && listening(s).every((p) => !first.includes(p)),
        "the new generation",
      ),
    );
    await allGone(first);

    res = await post(web.url, "/api/prefork/add", { session });
    expect((res.json as unknown as Action).detail).toMatch(/^Process-5 \(pid \d+\) is listening; 3 workers$/);
    await page.until<State>((s) => listening(s).length === 3, "three workers");

    res = await post(web.url, "/api/prefork/remove", { session });
    const removed = res.json as unknown as Action;
    expect(removed.detail).toMatch(/^Process-3 \(pid \d+\) finished its connections and exited; 2 workers$/);
    expect(typeof removed.failedConnections).toBe("number");
    const state = await page.until<State>((s) => listening(s).length === 2, "two workers again");
    expect(listening(state)).not.toContain(second[0]);
    await allGone([second[0]!]);
    // The load went on through all of it.
    expect((state as unknown as { load: { running: boolean; roundTrips: number } }).load.running).toBe(true);
  });
});

describe("echo-demo web: nothing a page starts outlives it", () => {
  let web: WebProcess | undefined;
  afterEach(async () => {
    await web?.stop("SIGKILL");
    web = undefined;
  });

  /** Opens a page, starts prefork with two workers, and returns the workers' pids. */
  async function preforkPage(w: WebProcess): Promise<{ page: EventStream; pids: number[] }> {
    const page = await openEvents(w.url);
    const res = await post(w.url, "/api/start", { session: page.session, model: "prefork", workers: 2 });
    expect(res.status).toBe(200);
    const state = await page.until<State>(
      (s) => s.boxes.filter((b) => b.state === "listening").length === 2,
      "two listening workers",
    );
    const pids = state.boxes.map((b) => b.pid);
    expect(pids.every(alive)).toBe(true);
    expect(state.children.sort()).toEqual([...pids].sort());
    return { page, pids };
  }

  it("closing the page ends its prefork workers and its idle-connection holder", async () => {
    web = await startWeb();
    const { page, pids } = await preforkPage(web);
    // The selector comparison runs a child process that holds the idle connections.
    expect((await post(web.url, "/api/selector/compare", { session: page.session, idle: 200 })).status).toBe(200);
    const state = await page.until<State>((s) => s.children.length > pids.length, "the idle-connection holder", 30_000);
    const children = state.children;
    page.close();
    await allGone(children);
    // The web view itself goes on serving other pages.
    const next = await openEvents(web.url);
    expect(next.session).not.toBe(page.session);
    next.close();
  });

  it("SIGTERM and SIGINT end every page's children and exit 0", async () => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      web = await startWeb();
      const { pids } = await preforkPage(web);
      expect(await web.stop(signal)).toBe(0);
      await allGone(pids);
      web = undefined;
    }
  });

  it("SIGKILL of the web view: the workers notice their master is gone and exit", async () => {
    web = await startWeb();
    const { pids } = await preforkPage(web);
    await web.stop("SIGKILL");
    await allGone(pids);
  });
});
