// Once before every test file: the HTTP cross-checks' `ab` and `wrk`, installed with apt-get
// when missing and this is root (as in CI); elsewhere their tests are skipped with the reason.
import { ensureDebianPackages } from "@echo/test-utils";

export default function setup(): void {
  const { missing } = ensureDebianPackages([
    { command: "ab", package: "apache2-utils" },
    { command: "wrk", package: "wrk" },
  ]);
  for (const tool of missing)
    console.error(`[echo] ${tool.command} stays missing: ${tool.reason}; its cross-check is skipped`);
}
