/**
 * The op table: every op of the definition language, each with its shape rule, its notation, its
 * value range for plots, its reference kernel (float64 loops, nd.ts), its fast kernel (tfjs-core;
 * absent when the reference kernel is the fast one too) and its gradient-rule slot. The table is a
 * `Record<OpKind, OpSpec>` over the spelled-out union {@link OpKind}: an op missing from either, or
 * without all of its parts, does not compile.
 *
 * The op functions users call (`matmul(a, b)`, `softmax(x, "S")`, `conv2d(x, w, { stride: 2 })`)
 * are at the end: each checks its operands through the table's shape rule and adds one node.
 */
import type * as tfc from "@tensorflow/tfjs-core";
import seedrandom from "seedrandom";
import { ArchlabError, show } from "../errors";
import { addNode } from "./build";
import { nativeConv2d, nativeConvolution } from "./fast-native";
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

/** An op's gradient rule: see {@link OpSpec.vjp}. */
export type Vjp = (dy: ND, inputs: readonly ND[], out: ND, attrs: Attrs, ctx: KernelContext) => (ND | undefined)[];

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
  /**
   * @internal Fast kernel on tfjs-core (float32); undefined when the reference kernel is used on the fast
   * path too. Internal: kept out of the declaration files (see {@link OpKind}).
   */
  fast?: (tf: TF, inputs: tfc.Tensor[], attrs: Attrs, ctx: KernelContext) => tfc.Tensor;
  /**
   * The gradient rule (vector–Jacobian product), on the reference values the trace recorded: given
   * ∂L/∂(result) `dy` (the result's shape), the operands, the result and the attributes, ∂L/∂(each
   * operand) in the operand's own shape (broadcasts summed back with `nd.sumTo`), or undefined for
   * an operand that takes no gradient (integer ids, masks, shapes). float64 throughout.
   */
  vjp?: Vjp;
}

const same = (inputs: readonly Tensor[]) => ({ shape: inputs[0].shape, dtype: "float" as DType });

/** Result shape of broadcasting symbolic shapes (right-aligned; a size-1 axis stretches); `a` may be an already broadcast shape. */
function broadcast(op: string, a: Pick<Tensor, "path" | "shape">, b: Tensor, drop = 0, operand = "the right operand"): Shape {
  const [sa, sb] = [a.shape.slice(0, a.shape.length - drop), b.shape.slice(0, b.rank - drop)];
  const n = Math.max(sa.length, sb.length);
  const out: Shape[number][] = [];
  for (let i = 0; i < n; i++) {
    const x = sa[sa.length - n + i];
    const y = sb[sb.length - n + i];
    if (x === undefined || (x.constant === 1 && y !== undefined)) out.push(y);
    else if (y === undefined || y.constant === 1 || sameSize(x, y)) out.push(x);
    else throw shapeError(op, operand, b, `a shape that broadcasts with ${a.path}'s ${showShape(a.shape)}`, "Axes are matched from the right; each pair must be equal or one of them 1.");
  }
  return out;
}

/**
 * An elementwise op of one operand. `dfdx(x, y)` is its derivative at operand value x with result
 * value y (whichever is cheaper to use: tanh′ = 1 − y², exp′ = y); its gradient rule is dy ⊙ f′.
 */
function unary(symbol: (x: string) => string, f: (x: number) => number, fast: (tf: TF, x: tfc.Tensor) => tfc.Tensor, range: readonly [number, number] | undefined, dfdx: (x: number, y: number) => number): OpSpec {
  return { shape: same, notation: ([x]) => symbol(x), range, ref: ([x]) => nd.map(x, f), fast: (tf, [x]) => fast(tf, x), vjp: (dy, [x], y) => [elementwise(dy, x, y, dfdx)] };
}

