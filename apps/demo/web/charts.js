// The two charts, drawn with uPlot: round trips/s, and the load's p50/p99 latency, over the last
// minute of the lab's updates.
import uPlot from "/vendor/uPlot.esm.js";

const WINDOW_S = 60;

function chart(container, series, yLabel) {
  const opts = {
    width: container.clientWidth || 600,
    height: 200,
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
    series: [{}, ...series.map((s) => ({ spanGaps: false, width: 2, ...s }))],
    // Clock time on the x axis (13:05:20), not uPlot's date-and-time ticks.
    axes: [
      { values: (_u, ticks) => ticks.map((t) => new Date(t * 1000).toLocaleTimeString("en-GB")) },
      { label: yLabel, size: 70 },
    ],
    legend: { live: false },
  };
  const plot = new uPlot(opts, [[], ...series.map(() => [])], container);
  new ResizeObserver(() => plot.setSize({ width: container.clientWidth, height: 200 })).observe(container);
  return plot;
}

export class Charts {
  constructor(rateContainer, latencyContainer) {
    this.time = [];
    this.rate = [];
    this.p50 = [];
    this.p99 = [];
    this.ratePlot = chart(
      rateContainer,
      [{ label: "round trips/s", stroke: "#2563eb", fill: "rgba(37, 99, 235, 0.12)" }],
      "round trips/s",
    );
    this.latencyPlot = chart(
      latencyContainer,
      [
        { label: "p50", stroke: "#16a34a" },
        { label: "p99", stroke: "#dc2626" },
      ],
      "ms",
    );
  }

  /** Adds one update of the lab's state and drops what is older than a minute. */
  push(state) {
    const live = state.load?.running ? state.load : null;
    this.time.push(state.time / 1000);
    this.rate.push(state.roundTripsPerSecond);
    this.p50.push(live?.p50 ?? null);
    this.p99.push(live?.p99 ?? null);
    while (this.time.length > 0 && this.time[0] < state.time / 1000 - WINDOW_S) {
      for (const column of [this.time, this.rate, this.p50, this.p99]) column.shift();
    }
    this.ratePlot.setData([this.time, this.rate]);
    this.latencyPlot.setData([this.time, this.p50, this.p99]);
  }
}
