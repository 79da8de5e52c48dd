/**
 * Plot and view benchmarks (issue 5): the stepper view's step() → published update latency for
 * an LSTM of hidden 16 (target 50 ms, aim 20 ms), and a 100 000-step × 64-unit trace plotted
 * (spec + PNG fallback, target 1 s) adding under 2 MB to the notebook. References are the
 * issue's targets: these have no external implementation to race.
 */
import { cell, LSTM, plot, setPublisher, view, type MimeBundle } from "../src";
import type { BenchRow } from "./measure";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const row = (name: string, ours: number, reference: number, target: string): BenchRow => ({ name, ours: Math.round(ours * 10) / 10, reference, ratio: ours / reference, target, ok: ours <= reference });

export async function benchPlot(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  // step() latency: time from the move to the publisher receiving the refreshed bundle.
  const xs = Array.from({ length: 60 }, (_, t) => [Math.sin(t / 5), Math.cos(t / 7), 0.1]);
  const s = cell(LSTM, { inputSize: 3, hiddenSize: 16, seed: 1 }).stepper(xs);
  let t0 = 0;
  const lat: number[] = [];
  let bytes = 0;
  const previous = setPublisher({
    display(bundle: MimeBundle) {
      lat.push(performance.now() - t0);
      bytes = JSON.stringify(bundle).length;
    },
    clearOutput() {},
  });
  try {
    const v = view(s);
    await v.show();
    lat.length = 0;
    for (let k = 0; k < 12; k++) {
      await sleep(250); // the kernel idles between cells: neighbours get laid out
      t0 = performance.now();
      s.step();
      await v.settled();
    }
    rows.push(row("view: step() → refreshed diagram + plots published (LSTM H=16)", median(lat), 50, "≤ 50 ms (aim 20)"));
    lat.length = 0;
    for (const t of [40, 10, 55, 25, 33]) {
      t0 = performance.now();
      s.seek(t);
      await v.settled();
    }
    rows.push(row("view: seek(t) to a step not laid out yet (Graphviz layout)", median(lat), 50, "≤ 50 ms"));
    rows.push(row("view: update message size (kB)", bytes / 1000, 1000, "≤ 1 MB per update"));
    v.close();
  } finally {
    setPublisher(previous);
  }
  // 100 000 × 64: heatmap of the forget gate (rasterised) and lines of 4 units (aggregated).
  const T = 100_000;
  const trace = cell(LSTM, { inputSize: 1, hiddenSize: 64, seed: 4 }).run(Array.from({ length: T }, (_, t) => [Math.sin(t / 50)]));
  await (await plot.heatmap(trace, { names: ["f"] })).toPNG(); // loads vega once
  for (const [name, make] of [
    ["heatmap of f", () => plot.heatmap(trace, { names: ["f"] })],
    ["heatmap of i, f, g, o (default)", () => plot.heatmap(trace)],
    ["lines of h units 0–3", () => plot.lines(trace, { names: ["h"], units: [0, 1, 2, 3] })],
  ] as const) {
    const times: number[] = [];
    let size = 0;
    for (let k = 0; k < 3; k++) {
      const start = performance.now();
      const bundle = await (await make())[Symbol.for("Jupyter.display") as never as "toString"]() as unknown as MimeBundle;
      times.push(performance.now() - start);
      size = JSON.stringify(bundle).length;
    }
    rows.push(row(`plot 100 000 × 64 ${name}: spec + PNG fallback (ms)`, median(times), 1000, "≤ 1 s"));
    rows.push(row(`plot 100 000 × 64 ${name}: bytes added to the notebook (kB)`, size / 1000, 2000, "≤ 2 MB"));
  }
  return rows;
}

if (require.main === module) benchPlot().then((r) => console.table(r));
