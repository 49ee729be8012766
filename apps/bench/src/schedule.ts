/**
 * The order runs are made in: interleaved rounds (A B C A B C …), so that a disturbance on the
 * machine (another build, a thermal dip) spreads over every model instead of landing on one.
 * @module
 */

/** One run of the schedule. */
export interface ScheduledRun {
  /** 1-based round. */
  round: number;
  model: string;
  /** 0-based position in the whole schedule. */
  order: number;
}

/** Every model once per round, rounds one after the other: A B C, A B C, … */
export function interleave(models: readonly string[], rounds: number): ScheduledRun[] {
  const out: ScheduledRun[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const model of models) out.push({ round, model, order: out.length });
  }
  return out;
}