/** dy ⊙ f′(x, y) elementwise (operand x and result y of the same shape as dy). */
function elementwise(dy: ND, x: ND, y: ND, dfdx: (x: number, y: number) => number): ND {
  const out = nd.zeros(dy.shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = dy.data[i] === 0 ? 0 : dy.data[i] * dfdx(x.data[i], y.data[i]);
  return out;
}

/**
 * An elementwise op of two broadcast operands. `grads(dy, a, b, y)` are ∂L/∂a and ∂L/∂b at the
 * result's shape (dy's; `nd.zip(dy, b, …)` stretches an operand to it); the rule then sums each
 * back over its operand's broadcast axes.
 */
function binary(symbol: string, f: (x: number, y: number) => number, fast: (tf: TF, a: tfc.Tensor, b: tfc.Tensor) => tfc.Tensor, grads: (dy: ND, a: ND, b: ND, y: ND) => [ND, ND]): OpSpec {
  return {
    shape: (inputs, attrs) => ({ shape: broadcast(attrs.op, inputs[0], inputs[1]), dtype: "float" }),
    notation: ([a, b]) => `${a} ${symbol} ${b}`,
    ref: ([a, b]) => nd.zip(a, b, f),
    fast: (tf, [a, b]) => fast(tf, a, b),
    vjp(dy, [a, b], y) {
      const [da, db] = grads(dy, a, b, y);
      return [nd.sumTo(da, a.shape), nd.sumTo(db, b.shape)];
    },
  };
}

/**
 * Whether `v` is one float per channel of `x` (its last axis), as a bias is, and `x` is large
 * enough for {@link channelAffine} to pay on the WebAssembly backend.
 */
function isChannelVector(tf: TF, v: tfc.Tensor, x: tfc.Tensor): boolean {
  return v.rank === 1 && x.rank >= 2 && v.shape[0] === x.shape[x.rank - 1] && x.size >= 4096 && v.dtype === "float32" && x.dtype === "float32" && tf.getBackend() === "wasm";
}

/**
 * x·scale + shift with one scale and shift per channel (the last axis; no scale: 1, exactly x +
 * shift), as a 1×1 depthwise convolution with a bias: on tfjs-backend-wasm that is XNNPACK's, 3–5×
 * faster than the backend's broadcasting add and its batchNorm (the two took a fifth of the
 * ConvAutoEncoder's run). Any rank: the leading axes are flattened into the image's width.
 */
function channelAffine(tf: TF, x: tfc.Tensor, scale: tfc.Tensor | undefined, shift: tfc.Tensor): tfc.Tensor {
  const C = x.shape[x.rank - 1];
  const filter = (scale ? tf.reshape(scale, [1, 1, C, 1]) : tf.ones([1, 1, C, 1])) as tfc.Tensor4D;
  const image = (x.rank === 4 ? x : tf.reshape(x, [1, 1, x.size / C, C])) as tfc.Tensor4D;
  const y = tf.fused.depthwiseConv2d({ x: image, filter, strides: 1, pad: "valid", bias: shift });
  return x.rank === 4 ? y : tf.reshape(y, x.shape);
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
/** Dropout's mask, drawn on the host (the same on both paths): 0 with probability `rate`, else 1/(1−rate). */
const dropMask = (shape: readonly number[], a: Attrs, ctx: KernelContext) => draws(shape, a.seed, ctx.step, (r) => (r() < a.rate ? 0 : 1 / (1 - a.rate)));
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

function padOf(op: string, p: unknown): number | "same" | "valid" {
  if (p === "same" || p === "valid" || p === undefined) return p ?? 0;
  if (typeof p !== "number" || !Number.isInteger(p) || p < 0) throw new ArchlabError("bad-option", `${op}: padding must be "same", "valid" or a whole number ≥ 0, not ${show(p)}.`);
  return p;
}

/** A whole-number option ≥ `min`, or the named bad-option error. */
function whole(op: string, option: string, v: unknown, min: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) throw new ArchlabError("bad-option", `${op}: ${option} must be a whole number ≥ ${min}, not ${show(v)}.`);
  return v;
}

/**
 * Every op of the language. Spelled out (the table below must have exactly these entries), not
 * `keyof typeof` the table: archlab's declaration files then hold no inferred type of the table, whose
 * fast kernels would pull tfjs-core's ~300 declaration files into every program that imports archlab —
 * among them the kernel's, which rebuilds its reference graph for every cell (a trivial cell's round
 * trip went from 1.1× to 1.6× plain tslab's).
 */
export type OpKind =
  | "input"
  | "param"
  | "step"
  | "state"
  | "scan"
  | "scanOut"
  | "scanFinal"
  | "identity"
  | "constant"
  | "neg"
  | "exp"
  | "log"
  | "sqrt"
  | "abs"
  | "tanh"
  | "sigmoid"
  | "relu"
  | "softplus"
  | "pow"
  | "fill"
  | "roll"
  | "clip"
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "where"
  | "matmul"
  | "dot"
  | "outer"
  | "sum"
  | "mean"
  | "max"
  | "norm"
  | "softmax"
  | "logSoftmax"
  | "maskedSoftmax"
  | "cosine"
  | "concat"
  | "slice"
  | "reshape"
  | "transpose"
  | "gather"
  | "oneHot"
  | "conv2d"
  | "conv2dTranspose"
  | "maxPool"
  | "avgPool"
  | "upsample"
  | "batchNorm"
  | "layerNorm"
  | "dropout"
  | "randomNormal"
  | "randomUniform"
  | "bernoulli"
  | "stopGradient"
  | "gradReverse";

/** The op table. */
export const OPS: Readonly<Record<OpKind, OpSpec>> = {
  // Wiring: interpreted by the interpreters themselves; their kernels are never called.
  input: { shape: () => ({ shape: [], dtype: "float" }), notation: () => "input", ref: wiring("input") },
  param: { shape: () => ({ shape: [], dtype: "float" }), notation: () => "param", ref: wiring("param") },
  step: { shape: () => ({ shape: [], dtype: "float" }), notation: ([], a) => `${(a.of as Tensor).name}ₜ`, ref: wiring("step") },
  state: { shape: () => ({ shape: [], dtype: "float" }), notation: () => "state", ref: wiring("state") },
  scan: { shape: () => ({ shape: [], dtype: "float" }), notation: () => "scan", ref: wiring("scan") },
  scanOut: { shape: () => ({ shape: [], dtype: "float" }), notation: () => "stack", ref: wiring("scanOut") },
  scanFinal: { shape: () => ({ shape: [], dtype: "float" }), notation: () => "last", ref: wiring("scanFinal") },
  identity: { shape: (i) => ({ shape: i[0].shape, dtype: i[0].dtype }), notation: ([x]) => x, ref: ([x]) => x, fast: (_tf, [x]) => x, vjp: (dy) => [dy] },
  constant: {
    shape: () => ({ shape: [], dtype: "float" }),
    notation: (_args, a) => String(a.text),
    ref: (_i, a) => a.value as ND,
    vjp: () => [],
  },

  // Gradient rules of the elementwise ops: dy ⊙ f′ (an element whose dy is 0 gets 0, even where f′ is infinite).
  neg: unary((x) => `−${x}`, (x) => -x, (tf, x) => tf.neg(x), undefined, () => -1),
  exp: unary((x) => `exp(${x})`, Math.exp, (tf, x) => tf.exp(x), [0, Infinity], (_x, y) => y),
  log: unary((x) => `log(${x})`, Math.log, (tf, x) => tf.log(x), undefined, (x) => 1 / x),
  sqrt: unary((x) => `√${x}`, Math.sqrt, (tf, x) => tf.sqrt(x), [0, Infinity], (_x, y) => 1 / (2 * y)),
  // |x|′ = sign(x), 0 at 0 (as PyTorch).
  abs: unary((x) => `|${x}|`, Math.abs, (tf, x) => tf.abs(x), [0, Infinity], (x) => Math.sign(x)),
  tanh: unary((x) => `tanh(${x})`, Math.tanh, (tf, x) => tf.tanh(x), [-1, 1], (_x, y) => 1 - y * y),
  sigmoid: unary((x) => `σ(${x})`, logistic, (tf, x) => tf.sigmoid(x), [0, 1], (_x, y) => y * (1 - y)),
  // relu′(0) = 0, as PyTorch.
  relu: unary((x) => `relu(${x})`, (x) => Math.max(x, 0), (tf, x) => tf.relu(x), [0, Infinity], (x) => (x > 0 ? 1 : 0)),
  softplus: unary((x) => `softplus(${x})`, softplusOf, (tf, x) => tf.softplus(x), [0, Infinity], (x) => logistic(x)),
  pow: {
    shape: same,
    notation: ([x], a) => `${x}^${a.p}`,
    ref: ([x], a) => nd.map(x, (v) => Math.pow(v, a.p)),
    fast: (tf, [x], a) => tf.pow(x, tf.scalar(a.p)),
    // p·x^(p−1); 0 for p = 0 (as PyTorch, even at x = 0).
    vjp: (dy, [x], y, a) => [elementwise(dy, x, y, (v) => (a.p === 0 ? 0 : a.p * Math.pow(v, a.p - 1)))],
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
    vjp: () => [],
  },
  roll: {
    shape: (i) => ({ shape: i[0].shape, dtype: i[0].dtype }),
    notation: ([x], a) => `roll${a.shift >= 0 ? "+" : ""}${a.shift}(${x})`,
    ref: ([x], a) => rolled(x, a.axis, a.shift),
    fast(tf, [x], a) {
      const n = x.shape[a.axis]!;
      const k = ((a.shift % n) + n) % n;
      if (k === 0) return x;
      const [head, tail] = tf.split(x, [n - k, k], a.axis);
      return tf.concat([tail, head], a.axis);
    },
    /** Entry i went to i + shift: its gradient comes back from there (dy rolled by −shift). */
    vjp: (dy, _inputs, _out, a) => [rolled(dy, a.axis, -a.shift)],
  },
  clip: {
    shape: same,
    notation: ([x], a) => `clip(${x}, ${a.lo}, ${a.hi})`,
    ref: ([x], a) => nd.map(x, (v) => Math.min(a.hi, Math.max(a.lo, v))),
    fast: (tf, [x], a) => tf.clipByValue(x, a.lo, a.hi),
    // The gradient passes where lo ≤ x ≤ hi, bounds included (PyTorch's clamp).
    vjp: (dy, [x], y, a) => [elementwise(dy, x, y, (v) => (v >= a.lo && v <= a.hi ? 1 : 0))],
  },

  add: binary("+", (x, y) => x + y, (tf, a, b) => (isChannelVector(tf, b, a) ? channelAffine(tf, a, undefined, b) : isChannelVector(tf, a, b) ? channelAffine(tf, b, undefined, a) : tf.add(a, b)), (dy) => [dy, dy]),
  sub: binary("−", (x, y) => x - y, (tf, a, b) => tf.sub(a, b), (dy) => [dy, nd.map(dy, (g) => -g)]),
  mul: binary("⊙", (x, y) => x * y, (tf, a, b) => tf.mul(a, b), (dy, a, b) => [nd.zip(dy, b, (g, v) => g * v), nd.zip(dy, a, (g, v) => g * v)]),
  // ∂(a/b)/∂b = −(a/b)/b: the result over b.
  div: binary("/", (x, y) => x / y, (tf, a, b) => tf.div(a, b), (dy, _a, b, q) => [nd.zip(dy, b, (g, v) => g / v), nd.zip(nd.zip(dy, q, (g, v) => -g * v), b, (g, v) => g / v)]),
  where: {
    shape: ([m, a, b]) => ({ shape: broadcast("where", { path: `${a.path} and ${b.path}`, shape: broadcast("where", a, b) }, m, 0, "the mask"), dtype: "float" }),
    notation: ([m, a, b]) => `${m} ? ${a} : ${b}`,
    ref: ([m, a, b]) => nd.zip3(m, a, b, (c, x, y) => (c !== 0 ? x : y)),
    fast: (tf, [m, a, b]) => tf.where(tf.notEqual(m, 0), a, b),
    /** The gradient goes to the branch each entry took; the mask's is 0 (a step function's, wherever it has one). */
    vjp: (dy, [m, a, b]) => [
      nd.zeros(m.shape),
      nd.sumTo(nd.zip(dy, m, (g, c) => (c !== 0 ? g : 0)), a.shape),
      nd.sumTo(nd.zip(dy, m, (g, c) => (c !== 0 ? 0 : g)), b.shape),
    ],
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
    fast(tf, [a, b]) {
      // The WebAssembly backend's batched product mis-sizes its result when the batch axes differ
      // ([3, 1, 2, 4] × [5, 4, 3]): broadcast them first.
      const [ba, bb] = [a.shape.slice(0, -2), b.shape.slice(0, -2)];
      if (ba.length === bb.length && ba.every((d, i) => d === bb[i])) return tf.matMul(a, b);
      const batch = nd.broadcastShape(ba, bb)!;
      return tf.matMul(tf.broadcastTo(a, [...batch, ...a.shape.slice(-2)]), tf.broadcastTo(b, [...batch, ...b.shape.slice(-2)]));
    },
    // ∂a = dy bᵀ, ∂b = aᵀ dy, each summed over the batch axes its operand was broadcast along.
    vjp: (dy, [a, b]) => [nd.sumTo(nd.matmulT(dy, b, "b"), a.shape), nd.sumTo(nd.matmulT(a, dy, "a"), b.shape)],
  },
  dot: {
    shape([a, b]): { shape: Shape; dtype: DType } {
      if (!sameSize(a.shape[a.rank - 1], b.shape[b.rank - 1])) throw shapeError("dot", "the right operand", b, `a last axis equal to ${a.path}'s ${showShape(a.shape)}`);
      return { shape: broadcast("dot", a, b, 1), dtype: "float" };
    },
    notation: ([a, b]) => `⟨${a}, ${b}⟩`,
    ref: ([a, b]) => nd.reduce(nd.zip(a, b, (x, y) => x * y), [Math.max(a.shape.length, b.shape.length) - 1], 0, (s, x) => s + x),
    fast: (tf, [a, b]) => tf.sum(tf.mul(a, b), -1),
    vjp(dy, [a, b]) {
      const g = nd.reshape(dy, [...dy.shape, 1]);
      return [nd.sumTo(nd.zip(g, b, (u, v) => u * v), a.shape), nd.sumTo(nd.zip(g, a, (u, v) => u * v), b.shape)];
    },
  },
  outer: {
    shape([a, b]) {
      return { shape: [...broadcast("outer", a, b, 1), a.shape[a.rank - 1], b.shape[b.rank - 1]], dtype: "float" };
    },
    notation: ([a, b]) => `${a} ⊗ ${b}`,
    ref: ([a, b]) => nd.zip(nd.reshape(a, [...a.shape, 1]), nd.reshape(b, [...b.shape.slice(0, -1), 1, b.shape[b.shape.length - 1]]), (x, y) => x * y),
    fast: (tf, [a, b]) => tf.mul(tf.expandDims(a, -1), tf.expandDims(b, -2)),
    // ∂a[…, i] = Σ_j dy[…, i, j] b[…, j]; ∂b[…, j] = Σ_i dy[…, i, j] a[…, i].
    vjp(dy, [a, b]) {
      const r = dy.shape.length;
      const bRow = nd.reshape(b, [...b.shape.slice(0, -1), 1, b.shape[b.shape.length - 1]]);
      const aCol = nd.reshape(a, [...a.shape, 1]);
      const plus = (s: number, x: number) => s + x;
      return [
        nd.sumTo(nd.reduce(nd.zip(dy, bRow, (u, v) => u * v), [r - 1], 0, plus), a.shape),
        nd.sumTo(nd.reduce(nd.zip(dy, aCol, (u, v) => u * v), [r - 2], 0, plus), b.shape),
      ];
    },
  },

  sum: { ...reduction("Σ", 0, (s, x) => s + x, (s) => s, (tf, x, axes) => tf.sum(x, axes)), vjp: (dy, [x], y, a) => [spread(dy, x, y, a.axes, () => 1)] },
  mean: {
    ...reduction("mean", 0, (s, x) => s + x, (s, n) => s / n, (tf, x, axes) => tf.mean(x, axes)),
    vjp(dy, [x], y, a) {
      const n = (a.axes as number[]).reduce((p, i) => p * x.shape[i], 1);
      return [spread(dy, x, y, a.axes, () => 1 / n)];
    },
  },
  // Ties share the gradient equally (PyTorch's amax; torch.max over a dim would give it all to one index).
  max: {
    ...reduction("max", -Infinity, Math.max, (s) => s, (tf, x, axes) => tf.max(x, axes)),
    vjp(dy, [x], y, a) {
      const ties = nd.reduce(nd.zip(x, nd.reshape(y, keptShape(x, a.axes)), (v, m) => (v === m ? 1 : 0)), a.axes, 0, (s, v) => s + v, (s) => s, true);
      return [spread(dy, x, y, a.axes, (v, m, i) => (v === m ? 1 / ties.data[i] : 0))];
    },
  },
  norm: {
    shape: reductionShape,
    notation: ([x]) => `‖${x}‖`,
    range: [0, Infinity],
    ref: ([x], a) => nd.reduce(x, a.axes, 0, (s, v) => s + v * v, Math.sqrt),
    fast: (tf, [x], a) => tf.sqrt(tf.sum(tf.square(x), a.axes)),
    /** ∂‖x‖/∂x = x/‖x‖, and 0 at x = 0 (the subgradient PyTorch takes too). */
    vjp(dy, [x], out, a) {
      const kept = x.shape.map((d, i) => (a.axes.includes(i) ? 1 : d));
      const perNorm = nd.zip(nd.reshape(dy, kept), nd.reshape(out, kept), (g, n) => (n > 0 ? g / n : 0));
      return [nd.zip(x, perNorm, (v, q) => v * q)];
    },
  },
  softmax: {
    shape: same,
    notation: ([x], a) => `softmax_${a.axisName}(${x})`,
    range: [0, 1],
    ref: ([x], a) => softmaxRef(x, a.axis, false),
    fast: (tf, [x], a) => tf.exp(tf.sub(x, tf.logSumExp(x, a.axis, true))),
    vjp: (dy, _inputs, out, a) => [softmaxVjp(dy, out, a.axis)],
  },
  logSoftmax: {
    shape: same,
    notation: ([x], a) => `log softmax_${a.axisName}(${x})`,
    range: [-Infinity, 0],
    ref: ([x], a) => softmaxRef(x, a.axis, true),
    fast: (tf, [x], a) => tf.sub(x, tf.logSumExp(x, a.axis, true)),
    /**
     * dx = dy − softmax(x) Σ dy. An entry at −∞ passes its dy through (∂yᵢ/∂xᵢ = 1 − pᵢ = 1, as in
     * PyTorch); a row that is −∞ throughout (NaN result) gets 0.
     */
    vjp(dy, _inputs, out, a) {
      const total = nd.reduce(nd.zip(dy, out, (g, l) => (Number.isNaN(l) ? 0 : g)), [a.axis], 0, (s, v) => s + v, undefined, true);
      return [nd.zip3(dy, out, total, (g, l, t) => (Number.isNaN(l) ? 0 : g - Math.exp(l) * t))];
    },
  },
  maskedSoftmax: {
    shape([x, m]) {
      const s = broadcast("maskedSoftmax", x, m, 0, "the mask");
      if (s.length !== x.rank || s.some((d, i) => !sameSize(d, x.shape[i]))) throw shapeError("maskedSoftmax", "the mask", m, `a shape that broadcasts to ${x.path}'s ${showShape(x.shape)} (1 on the axes it does not vary along)`);
      return { shape: x.shape, dtype: "float" };
    },
    notation: ([x, m], a) => `softmax_${a.axisName}(${x} | ${m})`,
    range: [0, 1],
    ref: ([x, m], a) => softmaxRef(nd.zip(x, m, (v, keep) => (keep !== 0 ? v : -Infinity)), a.axis, false),
    fast: (tf, [x, m], a) => {
      const masked = tf.where(tf.notEqual(m, 0), x, tf.scalar(-Infinity));
      return tf.exp(tf.sub(masked, tf.logSumExp(masked, a.axis, true)));
    },
    /** Softmax's rule on the unmasked entries; a masked entry gets 0, and so does the mask (a step function's derivative). */
    vjp: (dy, [, m], out, a) => [softmaxVjp(dy, out, a.axis), nd.zeros(m.shape)],
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
    /**
     * cos = ⟨a, b⟩ / max(‖a‖‖b‖, ε): ∂cos/∂a = b / max(‖a‖‖b‖, ε) − cos · a / ‖a‖² (the second term
     * only when the denominator is not the clamp ε), and symmetrically for b; broadcasts summed back.
     */
    vjp(dy, [a, b], out) {
      const g = nd.reshape(dy, [...dy.shape, 1]);
      const cos = nd.reshape(out, [...out.shape, 1]);
      const keptNorm = (v: ND) => nd.reduce(v, [v.shape.length - 1], 0, (s, e) => s + e * e, Math.sqrt, true);
      const [na, nb] = [keptNorm(a), keptNorm(b)];
      const den = nd.zip(na, nb, (p, q) => p * q);
      const overDen = nd.zip(g, den, (gi, d) => gi / Math.max(d, 1e-8));
      const gCos = nd.zip3(g, cos, den, (gi, c, d) => (d > 1e-8 ? gi * c : 0));
      const side = (self: ND, other: ND, norm: ND) => {
        const own = nd.zip(self, nd.zip(gCos, norm, (gc, n) => (n > 0 ? gc / (n * n) : 0)), (v, q) => v * q);
        return nd.sumTo(nd.zip(nd.zip(other, overDen, (v, q) => v * q), own, (p, q) => p - q), self.shape);
      };
      return [side(a, b, na), side(b, a, nb)];
    },
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
    /** Each part's slice of dy, where the part was put. */
    vjp(dy, inputs, _out, a) {
      let start = 0;
      return inputs.map((p) => {
        const part = nd.slice(dy, a.axis, start, p.shape[a.axis]);
        start += p.shape[a.axis];
        return part;
      });
    },
  },
  slice: {
    shape: ([x], a) => ({ shape: x.shape.map((s, i) => (i === a.axis ? size(a.length) : s)), dtype: x.dtype }),
    notation: ([x], a) => `${x}[${a.start}:${a.start}+${a.length}]`,
    ref: ([x], a) => nd.slice(x, a.axis, a.start, a.length),
    fast: (tf, [x], a) => tf.slice(x, x.shape.map((_, i) => (i === a.axis ? a.start : 0)), x.shape.map((d, i) => (i === a.axis ? a.length : d))),
    /** dy put back where the slice was taken from; zeros elsewhere. */
    vjp(dy, [x], _out, a) {
      const dx = nd.zeros(x.shape);
      const n = x.shape[a.axis];
      const inner = x.shape.slice(a.axis + 1).reduce((p, d) => p * d, 1);
      const outer = x.data.length / (n * inner);
      const len = a.length * inner;
      for (let o = 0; o < outer; o++) dx.data.set(dy.data.subarray(o * len, (o + 1) * len), (o * n + a.start) * inner);
      return [dx];
    },
  },
  reshape: {
    shape: ([x], a) => ({ shape: a.shape, dtype: x.dtype }),
    notation: ([x]) => x,
    ref: ([x], a, ctx) => nd.reshape(x, concrete(a.shape, ctx)),
    fast: (tf, [x], a, ctx) => tf.reshape(x, concrete(a.shape, ctx)),
    vjp: (dy, [x]) => [{ shape: [...x.shape], data: Float64Array.from(dy.data) }],
  },
  transpose: {
    shape: ([x], a) => ({ shape: (a.perm as number[]).map((p) => x.shape[p]), dtype: x.dtype }),
    notation: ([x]) => `${x}ᵀ`,
    ref: ([x], a) => nd.transpose(x, a.perm),
    fast: (tf, [x], a) => tf.transpose(x, a.perm),
    /** dy permuted back: by the inverse permutation. */
    vjp(dy, _inputs, _out, a) {
      const inverse: number[] = [];
      (a.perm as number[]).forEach((p, i) => (inverse[p] = i));
      return [nd.transpose(dy, inverse)];
    },
  },
  gather: {
    shape([table, ids]) {
      if (ids.dtype !== "int") throw shapeError("embedding", "the ids", ids, "whole-number ids (an input declared with { dtype: \"int\" })");
      return { shape: [...ids.shape, ...table.shape.slice(1)], dtype: table.dtype };
    },
    notation: ([table, ids]) => `${table}[${ids}]`,
    ref: ([table, ids], _a, ctx) => nd.gather(table, ids, ctx.path),
    fast: (tf, [table, ids], _a, ctx) => tf.gather(table, checkedIds(tf, ids, table.shape[0], ctx.path)),
    /** Scatter-add: each looked-up row's gradient added into the table's row (an id used twice gets both); ids take none. */
    vjp(dy, [table, ids]) {
      const row = nd.count(table.shape.slice(1));
      const dt = nd.zeros(table.shape);
      for (let i = 0; i < ids.data.length; i++) {
        const at = ids.data[i] * row;
        for (let k = 0; k < row; k++) dt.data[at + k] += dy.data[i * row + k];
      }
      return [dt, undefined];
    },
  },
  oneHot: {
    shape([ids], a) {
      if (ids.dtype !== "int") throw shapeError("oneHot", "the ids", ids, "whole-number ids (an input declared with { dtype: \"int\" })");
      return { shape: [...ids.shape, size(a.depth)], dtype: "float" };
    },
    notation: ([ids]) => `onehot(${ids})`,
    range: [0, 1],
    ref([ids], a, ctx) {
      const table = nd.zeros([a.depth, a.depth]);
      for (let i = 0; i < a.depth; i++) table.data[i * a.depth + i] = 1;
      return nd.gather(table, ids, ctx.path);
    },
    fast: (tf, [ids], a, ctx) => tf.cast(tf.oneHot(checkedIds(tf, ids, a.depth, ctx.path), a.depth), "float32"),
    vjp: () => [undefined],
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
    fast(tf, [x, w], a) {
      const blas = nativeConvolution(x, w);
      if (blas) return nativeConv2d(tf, blas, x, w, a.stride, a.padding, a.dilation);
      // Padding that keeps the size (K3 P1 at stride 1) is given as "same": tfjs-wasm runs it ~15% faster than the explicit form.
      const keeps = typeof a.padding === "number" && a.stride === 1 && w.shape[0] === w.shape[1] && 2 * a.padding === (w.shape[0] - 1) * a.dilation;
      const pad = keeps ? "same" : typeof a.padding === "number" ? [[0, 0], [a.padding, a.padding], [a.padding, a.padding], [0, 0]] : a.padding;
      return tf.conv2d(x as tfc.Tensor4D, w as tfc.Tensor4D, a.stride, pad as "same", "NHWC", a.dilation);
    },
    vjp: (dy, [x, w], _out, a) => nd.conv2dBackward(x, w, dy, a.stride, a.padding, a.dilation),
  },
  conv2dTranspose: {
    shape([x, w], a) {
      const [B, H, W, C] = nhwc("conv2dTranspose", x);
      if (w.rank !== 4 || !sameSize(w.shape[2], C)) throw shapeError("conv2dTranspose", "the filter", w, `[KH, KW, ${C.key}, Cout] for ${x.path}'s ${showShape(x.shape)}`);
      const [kh, kw] = [w.shape[0].constant, w.shape[1].constant];
      if (kh === undefined || kw === undefined) throw shapeError("conv2dTranspose", "the filter", w, "a kernel size given as numbers");
      const out = (n: Shape[number], k: number) => plus(times(plus(n, -1), a.stride), k - 2 * a.padding + a.outputPadding);
      return { shape: [B, out(H, kh), out(W, kw), w.shape[3]], dtype: "float" };
    },
    notation: ([x, w]) => `${w} ⋆ᵀ ${x}`,
    ref: ([x, w], a) => nd.conv2dTranspose(x, w, a.stride, a.padding, a.outputPadding),
    fast(tf, [x, w], a) {
      const [B, H, W] = x.shape;
      const [KH, KW, , CO] = w.shape;
      const out: [number, number, number, number] = [B, (H - 1) * a.stride - 2 * a.padding + KH + a.outputPadding, (W - 1) * a.stride - 2 * a.padding + KW + a.outputPadding, CO];
      // tfjs's filter is the forward convolution's: [KH, KW, Cout, Cin].
      return tf.conv2dTranspose(x as tfc.Tensor4D, tf.transpose(w, [0, 1, 3, 2]) as tfc.Tensor4D, out, a.stride, a.padding);
    },
    vjp: (dy, [x, w], _out, a) => nd.conv2dTransposeBackward(x, w, dy, a.stride, a.padding),
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
    vjp: (dy, _i, _out, a) => [nd.upsampleBackward(dy, a.factor)],
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
    fast(tf, [x, gamma, beta, mean, variance], a, ctx) {
      const m = ctx.training ? tf.moments(x, x.shape.slice(0, -1).map((_, i) => i)) : { mean, variance };
      if (tf.getBackend() !== "wasm" || x.size === 0) return tf.batchNorm(x, m.mean, m.variance, beta, gamma, a.eps);
      // x·s + (β − μ·s) with s = γ/√(σ²+ε): one per channel, so the wasm backend's fast channel affine applies.
      const scale = tf.mul(gamma, tf.rsqrt(tf.add(m.variance, a.eps)));
      return channelAffine(tf, x, scale, tf.sub(beta, tf.mul(m.mean, scale)));
    },
    vjp: batchNormVjp,
  },
  layerNorm: {
    shape(inputs) {
      const [x, ...affine] = inputs;
      const C = x.shape[x.rank - 1];
      for (const s of affine) if (s.rank !== 1 || !sameSize(s.shape[0], C)) throw shapeError("layerNorm", "a scale or offset", s, `[${C.key}] (one per feature, the last axis of ${x.path})`);
      return same(inputs);
    },
    notation: ([x]) => `LN(${x})`,
    ref([x, gamma, beta], a) {
      const last = [x.shape.length - 1];
      const m = nd.reduce(x, last, 0, (s, v) => s + v, (s, n) => s / n, true);
      const centred = nd.zip(x, m, (v, mu) => v - mu);
      const v = nd.reduce(centred, last, 0, (s, d) => s + d * d, (s, n) => s / n, true);
      return affine(nd.zip(centred, v, (c, s) => c / Math.sqrt(s + a.eps)), gamma, beta);
    },
    fast(tf, [x, gamma, beta], a) {
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, a.eps))), gamma), beta);
    },
    vjp: (dy, [x, gamma], _out, a) => nd.normalizeBackward(x, gamma, dy, a.eps, "row"),
  },
  dropout: {
    shape: same,
    notation: ([x]) => `dropout(${x})`,
    ref: ([x], a, ctx) => (ctx.training && a.rate > 0 ? nd.zip(x, dropMask(x.shape, a, ctx), (v, m) => v * m) : x),
    fast: (tf, [x], a, ctx) => (ctx.training && a.rate > 0 ? tf.mul(x, tf.tensor(Float32Array.from(dropMask(x.shape, a, ctx).data), x.shape)) : x),
    // The forward's own mask (drawn again from the same seed and step): dropped entries get no gradient, kept ones dy/(1−rate).
    vjp: (dy, _i, _out, a, ctx) => [ctx.training && a.rate > 0 ? nd.zip(dy, dropMask(dy.shape, a, ctx), (g, m) => g * m) : dy],
  },
  // Random draws have no operands, so no operand gradients (a reparameterised sample μ + σ·ε gets its gradients from add and mul).
  randomNormal: { shape: (_i, a) => ({ shape: a.shape, dtype: "float" }), notation: () => "𝒩(0, 1)", ref: (_i, a, ctx) => draws(concrete(a.shape, ctx), a.seed, ctx.step, gaussian), vjp: () => [] },
  randomUniform: { shape: (_i, a) => ({ shape: a.shape, dtype: "float" }), notation: () => "U(0, 1)", range: [0, 1], ref: (_i, a, ctx) => draws(concrete(a.shape, ctx), a.seed, ctx.step, (r) => r()), vjp: () => [] },
  bernoulli: {
    shape: same,
    notation: ([p]) => `Bernoulli(${p})`,
    range: [0, 1],
    ref: ([p], a, ctx) => nd.zip(p, draws(p.shape, a.seed, ctx.step, (r) => r()), (q, u) => (u < q ? 1 : 0)),
    // Zeros, not undefined: p is a float operand a model may compute, and a sample is a step function of p, whose
    // derivative is 0 wherever it exists. Learning p through samples needs an estimator the model writes (REINFORCE's
    // log-probability term, a straight-through `p + stopGradient(sample − p)`), not a rule of this op.
    vjp: (_dy, [p]) => [nd.zeros(p.shape)],
  },
  stopGradient: { shape: same, notation: ([x]) => `sg(${x})`, ref: ([x]) => x, fast: (_tf, [x]) => x, vjp: (_dy, [x]) => [nd.zeros(x.shape)] },
  gradReverse: {
    shape: same,
    notation: ([x], a) => (a.lambda === 1 ? `R(${x})` : `R_λ=${a.lambda}(${x})`),
    ref: ([x]) => x,
    fast: (_tf, [x]) => x,
    vjp: (dy, _i, _out, a) => [nd.map(dy, (g) => -a.lambda * g)],
  },
} satisfies Record<OpKind, OpSpec>;

