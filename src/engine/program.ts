/**
 * The compute interpreter: turns a definition, concrete sizes and parameters into one function
 * `step(t)` that computes every node at step t, in definition order, straight into the trace's
 * storage — no copies, no allocation per step.
 *
 * It compiles: each op kind's kernel in {@link KERNELS} writes the JavaScript loop for one node
 * (sizes inlined as constants), and the loops are joined into one function, which V8 optimises as
 * straight-line code. The math of each elementwise op comes from the op table's EXPRESSION, the
 * same single source every other part of archlab uses. The table is a `Record<OpKind, …>`, so an op
 * without a kernel is a compile error.
 *
 * Work that does not depend on the recurrence leaves the time loop ({@link plan}): every affine
 * node's bias and its terms on cell inputs are computed for all T·B rows at once, as one matrix
 * product per term, before step 0 (the prologue). Inside the loop, a large matrix term is one
 * native product straight into its node's storage when the native binding is built; otherwise
 * matrix terms that share an operand (LSTM's four `U · h[t−1]`) are fused into one product per step
 * once they are large enough to gain from it (see {@link product}). Large sigmoids and tanhs go to
 * the native binding too, and so do large two-operand muls, adds, subs and divs (the same numbers
 * as the JavaScript loop, to the bit, at a tenth of its time a value).
 *
 * A step function covers a slice of the batch (all of it by default): a large run is split across
 * threads by batch elements (parallel.ts), each thread running the same generated code on its slice.
 *
 * Interventions (interventions.ts) add one call `I(k, t)` after each overridden node k, which writes
 * the overrides from a table: the run without interventions compiles to the same code as ever.
 */
import { badConstant, evalSize, type CellDef, type NodeDef } from "../cells/define";
import { EXPRESSION, type OpKind, type UnaryKind } from "../cells/ops";
import type { FloatArray } from "./arrays";
import { NATIVE_MIN_MACS, product, productKind, THREADED_MIN_MACS, type Product } from "./gemm";
import { nativeBlas, type NativeBlas } from "./native";
import { errors } from "../errors";
import { applyToInputs, hookedNodes, interventionHook, type CheckedIntervention } from "./interventions";

/** A size, batch or index the generated code may hold: a non-negative safe integer. */
const isCount = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

/** Storage the program reads and writes: every input and node `[T, B, size]`, initial states `[B, size]`. */
export interface Storage {
  values: Record<string, FloatArray>;
  initial: Record<string, FloatArray>;
}

/** An operand as the generated code sees it: expressions for its buffer and its offset at step t. */
interface Operand {
  buf: string;
  off: string;
  size: number;
}

/** What a kernel gets to write one node's loop. */
interface NodeSource {
  /** The definition's name (for errors). */
  cell: string;
  node: NodeDef;
  out: string;
  n: number;
  /** Batch size of the storage (its layout: `[T, B, n]`). */
  B: number;
  /** The batch elements this step function computes: `b0 ≤ b < b1` (all of them unless the run is split across threads). */
  b0: number;
  b1: number;
  operands: Operand[];
  param: (name: string) => string;
  plan: Plan;
}

type Kernel = (s: NodeSource) => string;

/** Ops the native binding computes (its `unary` op codes), for large runs. */
const NATIVE_UNARY: Partial<Record<OpKind, number>> = { sigmoid: 0, tanh: 1 };

/** Values per call from which a sigmoid or tanh goes to the native binding (below it, JavaScript: teaching sizes stay the same on every machine). */
export const NATIVE_MIN_VALUES = 1024;

/** Two-operand ops the native binding computes (its `binary` op codes): the same numbers as the JavaScript loop, to the bit. */
const NATIVE_BINARY: Partial<Record<OpKind, 0 | 1 | 2 | 3>> = { mul: 0, add: 1, sub: 2, div: 3 };

/**
 * Values per call from which a two-operand mul, add, sub or div goes to the native binding: below
 * it the call costs more than the JavaScript loop saves (the loop takes about 3 ns a value in a
 * large step, the binding a few tenths of a nanosecond plus a fraction of a microsecond per call).
 */
