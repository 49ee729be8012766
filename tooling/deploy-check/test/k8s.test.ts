// The Kubernetes manifests parse, hold what docs/deploy.md promises, and give the pod longer to
// stop than the server takes to drain: the preStop pause plus the close timeout.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { cliHelp, example, parseWords, type ServerCli } from "../src/index.js";

interface Container {
  name: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
}
interface Manifest {
  kind: string;
  metadata: { name: string };
  spec: {
    replicas?: number;
    strategy?: unknown;
    selector?: { matchLabels?: Record<string, string> } | Record<string, string>;
    template?: {
      metadata: { labels: Record<string, string> };
      spec: { terminationGracePeriodSeconds?: number; containers: Container[] };
    };
    ports?: { port: number; targetPort: string | number }[];
  };
}

const docs = parseAllDocuments(readFileSync(example("k8s.yaml"), "utf8"));
const manifests = docs.map((d) => d.toJS() as Manifest);
const deployment = manifests.find((m) => m.kind === "Deployment")!;
const service = manifests.find((m) => m.kind === "Service")!;
const pod = deployment?.spec.template?.spec;
const container = pod?.containers[0];

describe("k8s.yaml", () => {
  it("parses without errors or warnings into a Deployment and a Service", () => {
    for (const d of docs) {
      expect(d.errors).toEqual([]);
      expect(d.warnings).toEqual([]);
    }
    expect(manifests.map((m) => m.kind)).toEqual(["Deployment", "Service"]);
  });

  it("runs several replicas, rolled without taking one away first", () => {
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(deployment.spec.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
    });
  });

  it("probes readiness on /readyz and liveness on /healthz of the metrics port", () => {
    const metrics = container!.ports!.find((p) => p.name === "metrics")!;
    expect(container!.readinessProbe?.httpGet).toEqual({ path: "/readyz", port: "metrics" });
    expect(container!.livenessProbe?.httpGet).toEqual({ path: "/healthz", port: "metrics" });
    const { values } = parseWords(container!.args!);
    expect(values.get("--metrics")).toBe(`0.0.0.0:${metrics.containerPort}`);
  });

  it("the Service selects the pods and targets the port the server listens on", () => {
    expect(service.spec.selector).toEqual(deployment.spec.template!.metadata.labels);
    const echo = container!.ports!.find((p) => p.name === service.spec.ports![0]!.targetPort)!;
    expect(parseWords(container!.args!).values.get("--port")).toBe(String(echo.containerPort));
  });

  it("terminationGracePeriodSeconds is longer than the preStop pause plus the server's close timeout", () => {
    const cli = container!.command![0] as ServerCli;
    const preStop = container!.lifecycle!.preStop!;
    const pauseS =
      preStop.sleep?.seconds ?? Number(preStop.exec!.command[0] === "sleep" ? preStop.exec!.command[1] : Number.NaN);
    expect(pauseS).toBeGreaterThan(0);
    // The close timeout the server runs with: the manifest's flag, else the CLI's own default.
    const closeMs = Number(
      parseWords(container!.args!).values.get("--close-timeout") ?? cliHelp(cli).defaults.get("--close-timeout"),
    );
    expect(closeMs).toBeGreaterThan(0);
    expect(pod!.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(pauseS * 1000 + closeMs);
  });

  it("the documented close timeout is the server's default", () => {
    const cli = container!.command![0] as ServerCli;
    expect(parseWords(container!.args!).values.get("--close-timeout")).toBe(
      cliHelp(cli).defaults.get("--close-timeout"),
    );
  });
});
