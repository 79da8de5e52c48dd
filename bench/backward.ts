/**
 * The speed targets for gradients (issue 13, "Speed"): an LSTM's forward trace and its full
 * gradient trace (∂L/∂ every node at every step, every weight, and the initial states; ∂L/∂inputs is
 * made when first read, and PyTorch's side computes none either: its input does not require grad)
 * for L = mean(h²), against PyTorch autograd's forward and backward of the same loss
 * (`out.pow(2).mean().backward()`), measured in this run; and training on the adding problem
 * against PyTorch (bench/adding.ts).
 */
import { backward, cell, LSTM, type DType } from "../src";
import { benchAdding } from "./adding";
import { compare, median, torchLstm, type BenchRow } from "./measure";

/** A deterministic input `[T, B, In]` as nested arrays (what a user passes). */
const sequence = (T: number, B: number, In: number) =>
  Array.from({ length: T }, (_, t) => Array.from({ length: B }, (_, b) => Array.from({ length: In }, (_, j) => Math.sin(0.1 * t + 0.7 * j + 1.3 * b))));

/**
 * Median time of our forward trace plus backward, as a user writes it: ∂L/∂h = 2h / (T·B·H) from the
 * trace's flat h (`trace.raw`), as PyTorch's side computes it from its output tensor. (A nested copy
 * of h — `trace.get("h")` — and reading it back would add two walks over T·B·H JavaScript numbers
 * that PyTorch's side has no counterpart of: 0.6 s of 3.5 s at T = 512, B = 32, H = 256.)
 */
function oursBackward(xs: number[][][], lstm: ReturnType<typeof cell>, repeats: number): Promise<number> {
  const scale = 2 / (xs.length * xs[0].length * lstm.size("H"));
  return median(
    () => {
      const trace = lstm.run(xs);
      const output = trace.raw("h").map((h) => h * scale);
      return backward(trace, { output });
    },
    { warmup: 1, repeats },
  );
}

interface Size {
  T: number;
  B: number;
  In: number;
  H: number;
  dtype: DType;
  /** The target ratio. */
  limit: number;
}

/**
 * One row: ours against PyTorch autograd at one size. The machine may be shared: the two are
 * measured in alternating rounds (a median each) and each keeps its best round, so a burst of
 * someone else's load does not land on one side only.
 */
async function row({ T, B, In, H, dtype, limit }: Size, log: (line: string) => void): Promise<BenchRow> {
  const [rounds, repeats] = In * H > 1e4 ? [2, 3] : [3, 11];
  const xs = sequence(T, B, In);
  const lstm = cell(LSTM, { inputSize: In, hiddenSize: H, seed: 1, dtype });
  let ours = Infinity;
  let reference: number | string = Infinity;
  let threads = "";
  for (let round = 0; round < rounds; round++) {
    ours = Math.min(ours, await oursBackward(xs, lstm, repeats));
    const torch = torchLstm(T, B, In, H, repeats, "backward");
    if (typeof torch === "string") reference = torch;
    else if (typeof reference === "number") {
      reference = Math.min(reference, torch.ms);
      threads = `, ${torch.threads} thread(s)`;
    }
    log(`  round ${round + 1}: ours ${ours.toFixed(1)} ms, PyTorch ${typeof reference === "number" ? reference.toFixed(1) + " ms" : reference} (best so far)`);
  }
  return compare(
    `LSTM forward + backward, full gradient trace, T=${T} B=${B} In=${In} H=${H} ${dtype} vs PyTorch autograd out.pow(2).mean().backward() (float32${threads}); best of ${rounds} alternating rounds`,
    ours,
    reference,
    limit,
    `ratio ≤ ${limit}`,
  );
}

/** Every gradient benchmark of the issue. */
export async function benchBackward(log: (line: string) => void = () => {}): Promise<BenchRow[]> {
  const sizes: Size[] = [
    { T: 100, B: 32, In: 8, H: 32, dtype: "float64", limit: 0.5 },
    { T: 1000, B: 1, In: 8, H: 16, dtype: "float64", limit: 0.5 },
    { T: 512, B: 32, In: 256, H: 256, dtype: "float32", limit: 2 },
  ];
  const rows: BenchRow[] = [];
  for (const size of sizes) {
    log(`LSTM forward + backward T=${size.T} B=${size.B} In=${size.In} H=${size.H} ${size.dtype}: ours, PyTorch autograd`);
    rows.push(await row(size, log));
  }
  rows.push(await benchAdding(log));
  return rows;
}
