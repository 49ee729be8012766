/**
 * The progress line on a terminal: rewritten in place, only on a TTY.
 * @module
 */
import type { Progress } from "./runner.js";
import { formatNumber } from "./svg.js";

/** A progress display writing to `stream`; does nothing when it is not a TTY. */
export function progressDisplay(stream: NodeJS.WriteStream = process.stderr): {
  update(p: Progress): void;
  note(text: string): void;
  done(): void;
} {
  const tty = Boolean(stream.isTTY);
  const started = Date.now();
  let last = "";
  const clear = (): void => {
    if (tty && last) stream.write(`\r${" ".repeat(Math.min(last.length, (stream.columns ?? 120) - 1))}\r`);
    last = "";
  };
  return {
    update(p) {
      if (!tty) return;
      const elapsed = ((Date.now() - started) / 1000).toFixed(0);
      const m = p.measured;
      const figures = m
        ? `  ${formatNumber(m.rps)} rt/s, ${m.cpuUsPerRt === null ? "–" : formatNumber(m.cpuUsPerRt)} µs/rt`
        : "  …";
      const line = `[${String(p.index).padStart(String(p.total).length)}/${p.total} ${elapsed}s] ${p.scenario} · ${p.model} · round ${p.round}/${p.rounds}${figures}`;
      clear();
      last = line.slice(0, (stream.columns ?? 120) - 1);
      stream.write(last);
    },
    note(text) {
      if (!tty) return;
      clear();
      stream.write(`note: ${text}\n`);
    },
    done() {
      clear();
    },
  };
}
