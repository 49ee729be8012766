import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SelectorErrorCodes } from "@echo/selector";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const errorsSection = readme.slice(readme.indexOf("## Errors"), readme.indexOf("## Limitations"));

describe("README", () => {
  it("documents every error code in its Errors table, and no other", () => {
    const documented = [...errorsSection.matchAll(/^\| `(ECHO_ERR_[A-Z_]+)`/gm)].map((m) => m[1]).sort();
    const own = Object.values(SelectorErrorCodes);
    for (const code of own) expect(documented).toContain(code);
    // Core's codes this package throws are listed too (and they exist in core's README).
    expect(documented).toEqual(
      expect.arrayContaining([
        "ECHO_ERR_INVALID_ARG",
        "ECHO_ERR_ADDR_IN_USE",
        "ECHO_ERR_SERVER_STATE",
        "ECHO_ERR_HANDLER_LOAD",
      ]),
    );
  });
});
