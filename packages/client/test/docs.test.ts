import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ClientErrorCodes } from "@echo/client";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

describe("README", () => {
  it("the Errors table lists exactly the codes ClientErrorCodes has", () => {
    const section = readme.slice(readme.indexOf("## Errors"), readme.indexOf("## Limitations"));
    const documented = [...section.matchAll(/^\| `(ECHO_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(Object.values(ClientErrorCodes).sort());
  });

  it("every echo-load flag is in the README's flag table", async () => {
    const { spawnSync } = await import("node:child_process");
    const help = spawnSync(
      process.execPath,
      [new URL("../dist/cli/echo-load.js", import.meta.url).pathname, "--help"],
      { encoding: "utf8" },
    ).stdout;
    const flags = [...help.matchAll(/--([a-z-]+)/g)].map((m) => m[1]).filter((f) => f !== "help");
    expect(flags.length).toBeGreaterThan(5);
    for (const flag of new Set(flags)) expect(readme).toContain(`--${flag}`);
  });
});