export const NATIVE_BINARY_MIN_VALUES = 256;

/** `out[k] = f(a[k], b[k], …)` over the node's n values of each batch element in the slice. */
const elementwise = (kind: UnaryKind | "mul" | "add" | "sub" | "div"): Kernel => ({ out, n, B, b0, b1, operands, plan }) => {
  const args = operands.map((a, j) => `${a.buf}[a${j} + k]`);
  const count = n * (b1 - b0);
  const head = `const o = t * ${n * B} + ${b0 * n}; ${operands.map((a, j) => `const a${j} = ${a.off} + ${b0 * a.size};`).join(" ")}`;
  const op = NATIVE_UNARY[kind];
  if (plan.native && op !== undefined && count >= NATIVE_MIN_VALUES) return `{ ${head} NATIVE.unary(${op}, ${operands[0].buf}, a0, ${out}, o, ${count}); }`;
  const binary = NATIVE_BINARY[kind];
  if (plan.native && binary !== undefined && operands.length === 2 && count >= NATIVE_BINARY_MIN_VALUES)
    return `{ ${head} NATIVE.binary(${binary}, ${operands[0].buf}, a0, ${operands[1].buf}, a1, ${out}, o, ${count}); }`;
  return `{ ${head}
  for (let k = 0; k < ${count}; k++) ${out}[o + k] = ${EXPRESSION[kind](...args)}; }`;
};

/** `acc += a[ia + k] · w[wr + k]` for k < m: unrolled when short (teaching sizes), a loop otherwise. */
const UNROLL = 32;
const dot = (a: string, w: string, m: number) =>
  m <= UNROLL
    ? `acc += ${Array.from({ length: m }, (_, k) => `${a}[ia + ${k}] * ${w}[wr + ${k}]`).join(" + ")};`
    : `for (let k = 0; k < ${m}; k++) acc += ${a}[ia + k] * ${w}[wr + k];`;

/**
 * `out[b, r] += Σ_terms (W[r, :] · in[b, :] | p[r] · in[b, r])` over the terms computed per step; the
 * bias and the terms on cell inputs are already in `out` (the prologue put them there for every step),
 * and terms of a fused group read their share of the group's product.
 */
const affine: Kernel = ({ node, out, n, B, b0, b1, operands, param, plan }) => {
  const terms = node.terms!.flatMap((term, j) => {
    const a = operands[j];
    const w = param(term.weight);
    const fused = plan.fused.get(`${node.name}:${term.weight}`);
    if (plan.hoisted.has(term.input) || plan.direct.some((d) => d.node === node.name && d.weight === term.weight)) return [];
    if (fused) return [`acc += ${fused.scratch}[(b - ${b0}) * ${fused.R} + ${fused.row} + r];`];
    return term.kind === "diagonal"
      ? [`acc += ${w}[r] * ${a.buf}[${a.off} + b * ${a.size} + r];`]
      : [`{ const ia = ${a.off} + b * ${a.size}, wr = r * ${a.size}; ${dot(a.buf, w, a.size)} }`];
  });
  const direct = plan.direct
    .map((d, j) => [d, j] as const)
    .filter(([d]) => d.node === node.name)
    .map(([d, j]) => {
      const a = operands[node.terms!.findIndex((term) => term.weight === d.weight)];
      const [A, aOff, M, cOff] = [a.buf, `${a.off} + ${b0 * a.size}`, b1 - b0, `t * ${n * B} + ${b0 * n}`];
      // One thread's product straight into the binding (the step function holds OpenBLAS at one thread, see {@link compileSteps}).
      if (!d.threaded) return `NATIVE.gemm(${A}, ${aOff}, ${M}, ${a.size}, ${param(d.weight)}, ${n}, ${out}, ${cOff}, ${n});\n`;
      return `D${j}.run(${A}, ${aOff}, ${M}, ${out}, ${cOff}, ${n});\n`;
    })
    .join("");
  if (terms.length === 0) return direct;
  return `${direct}for (let b = ${b0}; b < ${b1}; b++) { const o = t * ${n * B} + b * ${n};
  for (let r = 0; r < ${n}; r++) { let acc = ${out}[o + r]; ${terms.join(" ")} ${out}[o + r] = acc; } }`;
};