/**
 * Integer ids for tfjs's gather and one-hot, checked on the host first: tfjs reads an out-of-range id
 * as a zero row (one-hot) or whatever memory is there (gather); the reference names the bad id.
 */
function checkedIds(tf: TF, ids: tfc.Tensor, n: number, path: string): tfc.Tensor {
  const values = ids.dataSync();
  nd.checkIds(values, n, path);
  return tf.cast(ids, "int32");
}

function wiring(op: string): OpSpec["ref"] {
  return () => {
    throw new Error(`internal: the ${op} node is wiring; the interpreter handles it`);
  };
}

function affine(z: ND, gamma: ND, beta: ND): ND {
  return nd.zip(nd.zip(z, gamma, (x, g) => x * g), beta, (x, b) => x + b);
}

/**
 * Batch norm's gradient rule. Training (batch statistics): the full gradient through the batch's
 * mean and variance; the running statistics do not enter the result, so theirs are zeros. Inference
 * (running statistics m, v): y = γ·(x − m)/√(v + eps) + β is affine in x, and m and v get their
 * gradients too (the statistics are usually constant params — PyTorch's buffers — whose gradients the backward pass drops).
 */
function batchNormVjp(dy: ND, [x, gamma, , mean, variance]: readonly ND[], _out: ND, a: Attrs, ctx: KernelContext): ND[] {
  if (ctx.training) return [...nd.normalizeBackward(x, gamma, dy, a.eps, "channel"), nd.zeros(mean.shape), nd.zeros(variance.shape)];
  const C = gamma.data.length;
  const [dx, dgamma, dbeta, dmean, dvar] = [nd.zeros(x.shape), nd.zeros([C]), nd.zeros([C]), nd.zeros([C]), nd.zeros([C])];
  for (let i = 0; i < x.data.length; i++) {
    const c = i % C;
    const s = Math.sqrt(variance.data[c] + a.eps);
    const xhat = (x.data[i] - mean.data[c]) / s;
    dx.data[i] = (dy.data[i] * gamma.data[c]) / s;
    dgamma.data[c] += dy.data[i] * xhat;
    dbeta.data[c] += dy.data[i];
    dmean.data[c] -= dx.data[i];
    dvar.data[c] -= (dx.data[i] * xhat) / (2 * s);
  }
  return [dx, dgamma, dbeta, dmean, dvar];
}

