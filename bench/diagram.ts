/**
 * Diagram speed (issue 4): a folded LSTM diagram to SVG, warm (target ≤ 30 ms), and a 50-step
 * unrolled LSTM (≤ 300 ms). Also the stepper view's case — the diagram of a cell at step t with
 * live values — and the reference the targets are judged against: Graphviz's own layout time for
 * the same DOT (what any Graphviz-based diagram pays), so `ratio` is ours / Graphviz alone.
 */
import { LSTM } from "../src/cells";
import { diagram, unrolled } from "../src/diagram";
import { dotToSvg } from "../src/diagram/layout";
import { cell } from "../src/engine";
import { median, type BenchRow } from "./measure";

/** Runs the diagram benchmarks; `bench/run.ts` calls this. */
export async function benchDiagram(): Promise<BenchRow[]> {
  const lstm = cell(LSTM, { inputSize: 8, hiddenSize: 16, seed: 1 });
  const xs = Array.from({ length: 50 }, (_, t) => Array.from({ length: 8 }, (_, j) => Math.sin(t * 0.3 + j)));
  const trace = lstm.run(xs);
  const cases: { name: string; make: () => { toDot(): string; toSvg(): Promise<string> }; target: number; repeats: number }[] = [
    { name: "diagram: folded LSTM → SVG (warm)", make: () => diagram(LSTM), target: 30, repeats: 15 },
    { name: "diagram: LSTM at step t with live values → SVG", make: () => diagram(lstm, { trace, t: 25 }), target: 30, repeats: 15 },
    { name: "diagram: LSTM unrolled 50 steps → SVG", make: () => unrolled(LSTM, { steps: 50 }), target: 300, repeats: 5 },
  ];
  const rows: BenchRow[] = [];
  // Graphviz is WebAssembly: its first few dozen layouts run in the baseline tier. "Warm" means
  // after the engine has optimised it, as in a kernel that has drawn a few diagrams.
  for (let k = 0; k < 30; k++) await diagram(LSTM).toSvg();
  for (const c of cases) {
    const ours = await median(() => c.make().toSvg(), { warmup: 3, repeats: c.repeats });
    const dot = c.make().toDot();
    const reference = await median(() => dotToSvg(dot), { warmup: 3, repeats: c.repeats });
    rows.push({ name: c.name, ours: round(ours), reference: round(reference), ratio: round(ours / reference), target: `≤ ${c.target} ms`, ok: ours <= c.target });
  }
  return rows;
}

const round = (x: number) => Math.round(x * 100) / 100;

if (require.main === module) benchDiagram().then((rows) => console.table(rows));
