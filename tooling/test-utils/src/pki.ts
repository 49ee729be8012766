/**
 * A throw-away public-key infrastructure for TLS tests, made at test time with `openssl`: a CA,
 * a server certificate for `localhost` / 127.0.0.1 / ::1, a client certificate for `alice`, and a
 * second, untrusted CA with a client certificate (`mallory`) it signed. Nothing secret is
 * committed: every key is generated in a fresh temporary folder.
 * @module
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A certificate and its private key, as PEM file paths. */
export interface CertPair {
  readonly cert: string;
  readonly key: string;
}

/** The files {@link makeTestPki} made. Every path is a PEM file in {@link TestPki.dir}. */
export interface TestPki {
  /** The folder holding every file; `remove()` deletes it. */
  readonly dir: string;
  /** The trusted CA's certificate (its key is kept for {@link TestPki.issue}). */
  readonly ca: string;
  /** Server certificate for CN=localhost, SAN DNS:localhost, IP:127.0.0.1, IP:::1. */
  readonly server: CertPair;
  /** Client certificate CN=alice, SAN DNS:alice.example, signed by the trusted CA. */
  readonly alice: CertPair;
  /** The untrusted CA's certificate. */
  readonly otherCa: string;
  /** Client certificate CN=mallory signed by the untrusted CA. */
  readonly mallory: CertPair;
  /** Issues another certificate from the trusted CA (e.g. a renewed server certificate). */
  issue(name: string, subjectCn: string, san: string, usage?: "server" | "client"): CertPair;
  /** SHA-256 fingerprint of a certificate file, `AB:CD:…` as Node's `fingerprint256`. */
  fingerprint256(certFile: string): string;
  /** Deletes {@link TestPki.dir}. */
  remove(): void;
}

function openssl(args: readonly string[], cwd: string): string {
  return execFileSync("openssl", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function makeCa(dir: string, name: string, cn: string): void {
  openssl(
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-subj",
      `/CN=${cn}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
}

function issueFrom(
  dir: string,
  ca: string,
  name: string,
  cn: string,
  san: string,
  usage: "server" | "client",
): CertPair {
  openssl(
    [
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=${cn}`,
    ],
    dir,
  );
  const ext = join(dir, `${name}.ext`);
  writeFileSync(
    ext,
    `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=${usage === "server" ? "serverAuth" : "clientAuth"}\n`,
  );
  openssl(
    [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${ca}.pem`,
      "-CAkey",
      `${ca}.key`,
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-extfile",
      ext,
    ],
    dir,
  );
  return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
}

/**
 * Makes a fresh {@link TestPki} in a new temporary folder. Needs `openssl` on PATH.
 * @throws when `openssl` is missing or fails (its stderr in the message).
 */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "echo-pki-"));
  makeCa(dir, "ca", "echo test CA");
  makeCa(dir, "other-ca", "untrusted test CA");
  const server = issueFrom(dir, "ca", "server", "localhost", "DNS:localhost,IP:127.0.0.1,IP:::1", "server");
  const alice = issueFrom(dir, "ca", "alice", "alice", "DNS:alice.example", "client");
  const mallory = issueFrom(dir, "other-ca", "mallory", "mallory", "DNS:mallory.example", "client");
  return {
    dir,
    ca: join(dir, "ca.pem"),
    server,
    alice,
    otherCa: join(dir, "other-ca.pem"),
    mallory,
    issue: (name, cn, san, usage = "server") => issueFrom(dir, "ca", name, cn, san, usage),
    fingerprint256(certFile) {
      const out = openssl(["x509", "-noout", "-fingerprint", "-sha256", "-in", certFile], dir);
      return out.trim().replace(/^.*=/, "");
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Reads a PEM file made by {@link makeTestPki} (a convenience for API options that take PEM text). */
export function readPem(file: string): string {
  return readFileSync(file, "utf8");
}
