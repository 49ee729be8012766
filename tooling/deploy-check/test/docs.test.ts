// docs/deploy.md quotes every example of docs/deploy/ verbatim, so what readers copy is what the
// tools checked.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { deployDir, deployDoc, example, quotedFiles } from "../src/index.js";

const doc = readFileSync(deployDoc, "utf8");
const quotes = quotedFiles(doc);
const files = readdirSync(deployDir).sort();

describe("docs/deploy.md", () => {
  it("quotes every file of docs/deploy/ and no other", () => {
    expect([...quotes.keys()].sort()).toEqual(files);
    expect(files).toEqual(
      expect.arrayContaining([
        "echo.socket",
        "echo.service",
        "echo-cap.service",
        "haproxy.cfg",
        "nginx.conf",
        "k8s.yaml",
      ]),
    );
  });

  for (const name of files) {
    it(`quotes docs/deploy/${name} as it is (edit both together)`, () => {
      expect(quotes.get(name)).toBe(readFileSync(example(name), "utf8"));
    });
  }
});
