import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { which } from "../src/load/external.js";
import { createRefTools, findRefBuildScript, repoRoot } from "../src/paths.js";
import { portablePath, portableText, pythonVersion, type PortableContext } from "../src/portable.js";
import { tempDir } from "./helpers.js";

const tmp = tempDir();
afterAll(() => tmp.remove());

const context: PortableContext = {
  repoRoot: "/work/main/",
  names: [{ dir: "/tmp/echo-ref", as: "$ECHO_REF_DIR" }],
  commands: [
    { path: "/usr/local/bin/node20", as: "node" },
    { path: "/root/.pyenv/versions/3.11.7/bin/python3", as: "python3" },
  ],
};

describe("portable paths", () => {
  it("writes the repository's files from its root and known executables and directories by name", () => {
    expect(
      portableText("/usr/local/bin/node20 /work/main/packages/core/dist/cli/echo-server.js --mode async", context),
    ).toBe("node packages/core/dist/cli/echo-server.js --mode async");
    expect(
      portableText(
        "/root/.pyenv/versions/3.11.7/bin/python3 /work/main/apps/bench/baselines/python_servers.py --model selectors",
        context,
      ),
    ).toBe("python3 apps/bench/baselines/python_servers.py --model selectors");
    expect(portableText("ref=/tmp/echo-ref/ref-echo-server 1 {port}", context)).toBe(
      "ref=$ECHO_REF_DIR/ref-echo-server 1 {port}",
    );
    expect(portablePath("/work/main", context)).toBe(".");
  });

  it("finds another checkout's files by the tail this repository has, and elides anything else", () => {
    // A results file written in /elsewhere: apps/bench/baselines/node-net-echo.mjs exists here.
    const here = { ...context, repoRoot };
    expect(portablePath("/elsewhere/clone/apps/bench/baselines/node-net-echo.mjs", here)).toBe(
      "apps/bench/baselines/node-net-echo.mjs",
    );
    expect(portablePath("/opt/servers/my-echo-server-xyz", here)).toBe("…/my-echo-server-xyz");
    // A command found on PATH by its name: written as that name.
    expect(portablePath("/some/where/sh", here)).toBe("sh");
  });

  it("leaves URLs, kernel interfaces, ratios and relative paths alone, and strips file:// from stack frames", () => {
    const text = "http://127.0.0.1:80/ /proc/PID/stat µs/rt 1 / 2 apps/bench/x.mjs";
    expect(portableText(text, context)).toBe(text);
    expect(portableText("at main (file:///work/main/apps/bench/dist/cli.js:12:3)", context)).toBe(
      "at main (apps/bench/dist/cli.js:12:3)",
    );
    expect(portableText("/opt/x/missing-server does not exist in /opt/x.", context)).toBe(
      "…/missing-server does not exist in …/x.",
    );
  });

  it("looks names up on PATH without a shell, so a path in an error message runs nothing", () => {
    // With a shell, looking up the name `b>echo-bench-ran` would create the file echo-bench-ran.
    expect(portableText("failed: /opt/x/b>echo-bench-ran", context)).toBe("failed: …/b>echo-bench-ran");
    expect(existsSync("echo-bench-ran")).toBe(false);
    expect(which("sh")).toMatch(/\/sh$/);
    expect(which("sh; touch x")).toBeUndefined();
  });

  it("names Python by version, also from another machine's interpreter path", () => {
    expect(pythonVersion("/root/.pyenv/versions/3.11.7/bin/python3")).toBe("3.11.7");
    expect(pythonVersion("3.12.1")).toBe("3.12.1");
    expect(pythonVersion(null)).toBeNull();
  });
});

describe("the reference tools", () => {
  it("uses ECHO_REF_DIR as it is, and says what is missing there", () => {
    const dir = join(tmp.dir, "ref-env");
    mkdirSync(dir);
    const tools = createRefTools({ ECHO_REF_DIR: dir });
    expect(tools.display).toBe("$ECHO_REF_DIR");
    expect(tools.load()).toBeUndefined();
    expect(tools.why()).toBe(`ECHO_REF_DIR=${dir} has no ref-echo-server or ref-echo-load`);
  });

  it("is absent, with the reason, when no shared/tools/build.sh is above the repository", () => {
    const root = join(tmp.dir, "lonely", "repo");
    mkdirSync(root, { recursive: true });
    const tools = createRefTools({}, root);
    // Above a temporary directory there is no shared/tools (unless / has one).
    if (findRefBuildScript(root)) return;
    expect(tools.server()).toBeUndefined();
    expect(tools.why()).toMatch(/no shared\/tools\/build\.sh in the repository's parent directory or above/);
  });

  it("builds into the repository's .cache/echo-ref on first use from shared/tools beside the checkout, and rebuilds when the sources change", () => {
    // A checkout with shared/ beside it, as CI lays it out; its build.sh counts its runs.
    const root = join(tmp.dir, "ci", "clone");
    const shared = join(tmp.dir, "ci", "shared", "tools");
    mkdirSync(root, { recursive: true });
    mkdirSync(shared, { recursive: true });
    const script = join(shared, "build.sh");
    writeFileSync(join(shared, "ref-echo-load.c"), "int main(void) { return 0; }\n");
    writeFileSync(
      script,
      `#!/bin/sh\nset -e\nmkdir -p "$1"\necho run >> "${join(tmp.dir, "ci", "runs")}"\nfor t in ref-echo-server ref-echo-load; do printf '#!/bin/sh\\n' > "$1/$t"; chmod +x "$1/$t"; done\n`,
    );
    chmodSync(script, 0o755);
    expect(findRefBuildScript(root)).toBe(script);

    const first = createRefTools({}, root);
    expect(first.display).toBe(".cache/echo-ref");
    expect(first.load()).toBe(join(root, ".cache", "echo-ref", "ref-echo-load"));
    expect(first.server()).toBe(join(root, ".cache", "echo-ref", "ref-echo-server"));
    expect(first.why()).toBe("");
    const runs = (): number =>
      readFileSync(join(tmp.dir, "ci", "runs"), "utf8")
        .split("\n")
        .filter(Boolean).length;
    expect(runs()).toBe(1);

    // Up to date: a second lookup builds nothing.
    expect(createRefTools({}, root).load()).toBeDefined();
    expect(runs()).toBe(1);

    // A source newer than the tools: rebuilt.
    const later = new Date(statSync(first.load()!).mtimeMs + 10_000);
    utimesSync(join(shared, "ref-echo-load.c"), later, later);
    expect(createRefTools({}, root).load()).toBeDefined();
    expect(runs()).toBe(2);
  });

  it("reports a failing build with the script's own words", () => {
    const root = join(tmp.dir, "broken", "clone");
    const shared = join(tmp.dir, "broken", "shared", "tools");
    mkdirSync(root, { recursive: true });
    mkdirSync(shared, { recursive: true });
    writeFileSync(join(shared, "build.sh"), "echo 'cc: not found' >&2; exit 127\n");
    const tools = createRefTools({}, root);
    expect(tools.load()).toBeUndefined();
    expect(tools.why()).toMatch(/^building with sh .*build\.sh failed: cc: not found$/);
  });
});
