// The README's Errors table and the code must list the same codes.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PrivdropErrorCodes } from "@echo/privdrop";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

describe("README", () => {
  it("documents every error code in the Errors table, and no other", () => {
    const section = readme.slice(readme.indexOf("## Errors"), readme.indexOf("\n## ", readme.indexOf("## Errors") + 1));
    const documented = [...section.matchAll(/^\| `(ECHO_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(Object.values(PrivdropErrorCodes).sort());
  });

  it("documents every option of dropPrivileges", () => {
    for (const option of ["user", "group", "umask", "supplementaryGroups"])
      expect(readme).toContain(`| \`${option}\` |`);
  });
});
