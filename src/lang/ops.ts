/**
 * The op table: every op of the definition language, each with its shape rule, its notation, its
 * value range for plots, its reference kernel (float64 loops, nd.ts), its fast kernel (tfjs-core;
 * absent when the reference kernel is the fast one too) and its gradient-rule slot. The table is a
 * `Record<OpKind, OpSpec>`: adding an op without all of its parts does not compile.
 *
 * The op functions users call (`matmul(a, b)`, `softmax(x, "S")`, `conv2d(x, w, { stride: 2 })`)
 * are at the end: each checks its operands through the table's shape rule and adds one node.
 */
import type * as tfc from "@tensorflow/tfjs-core";
import seedrandom from "seedrandom";
import { ArchlabError } from "../errors";
import { addNode } from "./build";
import { Tensor, shapeError, type DType } from "./graph";
import * as nd from "./nd";
import { type ND } from "./nd";
import { floorDiv, plus, sameSize, showShape, size, times, type Shape, type SizeLike } from "./size";

type TF = typeof tfc;
type Attrs = Record<string, any>;

/** What a kernel may read besides its operands. */
export interface KernelContext {
  /** Training mode: dropout drops, batch norm uses the batch's statistics. */
  readonly training: boolean;
  /** The step of the innermost scan (0 outside scans): random ops draw afresh each step. */
  readonly step: number;
  /** The node's path, for messages. */
  readonly path: string;
  /** Every size's value in this run (the model's and those read from the inputs' shapes). */
  readonly sizes: Readonly<Record<string, number>>;
}

/** A symbolic shape attribute's concrete value in this run. */
const concrete = (shape: Shape, ctx: KernelContext) => shape.map((s) => s.eval(ctx.sizes, ctx.path));

/** One op's entry in the table. */
export interface OpSpec {
  /** The result's shape and element type from the operands', or a named shape error. */
  shape(inputs: readonly Tensor[], attrs: Attrs): { shape: Shape; dtype: DType };
  /** How the op is written, given its operands' symbols: `σ(x)`, `a ⊙ b`, `softmax_S(x)`. */
  notation(args: readonly string[], attrs: Attrs): string;
  /** The values the op can produce, for fixed plot scales; undefined when unbounded. */
  range?: readonly [number, number];
  /** Reference kernel: float64 loops that are obviously right. */
  ref(inputs: readonly ND[], attrs: Attrs, ctx: KernelContext): ND;
  /** Fast kernel on tfjs-core (float32); undefined when the reference kernel is used on the fast path too. */
  fast?: (tf: TF, inputs: tfc.Tensor[], attrs: Attrs, ctx: KernelContext) => tfc.Tensor;
  /** The gradient rule (vector–Jacobian product), filled in with the backward pass of the language. */
  vjp?: undefined;
}

const same = (inputs: readonly Tensor[]) => ({ shape: inputs[0].shape, dtype: "float" as DType });

/** Result shape of broadcasting symbolic shapes (right-aligned; a size-1 axis stretches). */
function broadcast(op: string, a: Tensor, b: Tensor, drop = 0): Shape {
  const [sa, sb] = [a.shape.slice(0, a.rank - drop), b.shape.slice(0, b.rank - drop)];
  const n = Math.max(sa.length, sb.length);
  const out: Shape[number][] = [];
  for (let i = 0; i < n; i++) {
    const x = sa[sa.length - n + i];
    const y = sb[sb.length - n + i];
    if (x === undefined || x.constant === 1) out.push(y);
    else if (y === undefined || y.constant === 1 || sameSize(x, y)) out.push(x);
    else throw shapeError(op, "the right operand", b, `a shape that broadcasts with ${a.path}'s ${showShape(a.shape)}`, "Axes are matched from the right; each pair must be equal or one of them 1.");
  }
  return out;
}

function unary(symbol: (x: string) => string, f: (x: number) => number, fast: (tf: TF, x: tfc.Tensor) => tfc.Tensor, range?: readonly [number, number]): OpSpec {
  return { shape: same, notation: ([x]) => symbol(x), range, ref: ([x]) => nd.map(x, f), fast: (tf, [x]) => fast(tf, x) };
}

function binary(symbol: string, f: (x: number, y: number) => number, fast: (tf: TF, a: tfc.Tensor, b: tfc.Tensor) => tfc.Tensor): OpSpec {
  return {
    shape: (inputs, attrs) => ({ shape: broadcast(attrs.op, inputs[0], inputs[1]), dtype: "float" }),
    notation: ([a, b]) => `${a} ${symbol} ${b}`,
    ref: ([a, b]) => nd.zip(a, b, f),
    fast: (tf, [a, b]) => fast(tf, a, b),
  };
}

