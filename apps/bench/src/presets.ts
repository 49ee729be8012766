/**
 * How long and how often: the quick, full and smoke presets.
 * @module
 */

/** Rounds and seconds per run for one scenario. */
export interface Plan {
  rounds: number;
  durationS: number;
}

/** A preset: a default plan, per-scenario changes, warm-up and C10k size. */
export interface Preset {
  name: "quick" | "full" | "smoke";
  plan: Plan;
  /** Scenario-specific plans (cross-checks and C10k are slower per run, so fewer rounds). */
  per: Record<string, Partial<Plan>>;
  /** Seconds of unrecorded load on each server after it starts (JIT warm-up). */
  warmupS: number;
  /** Idle connections in C10k. */
  idle: number;
  /** Scenarios run against only these models (and external baselines), to keep a preset short. */
  only?: Record<string, readonly string[]>;
}

/** The presets. Quick takes two to three minutes, full about 30 with every model. */
export const presets: Record<Preset["name"], Preset> = {
  quick: {
    name: "quick",
    plan: { rounds: 3, durationS: 0.3 },
    per: { "http-ab": { rounds: 1 }, "http-wrk": { rounds: 1 }, c10k: { rounds: 1 } },
    warmupS: 0.2,
    idle: 10_000,
    only: {
      "http-ab": ["node-net", "node-http", "core-async", "selector-epoll"],
      "http-wrk": ["node-net", "node-http", "nginx", "core-async", "selector-epoll", "selector-io_uring"],
      c10k: [
        "node-net",
        "core-async",
        "selector-epoll",
        "selector-io_uring",
        "selector-poll",
        "selector-select",
        "python-selectors",
      ],
    },
  },
  full: {
    name: "full",
    plan: { rounds: 5, durationS: 3 },
    per: { "http-ab": { rounds: 3 }, "http-wrk": { rounds: 3 }, c10k: { rounds: 3 } },
    warmupS: 1,
    idle: 10_000,
  },
  // ab and wrk take whole seconds, and C10k starts a server per run: smoke runs those against a
  // few models only, every other scenario against every model.
  smoke: {
    name: "smoke",
    plan: { rounds: 1, durationS: 0.2 },
    per: { "http-ab": { durationS: 1 }, "http-wrk": { durationS: 1 } },
    warmupS: 0,
    idle: 200,
    only: {
      "http-ab": ["node-net", "core-async"],
      "http-wrk": ["node-net", "core-async"],
      c10k: [
        "node-net",
        "core-async",
        "threaded-2",
        "prefork-2-os",
        "selector-epoll",
        "selector-io_uring",
        "python-selectors",
      ],
    },
  },
};

/** The plan of one scenario under a preset and the command line's overrides. */
export function planFor(preset: Preset, scenario: string, overrides: Partial<Plan>): Plan {
  return { ...preset.plan, ...preset.per[scenario], ...stripUndefined(overrides) };
}

function stripUndefined(plan: Partial<Plan>): Partial<Plan> {
  const out: Partial<Plan> = {};
  if (plan.rounds !== undefined) out.rounds = plan.rounds;
  if (plan.durationS !== undefined) out.durationS = plan.durationS;
  return out;
}