const shift: Kernel = ({ cell, node, out, n, B, b0, b1, operands: [a] }) =>
  `{ const o = t * ${n * B} + ${b0 * n}, a0 = ${a.off} + ${b0 * a.size}; for (let k = 0; k < ${n * (b1 - b0)}; k++) ${out}[o + k] = ${a.buf}[a0 + k] - ${literal(cell, node)}; }`;

/** A shift's constant as source text: only a finite number gets there. */
function literal(cell: string, node: NodeDef): string {
  const value: unknown = node.constant?.value;
  if (typeof value !== "number" || !Number.isFinite(value)) throw errors.badDefinition(cell, badConstant(node.name, value));
  return `(${value})`;
}

const concat: Kernel = ({ out, n, B, b0, b1, operands }) => {
  let col = 0;
  const parts = operands.map((a) => {
    const s = `{ const ia = ${a.off} + b * ${a.size}; for (let k = 0; k < ${a.size}; k++) ${out}[o + ${col} + k] = ${a.buf}[ia + k]; }`;
    col += a.size;
    return s;
  });
  return `for (let b = ${b0}; b < ${b1}; b++) { const o = t * ${n * B} + b * ${n}; ${parts.join(" ")} }`;
};

/** One kernel per op kind. */
export const KERNELS: Record<OpKind, Kernel> = {
  affine,
  shift,
  concat,
  sigmoid: elementwise("sigmoid"),
  tanh: elementwise("tanh"),
  hardSigmoid: elementwise("hardSigmoid"),
  hardSigmoid6: elementwise("hardSigmoid6"),
  relu: elementwise("relu"),
  identity: elementwise("identity"),
  oneMinus: elementwise("oneMinus"),
  mul: elementwise("mul"),
  add: elementwise("add"),
  sub: elementwise("sub"),
  div: elementwise("div"),
};

/** A fused group: matrix terms of several affine nodes on one operand, computed as one product per step. */
export interface Group {
  input: string;
  /** Operand size (columns of every member weight). */
  K: number;
  /** Rows of the stacked weight: Σ member rows. */
  R: number;
  members: { node: string; weight: string; row: number; rows: number }[];
  /** The node before which the product runs (the first member in definition order). */
  before: string;
}

/** A matrix term computed each step by one native product accumulating straight into its node's storage. */
export interface Direct {
  node: string;
  weight: string;
  input: string;
  /**
   * Whether the product is large enough for OpenBLAS's threads ({@link THREADED_MIN_MACS}); the
   * others are called straight on the binding inside a step that holds OpenBLAS at one thread.
   */
  threaded: boolean;
}

/** Where the loop's work goes: which operands' terms are hoisted into the prologue, which are native products, which are fused. */
export interface Plan {
  /** Whether the native binding computes large work: products ({@link direct}) and sigmoids/tanhs (the generated code calls it as `NATIVE`). */
  native: boolean;
  /** Operands whose affine terms are computed for all steps before the loop (the cell's inputs). */
  hoisted: ReadonlySet<string>;
  /** Terms large enough for the native binding: each is one call, no scratch and no copy. */
  direct: readonly Direct[];
  groups: readonly Group[];
  /** `node:weight` → the fused group's scratch name, its width R and the term's first row. */
  fused: ReadonlyMap<string, { scratch: string; R: number; row: number }>;
}

/** Multiply–adds per step above which terms sharing an operand are fused into one product. */
export const FUSE_MIN_MACS = 1 << 14;

