import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { makeTestPki } from "../src/pki.js";

describe("makeTestPki", () => {
  const pki = makeTestPki();
  afterAll(() => pki.remove());

  it("makes a server certificate for localhost and a client certificate for alice, both from the CA", () => {
    const ca = new X509Certificate(readFileSync(pki.ca));
    const server = new X509Certificate(readFileSync(pki.server.cert));
    const alice = new X509Certificate(readFileSync(pki.alice.cert));
    expect(server.checkIssued(ca)).toBe(true);
    expect(alice.checkIssued(ca)).toBe(true);
    expect(server.checkHost("localhost")).toBe("localhost");
    expect(server.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(alice.subject).toContain("CN=alice");
    expect(pki.fingerprint256(pki.alice.cert)).toBe(alice.fingerprint256);
  });

  it("signs mallory with another CA, which the first does not vouch for", () => {
    const ca = new X509Certificate(readFileSync(pki.ca));
    const mallory = new X509Certificate(readFileSync(pki.mallory.cert));
    expect(mallory.checkIssued(ca)).toBe(false);
    expect(mallory.checkIssued(new X509Certificate(readFileSync(pki.otherCa)))).toBe(true);
  });
});
