/**
 * The release path, for real: every public package is published with `changeset publish` to a
 * local Verdaccio registry, then installed with plain npm in empty projects, as a user would.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const verdaccioBin = fileURLToPath(new URL("../node_modules/verdaccio/bin/verdaccio", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "echo-registry-"));
let registry: ChildProcess | undefined;
let url = "";

/** The public packages of the workspace, read from packages/. */
const publicPackages = readdirSync(join(root, "packages"))
  .map(
    (dir) =>
      JSON.parse(readFileSync(join(root, "packages", dir, "package.json"), "utf8")) as {
        name: string;
        private?: boolean;
        version: string;
      },
  )
  .filter((pkg) => !pkg.private);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function sh(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): string {
  // changeset publish runs `pnpm publish`: the repo's pinned pnpm goes first on PATH.
  const path = `${join(root, ".cache", "tools", "node_modules", ".bin")}:${process.env.PATH ?? ""}`;
  const result = spawnSync(cmd, args, {
    cwd,
    env: { ...process.env, PATH: path, ...env },
    encoding: "utf8",
    timeout: 180_000,
  });
  if (result.status !== 0)
    throw new Error(`${cmd} ${args.join(" ")} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** An empty npm project whose @echo scope resolves to the local registry. */
function project(name: string): string {
  const dir = join(work, name);
  sh("mkdir", ["-p", dir], work);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, private: true, type: "module" }));
  // Dependencies outside @echo come from the npm registry: retry a stalled fetch quickly
  // instead of hanging, and use npm's cache when it has them.
  writeFileSync(
    join(dir, ".npmrc"),
    `@echo:registry=${url}\nprefer-offline=true\nfetch-timeout=20000\nfetch-retries=5\n`,
  );
  return dir;
}

beforeAll(async () => {
  const port = await freePort();
  url = `http://127.0.0.1:${port}/`;
  writeFileSync(
    join(work, "config.yaml"),
    [
      `storage: ${join(work, "storage")}`,
      "auth:",
      "  htpasswd:",
      `    file: ${join(work, "htpasswd")}`,
      "uplinks: {}",
      "packages:",
      "  '@echo/*':",
      "    access: $all",
      "    publish: $anonymous",
      "log: { type: stdout, format: pretty, level: info }",
    ].join("\n"),
  );
  // Both npm and pnpm read this file: the registry is loopback-only, whatever else is configured.
  writeFileSync(join(work, "npmrc"), `registry=${url}\n//127.0.0.1:${port}/:_authToken=anonymous\n`);
  registry = spawn(
    process.execPath,
    [verdaccioBin, "--config", join(work, "config.yaml"), "--listen", `127.0.0.1:${port}`],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  // Ready when it logs its address.
  await new Promise<void>((resolve, reject) => {
    let out = "";
    registry!.stdout!.on("data", (chunk) => {
      out += chunk;
      if (out.includes(`http address`)) resolve();
    });
    registry!.once("exit", (code) => reject(new Error(`verdaccio exited ${code}: ${out}`)));
  });
  registry.stdout!.resume();
}, 60_000);

afterAll(async () => {
  if (registry && registry.exitCode === null) {
    registry.kill("SIGTERM");
    await once(registry, "exit");
  }
  rmSync(work, { recursive: true, force: true });
});

describe("publishing to a registry and installing like a user", () => {
  it("changeset publish publishes every public package with workspace: ranges rewritten", () => {
    const env = { npm_config_registry: url, pnpm_config_registry: url, NPM_CONFIG_USERCONFIG: join(work, "npmrc") };
    // Never publish anywhere but the local registry: check what pnpm and npm resolve first.
    expect(sh("pnpm", ["config", "get", "registry"], root, env).trim()).toBe(url);
    expect(sh("npm", ["config", "get", "registry"], root, env).trim()).toBe(url);
    const out = sh(join(root, "node_modules", ".bin", "changeset"), ["publish", "--no-git-tag"], root, env);
    for (const pkg of publicPackages) expect(out).toContain(`${pkg.name}@${pkg.version}`);
    for (const pkg of publicPackages) {
      const manifest = JSON.parse(
        sh("npm", ["view", `${pkg.name}@${pkg.version}`, "--json", "--registry", url], work),
      ) as { dependencies?: object; peerDependencies?: object };
      expect(
        JSON.stringify(manifest.dependencies ?? {}) + JSON.stringify(manifest.peerDependencies ?? {}),
      ).not.toContain("workspace:");
    }
  });

  it("npm installs @echo/core and @echo/client; echo-server and echo-client talk", async () => {
    const dir = project("user-core");
    sh("npm", ["install", "--no-audit", "--no-fund", "@echo/core", "@echo/client"], dir);
    const server = spawn(join(dir, "node_modules", ".bin", "echo-server"), ["--port", "0", "--mode", "once"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const [line] = (await once(server.stdout, "data")) as [Buffer];
    const port = /listening on 127\.0\.0\.1:(\d+)/.exec(line.toString())?.[1];
    expect(port).toBeDefined();
    const reply = sh(
      join(dir, "node_modules", ".bin", "echo-client"),
      ["--host", "127.0.0.1", "--port", port!, "installed", "from", "a", "registry"],
      dir,
    );
    expect(reply.trim()).toBe("installed from a registry");
    const [code] = await once(server, "exit");
    expect(code).toBe(0);
  });

  it("a user who installs only @echo/threaded does not get @echo/privdrop", () => {
    const dir = project("user-threaded");
    sh("npm", ["install", "--no-audit", "--no-fund", "@echo/threaded"], dir);
    expect(existsSync(join(dir, "node_modules", "@echo", "core"))).toBe(true);
    expect(existsSync(join(dir, "node_modules", "@echo", "privdrop"))).toBe(false);
    sh(process.execPath, ["--input-type=module", "-e", "await import('@echo/threaded')"], dir);
  });
});