/**
 * Decides what is hoisted out of the time loop and what is computed inside it: with the native
 * binding, each term OpenBLAS takes (from gemm.ts's NATIVE_MIN_MACS, as {@link product} decides) as
 * its own product straight into storage — LSTM's four 32×32 products at B = 32 cost less than one
 * stacked product plus the copy of its scratch into the four nodes (the forward steps ~10 % faster
 * measured at T = 100, B = 32, H = 32); otherwise terms sharing an operand fused into one product
 * per step (one tfjs call instead of several).
 */
export function plan(def: CellDef, sizes: Readonly<Record<string, number>>, B: number, native = nativeBlas() !== undefined): Plan {
  const hoisted = new Set(def.inputs.map((i) => i.name));
  const byInput = new Map<string, Group>();
  const direct: Direct[] = [];
  for (const node of def.nodes) {
    if (node.op !== "affine") continue;
    const rows = evalSize(node.size, sizes);
    for (const term of node.terms!) {
      if (term.kind !== "matrix" || hoisted.has(term.input)) continue;
      const macs = B * rows * operandSize(def, term.input, sizes);
      if (native && macs >= NATIVE_MIN_MACS) {
        direct.push({ node: node.name, weight: term.weight, input: term.input, threaded: macs >= THREADED_MIN_MACS });
        continue;
      }
      const g = byInput.get(term.input) ?? byInput.set(term.input, { input: term.input, K: 0, R: 0, members: [], before: node.name }).get(term.input)!;
      g.members.push({ node: node.name, weight: term.weight, row: g.R, rows });
      g.R += rows;
    }
  }
  const groups = [...byInput.values()].filter((g) => g.members.length > 1);
  for (const g of groups) g.K = operandSize(def, g.input, sizes);
  const kept = groups.filter((g) => B * g.R * g.K >= FUSE_MIN_MACS);
  const fused = new Map(kept.flatMap((g, j) => g.members.map((m) => [`${m.node}:${m.weight}`, { scratch: `S${j}`, R: g.R, row: m.row }] as const)));
  return { native, hoisted, direct, groups: kept, fused };
}

/** Size of a value the definition's nodes read: an input, a node, or a previous state. */
export function operandSize(def: CellDef, name: string, sizes: Readonly<Record<string, number>>): number {
  const x = [...def.inputs, ...def.nodes].find((v) => v.name === name) ?? def.states.find((s) => s.prev === name)!;
  return evalSize(x.size, sizes);
}

/** Batch elements `b0 ≤ b < b1` of a run: a step function computes one slice (the whole batch unless a run is split across threads). */
export interface Slice {
  b0: number;
  b1: number;
}

/**
 * The generated source of `step(t)` over the batch elements of `slice`, for storage of batch size B;
 * after each node whose index is in `hooked`, a call to the intervention hook `I(k, t)`.
 */
