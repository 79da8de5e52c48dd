/**
 * Toy data and training loops for the gradient-trick entries (notebook 18 and its tests): each
 * loop is a few lines around `model.backward`, written out so the trick is visible — DANN seeds
 * its summed loss (the reversal layer does the rest), DNI seeds each layer with its synthetic
 * gradient and each module with its error, RAM seeds its hybrid loss and draws fresh policy
 * noise every step. Data are generated from a seed; nothing is downloaded.
 */
import seedrandom from "seedrandom";
import { errors } from "../errors";
import type { Model, ND } from "../lang";
import { adam, type Optimizer } from "../train/optimizers";
import { dann, type DannOptions } from "./dann";
import { ram, type RamOptions } from "./ram";
import { whole } from "./entry";

/** Points [n, 2] with integer labels. */
export interface Points {
  x: number[][];
  y: number[];
}

/** The index of each row's largest entry, for logits [n, K]. */
export function argmaxRows(logits: ND): number[] {
  const K = logits.shape[logits.shape.length - 1];
  return Array.from({ length: logits.data.length / K }, (_, i) => {
    let best = 0;
    for (let k = 1; k < K; k++) if (logits.data[i * K + k] > logits.data[i * K + best]) best = k;
    return best;
  });
}

/** The fraction of rows whose largest logit is the label. */
export const accuracy = (logits: ND, labels: readonly number[]) => argmaxRows(logits).reduce((s, c, i) => s + (c === labels[i] ? 1 : 0), 0) / labels.length;

/**
 * Two interleaving half-moons (the DANN paper's toy problem), centred at the origin, rotated by
 * `angle` degrees: `twoMoons({ n: 100, angle: 0 })` a source domain, `angle: 35` its shifted target.
 */
export function twoMoons(options: { n?: number; angle?: number; noise?: number; seed?: number } = {}): Points {
  const { n = 100, angle = 0, noise = 0.1, seed = 0 } = options;
  whole("twoMoons", "n", n);
  const random = seedrandom(`moons:${seed}`);
  const rot = (angle * Math.PI) / 180;
  const x: number[][] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 2, t = Math.PI * random();
    const px = (c === 0 ? Math.cos(t) : 1 - Math.cos(t)) - 0.5 + noise * (2 * random() - 1);
    const py = (c === 0 ? Math.sin(t) : 0.5 - Math.sin(t)) - 0.25 + noise * (2 * random() - 1);
    x.push([Math.cos(rot) * px - Math.sin(rot) * py, Math.sin(rot) * px + Math.cos(rot) * py]);
    y.push(c);
  }
  return { x, y };
}

/** A `classes`-armed spiral in the unit disc (each arm a class): a small task no linear model solves. */
export function spiral(options: { n?: number; classes?: number; seed?: number } = {}): Points {
  const { n = 300, classes = 3, seed = 0 } = options;
  whole("spiral", "n", n);
  whole("spiral", "classes", classes, 2);
  const random = seedrandom(`spiral:${seed}`);
  const x: number[][] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % classes, r = (Math.floor(i / classes) + 0.5) / Math.ceil(n / classes);
    const t = (2 * Math.PI * k) / classes + 4 * r + 0.2 * (2 * random() - 1);
    x.push([r * Math.sin(t), r * Math.cos(t)]);
    y.push(k);
  }
  return { x, y };
}

/** Noisy images [n, size, size] (grey levels in [0, 0.3)) each with one bright 3 × 3 square; the label is its quadrant (0 top left, 1 top right, 2 bottom left, 3 bottom right). */
export function brightSquares(options: { n?: number; size?: number; seed?: number } = {}): { x: number[][][]; y: number[] } {
  const { n = 32, size = 16, seed = 0 } = options;
  whole("brightSquares", "n", n);
  if (whole("brightSquares", "size", size, 8) % 2 !== 0) throw errors.badOption("size of brightSquares", size, "an even whole number ≥ 8");
  const random = seedrandom(`squares:${seed}`);
  const half = size / 2;
  const x: number[][][] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    const img = Array.from({ length: size }, () => Array.from({ length: size }, () => 0.3 * random()));
    const q = Math.floor(random() * 4);
    const r0 = (q >> 1) * half + Math.floor(random() * (half - 2)), c0 = (q & 1) * half + Math.floor(random() * (half - 2));
    for (let r = r0; r < r0 + 3; r++) for (let c = c0; c < c0 + 3; c++) img[r][c] = 1;
    x.push(img);
    y.push(q);
  }
  return { x, y };
}

/** One optimiser step on every trainable parameter of `net` from gradients by path. */
function step(net: Model, optimizer: Optimizer, grads: Record<string, ND>) {
  const paths = Object.keys(grads);
  optimizer.step(Object.fromEntries(paths.map((p) => [p, net.params[p].data as Float64Array])), Object.fromEntries(paths.map((p) => [p, grads[p].data as Float64Array])));
}

/** A model's twin built by `make` with another model's weights (an option that is an attribute of the definition — RAM's policy noise, DANN's λ — changes by rebuilding). */
export function withWeights<M extends Model>(twin: M, weights: Model): M {
  for (const [p, v] of Object.entries(weights.params)) twin.params[p].data.set(v.data);
  return twin;
}

