// Once before the test files: the real tools the examples are checked with, installed with
// apt-get when missing and this is root (as in CI); elsewhere their tests skip with the reason.
// Debian 12's nginx has the stream module as a separate package, which depends on nginx itself.
import { ensureDebianPackages } from "@echo/test-utils";

export default function setup(): void {
  const { missing } = ensureDebianPackages([
    { command: "haproxy", package: "haproxy" },
    { command: "nginx", package: "libnginx-mod-stream" },
    { command: "systemd-analyze", package: "systemd" },
  ]);
  for (const tool of missing)
    console.error(`[echo] ${tool.command} stays missing: ${tool.reason}; its check is skipped`);
}