export function generate(
  def: CellDef,
  sizes: Readonly<Record<string, number>>,
  B: number,
  { b0, b1 }: Slice = { b0: 0, b1: B },
  p: Plan = plan(def, sizes, b1 - b0),
  hooked: readonly number[] = [],
): string {
  // Buffers are bound by their position in the definition (see {@link positions}), never by name: no
  // text of the definition reaches the generated source, only indices and checked numbers.
  if (![B, b0, b1, ...hooked].every(isCount)) throw errors.badDefinition(def.name, `batch ${B} and slice ${b0}…${b1} must be whole numbers.`);
  const size = (expr: string) => {
    const n = evalSize(expr, sizes);
    if (!isCount(n)) throw errors.badDefinition(def.name, `size ${JSON.stringify(expr)} is ${n}, not a whole number.`);
    return n;
  };
  const names = positions(def);
  const bound = new Set<string>();
  const lines: string[] = [];
  const bind = (kind: keyof Positions, name: string) => {
    const k = names[kind].indexOf(name);
    if (k < 0) throw errors.badDefinition(def.name, `${JSON.stringify(name)} is not ${kind === "p" ? "a parameter" : kind === "init" ? "a state" : "an input or node"} of the definition.`);
    const id = `${kind}${k}`;
    if (!bound.has(id)) {
      bound.add(id);
      lines.push(`const ${id} = ${kind}[${k}];`);
    }
    return id;
  };
  const operands = new Map<string, Operand>();
  for (const x of [...def.inputs, ...def.nodes]) {
    const n = size(x.size);
    operands.set(x.name, { buf: bind("v", x.name), off: `t * ${n * B}`, size: n });
  }
  // Previous states: step 0 reads the initial state, step t reads the new value of step t−1.
  const previous = def.states.map((s, j) => {
    const n = size(s.size);
    operands.set(s.prev, { buf: `prev${j}`, off: `prevOff${j}`, size: n });
    return `const prev${j} = t === 0 ? ${bind("init", s.name)} : ${operands.get(s.next)!.buf}, prevOff${j} = t === 0 ? 0 : (t - 1) * ${n * B};`;
  });
  p.groups.forEach((g, j) => lines.push(`const S${j} = rt.scratch[${j}], G${j} = rt.products[${j}];`));
  p.direct.forEach((d, j) => d.threaded && lines.push(`const D${j} = rt.direct[${j}];`));
  if (p.native) lines.push("const NATIVE = rt.native;");
  if (hooked.length > 0) lines.push("const I = rt.intervene;");
  const products = (name: string) =>
    p.groups
      .map((g, j) => [g, j] as const)
      .filter(([g]) => g.before === name)
      .map(([g, j]) => {
        const a = operands.get(g.input)!;
        return `S${j}.fill(0); G${j}.run(${a.buf}, ${a.off} + ${b0 * a.size}, ${b1 - b0}, S${j}, 0, ${g.R});\n`;
      })
      .join("");
  const body = def.nodes.map((node, k) => {
    if (!Object.hasOwn(KERNELS, node.op)) throw errors.badDefinition(def.name, `node ${k} has the unknown op ${JSON.stringify(node.op)}.`);
    return (
      `// node ${k}\n` +
      products(node.name) +
      KERNELS[node.op]({
        cell: def.name,
        node,
        out: operands.get(node.name)!.buf,
        n: size(node.size),
        B,
        b0,
        b1,
        operands: node.inputs.map((name) => operands.get(name)!),
        param: (name) => bind("p", name),
        plan: p,
      }) +
      (hooked.includes(k) ? `\nI(${k}, t);` : "")
    );
  });
  return `${lines.join("\n")}\nreturn function step(t) {\n${previous.join("\n")}\n${body.join("\n")}\n};`;
}

/** What the generated code gets besides storage and parameters: each fused group's product and scratch rows, the native binding. */
interface Runtime {
  products: Product[];
  direct: Product[];
  scratch: FloatArray[];
  native: NativeBlas | undefined;
  /** Writes the interventions on node k at step t (only called when the run has interventions). */
  intervene: ((k: number, t: number) => void) | undefined;
}

/**
 * The names behind the buffers the generated code reads, by position: `v` every input then every
 * node, `init` every state (its initial value), `p` every parameter, each in definition order.
 */
interface Positions {
  v: string[];
  init: string[];
  p: string[];
}

function positions(def: CellDef): Positions {
  return { v: [...def.inputs, ...def.nodes].map((x) => x.name), init: def.states.map((s) => s.name), p: def.params.map((q) => q.name) };
}

type Factory = (v: FloatArray[], init: FloatArray[], p: FloatArray[], rt: Runtime) => (t: number) => void;
const compiled = new WeakMap<CellDef, Map<string, { make: Factory; plan: Plan }>>();

const like = (a: FloatArray, n: number): FloatArray => (a instanceof Float32Array ? new Float32Array(n) : new Float64Array(n));

/** Products a step function holds (tfjs tensors), freed when the function is garbage collected before its last step. */
const held = new FinalizationRegistry<Product[]>((products) => products.forEach((p) => p.dispose()));

/**
 * Compiles a definition into `step(t)` over the given storage and parameters, after running the
 * prologue (bias and input terms of every affine node, for every step). The generated code is
 * cached per definition, sizes and batch, so every run shares one function that V8 has optimised.
 * Anything held outside the JavaScript heap is freed after the last step. Interventions on inputs
 * are written before the prologue reads them; those on nodes by each step (see interventions.ts).
 */