/** The axis indices of named or numbered axes of `t` (`"S"`, `-1`, `["H", "W"]`). */
export function axesOf(op: string, t: Tensor, axes: SizeLike | readonly SizeLike[] | undefined): number[] {
  if (axes === undefined) return t.shape.map((_, i) => i);
  const list = Array.isArray(axes) ? axes : [axes];
  return list.map((a) => {
    if (typeof a === "number" && Number.isInteger(a)) {
      const i = a < 0 ? t.rank + a : a;
      if (i < 0 || i >= t.rank) throw shapeError(op, "the operand", t, `an axis ${a} (it has ${t.rank} axes)`);
      return i;
    }
    const key = size(a as SizeLike).key;
    const found = t.shape.flatMap((s, i) => (s.key === key ? [i] : []));
    if (found.length !== 1)
      throw shapeError(op, "the operand", t, found.length ? `one axis named ${key}, but several have that size: give the axis by number` : `an axis named ${key}`);
    return found[0];
  });
}

const logistic = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplusOf = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

/** Host-side random draws, so the reference and fast paths see the same numbers: seeded by the op's seed and the step. */
function draws(shape: readonly number[], seed: number, step: number, f: (random: () => number) => number): ND {
  const random = seedrandom(`${seed}:${step}`);
  const out = nd.zeros(shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = f(random);
  return out;
}
const gaussian = (random: () => number) => {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
};

/** Output length of a sliding window over `n` with kernel `k`, `stride`, padding and dilation (`same` as TensorFlow). */
function windowSize(n: Shape[number], k: number, stride: number, pad: number | "same" | "valid", dilation = 1) {
  const eff = (k - 1) * dilation + 1;
  if (pad === "same") return floorDiv(plus(n, stride - 1), stride);
  const p = pad === "valid" ? 0 : pad;
  return plus(floorDiv(plus(n, 2 * p - eff), stride), 1);
}

function nhwc(op: string, x: Tensor) {
  if (x.rank !== 4) throw shapeError(op, "the image", x, "[B, H, W, C] (NHWC)");
  return x.shape;
}

function padOf(p: unknown): number | "same" | "valid" {
  return p === "same" || p === "valid" ? p : (p as number) ?? 0;
}

/** The op table. */
export const OPS = {
  // Wiring: interpreted by the interpreters themselves; their kernels are never called.
  input: { shape: () => ({ shape: [], dtype: "float" }), notation: () => "input", ref: wiring("input") },
  param: { shape: () => ({ shape: [], dtype: "float" }), notation: () => "param", ref: wiring("param") },
  step: { shape: () => ({ shape: [], dtype: "float" }), notation: ([], a) => `${(a.of as Tensor).name}ₜ`, ref: wiring("step") },
  state: { shape: () => ({ shape: [], dtype: "float" }), notation: () => "state", ref: wiring("state") },
  scan: { shape: () => ({ shape: [], dtype: "float" }), notation: () => "scan", ref: wiring("scan") },
  scanOut: { shape: () => ({ shape: [], dtype: "float" }), notation: () => "stack", ref: wiring("scanOut") },
  scanFinal: { shape: () => ({ shape: [], dtype: "float" }), notation: () => "last", ref: wiring("scanFinal") },
  identity: { shape: (i) => ({ shape: i[0].shape, dtype: i[0].dtype }), notation: ([x]) => x, ref: ([x]) => x, fast: (_tf, [x]) => x },
  constant: {
    shape: () => ({ shape: [], dtype: "float" }),
    notation: (_args, a) => String(a.text),
    ref: (_i, a) => a.value as ND,
  },

  neg: unary((x) => `−${x}`, (x) => -x, (tf, x) => tf.neg(x)),
  exp: unary((x) => `exp(${x})`, Math.exp, (tf, x) => tf.exp(x), [0, Infinity]),
  log: unary((x) => `log(${x})`, Math.log, (tf, x) => tf.log(x)),
  sqrt: unary((x) => `√${x}`, Math.sqrt, (tf, x) => tf.sqrt(x), [0, Infinity]),
  abs: unary((x) => `|${x}|`, Math.abs, (tf, x) => tf.abs(x), [0, Infinity]),
  tanh: unary((x) => `tanh(${x})`, Math.tanh, (tf, x) => tf.tanh(x), [-1, 1]),
  sigmoid: unary((x) => `σ(${x})`, logistic, (tf, x) => tf.sigmoid(x), [0, 1]),
  relu: unary((x) => `relu(${x})`, (x) => Math.max(x, 0), (tf, x) => tf.relu(x), [0, Infinity]),
  softplus: unary((x) => `softplus(${x})`, softplusOf, (tf, x) => tf.softplus(x), [0, Infinity]),
  pow: {
    shape: same,
    notation: ([x], a) => `${x}^${a.p}`,
    ref: ([x], a) => nd.map(x, (v) => Math.pow(v, a.p)),
    fast: (tf, [x], a) => tf.pow(x, tf.scalar(a.p)),
  },

  fill: {
    shape: (_i, a) => ({ shape: a.shape, dtype: "float" }),
    notation: (_args, a) => String(a.value),
    ref: (_i, a, ctx) => {
      const out = nd.zeros(concrete(a.shape, ctx), ctx.path);
      out.data.fill(a.value);
      return out;
    },
    fast: (tf, _i, a, ctx) => tf.fill(concrete(a.shape, ctx), a.value),
  },
  clip: {
    shape: same,
    notation: ([x], a) => `clip(${x}, ${a.lo}, ${a.hi})`,
    ref: ([x], a) => nd.map(x, (v) => Math.min(a.hi, Math.max(a.lo, v))),
    fast: (tf, [x], a) => tf.clipByValue(x, a.lo, a.hi),
  },

  add: binary("+", (x, y) => x + y, (tf, a, b) => tf.add(a, b)),
  sub: binary("−", (x, y) => x - y, (tf, a, b) => tf.sub(a, b)),
  mul: binary("⊙", (x, y) => x * y, (tf, a, b) => tf.mul(a, b)),
  div: binary("/", (x, y) => x / y, (tf, a, b) => tf.div(a, b)),
  where: {
    shape: (i) => ({ shape: broadcast("where", i[1], i[2]), dtype: "float" }),
    notation: ([m, a, b]) => `${m} ? ${a} : ${b}`,
    ref: ([m, a, b]) => nd.zip3(m, a, b, (c, x, y) => (c !== 0 ? x : y)),
  },

  matmul: {
    shape([a, b]): { shape: Shape; dtype: DType } {
      if (a.rank < 2 || b.rank < 2) throw shapeError("matmul", "an operand", a.rank < 2 ? a : b, "at least 2 axes ([…, m, k] × […, k, n]); use dot or outer for vectors");
      const k1 = a.shape[a.rank - 1];
      const k2 = b.shape[b.rank - 2];
      if (!sameSize(k1, k2)) throw shapeError("matmul", "the right operand", b, `[…, ${k1.key}, n] to match ${a.path}'s ${showShape(a.shape)}`);
      return { shape: [...broadcast("matmul", a, b, 2), a.shape[a.rank - 2], b.shape[b.rank - 1]], dtype: "float" };
    },
    notation: ([a, b]) => `${a} ${b}`,
    ref: ([a, b]) => nd.matmul(a, b),
    fast: (tf, [a, b]) => tf.matMul(a, b),
  },
  dot: {
    shape([a, b]): { shape: Shape; dtype: DType } {
      if (!sameSize(a.shape[a.rank - 1], b.shape[b.rank - 1])) throw shapeError("dot", "the right operand", b, `a last axis equal to ${a.path}'s ${showShape(a.shape)}`);
      return { shape: broadcast("dot", a, b, 1), dtype: "float" };
    },
    notation: ([a, b]) => `⟨${a}, ${b}⟩`,
    ref: ([a, b]) => nd.reduce(nd.zip(a, b, (x, y) => x * y), [Math.max(a.shape.length, b.shape.length) - 1], 0, (s, x) => s + x),
    fast: (tf, [a, b]) => tf.sum(tf.mul(a, b), -1),
  },
  outer: {
    shape([a, b]) {
      return { shape: [...broadcast("outer", a, b, 1), a.shape[a.rank - 1], b.shape[b.rank - 1]], dtype: "float" };
    },
    notation: ([a, b]) => `${a} ⊗ ${b}`,
    ref: ([a, b]) => nd.zip(nd.reshape(a, [...a.shape, 1]), nd.reshape(b, [...b.shape.slice(0, -1), 1, b.shape[b.shape.length - 1]]), (x, y) => x * y),
    fast: (tf, [a, b]) => tf.mul(tf.expandDims(a, -1), tf.expandDims(b, -2)),
  },

  sum: reduction("Σ", 0, (s, x) => s + x, (s) => s, (tf, x, axes) => tf.sum(x, axes)),
  mean: reduction("mean", 0, (s, x) => s + x, (s, n) => s / n, (tf, x, axes) => tf.mean(x, axes)),
  max: reduction("max", -Infinity, Math.max, (s) => s, (tf, x, axes) => tf.max(x, axes)),
  norm: {
    shape: reductionShape,
    notation: ([x]) => `‖${x}‖`,
    range: [0, Infinity],
    ref: ([x], a) => nd.reduce(x, a.axes, 0, (s, v) => s + v * v, Math.sqrt),
    fast: (tf, [x], a) => tf.sqrt(tf.sum(tf.square(x), a.axes)),
  },
  softmax: {
    shape: same,
    notation: ([x], a) => `softmax_${a.axisName}(${x})`,
    range: [0, 1],
    ref: ([x], a) => softmaxRef(x, a.axis, false),
    fast: (tf, [x], a) => tf.exp(tf.sub(x, tf.logSumExp(x, a.axis, true))),
  },
  logSoftmax: {
    shape: same,
    notation: ([x], a) => `log softmax_${a.axisName}(${x})`,
    range: [-Infinity, 0],
    ref: ([x], a) => softmaxRef(x, a.axis, true),
    fast: (tf, [x], a) => tf.sub(x, tf.logSumExp(x, a.axis, true)),
  },
  cosine: {
    shape: ([a, b]): { shape: Shape; dtype: DType } => {
      if (!sameSize(a.shape[a.rank - 1], b.shape[b.rank - 1])) throw shapeError("cosine", "the right operand", b, `a last axis equal to ${a.path}'s ${showShape(a.shape)}`);
      return { shape: broadcast("cosine", a, b, 1), dtype: "float" };
    },
    notation: ([a, b]) => `cos(${a}, ${b})`,
    range: [-1, 1],
    ref([a, b]) {
      const last = Math.max(a.shape.length, b.shape.length) - 1;
      const d = nd.reduce(nd.zip(a, b, (x, y) => x * y), [last], 0, (s, x) => s + x);
      const na = nd.reduce(a, [a.shape.length - 1], 0, (s, v) => s + v * v, Math.sqrt);
      const nb = nd.reduce(b, [b.shape.length - 1], 0, (s, v) => s + v * v, Math.sqrt);
      return nd.zip(d, nd.zip(na, nb, (x, y) => x * y), (x, y) => x / Math.max(y, 1e-8));
    },
    fast: (tf, [a, b]) => tf.div(tf.sum(tf.mul(a, b), -1), tf.maximum(tf.mul(tf.norm(a, "euclidean", -1), tf.norm(b, "euclidean", -1)), 1e-8)),
  },

  concat: {
    shape(inputs, a) {
      const [first] = inputs;
      let total = first.shape[a.axis];
      for (const t of inputs.slice(1)) {
        if (t.rank !== first.rank || t.shape.some((s, i) => i !== a.axis && !sameSize(s, first.shape[i])))
          throw shapeError("concat", "an operand", t, `${showShape(first.shape)} on every axis but ${a.axis}`);
        total = plus(total, t.shape[a.axis]);
      }
      return { shape: first.shape.map((s, i) => (i === a.axis ? total : s)), dtype: first.dtype };
    },
    notation: (args) => `[${args.join("; ")}]`,
    ref: (inputs, a) => nd.concat(inputs, a.axis),
    fast: (tf, inputs, a) => tf.concat(inputs, a.axis),
  },
  slice: {
    shape: ([x], a) => ({ shape: x.shape.map((s, i) => (i === a.axis ? size(a.length) : s)), dtype: x.dtype }),
    notation: ([x], a) => `${x}[${a.start}:${a.start}+${a.length}]`,
    ref: ([x], a) => nd.slice(x, a.axis, a.start, a.length),
    fast: (tf, [x], a) => tf.slice(x, x.shape.map((_, i) => (i === a.axis ? a.start : 0)), x.shape.map((d, i) => (i === a.axis ? a.length : d))),
  },
  reshape: {
    shape: ([x], a) => ({ shape: a.shape, dtype: x.dtype }),
    notation: ([x]) => x,
    ref: ([x], a, ctx) => nd.reshape(x, concrete(a.shape, ctx)),
    fast: (tf, [x], a, ctx) => tf.reshape(x, concrete(a.shape, ctx)),
  },
  transpose: {
    shape: ([x], a) => ({ shape: (a.perm as number[]).map((p) => x.shape[p]), dtype: x.dtype }),
    notation: ([x]) => `${x}ᵀ`,
    ref: ([x], a) => nd.transpose(x, a.perm),
    fast: (tf, [x], a) => tf.transpose(x, a.perm),
  },
  gather: {
    shape([table, ids]) {
      if (ids.dtype !== "int") throw shapeError("embedding", "the ids", ids, "whole-number ids (an input declared with { dtype: \"int\" })");
      return { shape: [...ids.shape, ...table.shape.slice(1)], dtype: table.dtype };
    },
    notation: ([table, ids]) => `${table}[${ids}]`,
    ref: ([table, ids], _a, ctx) => nd.gather(table, ids, ctx.path),
  },
  oneHot: {
    shape: ([ids], a) => ({ shape: [...ids.shape, size(a.depth)], dtype: "float" }),
    notation: ([ids]) => `onehot(${ids})`,
    range: [0, 1],
    ref([ids], a, ctx) {
      const table = nd.zeros([a.depth, a.depth]);
      for (let i = 0; i < a.depth; i++) table.data[i * a.depth + i] = 1;
      return nd.gather(table, ids, ctx.path);
    },
  },

  conv2d: {
    shape([x, w], a) {
      const [B, H, W, C] = nhwc("conv2d", x);
      if (w.rank !== 4 || !sameSize(w.shape[2], C)) throw shapeError("conv2d", "the filter", w, `[KH, KW, ${C.key}, Cout] for ${x.path}'s ${showShape(x.shape)}`);
      const [kh, kw] = [w.shape[0].constant, w.shape[1].constant];
      if (kh === undefined || kw === undefined) throw shapeError("conv2d", "the filter", w, "a kernel size given as numbers");
      return { shape: [B, windowSize(H, kh, a.stride, a.padding, a.dilation), windowSize(W, kw, a.stride, a.padding, a.dilation), w.shape[3]], dtype: "float" };
    },
    notation: ([x, w]) => `${w} ⋆ ${x}`,
    ref: ([x, w], a) => nd.conv2d(x, w, a.stride, a.padding, a.dilation),
    fast: (tf, [x, w], a) => tf.conv2d(x as tfc.Tensor4D, w as tfc.Tensor4D, a.stride, typeof a.padding === "number" ? [[0, 0], [a.padding, a.padding], [a.padding, a.padding], [0, 0]] : a.padding, "NHWC", a.dilation),
  },
  maxPool: pooling("max"),
  avgPool: pooling("avg"),
  upsample: {
    shape([x], a) {
      const [B, H, W, C] = nhwc("upsample", x);
      return { shape: [B, times(H, a.factor), times(W, a.factor), C], dtype: "float" };
    },
    notation: ([x], a) => `↑${a.factor}(${x})`,
    ref: ([x], a) => nd.upsample(x, a.factor),
    fast: (tf, [x], a) => tf.image.resizeNearestNeighbor(x as tfc.Tensor4D, [x.shape[1]! * a.factor, x.shape[2]! * a.factor]),
  },
  batchNorm: {
    shape(inputs) {
      const [x, ...stats] = inputs;
      const C = x.shape[x.rank - 1];
      for (const s of stats) if (s.rank !== 1 || !sameSize(s.shape[0], C)) throw shapeError("batchNorm", "a statistic or scale", s, `[${C.key}] (one per channel, the last axis of ${x.path})`);
      return same(inputs);
    },
    notation: ([x]) => `BN(${x})`,
    ref([x, gamma, beta, mean, variance], a, ctx) {
      const axes = x.shape.slice(0, -1).map((_, i) => i);
      const m = ctx.training ? nd.reduce(x, axes, 0, (s, v) => s + v, (s, n) => s / n) : mean;
      const centred = nd.zip(x, m, (v, mu) => v - mu);
      const v = ctx.training ? nd.reduce(centred, axes, 0, (s, d) => s + d * d, (s, n) => s / n) : variance;
      return affine(nd.zip(centred, v, (c, s) => c / Math.sqrt(s + a.eps)), gamma, beta);
    },
  },
  layerNorm: {
    shape: same,
    notation: ([x]) => `LN(${x})`,
    ref([x, gamma, beta], a) {
      const last = [x.shape.length - 1];
      const m = nd.reduce(x, last, 0, (s, v) => s + v, (s, n) => s / n, true);
      const centred = nd.zip(x, m, (v, mu) => v - mu);
      const v = nd.reduce(centred, last, 0, (s, d) => s + d * d, (s, n) => s / n, true);
      return affine(nd.zip(centred, v, (c, s) => c / Math.sqrt(s + a.eps)), gamma, beta);
    },
  },
  dropout: {
    shape: same,
    notation: ([x]) => `dropout(${x})`,
    ref: ([x], a, ctx) => (ctx.training && a.rate > 0 ? nd.zip(x, draws(x.shape, a.seed, ctx.step, (r) => (r() < a.rate ? 0 : 1 / (1 - a.rate))), (v, m) => v * m) : x),
  },
  randomNormal: { shape: (_i, a) => ({ shape: a.shape, dtype: "float" }), notation: () => "𝒩(0, 1)", ref: (_i, a, ctx) => draws(concrete(a.shape, ctx), a.seed, ctx.step, gaussian) },
  randomUniform: { shape: (_i, a) => ({ shape: a.shape, dtype: "float" }), notation: () => "U(0, 1)", range: [0, 1], ref: (_i, a, ctx) => draws(concrete(a.shape, ctx), a.seed, ctx.step, (r) => r()) },
  bernoulli: {
    shape: same,
    notation: ([p]) => `Bernoulli(${p})`,
    range: [0, 1],
    ref: ([p], a, ctx) => nd.zip(p, draws(p.shape, a.seed, ctx.step, (r) => r()), (q, u) => (u < q ? 1 : 0)),
  },
  stopGradient: { shape: same, notation: ([x]) => `sg(${x})`, ref: ([x]) => x, fast: (_tf, [x]) => x },
  gradReverse: { shape: same, notation: ([x]) => `R(${x})`, ref: ([x]) => x, fast: (_tf, [x]) => x },
} satisfies Record<string, OpSpec>;

/** Every op of the language. */
export type OpKind = keyof typeof OPS;

function wiring(op: string): OpSpec["ref"] {
  return () => {
    throw new Error(`internal: the ${op} node is wiring; the interpreter handles it`);
  };
}

function affine(z: ND, gamma: ND, beta: ND): ND {
  return nd.zip(nd.zip(z, gamma, (x, g) => x * g), beta, (x, b) => x + b);
}

function softmaxRef(x: ND, axis: number, log: boolean): ND {
  const m = nd.reduce(x, [axis], -Infinity, Math.max, (s) => s, true);
  const shifted = nd.zip(x, m, (v, mu) => v - mu);
  const lse = nd.reduce(shifted, [axis], 0, (s, v) => s + Math.exp(v), Math.log, true);
  return nd.zip(shifted, lse, (v, l) => (log ? v - l : Math.exp(v - l)));
}

function reductionShape([x]: readonly Tensor[], a: Attrs) {
  return { shape: x.shape.filter((_, i) => !a.axes.includes(i)), dtype: "float" as DType };
}

function reduction(symbol: string, init: number, step: (acc: number, x: number) => number, finish: (acc: number, n: number) => number, fast: (tf: TF, x: tfc.Tensor, axes: number[]) => tfc.Tensor): OpSpec {
  return {
    shape: reductionShape,
    notation: ([x], a) => `${symbol}_${a.axisNames}(${x})`,
    ref: ([x], a) => nd.reduce(x, a.axes, init, step, finish),
    fast: (tf, [x], a) => fast(tf, x, a.axes),
  };
}

function pooling(kind: "max" | "avg"): OpSpec {
  return {
    shape([x], a) {
      const [B, H, W, C] = nhwc(`${kind}Pool`, x);
      return { shape: [B, windowSize(H, a.size, a.stride, a.padding), windowSize(W, a.size, a.stride, a.padding), C], dtype: "float" };
    },
    notation: ([x], a) => `${kind}pool${a.size}(${x})`,
    ref: ([x], a) => nd.pool(x, kind, a.size, a.stride, a.padding),
    fast: (tf, [x], a) =>
      (kind === "max" ? tf.maxPool : tf.avgPool)(x as tfc.Tensor4D, a.size, a.stride, typeof a.padding === "number" ? (a.padding === 0 ? "valid" : (() => { throw new ArchlabError("unsupported", `${kind}Pool: a numeric padding other than 0 runs on the reference interpreter only; use "same" or "valid".`); })()) : a.padding),
  };
}

// ───────────────────────────── the op functions users call ─────────────────────────────

/** Adds one node of `op`, its shape from the table's rule. */
function apply(op: OpKind, inputs: Tensor[], attrs: Attrs = {}): Tensor {
  const table: Record<OpKind, OpSpec> = OPS;
  for (const t of inputs) if (!(t instanceof Tensor)) throw new ArchlabError("bad-operand", `${op}: an operand is ${t === undefined ? "undefined" : typeof t}, not a tensor of a model. Pass tensors made by input(), param() or an op.`);
  const { shape, dtype } = table[op].shape(inputs, { op, ...attrs });
  return addNode(op, inputs, attrs, shape, dtype);
}

/** A scalar or array operand as a constant node. */
function lift(v: Tensor | number): Tensor {
  return v instanceof Tensor ? v : constant(v);
}

/** A constant: a number, or nested arrays of numbers. */
export function constant(value: number | ND): Tensor {
  const v: ND = typeof value === "number" ? { shape: [], data: Float64Array.of(value) } : value;
  const text = typeof value === "number" ? String(value) : `const${showShape(v.shape.map((d) => size(d)))}`;
  return addNode("constant", [], { value: v, text }, v.shape.map((d) => size(d)), "float");
}

export const neg = (x: Tensor) => apply("neg", [x]);
export const exp = (x: Tensor) => apply("exp", [x]);
export const log = (x: Tensor) => apply("log", [x]);
export const sqrt = (x: Tensor) => apply("sqrt", [x]);
export const abs = (x: Tensor) => apply("abs", [x]);
export const tanh = (x: Tensor) => apply("tanh", [x]);
export const sigmoid = (x: Tensor) => apply("sigmoid", [x]);
export const relu = (x: Tensor) => apply("relu", [x]);
export const softplus = (x: Tensor) => apply("softplus", [x]);
export const pow = (x: Tensor, p: number) => apply("pow", [x], { p });
/** A tensor of one value with a symbolic shape (zeros for an initial state: `fill(["B", "H"], 0)`). */
export const fill = (shape: SizeLike[], value = 0) => {
  if (!Number.isFinite(value)) throw new ArchlabError("bad-option", `fill: the value must be a finite number, not ${value}.`);
  return apply("fill", [], { shape: shape.map((s) => size(s)), value });
};
/** Values limited to [lo, hi] (a hard sigmoid is clip(0.2x + 0.5, 0, 1)). */
export const clip = (x: Tensor, lo: number, hi: number) => {
  if (!(lo <= hi)) throw new ArchlabError("bad-option", `clip: lo must be ≤ hi, got ${lo} and ${hi}.`);
  return apply("clip", [x], { lo, hi });
};
export const add = (a: Tensor | number, b: Tensor | number) => apply("add", [lift(a), lift(b)]);
export const sub = (a: Tensor | number, b: Tensor | number) => apply("sub", [lift(a), lift(b)]);
export const mul = (a: Tensor | number, b: Tensor | number) => apply("mul", [lift(a), lift(b)]);
export const div = (a: Tensor | number, b: Tensor | number) => apply("div", [lift(a), lift(b)]);
/** `mask ? a : b` elementwise (mask nonzero selects a). */
export const where = (mask: Tensor, a: Tensor | number, b: Tensor | number) => apply("where", [mask, lift(a), lift(b)]);
/** Matrix product over the last two axes, batch axes broadcast: `[B, In] × [In, H]`, `[B, T, S] × [B, S, H]`. */
export const matmul = (a: Tensor, b: Tensor) => apply("matmul", [a, b]);
/** Inner product over the last axis. */
export const dot = (a: Tensor, b: Tensor) => apply("dot", [a, b]);
/** Outer product of the last axes: `[…, m]`, `[…, n]` → `[…, m, n]`. */
export const outer = (a: Tensor, b: Tensor) => apply("outer", [a, b]);
/** Cosine similarity over the last axis (NTM content addressing). */
export const cosine = (a: Tensor, b: Tensor) => apply("cosine", [a, b]);

const names = (t: Tensor, axes: number[]) => axes.map((i) => t.shape[i].key).join(",");
const reduceOp = (op: "sum" | "mean" | "max" | "norm") => (x: Tensor, axes?: SizeLike | SizeLike[]) => {
  const idx = axesOf(op, x, axes);
  return apply(op, [x], { axes: idx, axisNames: names(x, idx) });
};
/** Sum over named (or numbered) axes; all axes when none are given. */
export const sum = reduceOp("sum");
export const mean = reduceOp("mean");
export const max = reduceOp("max");
/** Euclidean norm over named axes. */
export const norm = reduceOp("norm");
/** Softmax over one named axis: `softmax(scores, "S")`. */
export const softmax = (x: Tensor, axis: SizeLike = -1) => {
  const [i] = axesOf("softmax", x, axis);
  return apply("softmax", [x], { axis: i, axisName: x.shape[i].key });
};
export const logSoftmax = (x: Tensor, axis: SizeLike = -1) => {
  const [i] = axesOf("logSoftmax", x, axis);
  return apply("logSoftmax", [x], { axis: i, axisName: x.shape[i].key });
};
/** Joins tensors along one axis: `concat([h, x], -1)` is `[B, H+In]`. */
export const concat = (parts: Tensor[], axis: SizeLike = -1) => {
  if (!Array.isArray(parts) || parts.length === 0) throw new ArchlabError("bad-operand", "concat: give a non-empty array of tensors.");
  const [i] = axesOf("concat", parts[0], axis);
  return apply("concat", parts, { axis: i });
};
/** `length` entries from `start` along an axis. */
export const slice = (x: Tensor, axis: SizeLike, start: number, length: number) => {
  const [i] = axesOf("slice", x, axis);
  const n = x.shape[i].constant;
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || (n !== undefined && start + length > n))
    throw shapeError("slice", "the operand", x, `at least ${start + length} entries on axis ${i} for slice ${start}…${start + length - 1}`);
  return apply("slice", [x], { axis: i, start, length });
};
/** Splits an axis into `parts` equal slices (the gates of a fused LSTM product). */
export const split = (x: Tensor, axis: SizeLike, parts: number) => {
  const [i] = axesOf("split", x, axis);
  const n = x.shape[i].constant;
  if (n === undefined || n % parts !== 0) throw shapeError("split", "the operand", x, `axis ${i} of a length divisible by ${parts}`);
  return Array.from({ length: parts }, (_, k) => slice(x, i, (k * n) / parts, n / parts));
};
/** A new shape with the same number of elements (checked when run). */
export const reshape = (x: Tensor, shape: SizeLike[]) => apply("reshape", [x], { shape: shape.map((s) => size(s)) });
/** Axes permuted (default: the last two swapped — `Wᵀ`). */
export const transpose = (x: Tensor, perm?: number[]) => apply("transpose", [x], { perm: perm ?? [...x.shape.keys()].map((i) => (i === x.rank - 2 ? x.rank - 1 : i === x.rank - 1 ? x.rank - 2 : i)) });
/** Embedding lookup: rows of `table` [V, D] at integer `ids` [B, T] → [B, T, D]. */
export const embedding = (table: Tensor, ids: Tensor) => apply("gather", [table, ids]);
/** One-hot vectors of integer ids: [..] → [.., depth]. */
export const oneHot = (ids: Tensor, depth: number) => apply("oneHot", [ids], { depth });

