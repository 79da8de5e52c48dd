/**
 * The issue's training target (issue 13, "Speed"): the adding problem (T = 50, H = 32, batch 32,
 * Adam lr 1e-2), wall time to a test MSE below 0.01, against PyTorch training the same model on the
 * same data in this run. Both sides start from the same initial weights (archlab's seeded
 * initialisation, handed to PyTorch as a state dict), draw the same training batches (archlab's
 * seeded task generator, written to a file PyTorch reads) and evaluate the same test set every
 * {@link EVERY} steps inside the timed loop. archlab trains in float64 with `train()`, PyTorch in
 * float32 with its fused nn.LSTM. The two sides train in alternating rounds ({@link benchAdding}).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cell, LSTM, type Trace } from "../src";
import { adam, readout, tasks, train, type Readout } from "../src/train";
import { PYTHON, type BenchRow } from "./measure";

const T = 50, B = 32, In = 2, H = 32, LR = 1e-2;
/** Test sequences, their seed, and the training stream's seed. */
const N = 512, TEST_SEED = 2, TRAIN_SEED = 1;
/** Most steps either side takes; the test MSE is evaluated every EVERY steps. */
const BUDGET = 1500, EVERY = 10, TARGET = 0.01;

/** One training run's result: wall time, the step the target was reached at (null: not within the budget), the last test MSE. */
interface Run {
  ms: number;
  steps: number | null;
  testMse: number;
}

/**
 * Mean squared error of the model's predictions at the last step over the test set (the head applied
 * to the last step's h only, as PyTorch's side does). The run reuses the previous evaluation's trace
 * arrays (`previous`, read by nobody): PyTorch's side evaluates under no_grad, keeping nothing, where
 * a fresh trace of the 512 test sequences would allocate — and the collector free — 90 MB every
 * evaluation.
 */
function testMse(model: Readout, xs: number[][][], targets: number[][], previous: { trace?: Trace }): number {
  previous.trace = model.cell.runReusing(xs, previous.trace);
  const h = previous.trace.raw(model.cell.def.output);
  const last = Array.from({ length: N }, (_, n) => Array.from(h.subarray(((T - 1) * N + n) * H, ((T - 1) * N + n + 1) * H)));
  return model.apply(last).reduce((s, [y], n) => s + (y - targets[n][0]) ** 2, 0) / N;
}

/** Our run: `train()` with an onStep that evaluates the test set every EVERY steps and stops below TARGET. */
async function ours(test: { xs: number[][][]; targets: number[][] }): Promise<Run> {
  const model = readout(cell(LSTM, { inputSize: In, hiddenSize: H, seed: 1 }), { outputSize: 1, seed: 1 });
  let reached: number | null = null;
  let last = NaN;
  const evaluation = {};
  const t0 = performance.now();
  await train(model, tasks.adding({ length: T, seed: TRAIN_SEED }), {
    steps: BUDGET,
    batchSize: B,
    optimizer: adam({ lr: LR }),
    progress: "none",
    onStep: ({ step }) => {
      if (step % EVERY !== 0) return true;
      last = testMse(model, test.xs, test.targets, evaluation);
      if (last < TARGET) reached = step;
      return reached === null;
    },
  });
  return { ms: performance.now() - t0, steps: reached, testMse: last };
}

/** The same model, data and evaluation for PyTorch: written once to a folder torch_adding.py reads (the caller removes it). */
function referenceData(test: { xs: number[][][]; targets: number[][] }): string {
  const folder = mkdtempSync(join(tmpdir(), "archlab-adding-"));
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
  return folder;
}

/** PyTorch's training run on the data in `folder`, or why it could not run. */
function reference(folder: string): Run & { threads: number } | string {
  try {
    const out = execFileSync(PYTHON, [join(__dirname, "torch_adding.py"), folder], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 1_200_000 });
    return JSON.parse(out.trim().split("\n").pop()!);
  } catch (e) {
    const text = String((e as { stderr?: string }).stderr || (e as Error).message);
    return `PyTorch not available (${text.trim().split("\n").pop()}): apt-get install python3-torch`;
  }
}

/** The faster of two runs (the first when either is missing). */
const faster = <R extends Run>(a: R | undefined, b: R): R => (a === undefined || b.ms < a.ms ? b : a);

/**
 * The adding-problem row: wall time to test MSE < 0.01, ours against PyTorch's. The machine may be
 * shared: the two train in alternating rounds (PyTorch, ours, PyTorch, ours, …) and each keeps its
 * fastest round, so a burst of someone else's load does not land on one side only. Every round of a
 * side trains the same model on the same data, so each reaches the target at the same step.
 */
export async function benchAdding(log: (line: string) => void = () => {}, rounds = 3): Promise<BenchRow> {
  const { xs, targets } = tasks.adding({ length: T, seed: TEST_SEED }).batch(N);
  const test = { xs, targets: targets as number[][] };
  log(`adding problem T=${T} H=${H} B=${B}, Adam lr ${LR}: PyTorch and ours in ${rounds} alternating rounds (up to ${BUDGET} steps each)`);
  const folder = referenceData(test);
  let torch: (Run & { threads: number }) | string | undefined;
  let mine: Run | undefined;
  try {
    for (let round = 1; round <= rounds; round++) {
      const theirs = typeof torch === "string" ? torch : reference(folder);
      if (typeof theirs === "string") torch = theirs;
      else if (typeof torch !== "string") torch = faster(torch, theirs);
      const run = await ours(test);
      mine = faster(mine, run);
      const show = (r: Run | string) => (typeof r === "string" ? r : `${r.steps ?? "not"} reached in ${r.ms.toFixed(0)} ms (test MSE ${r.testMse.toPrecision(3)})`);
      log(`  round ${round}: PyTorch ${show(theirs)}; ours ${show(run)}`);
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  const best = mine!;
  const theirs = torch!;
  const steps = (r: { steps: number | null }) => (r.steps === null ? `not within ${BUDGET} steps` : `${r.steps} steps`);
  const both = typeof theirs !== "string" && theirs.steps !== null && best.steps !== null;
  const ratio = typeof theirs === "string" ? NaN : best.ms / theirs.ms;
  return {
    name:
      `adding problem T=${T} H=${H} batch ${B}, Adam lr ${LR}, same init and batches: wall time to test MSE < ${TARGET} (${N} test sequences, evaluated every ${EVERY} steps), ` +
      `ours float64 ${steps(best)}, PyTorch float32 ${typeof theirs === "string" ? "—" : `${steps(theirs)}, ${theirs.threads} thread(s)`}; best of ${rounds} alternating rounds`,
    ours: best.ms,
    reference: typeof theirs === "string" ? theirs : theirs.ms,
    ratio,
    target: "ratio ≤ 1, both reach it",
    ok: both && ratio <= 1,
  };
}
