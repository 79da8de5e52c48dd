/**
 * Training a cell on a task: the model is a cell with a linear readout (a "head") on its output,
 * `y_t = W h_t + b`, both trained together by backpropagation through time.
 *
 *     batch xs [T, B, In] ─ cell.run ─► h [T, B, H] ─ head (at the last step, or at every step) ─► y
 *     loss(y, targets) ─► ∂L/∂y ─ head's VJP ─► ∂L/∂W, ∂L/∂b, ∂L/∂h ─ backward(trace) ─► ∂L/∂(cell weights)
 *     clip by global norm ─► optimiser step ─► the cell and the head hold the new weights
 *
 * After every finished step the model holds that step's weights, so stopping at any point (an
 * `AbortSignal`, `onStep` returning false, or interrupting the kernel — the loop waits on a timer
 * between steps, and the kernel cancels an interrupted cell's timers) leaves the weights of the
 * last finished step in the model. Progress: in a notebook, one output updated in place (the loss
 * curve, titled with steps/s and the ETA); elsewhere a progress bar on stderr.
 */
import { SingleBar } from "cli-progress";
import seedrandom from "seedrandom";
import { errors, requireObject } from "../errors";
import { checkFinite, toFlat, toNested } from "../engine/arrays";
import { backwardRaw, type RawGradients } from "../engine/backward";
import type { Cell } from "../engine/cell";
import type { Trace } from "../engine/trace";
import { DISPLAY, display, hasPublisher, type MimeBundle } from "../display/protocol";
import { Chart } from "../plot/chart";
import { SCHEMA } from "../plot/spec";
import { sequence } from "../models/sequence";
import { loadTorchStateDict, torchStateDict, type StateDict } from "../io/torch";
import { LOSSES, type Loss, type LossKind } from "./losses";
import { adam, clipGradNorm, type Optimizer, type Tensors } from "./optimizers";
import type { Task } from "./tasks";
import { Model } from "../lang/model";
import type { ValueLike } from "../lang/run";

/** Options of {@link readout}. */
export interface ReadoutOptions {
  /** Size of the prediction y (the task's `outputSize`). */
  outputSize: number;
  /** Seed of the head's initialisation (default 0): U(−1/√H, 1/√H), as torch.nn.Linear. */
  seed?: number | string;
}

/**
 * A cell with a linear readout `y = W h + b` (W `[outputSize, H]`, b `[outputSize]`) on its output
 * node h — the model {@link train} trains. As a PyTorch module it is
 * `rnn = nn.LSTM(In, H); head = nn.Linear(H, outputSize)`, and its state dict uses those names.
 */
export class Readout {
  readonly outputSize: number;
  /** Size of the cell's output h, the head's input. */
  readonly hiddenSize: number;
  #weight: Float64Array;
  #bias: Float64Array;

  constructor(
    readonly cell: Cell,
    options: ReadoutOptions,
  ) {
    requireObject("options of readout", options, "{ outputSize, seed? }");
    if (!Number.isInteger(options.outputSize) || options.outputSize < 1) throw errors.badOption("outputSize of readout", options.outputSize, "a positive integer (the task's outputSize)");
    this.outputSize = options.outputSize;
    this.hiddenSize = cell.size(cell.def.nodes.find((n) => n.name === cell.def.output)!.size);
    const random = seedrandom(String(options.seed ?? 0));
    const k = 1 / Math.sqrt(this.hiddenSize);
    const init = (n: number) => Float64Array.from({ length: n }, () => (2 * random() - 1) * k);
    this.#weight = init(this.outputSize * this.hiddenSize);
    this.#bias = init(this.outputSize);
  }

