/**
 * nginx as an HTTP hello baseline: one worker, `access_log off`, the same 13-byte body as the
 * Node baselines, as issue 14 measures the selector against it. Runs where an `nginx` binary is
 * installed (Debian's `nginx-light`); the bench gives it a port, since nginx prints no
 * listening line.
 * @module
 */
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Availability, ModelDefinition } from "./models.js";

const candidates = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"];

/** The nginx binary, if one is installed. */
export function nginxBinary(): string | undefined {
  return candidates.find((path) => existsSync(path));
}

/** The configuration: a foreground master, one worker, no access log, `return 200` on every request. */
export function nginxHelloConfig(dir: string, port: number): string {
  return [
    "worker_processes 1;",
    "daemon off;",
    `pid ${join(dir, "nginx.pid")};`,
    "error_log stderr warn;",
    "events { worker_connections 16384; }",
    "http {",
    "  access_log off;",
    "  keepalive_requests 1000000;",
    "  keepalive_timeout 30s;",
    `  client_body_temp_path ${join(dir, "body")};`,
    `  proxy_temp_path ${join(dir, "proxy")};`,
    `  fastcgi_temp_path ${join(dir, "fastcgi")};`,
    `  uwsgi_temp_path ${join(dir, "uwsgi")};`,
    `  scgi_temp_path ${join(dir, "scgi")};`,
    "  server {",
    `    listen 127.0.0.1:${port} reuseport backlog=4096;`,
    "    default_type text/plain;",
    '    location / { return 200 "Hello, world\\n"; }',
    "  }",
    "}",
    "",
  ].join("\n");
}

/** The `nginx` model: HTTP hello only (it serves no echo). */
export function nginxModel(): ModelDefinition {
  return {
    name: "nginx",
    group: "nginx",
    description: "nginx, 1 worker, `access_log off`, `return 200` hello (HTTP baseline)",
    workloads: ["http"],
    needsPort: true,
    available: (): Availability =>
      nginxBinary() ? { ok: true } : { ok: false, note: "nginx is not installed (apt-get install nginx-light)" },
    command: (_workload, port) => {
      const dir = mkdtempSync(join(tmpdir(), "echo-bench-nginx-"));
      const conf = join(dir, "nginx.conf");
      writeFileSync(conf, nginxHelloConfig(dir, port));
      return { command: nginxBinary()!, args: ["-p", dir, "-c", conf, "-e", "stderr"], port };
    },
  };
}