/** Options of {@link conv2d}. */
export interface ConvOptions {
  stride?: number;
  /** Zero padding on each side, or "same" / "valid" as TensorFlow means them (default 0). */
  padding?: number | "same" | "valid";
  dilation?: number;
}
/** 2-D convolution, NHWC: x [B, H, W, Cin], w [KH, KW, Cin, Cout]. */
export const conv2d = (x: Tensor, w: Tensor, o: ConvOptions = {}) => apply("conv2d", [x, w], { stride: o.stride ?? 1, padding: padOf(o.padding), dilation: o.dilation ?? 1 });
/** Max pooling over size×size windows (stride defaults to size). */
export const maxPool = (x: Tensor, sizeK: number, o: { stride?: number; padding?: number | "same" | "valid" } = {}) => apply("maxPool", [x], { size: sizeK, stride: o.stride ?? sizeK, padding: padOf(o.padding ?? "valid") });
export const avgPool = (x: Tensor, sizeK: number, o: { stride?: number; padding?: number | "same" | "valid" } = {}) => apply("avgPool", [x], { size: sizeK, stride: o.stride ?? sizeK, padding: padOf(o.padding ?? "valid") });
/** Nearest-neighbour upsampling by an integer factor. */
export const upsample = (x: Tensor, factor = 2) => apply("upsample", [x], { factor });
/** Batch normalisation over all axes but the last (channels): batch statistics in training, the running ones in inference. */
export const batchNorm = (x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor, o: { eps?: number } = {}) =>
  apply("batchNorm", [x, gamma, beta, runningMean, runningVar], { eps: o.eps ?? 1e-5 });
/** Layer normalisation over the last axis. */
export const layerNorm = (x: Tensor, gamma: Tensor, beta: Tensor, o: { eps?: number } = {}) => apply("layerNorm", [x, gamma, beta], { eps: o.eps ?? 1e-5 });
/** Dropout (inverted scaling) in training; the identity in inference. Seeded. */
export const dropout = (x: Tensor, rate: number, seed = 0) => apply("dropout", [x], { rate, seed });
/** Standard normal samples of a shape, seeded (fresh each scan step). */
export const randomNormal = (shape: SizeLike[], seed = 0) => apply("randomNormal", [], { shape: shape.map((s) => size(s)), seed });
export const randomUniform = (shape: SizeLike[], seed = 0) => apply("randomUniform", [], { shape: shape.map((s) => size(s)), seed });
/** 1 with probability p, else 0. */
export const bernoulli = (p: Tensor, seed = 0) => apply("bernoulli", [p], { seed });
/** Identity forward; no gradient flows back through it. */
export const stopGradient = (x: Tensor) => apply("stopGradient", [x]);
/** Identity forward; the gradient is negated (DANN's gradient reversal layer). */
export const gradReverse = (x: Tensor) => apply("gradReverse", [x]);