  /** The head's weights: `weight` `[outputSize, H]`, `bias` `[outputSize]`. */
  get head(): { weight: number[][]; bias: number[] } {
    return { weight: toNested(this.#weight, [this.outputSize, this.hiddenSize]), bias: Array.from(this.#bias) };
  }

  /** Runs the cell over `xs` `[T, B, In]`: the trace and the predictions at every step `[T][B][outputSize]`. */
  predict(xs: number[][][]): { trace: Trace; outputs: number[][][] } {
    const trace = this.cell.run(xs);
    return { trace, outputs: trace.get(this.cell.def.output).map((rows) => this.apply(rows)) };
  }

  /** @internal The head applied to rows of h `[N][H]`. */
  apply(rows: readonly number[][]): number[][] {
    const { outputSize: O, hiddenSize: H } = this;
    return rows.map((h) => Array.from({ length: O }, (_, o) => {
      let y = this.#bias[o];
      for (let j = 0; j < H; j++) y += this.#weight[o * H + j] * h[j];
      return y;
    }));
  }

  /**
   * @internal The head's vector–Jacobian product for rows of h `[N][H]` and ∂L/∂y `[N][outputSize]`:
   * ∂L/∂W (flat `[outputSize, H]`), ∂L/∂b, and ∂L/∂h `[N][H]`.
   */
  applyBackward(rows: readonly number[][], grad: readonly number[][]): { weight: Float64Array; bias: Float64Array; h: number[][] } {
    const { outputSize: O, hiddenSize: H } = this;
    const weight = new Float64Array(O * H), bias = new Float64Array(O);
    const h = rows.map((r, n) => {
      const d = new Array<number>(H).fill(0);
      for (let o = 0; o < O; o++) {
        const g = grad[n][o];
        bias[o] += g;
        for (let j = 0; j < H; j++) (weight[o * H + j] += g * r[j]), (d[j] += g * this.#weight[o * H + j]);
      }
      return d;
    });
    return { weight, bias, h };
  }

  /** @internal Every parameter as flat float64 copies: the cell's by name, the head's as `head.weight` / `head.bias`. */
  parameters(): Tensors {
    const out: Tensors = {};
    for (const [name, p] of Object.entries(this.cell.params)) out[name] = Float64Array.from(p);
    out["head.weight"] = Float64Array.from(this.#weight);
    out["head.bias"] = Float64Array.from(this.#bias);
    return out;
  }

  /** @internal Replaces every parameter from flat arrays (as {@link parameters} gives them). */
  setParameters(params: Tensors): void {
    this.cell.setParams(params);
    this.#weight = Float64Array.from(params["head.weight"]);
    this.#bias = Float64Array.from(params["head.bias"]);
  }

  /**
   * The weights as a PyTorch state dict of `rnn = nn.LSTM/GRU/RNN(In, H)` and `head = nn.Linear(H, O)`:
   * `rnn.weight_ih_l0`, …, `head.weight`, `head.bias` (for the cells PyTorch has: RNN, LSTM, GRU).
   */
  stateDict(): Record<string, number[] | number[][]> {
    const rnn = torchStateDict(this.#sequence().setWeights({ l0: this.cell.weights() }));
    return { ...Object.fromEntries(Object.entries(rnn).map(([k, v]) => [`rnn.${k}`, v])), "head.weight": this.head.weight, "head.bias": this.head.bias };
  }

  /** Loads {@link stateDict}'s layout (e.g. from PyTorch's `model.state_dict()`), checked in full before anything changes. */
  loadStateDict(stateDict: StateDict): this {
    requireObject("stateDict", stateDict, "an object of tensor name → nested numbers (rnn.weight_ih_l0, …, head.weight, head.bias)");
    const rnn = Object.fromEntries(Object.entries(stateDict).filter(([k]) => k.startsWith("rnn.")).map(([k, v]) => [k.slice(4), v]));
    const model = loadTorchStateDict(this.#sequence(), rnn);
    const head = new Readout(this.cell, { outputSize: this.outputSize });
    const extra = Object.keys(stateDict).filter((k) => !k.startsWith("rnn.") && k !== "head.weight" && k !== "head.bias");
    if (extra.length) throw errors.extraWeight(extra, "state dict of a readout", ["rnn.*", "head.weight", "head.bias"]);
    const params = head.parameters();
    params["head.weight"] = readTensor(stateDict["head.weight"], [this.outputSize, this.hiddenSize], "head.weight");
    params["head.bias"] = readTensor(stateDict["head.bias"], [this.outputSize], "head.bias");
    this.cell.setWeights(model.layers[0].forward!.weights());
    this.#weight = params["head.weight"];
    this.#bias = params["head.bias"];
    return this;
  }

  #sequence() {
    return sequence(this.cell.def, { inputSize: this.cell.size("In"), hiddenSize: this.cell.size("H"), sizes: { ...this.cell.sizes } });
  }
}

function readTensor(value: unknown, shape: number[], name: string): Float64Array {
  const where = "state dict of a readout";
  if (value === undefined) throw errors.missingWeight(name, where, shape);
  const flat = toFlat(value, shape, `tensor "${name}" of the ${where}`, "float64") as Float64Array;
  checkFinite(flat, `tensor "${name}" of the ${where}`);
  return flat;
}

/**
 * A cell with a linear readout, ready for {@link train}.
 *
 * @example
 * const task = tasks.adding({ length: 20 });
 * const model = readout(cell(LSTM, { inputSize: task.inputSize, hiddenSize: 16 }), { outputSize: task.outputSize });
 */
export const readout = (c: Cell, options: ReadoutOptions): Readout => new Readout(c, options);

/** What {@link TrainOptions.onStep} is told after every finished step. */
export interface StepInfo {
  /** Steps finished (1 after the first). */
  step: number;
  steps: number;
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** The learning rate the step used. */
  lr: number;
  /** Seconds since training started. */
  seconds: number;
}

/** Options of {@link train}. */
export interface TrainOptions {
  /** Optimiser steps to take. */
  steps: number;
  /** Sequences a step (default 32). */
  batchSize?: number;
  /** A loss name or function (default the task's). */
  loss?: LossKind | Loss;
  /** Default `adam({ lr: 1e-2 })`. */
  optimizer?: Optimizer;
  /** Largest global gradient norm (clip_grad_norm_); default: no clipping. */
  clip?: number;
  /** Called after every step; returning false (or a promise of false) stops training. */
  onStep?: (info: StepInfo) => unknown;
  /** Stops training between steps when aborted. */
  signal?: AbortSignal;
  /** "notebook": one output updated in place; "bar": a progress bar on stderr; "none". Default: a notebook inside the kernel, else the bar. */
  progress?: "notebook" | "bar" | "none";
  /** Least milliseconds between progress updates (default 500; at least 4× the time a chart takes to render). */
  every?: number;
}

/** What {@link train} resolves to. */
export interface TrainResult<M = Readout> {
  model: M;
  /** The loss of every finished step. */
  losses: number[];
  /** Steps finished. */
  steps: number;
  /** True when stopped before `steps` (signal, onStep, or Ctrl-C outside the kernel). */
  stopped: boolean;
  seconds: number;
  /** Shown as a cell's value: one line (steps, time, last loss). */
  [DISPLAY](): MimeBundle;
}

/**
 * One step's loss and gradients of every parameter (names as {@link Readout.parameters}). The
 * backward pass starts from flat seeds and its parameter gradients are used flat (their storage
 * layout is the parameters'): no nested copy of h, of ∂L/∂h or of the gradients per step.
 */
function lossAndGradients(model: Readout, task: Task, loss: Loss, batchSize: number, scratch: { trace?: Trace; reuse?: RawGradients }): { value: number; grads: Tensors } {
  const { xs, targets } = task.batch(batchSize);
  // The previous step's trace and gradient trace are read by nobody: their arrays are this step's.
  const trace = model.cell.runReusing(xs, scratch.trace);
  scratch.trace = trace;
  const output = model.cell.def.output;
  const h = trace.raw(output);
  const { length: T, batch: B } = trace;
  const H = model.hiddenSize;
  // The scored rows of h: the last step's B rows, or all T·B rows.
  const first = task.at === "last" ? (T - 1) * B : 0;
  const rows = Array.from({ length: T * B - first }, (_, i) => Array.from(h.subarray((first + i) * H, (first + i + 1) * H)));
  const { value, grad } = loss(model.apply(rows), (task.at === "last" ? targets : (targets as unknown[]).flat(1)) as any);
  const head = model.applyBackward(rows, grad);
  const seed = new Float64Array(T * B * H);
  head.h.forEach((d, i) => seed.set(d, (first + i) * H));
  const g = backwardRaw(trace, { nodes: { [output]: seed } }, `train (cell "${model.cell.def.name}")`, { reuse: scratch.reuse });
  scratch.reuse = g;
  const grads: Tensors = { ...g.params };
  grads["head.weight"] = head.weight;
  grads["head.bias"] = head.bias;
  return { value, grads };
}

/** Most points of the live loss curve. */
const CURVE_POINTS = 400;

/** The live view in a notebook: the loss curve, titled with the progress line; one output, updated in place. */
class Progress {
  static #count = 0;
  readonly id = `archlab-train-${++Progress.#count}-${Date.now()}`;
  #shown = false;
  constructor(readonly name: string) {}
  chart(losses: number[], line: string): Chart {
    // At most CURVE_POINTS points: longer runs show the mean of each window of steps (the render
    // time grows with the points, and the curve is redrawn while training).
    const window = Math.ceil(losses.length / CURVE_POINTS);
    const values = Array.from({ length: Math.ceil(losses.length / window) }, (_, k) => {
      const part = losses.slice(k * window, (k + 1) * window);
      return { step: k * window + part.length, loss: part.reduce((a, b) => a + b, 0) / part.length };
    });
    const spec = {
      $schema: SCHEMA,
      title: { text: `training on ${this.name}`, subtitle: line },
      width: 600,
      height: 220,
      data: { values },
      mark: { type: "line" as const },
      encoding: { x: { field: "step", type: "quantitative" as const }, y: { field: "loss", type: "quantitative" as const, scale: { zero: false } } },
    };
    return new Chart(spec as never, { summary: line, steps: null, marks: values.length, reduction: { mode: "exact" }, notes: [] });
  }
  async show(losses: number[], line: string): Promise<void> {
    await display(this.chart(losses, line), { id: this.id, update: this.#shown });
    this.#shown = true;
  }
}

const seconds = (s: number) => (s >= 60 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(s < 10 ? 1 : 0)} s`);

/** One line: where training is, how fast, and how long the rest takes at that speed. */
export function progressLine(step: number, steps: number, loss: number, elapsed: number): string {
  const rate = step / Math.max(elapsed, 1e-9);
  const eta = step < steps ? ` · ETA ${seconds((steps - step) / rate)}` : ` · done in ${seconds(elapsed)}`;
  return `step ${step}/${steps} · loss ${loss.toPrecision(4)} · ${rate.toFixed(1)} steps/s${eta}`;
}

/** Waits one turn of the event loop on a timer: the point where an interrupted kernel cell stops. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Trains a cell with a linear readout on a task, step by step, showing progress. The model holds
 * the weights of the last finished step at every moment, so stopping (signal, onStep returning
 * false, interrupting the kernel) keeps them.
 *
 * @example
 * const task = tasks.adding({ length: 20, seed: 1 });
 * const model = readout(cell(LSTM, { inputSize: 2, hiddenSize: 16 }), { outputSize: 1 });
 * const result = await train(model, task, { steps: 300, optimizer: adam({ lr: 1e-2 }), clip: 1 });
 * result.losses.at(-1); // the last batch's MSE
 * model.stateDict();    // { "rnn.weight_ih_l0": …, "head.weight": …, "head.bias": … }
 *
 * A model of the language (`nn.model`) trains the same way when its definition outputs a scalar
 * loss (`nn.losses`): `batches(step)` gives each step's inputs by name (or pass a task: inputs `x`
 * and `y`), and its trainable parameters are updated in place.
 *
 * @example
 * const xor = nn.model("XOR", { H: 4 }, () => {
 *   const x = nn.input("x", ["B", 2]), y = nn.input("y", ["B", 1]);
 *   const h = nn.tanh(nn.add(nn.matmul(x, nn.param("W1", [2, "H"])), nn.param("b1", ["H"])));
 *   const logit = nn.add(nn.matmul(h, nn.param("W2", ["H", 1])), nn.param("b2", [1]));
 *   return { loss: nn.losses.binaryCrossEntropy(logit, y), logit };
 * });
 * await train(xor, () => ({ x: [[0, 0], [0, 1], [1, 0], [1, 1]], y: [[0], [1], [1], [0]] }), { steps: 300, optimizer: adam({ lr: 0.05 }) });
 */
export async function train(model: Readout, task: Task, options: TrainOptions): Promise<TrainResult>;
export async function train(model: Model, batches: Batches | Task, options: ModelTrainOptions): Promise<TrainResult<Model>>;
export async function train(model: Readout | Model, data: Task | Batches, options: TrainOptions | ModelTrainOptions): Promise<TrainResult<Readout> | TrainResult<Model>> {
  if (model instanceof Model) return trainModel(model, data, options as ModelTrainOptions);
  const task = data as Task;
  if (!(model instanceof Readout)) throw errors.badOption("model of train", model, "a model of the language (nn.model(…)) whose definition outputs a scalar loss, or a cell with a readout: readout(cell(...), { outputSize: task.outputSize })");
  requireObject("task of train", task, "a task from tasks.adding(…), tasks.copy(…), …");
  requireObject("options of train", options, "{ steps, batchSize?, loss?, optimizer?, clip?, onStep?, signal?, progress? }");
  const { batchSize = 32 } = options as TrainOptions;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw errors.badOption("batchSize of train", batchSize, "a positive integer");
  const lossOption = (options as TrainOptions).loss ?? task.loss;
  const loss = typeof lossOption === "function" ? lossOption : LOSSES[lossOption];
  if (!loss) throw errors.badOption("loss of train", lossOption, Object.keys(LOSSES).map((k) => `"${k}"`).join(" | ") + " or a loss function");
  if (model.cell.size("In") !== task.inputSize) throw errors.badOption("model of train", `a cell with inputSize ${model.cell.size("In")}`, `inputSize ${task.inputSize} (task ${task.name})`);
  if (model.outputSize !== task.outputSize) throw errors.badOption("model of train", `a readout with outputSize ${model.outputSize}`, `outputSize ${task.outputSize} (task ${task.name})`);
  checkSteps(options);
  const scratch = {};
  return loop(model, task.name, options, model.parameters(), () => lossAndGradients(model, task, loss, batchSize, scratch), (params) => model.setParameters(params));
}

function checkSteps(options: { steps: number }) {
  if (!Number.isInteger(options.steps) || options.steps < 1) throw errors.badOption("steps of train", options.steps, "a positive integer");
}

/**
 * The training loop both kinds of model share: per step, the loss and gradients at the current
 * weights (`compute`), clipping, the optimiser's update of `params` in place, and `apply` giving
 * the model the new weights — so the model holds the last finished step's weights at every moment.
 */
async function loop<M>(
  model: M,
  name: string,
  options: Pick<TrainOptions, "steps" | "optimizer" | "clip" | "onStep" | "signal" | "progress" | "every">,
  params: Tensors,
  compute: (step: number) => { value: number; grads: Tensors } | Promise<{ value: number; grads: Tensors }>,
  apply: (params: Tensors) => void,
): Promise<TrainResult<M>> {
  const { steps, optimizer = adam({ lr: 1e-2 }), clip, onStep, signal, every = 500 } = options;
  const progress = options.progress ?? (hasPublisher() ? "notebook" : "bar");
  const losses: number[] = [];
  const start = performance.now();
  const elapsed = () => (performance.now() - start) / 1000;
  const view = progress === "notebook" ? new Progress(name) : undefined;
  // Off a terminal (a log), the bar prints a line every 2 s.
  const bar = progress === "bar" ? new SingleBar({ format: `train ${name} [{bar}] {value}/{total} | loss {loss} | {rate} steps/s | ETA {eta_formatted}`, stream: process.stderr, noTTYOutput: true, notTTYSchedule: 2000 }) : undefined;
  // Outside the kernel (which has its own interrupt), Ctrl-C ends training after the current step;
  // a second Ctrl-C ends the process as usual.
  let interrupted = false;
  const onSigint = () => (interrupted = true);
  if (!hasPublisher()) process.once("SIGINT", onSigint);
  bar?.start(steps, 0, { loss: "…", rate: "…" });
  let next = -Infinity;
  let stopped = false;
  try {
    while (losses.length < steps) {
      if (signal?.aborted || interrupted) {
        stopped = true;
        break;
      }
      const { value, grads } = await compute(losses.length);
      if (!Number.isFinite(value)) throw errors.unsupported(`Training ${name} at step ${losses.length + 1}`, `the loss is ${value}. Lower the learning rate or set clip; the model keeps the weights of step ${losses.length}.`);
      const gradNorm = clip === undefined ? Math.sqrt(Object.values(grads).reduce((s, g) => s + g.reduce((a, v) => a + v * v, 0), 0)) : clipGradNorm(grads, clip);
      const lr = optimizer.lr;
      optimizer.step(params, grads);
      apply(params);
      losses.push(value);
      const step = losses.length;
      bar?.update(step, { loss: value.toPrecision(4), rate: (step / elapsed()).toFixed(1) });
      if (view && (performance.now() >= next || step === steps)) {
        const begun = performance.now();
        await view.show(losses, progressLine(step, steps, value, elapsed()));
        // Rendering the chart (vega, PNG fallback) takes ~0.2 s: keep it under a fifth of the time,
        // but update at least every 3 s (the first render, loading vega, is slower).
        next = performance.now() + Math.max(every, Math.min(4 * (performance.now() - begun), 3000));
      }
      if ((await onStep?.({ step, steps, loss: value, gradNorm, lr, seconds: elapsed() })) === false) {
        stopped = step < steps;
        break;
      }
      await turn();
    }
    if (view && stopped && losses.length) await view.show(losses, `${progressLine(losses.length, steps, losses.at(-1)!, elapsed())} · stopped`);
  } finally {
    bar?.stop();
    process.off("SIGINT", onSigint);
  }
  const result = { model, losses, steps: losses.length, stopped, seconds: elapsed() };
  const summary = `${stopped ? "stopped after" : "trained"} ${result.steps} steps on ${name} in ${seconds(result.seconds)}` + (losses.length ? `, last batch loss ${losses.at(-1)!.toPrecision(4)}` : "");
  return { ...result, [DISPLAY]: () => ({ "text/plain": summary }) };
}

/** A model's inputs for each step (`step` counts the finished steps, from 0): a batch by input name. */
export type Batches = (step: number) => Record<string, ValueLike> | Promise<Record<string, ValueLike>>;

/** Options of {@link train} for a model of the language. */
export interface ModelTrainOptions extends Pick<TrainOptions, "steps" | "optimizer" | "clip" | "onStep" | "signal" | "progress" | "every"> {
  /** The scalar output minimised (default "loss"). */
  output?: string;
  /** The forward pass's interpreter: "reference" (float64, the default) or "fast" (tfjs, float32 values; gradients float64). */
  backend?: "reference" | "fast";
  /** Sequences a step when training on a task (default 32). */
  batchSize?: number;
}

/**
 * A task as a model's batches: `x` gets the task's inputs `[T, B, In]` (time first) and `y` its
 * targets (see tasks.ts for their shapes); the model must declare inputs named `x` and `y`.
 */
function taskBatches(model: Model, task: Task, batchSize: number): Batches {
  const names = model.graph.inputs.map((i) => i.name);
  if (!names.includes("x") || !names.includes("y"))
    throw errors.badOption("model of train", `a model with inputs ${names.join(", ")}`, `inputs named x (the task's inputs [T, B, ${task.inputSize}]) and y (its targets) to train on task ${task.name}; or give batches as a function step → { input: value }`);
  return () => {
    const { xs, targets } = task.batch(batchSize);
    return { x: xs, y: targets };
  };
}

/**
 * Trains a model of the language whose definition outputs a scalar loss: every step runs it on the
 * step's batch (in training mode: dropout drops, batch norm uses batch statistics), takes the
 * gradient of the loss by `model.backward` and updates the trainable parameters.
 */
async function trainModel(model: Model, data: Batches | Task, options: ModelTrainOptions): Promise<TrainResult<Model>> {
  requireObject("options of train", options, "{ steps, optimizer?, clip?, output?, backend?, onStep?, signal?, progress? }");
  checkSteps(options);
  const { output = "loss", backend = "reference", batchSize = 32 } = options;
  if (!Object.hasOwn(model.graph.outputs, output))
    throw errors.badOption("output of train", output, `the name of the model's scalar loss output (its outputs: ${Object.keys(model.graph.outputs).join(", ")})`);
  if (backend !== "reference" && backend !== "fast") throw errors.badOption("backend of train", backend, `"reference" or "fast"`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw errors.badOption("batchSize of train", batchSize, "a positive integer");
  const batches = typeof data === "function" ? data : data && typeof data === "object" && typeof (data as Task).batch === "function" ? taskBatches(model, data as Task, batchSize) : undefined;
  if (!batches) throw errors.badOption("batches of train", data, "a function step → { inputName: value } giving each step's batch, or a task (tasks.adding(…))");
  const trainable = model.graph.params.filter((p) => p.attrs.kind === "trainable");
  const params: Tensors = Object.fromEntries(trainable.map((p) => [p.path, Float64Array.from(model.graph.values.get(p)!.data)]));
  const compute = async (step: number) => {
    const run = await model.run(await batches(step), { backend, training: true });
    const loss = run.outputs[output];
    if (loss.shape.length !== 0) throw errors.badOption("output of train", `${output} of shape [${loss.shape.join(", ")}]`, "a scalar loss (shape []): reduce it with mean or sum, or use nn.losses");
    const g = model.backward(run, { [output]: 1 });
    // Nobody reads this step's trace again: on the fast path, free its unread tensors now rather than when collected.
    run.trace.dispose();
    return { value: loss.data[0], grads: Object.fromEntries(trainable.map((p) => [p.path, g.params[p.path].data as Float64Array])) };
  };
  // The model gets copies: the optimiser changes `params` in place, and earlier runs' traces keep the values they ran with.
  const apply = (updated: Tensors) => trainable.forEach((p) => model.graph.values.set(p, { shape: model.graph.values.get(p)!.shape, data: Float64Array.from(updated[p.path]) }));
  return loop(model, model.name, options, params, compute, apply);
}

/** @internal For tests: the live view's chart without a kernel. */
export const progressChart = (name: string, losses: number[], line: string): Chart => new Progress(name).chart(losses, line);