function softmaxRef(x: ND, axis: number, log: boolean): ND {
  const m = nd.reduce(x, [axis], -Infinity, Math.max, (s) => s, true);
  const shifted = nd.zip(x, m, (v, mu) => v - mu);
  const lse = nd.reduce(shifted, [axis], 0, (s, v) => s + Math.exp(v), Math.log, true);
  return nd.zip(shifted, lse, (v, l) => (log ? v - l : Math.exp(v - l)));
}

/** x's shape with the reduced axes kept as length 1. */
const keptShape = (x: ND, axes: readonly number[]) => x.shape.map((d, i) => (axes.includes(i) ? 1 : d));

/**
 * A reduction's gradient: dy (the reduced shape) sent back over the reduced axes to x's shape, each
 * element weighted by `w(x element, its reduced result, the flat index of that result)`.
 */
function spread(dy: ND, x: ND, y: ND, axes: readonly number[], w: (v: number, m: number, i: number) => number): ND {
  const kept = keptShape(x, axes);
  const out = nd.zeros(x.shape);
  const g = nd.reshape(dy, kept);
  const m = nd.reshape(y, kept);
  // The flat index into the kept shape of every element of x.
  const index = nd.zip(nd.reshape({ shape: kept, data: Float64Array.from(g.data, (_, i) => i) }, kept), x, (i) => i);
  for (let k = 0; k < out.data.length; k++) {
    const i = index.data[k];
    out.data[k] = g.data[i] * w(x.data[k], m.data[i], i);
  }
  return out;
}