/**
 * Trains a DANN full-batch on labelled source points and unlabelled target points, with the
 * paper's schedule (§5.2.2): λ_p = λ·(2 / (1 + e^(−10p)) − 1) rising from 0 to λ as training
 * progresses (p from 0 to 1) — λ is an attribute of the reversal layer, so each step rebuilds the
 * model with the weights so far. Each step seeds `loss` = label loss + domain loss; the reversal
 * layer turns the domain loss's gradient around before it reaches the features. Returns the
 * trained model, the losses per step and the accuracies on the source and on held-out target points.
 */
export async function trainDann(options: DannOptions, data: { source: Points; target: Points; test: Points }, train: { steps?: number; lr?: number } = {}) {
  const { steps = 300, lr = 0.01 } = train;
  const lambda = options.lambda ?? 1;
  const { source, target, test } = data;
  const x = [...source.x, ...target.x];
  const y = [...source.y, ...target.y.map(() => 0)]; // target labels are not used (the label loss counts source rows only)
  const domain = [...source.y.map(() => 0), ...target.y.map(() => 1)];
  const optimizer = adam({ lr });
  const history: { step: number; lambda: number; labelLoss: number; domainLoss: number }[] = [];
  let net = dann({ ...options, lambda: 0 });
  for (let s = 0; s < steps; s++) {
    const lambdaP = lambda * (2 / (1 + Math.exp((-10 * s) / steps)) - 1);
    net = withWeights(dann({ ...options, lambda: lambdaP }), net);
    const run = await net.run({ x, y, domain });
    step(net, optimizer, net.backward(run, { loss: 1 }).params);
    history.push({ step: s, lambda: lambdaP, labelLoss: run.outputs.labelLoss.data[0], domainLoss: run.outputs.domainLoss.data[0] });
  }
  net = withWeights(dann(options), net);
  const score = async (p: Points, d: number) => accuracy((await net.run({ x: p.x, y: p.y, domain: p.y.map(() => d) })).outputs.y, p.y);
  return { net, history, sourceAccuracy: await score(source, 0), targetAccuracy: await score(test, 1) };
}

/**
 * One DNI step's gradients for every parameter. Decoupled (`zoo.dni()`): each layer's from its
 * synthetic gradient ĝ_i (seeded at h_i), the output layer's from the loss, and each module M_i's
 * from its error ĝ_i − δ_i, where δ_i is the gradient the layer above sent back to its input.
 * Not decoupled: backpropagation of the loss.
 */
export function dniGradients(net: Model, run: Awaited<ReturnType<Model["run"]>>): Record<string, ND> {
  const layers = Object.keys(run.outputs).filter((k) => /^h\d+$/.test(k)).length;
  if (!("g1" in run.outputs)) return net.backward(run, { loss: 1 }).params;
  const seeds: Record<string, ND | number> = { loss: 1 };
  for (let i = 1; i <= layers; i++) seeds[`h${i}`] = run.outputs[`g${i}`];
  const g = net.backward(run, seeds);
  const errorsOf: Record<string, ND> = {};
  for (let i = 1; i <= layers; i++) {
    const [synthetic, sent] = [run.outputs[`g${i}`], g.trace.get(i < layers ? `layer${i + 1}/in` : "output/in")];
    errorsOf[`g${i}`] = { shape: synthetic.shape, data: Float64Array.from(synthetic.data, (v, k) => v - sent.data[k]) };
  }
  const modules = net.backward(run, errorsOf).params;
  return Object.fromEntries(Object.keys(g.params).map((p) => [p, /^M\d+\//.test(p) ? modules[p] : g.params[p]]));
}

/** Trains DNI (or its backprop twin) full-batch on points; returns the loss and accuracy per step. */
export async function trainDni(net: Model, data: Points, options: { steps?: number; lr?: number } = {}) {
  const { steps = 300, lr = 0.01 } = options;
  const optimizer = adam({ lr });
  const history: { step: number; loss: number; accuracy: number }[] = [];
  for (let s = 0; s < steps; s++) {
    const run = await net.run({ x: data.x, y: data.y });
    step(net, optimizer, dniGradients(net, run));
    history.push({ step: s, loss: run.outputs.loss.data[0], accuracy: accuracy(run.outputs.y, data.y) });
  }
  return history;
}

/** A RAM with another model's weights and its own policy noise (`noiseSeed`): the noise is an attribute of the model, so each training step builds its twin. */
export const ramWithWeights = (options: RamOptions, weights: Model) => withWeights(ram(options), weights);

/**
 * Trains RAM on batches from `batches(step)`: each step draws fresh policy noise, seeds the hybrid
 * loss (classification + REINFORCE + baseline) and takes an Adam step. Returns the trained model
 * (noise seed 0) and the losses and mean reward per step.
 */
export async function trainRam(options: RamOptions, batches: (step: number) => { x: number[][][]; y: number[] }, train: { steps?: number; lr?: number } = {}) {
  const { steps = 200, lr = 0.003 } = train;
  let net = ram(options);
  const optimizer = adam({ lr });
  const history: { step: number; classLoss: number; reward: number }[] = [];
  for (let s = 0; s < steps; s++) {
    net = ramWithWeights({ ...options, noiseSeed: s + 1 }, net);
    const batch = batches(s);
    const run = await net.run(batch);
    step(net, optimizer, net.backward(run, { loss: 1 }).params);
    const R = run.outputs.reward.data;
    history.push({ step: s, classLoss: run.outputs.classLoss.data[0], reward: Array.from(R).reduce((a, b) => a + b, 0) / R.length });
  }
  return { net: ramWithWeights({ ...options, noiseSeed: 0 }, net), history };
}