export function compile(
  def: CellDef,
  sizes: Readonly<Record<string, number>>,
  B: number,
  params: Record<string, FloatArray>,
  storage: Storage,
  interventions: readonly CheckedIntervention[] = [],
): (t: number) => void {
  const T = steps(def, sizes, B, storage);
  if (interventions.length > 0) applyToInputs(def, sizes, B, T, storage.values, interventions);
  prologue(def, sizes, params, storage, { r0: 0, r1: T * B });
  return compileSteps(def, sizes, B, params, storage, { b0: 0, b1: B }, T, interventions);
}

/** Number of steps the storage holds. */
function steps(def: CellDef, sizes: Readonly<Record<string, number>>, B: number, storage: Storage): number {
  const x = def.inputs[0];
  return storage.values[x.name].length / (B * evalSize(x.size, sizes));
}

/**
 * `step(t)` for the batch elements of `slice` only, the prologue already done. Several slices of one
 * storage may run at once on different threads: each writes only its own batch elements.
 */
export function compileSteps(
  def: CellDef,
  sizes: Readonly<Record<string, number>>,
  B: number,
  params: Record<string, FloatArray>,
  storage: Storage,
  slice: Slice,
  T: number,
  interventions: readonly CheckedIntervention[] = [],
): (t: number) => void {
  const byShape = compiled.get(def) ?? compiled.set(def, new Map()).get(def)!;
  // One generated function per storage type too: V8 then sees only Float64Array or only Float32Array.
  const native = nativeBlas();
  const hooked = hookedNodes(def, interventions);
  const key = `${JSON.stringify(sizes)}|${B}|${slice.b0}:${slice.b1}|${storage.values[def.nodes[0].name].constructor.name}|${native ? "native" : "js"}${hooked.length ? `|I${hooked.join(",")}` : ""}`;
  const M = slice.b1 - slice.b0;
  let entry = byShape.get(key);
  if (!entry) {
    const p = plan(def, sizes, M, native !== undefined);
    entry = { plan: p, make: new Function("v", "init", "p", "rt", generate(def, sizes, B, slice, p, hooked)) as Factory };
    byShape.set(key, entry);
  }
  const groups = entry.plan.groups;
  const rt: Runtime = {
    products: groups.map((g) => product(stack(g.members, g.K, params), g.R, g.K, M)),
    direct: entry.plan.direct.map((d) => product(params[d.weight], operandSize(def, d.node, sizes), operandSize(def, d.input, sizes), M)),
    scratch: groups.map((g) => like(params[g.members[0].weight], M * g.R)),
    native,
    intervene: hooked.length > 0 ? interventionHook(def, sizes, B, slice.b0, slice.b1, storage.values, interventions) : undefined,
  };
  const at = positions(def);
  const step = entry.make(
    at.v.map((name) => storage.values[name]),
    at.init.map((name) => storage.initial[name]),
    at.p.map((name) => params[name]),
    rt,
  );
  const owned = [...rt.products, ...rt.direct];
  const oneThread = native && entry.plan.direct.some((d) => !d.threaded) ? native : undefined;
  if (owned.length === 0 && !oneThread) return step;
  const free = () => owned.forEach((p) => p.dispose());
  const run = (t: number) => {
    // Two calls a step instead of two a product (an LSTM's four at B = 32, H = 32: ~0.4 ms of a ~7 ms run).
    const threads = oneThread?.setThreads(1);
    try {
      step(t);
    } finally {
      if (threads !== undefined) oneThread!.setThreads(threads);
    }
    if (t === T - 1) free();
  };
  held.register(run, owned);
  return run;
}

/** Matrix terms on one operand, their weights one under another: `[Σ rows, K]`. */
function stack(members: readonly { weight: string; row: number }[], K: number, params: Record<string, FloatArray>): FloatArray {
  const last = members[members.length - 1];
  const out = like(params[last.weight], last.row * K + params[last.weight].length);
  for (const m of members) out.set(params[m.weight], m.row * K);
  return out;
}