/** `x` shifted circularly by `shift` along `axis`: entry i goes to i + shift (mod n). */
function rolled(x: ND, axis: number, shift: number): ND {
  const n = x.shape[axis];
  const inner = x.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const outer = x.data.length / (n * inner);
  const out = nd.zeros(x.shape);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < n; i++) {
      const to = (((i + shift) % n) + n) % n;
      out.data.set(x.data.subarray((o * n + i) * inner, (o * n + i + 1) * inner), (o * n + to) * inner);
    }
  return out;
}

/**
 * Softmax's gradient from its result p: dx = p ⊙ (dy − Σ dy ⊙ p) along the axis. An entry with
 * p = 0 (masked, or −∞ in x) gets exactly 0, and a row with nothing unmasked (NaN result) gets 0
 * too, instead of NaN: such entries are left out of the sum, so 0·NaN never enters it.
 */
function softmaxVjp(dy: ND, p: ND, axis: number): ND {
  const total = nd.reduce(nd.zip(dy, p, (g, q) => (q > 0 ? g * q : 0)), [axis], 0, (s, v) => s + v, undefined, true);
  return nd.zip3(dy, p, total, (g, q, t) => (q > 0 ? q * (g - t) : 0));
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
    vjp: (dy, [x], _out, a) => [nd.poolBackward(x, dy, kind, a.size, a.stride, a.padding)],
    fast(tf, [x], a) {
      const pool = (v: tfc.Tensor, pad: "same" | "valid") => (kind === "max" ? tf.maxPool : tf.avgPool)(v as tfc.Tensor4D, a.size, a.stride, pad);
      if (typeof a.padding !== "number" || a.padding === 0) return pool(x, a.padding || "valid");
      // tfjs pools take only "same"/"valid": pad explicitly — with −∞ for max (never chosen), and
      // for average divide the zero-padded window sums by the number of pixels inside the image.
      const p = a.padding;
      const pads: [number, number][] = [[0, 0], [p, p], [p, p], [0, 0]];
      if (kind === "max") return pool(tf.pad(x, pads, -Infinity), "valid");
      return tf.div(pool(tf.pad(x, pads), "valid"), pool(tf.pad(tf.ones([1, x.shape[1]!, x.shape[2]!, 1]), pads), "valid"));
    },
  };
}

