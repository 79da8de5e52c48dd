/**
 * The issue's training target (issue 13, "Speed"): the adding problem (T = 50, H = 32, batch 32,
 * Adam lr 1e-2), wall time to a test MSE below 0.01, against PyTorch training the same model on the
 * same data in this run. Both sides start from the same initial weights (archlab's seeded
 * initialisation, handed to PyTorch as a state dict), draw the same training batches (archlab's
 * seeded task generator, written to a file PyTorch reads) and evaluate the same test set every
 * {@link EVERY} steps inside the timed loop. archlab trains in float64 with `train()`, PyTorch in
 * float32 with its fused nn.LSTM.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cell, LSTM } from "../src";
import { adam, readout, tasks, train, type Readout } from "../src/train";
import { PYTHON, type BenchRow } from "./measure";

const T = 50, B = 32, In = 2, H = 32, LR = 1e-2;
/** Test sequences, their seed, and the training stream's seed. */
const N = 512, TEST_SEED = 2, TRAIN_SEED = 1;
/** Most steps either side takes; the test MSE is evaluated every EVERY steps. */
const BUDGET = 1500, EVERY = 10, TARGET = 0.01;

/** Mean squared error of the model's predictions at the last step over the test set (the head applied to the last step's h only, as PyTorch's side does). */
function testMse(model: Readout, xs: number[][][], targets: number[][]): number {
  const h = model.cell.run(xs).raw(model.cell.def.output);
  const last = Array.from({ length: N }, (_, n) => Array.from(h.subarray(((T - 1) * N + n) * H, ((T - 1) * N + n + 1) * H)));
  return model.apply(last).reduce((s, [y], n) => s + (y - targets[n][0]) ** 2, 0) / N;
}

/** Our run: `train()` with an onStep that evaluates the test set every EVERY steps and stops below TARGET. */
async function ours(test: { xs: number[][][]; targets: number[][] }): Promise<{ ms: number; steps: number | null; testMse: number }> {
  const model = readout(cell(LSTM, { inputSize: In, hiddenSize: H, seed: 1 }), { outputSize: 1, seed: 1 });
  let reached: number | null = null;
  let last = NaN;
  const t0 = performance.now();
  await train(model, tasks.adding({ length: T, seed: TRAIN_SEED }), {
    steps: BUDGET,
    batchSize: B,
    optimizer: adam({ lr: LR }),
    progress: "none",
    onStep: ({ step }) => {
      if (step % EVERY !== 0) return true;
      last = testMse(model, test.xs, test.targets);
      if (last < TARGET) reached = step;
      return reached === null;
    },
  });
  return { ms: performance.now() - t0, steps: reached, testMse: last };
}

/** The same model, data and evaluation for PyTorch: written to a folder torch_adding.py reads. */
function reference(test: { xs: number[][][]; targets: number[][] }): { ms: number; steps: number | null; testMse: number; threads: number } | string {
  const folder = mkdtempSync(join(tmpdir(), "archlab-adding-"));
  try {
    const init = readout(cell(LSTM, { inputSize: In, hiddenSize: H, seed: 1 }), { outputSize: 1, seed: 1 });
    writeFileSync(join(folder, "meta.json"), JSON.stringify({ T, B, In, H, N, steps: BUDGET, every: EVERY, target: TARGET, lr: LR, state: init.stateDict() }));
    const stream = tasks.adding({ length: T, seed: TRAIN_SEED });
    const xs = new Float32Array(BUDGET * T * B * In), ys = new Float32Array(BUDGET * B);
    for (let s = 0; s < BUDGET; s++) {
      const batch = stream.batch(B);
      xs.set(batch.xs.flat(2), s * T * B * In);
      ys.set((batch.targets as number[][]).flat(), s * B);
    }
    writeFileSync(join(folder, "train.bin"), Buffer.concat([Buffer.from(xs.buffer), Buffer.from(ys.buffer)]));
    const tx = Float32Array.from(test.xs.flat(2)), ty = Float32Array.from(test.targets.flat());
    writeFileSync(join(folder, "test.bin"), Buffer.concat([Buffer.from(tx.buffer), Buffer.from(ty.buffer)]));
    const out = execFileSync(PYTHON, [join(__dirname, "torch_adding.py"), folder], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 1_200_000 });
    return JSON.parse(out.trim().split("\n").pop()!);
  } catch (e) {
    const text = String((e as { stderr?: string }).stderr || (e as Error).message);
    return `PyTorch not available (${text.trim().split("\n").pop()}): apt-get install python3-torch`;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** The adding-problem row: wall time to test MSE < 0.01, ours against PyTorch's. */
export async function benchAdding(log: (line: string) => void = () => {}): Promise<BenchRow> {
  const { xs, targets } = tasks.adding({ length: T, seed: TEST_SEED }).batch(N);
  const test = { xs, targets: targets as number[][] };
  log(`adding problem T=${T} H=${H} B=${B}, Adam lr ${LR}: PyTorch, then ours (up to ${BUDGET} steps each)`);
  const torch = reference(test);
  if (typeof torch !== "string") log(`  PyTorch: ${torch.steps ?? "not"} reached in ${torch.ms.toFixed(0)} ms (test MSE ${torch.testMse.toPrecision(3)}, ${torch.threads} thread(s))`);
  else log(`  ${torch}`);
  const mine = await ours(test);
  log(`  ours: ${mine.steps ?? "not"} reached in ${mine.ms.toFixed(0)} ms (test MSE ${mine.testMse.toPrecision(3)})`);
  const steps = (r: { steps: number | null }) => (r.steps === null ? `not within ${BUDGET} steps` : `${r.steps} steps`);
  const both = typeof torch !== "string" && torch.steps !== null && mine.steps !== null;
  const ratio = typeof torch === "string" ? NaN : mine.ms / torch.ms;
  return {
    name:
      `adding problem T=${T} H=${H} batch ${B}, Adam lr ${LR}, same init and batches: wall time to test MSE < ${TARGET} (${N} test sequences, evaluated every ${EVERY} steps), ` +
      `ours float64 ${steps(mine)}, PyTorch float32 ${typeof torch === "string" ? "—" : `${steps(torch)}, ${torch.threads} thread(s)`}`,
    ours: mine.ms,
    reference: typeof torch === "string" ? torch : torch.ms,
    ratio,
    target: "ratio ≤ 1, both reach it",
    ok: both && ratio <= 1,
  };
}