/**
 * `row` copied into rows `r0 ≤ r < r1` of `out` (rows of row.length values): the first by `set`,
 * then the filled part copied after itself, doubling — a few calls instead of one per row (at
 * T·B = 3200 rows of 32, four times faster).
 */
function repeatRows(out: FloatArray, row: FloatArray, r0: number, r1: number): void {
  const start = r0 * row.length;
  const end = r1 * row.length;
  out.set(row, start);
  for (let done = row.length; done < end - start; done *= 2) out.copyWithin(start + done, start, start + Math.min(done, end - start - done));
}

/** Rows per product in the prologue (bounds what a TensorFlow.js product allocates for long sequences). */
const PROLOGUE_ROWS = 8192;

/**
 * Widest input whose matrix term the native binding computes with the bias in one pass
 * (`affineRows`); wider ones go to OpenBLAS after the bias rows.
 */
export const AFFINE_ROWS_MAX_K = 16;

/**
 * Before the loop: every affine node's storage gets its bias, then its terms on the cell's inputs,
 * for the rows `r0 ≤ row < r1` of the T·B rows (all of them unless the work is split across
 * threads): each matrix term as products of up to {@link PROLOGUE_ROWS} rows accumulating straight
 * into the node's storage — with the native binding, the first matrix term on a narrow input
 * ({@link AFFINE_ROWS_MAX_K}) with the bias in one pass instead.
 */
export function prologue(def: CellDef, sizes: Readonly<Record<string, number>>, params: Record<string, FloatArray>, storage: Storage, { r0, r1 }: { r0: number; r1: number }): void {
  if (r1 <= r0) return;
  const inputs = new Set(def.inputs.map((i) => i.name));
  const native = nativeBlas();
  for (const node of def.nodes) {
    if (node.op !== "affine") continue;
    const n = evalSize(node.size, sizes);
    const out = storage.values[node.name];
    const biases = node.bias!.map((b) => params[b]);
    const bias = biases.length > 0 ? biases[0].slice() : like(out, n);
    for (const b of biases.slice(1)) for (let r = 0; r < n; r++) bias[r] += b[r];
    // The node's first term on an input, when it is a matrix term whose product would go to OpenBLAS
    // (teaching sizes keep JavaScript's numbers), in float64: there the one pass matched OpenBLAS's
    // numbers to the bit (measured on its Haswell/Zen kernels; its float32 kernels sum in another order).
    const lead = node.terms!.find((x) => inputs.has(x.input));
    const width = lead ? operandSize(def, lead.input, sizes) : 0;
    const one = native && out instanceof Float64Array && lead?.kind === "matrix" && width <= AFFINE_ROWS_MAX_K;
    const first = one && productKind(false, n, width, Math.min(r1 - r0, PROLOGUE_ROWS)) === "native" ? lead : undefined;
    if (first) {
      native!.affineRows(storage.values[first.input], r0 * width, r1 - r0, width, params[first.weight], n, bias, out, r0 * n, n);
    } else if (biases.length > 0) repeatRows(out, bias, r0, r1);
    for (const term of node.terms!) {
      if (!inputs.has(term.input) || term === first) continue;
      const A = storage.values[term.input];
      const w = params[term.weight];
      if (term.kind === "diagonal") {
        for (let row = r0; row < r1; row++) for (let r = 0; r < n; r++) out[row * n + r] += w[r] * A[row * n + r];
        continue;
      }
      const K = operandSize(def, term.input, sizes);
      const prod = product(w, n, K, Math.min(r1 - r0, PROLOGUE_ROWS));
      try {
        for (let row = r0; row < r1; row += PROLOGUE_ROWS) {
          const M = Math.min(PROLOGUE_ROWS, r1 - row);
          prod.run(A, row * K, M, out, row * n, n);
        }
      } finally {
        prod.dispose();
      }
    }
  }
}