// ───────────────────────────── the op functions users call ─────────────────────────────

/** Adds one node of `op`, its shape from the table's rule. */
function apply(op: OpKind, inputs: Tensor[], attrs: Attrs = {}): Tensor {
  for (const t of inputs) if (!(t instanceof Tensor)) throw new ArchlabError("bad-operand", `${op}: an operand is ${t === undefined ? "undefined" : typeof t}, not a tensor of a model. Pass tensors made by input(), param() or an op.`);
  const { shape, dtype } = OPS[op].shape(inputs, { op, ...attrs });
  if (shape.some((s) => s.constant !== undefined && s.constant < 0))
    throw shapeError(op, "the operand", inputs[0], `a shape that leaves a result of length ≥ 0 on every axis, not ${showShape(shape)} (is it smaller than the window or the slice?)`);
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
/** Circular shift along an axis: `roll(w, 1, "N")[i] = w[i − 1]` (an NTM head's shift). */
export const roll = (x: Tensor, shift: number, axis: SizeLike = -1) => {
  if (!Number.isInteger(shift)) throw new ArchlabError("bad-option", `roll: the shift must be a whole number, not ${shift}.`);
  const [i] = axesOf("roll", x, axis);
  return apply("roll", [x], { shift, axis: i });
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
/**
 * Softmax over one axis among the positions where `mask` is nonzero; masked positions get 0 (a row
 * with nothing unmasked gets NaN, as in PyTorch). The mask broadcasts to x: attention scores
 * [B, T, S] with a source mask [B, 1, S] for padded source positions. Unlike
 * `softmax(where(mask, x, -Infinity))`, no intermediate is infinite, so `checkFinite` stays usable.
 *
 * @example
 * const scores = matmul(q, transpose(k)); // [B, T, S]
 * const srcMask = input("srcMask", ["B", 1, "S"]); // 1 for a word, 0 for padding
 * const attn = named("attn", maskedSoftmax(scores, srcMask, "S"));
 */
export const maskedSoftmax = (x: Tensor, mask: Tensor, axis: SizeLike = -1) => {
  const [i] = axesOf("maskedSoftmax", x, axis);
  return apply("maskedSoftmax", [x, mask], { axis: i, axisName: x.shape[i].key });
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
export const reshape = (x: Tensor, shape: SizeLike[]) => {
  const to = shape.map((s) => size(s));
  const [from, into] = [x.shape, to].map((s) => s.reduce((p, d) => times(p, d), size(1)));
  if (!sameSize(from, into) && from.constant !== undefined && into.constant !== undefined)
    throw shapeError("reshape", "the operand", x, `${into.constant} elements to become ${showShape(to)} (it has ${from.constant})`);
  return apply("reshape", [x], { shape: to });
};
/** Axes permuted (default: the last two swapped — `Wᵀ`). */
export const transpose = (x: Tensor, perm?: number[]) => {
  if (perm !== undefined && (!Array.isArray(perm) || perm.length !== x.rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)))
    throw shapeError("transpose", "the operand", x, `a permutation of its ${x.rank} axes 0…${x.rank - 1}, not ${show(perm)}`);
  if (perm === undefined && x.rank < 2) throw shapeError("transpose", "the operand", x, "at least 2 axes (the last two are swapped)");
  return apply("transpose", [x], { perm: perm ?? [...x.shape.keys()].map((i) => (i === x.rank - 2 ? x.rank - 1 : i === x.rank - 1 ? x.rank - 2 : i)) });
};
/** Embedding lookup: rows of `table` [V, D] at integer `ids` [B, T] → [B, T, D]. */
export const embedding = (table: Tensor, ids: Tensor) => apply("gather", [table, ids]);
/** One-hot vectors of integer ids: [..] → [.., depth]. */
export const oneHot = (ids: Tensor, depth: number) => apply("oneHot", [ids], { depth: whole("oneHot", "depth", depth, 1) });

/** Options of {@link conv2d}. */
export interface ConvOptions {
  stride?: number;
  /** Zero padding on each side, or "same" / "valid" as TensorFlow means them (default 0). */
  padding?: number | "same" | "valid";
  dilation?: number;
}
/** 2-D convolution, NHWC: x [B, H, W, Cin], w [KH, KW, Cin, Cout]. */
export const conv2d = (x: Tensor, w: Tensor, o: ConvOptions = {}) =>
  apply("conv2d", [x, w], { stride: whole("conv2d", "stride", o.stride ?? 1, 1), padding: padOf("conv2d", o.padding), dilation: whole("conv2d", "dilation", o.dilation ?? 1, 1) });
/** Options of {@link conv2dTranspose}: as PyTorch's ConvTranspose2d. */
export interface ConvTransposeOptions {
  stride?: number;
  /** Rows/columns cropped from each side of the full output (PyTorch's `padding`; default 0). */
  padding?: number;
  /** Extra rows/columns kept at the bottom/right, less than the stride (PyTorch's `output_padding`; default 0). */
  outputPadding?: number;
}
/**
 * Transposed convolution (a "deconvolution"), NHWC: x [B, H, W, Cin], w [KH, KW, Cin, Cout] →
 * [B, (H−1)·stride − 2·padding + KH + outputPadding, …, Cout], as PyTorch's ConvTranspose2d (whose
 * weight is w permuted to [Cin, Cout, KH, KW]). It is the adjoint of `conv2d` with the filter
 * `transpose(w, [0, 1, 3, 2])`: to tie a decoder to an encoder's filter, pass that.
 *
 * @example
 * const up = conv2dTranspose(x, param("w", [2, 2, 32, 16]), { stride: 2 }); // [B, H, W, 32] → [B, 2H, 2W, 16]
 * const same = conv2dTranspose(x, param("w3", [3, 3, 32, 16]), { stride: 2, padding: 1, outputPadding: 1 }); // also [B, 2H, 2W, 16]
 */
export const conv2dTranspose = (x: Tensor, w: Tensor, o: ConvTransposeOptions = {}) => {
  const stride = whole("conv2dTranspose", "stride", o.stride ?? 1, 1);
  const padding = whole("conv2dTranspose", "padding", o.padding ?? 0, 0);
  const outputPadding = whole("conv2dTranspose", "outputPadding", o.outputPadding ?? 0, 0);
  if (outputPadding >= stride) throw new ArchlabError("bad-option", `conv2dTranspose: outputPadding must be less than the stride (${stride}), not ${outputPadding} (as PyTorch's output_padding).`);
  return apply("conv2dTranspose", [x, w], { stride, padding, outputPadding });
};
/** Max pooling over size×size windows (stride defaults to size). */
export const maxPool = (x: Tensor, sizeK: number, o: PoolOptions = {}) => apply("maxPool", [x], poolAttrs("maxPool", sizeK, o));
/** Average pooling; only the pixels inside the image count (padding is not averaged in: PyTorch's count_include_pad=False, TensorFlow's "same"). */
export const avgPool = (x: Tensor, sizeK: number, o: PoolOptions = {}) => apply("avgPool", [x], poolAttrs("avgPool", sizeK, o));
/** Options of {@link maxPool} and {@link avgPool}. */
export interface PoolOptions {
  /** Default: the window size. */
  stride?: number;
  /** "valid" (the default), "same" as TensorFlow, or padding on each side (never chosen by max, not counted by average). */
  padding?: number | "same" | "valid";
}
function poolAttrs(op: string, sizeK: number, o: PoolOptions) {
  const k = whole(op, "the window size", sizeK, 1);
  return { size: k, stride: whole(op, "stride", o.stride ?? k, 1), padding: padOf(op, o.padding ?? "valid") };
}
/** Nearest-neighbour upsampling by an integer factor. */
export const upsample = (x: Tensor, factor = 2) => apply("upsample", [x], { factor: whole("upsample", "factor", factor, 1) });
/** Batch normalisation over all axes but the last (channels): batch statistics in training, the running ones in inference. */
export const batchNorm = (x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor, o: { eps?: number } = {}) =>
  apply("batchNorm", [x, gamma, beta, runningMean, runningVar], { eps: o.eps ?? 1e-5 });
/** Layer normalisation over the last axis. */
export const layerNorm = (x: Tensor, gamma: Tensor, beta: Tensor, o: { eps?: number } = {}) => apply("layerNorm", [x, gamma, beta], { eps: o.eps ?? 1e-5 });
/** Dropout (inverted scaling) in training; the identity in inference. Seeded. */
export const dropout = (x: Tensor, rate: number, seed = 0) => {
  if (typeof rate !== "number" || !(rate >= 0 && rate < 1)) throw new ArchlabError("bad-option", `dropout: rate must be a number in [0, 1), not ${show(rate)}.`);
  return apply("dropout", [x], { rate, seed });
};
/** Zeros of a shape whose sizes may be symbolic (`zeros(["B", "H"])`: a recurrence's initial state at any batch size). */
export const zeros = (shape: SizeLike[]) => fill(shape, 0);
/** Standard normal samples of a shape, seeded (fresh each scan step). */
export const randomNormal = (shape: SizeLike[], seed = 0) => apply("randomNormal", [], { shape: shape.map((s) => size(s)), seed });
export const randomUniform = (shape: SizeLike[], seed = 0) => apply("randomUniform", [], { shape: shape.map((s) => size(s)), seed });
/** 1 with probability p, else 0. */
export const bernoulli = (p: Tensor, seed = 0) => apply("bernoulli", [p], { seed });
/** Identity forward; no gradient flows back through it. */
export const stopGradient = (x: Tensor) => apply("stopGradient", [x]);
/**
 * Identity forward; backward, the gradient times −λ (DANN's gradient reversal layer: the features
 * learn to fool the domain classifier that follows). λ defaults to 1 (DANN raises it from 0 to 1
 * over training); λ = 0 blocks the gradient like stopGradient.
 *
 * @example
 * const domain = classifier(gradReverse(features, { lambda: 0.5 }));
 */
export const gradReverse = (x: Tensor, o: { lambda?: number } = {}) => {
  const lambda = o.lambda ?? 1;
  if (typeof lambda !== "number" || !Number.isFinite(lambda) || lambda < 0)
    throw new ArchlabError("bad-option", `gradReverse: lambda must be a finite number ≥ 0 (the gradient is multiplied by −lambda), not ${show(lambda)}.`);
  return apply("gradReverse", [x], { lambda });
};
