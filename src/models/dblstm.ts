/**
 * DB-LSTM (Zhou & Xu 2015, "End-to-end learning of semantic role labeling using recurrent neural
 * networks", ACL): NOT a stack of BiLSTMs. Each layer is ONE single-direction LSTM; directions
 * alternate (layer 0 left→right, layer 1 right→left over layer 0's outputs, …), and each layer's input
 * is a shortcut from both the layer below's output and the layer below's input:
 *
 *     m⁽⁰⁾ = x                                   layer 0 reads x, runs →
 *     m⁽ˡ⁾ = A⁽ˡ⁾ h⁽ˡ⁻¹⁾ + B⁽ˡ⁾ m⁽ˡ⁻¹⁾ + b⁽ˡ⁾      layer l reads m⁽ˡ⁾, runs → if l is even, ← if odd
 *
 * at every input position t (h⁽ˡ⁻¹⁾ re-aligned to positions first). m⁽ˡ⁾ has size H. The paper's
 * best depth was 8. The output is the top layer's h by input position; `trace.input(l)` is m⁽ˡ⁾.
 *
 * Reverse mode runs the layers top down, each cell through its own trace as a one-layer sequence
 * model (models/backward.ts), and the shortcuts in between: ∂L/∂m⁽ˡ⁾ is what layer l's cell gives
 * for its input plus B⁽ˡ⁺¹⁾ᵀ ∂L/∂m⁽ˡ⁺¹⁾; it sends A⁽ˡ⁾ᵀ ∂L/∂m⁽ˡ⁾ to the output of layer l−1 and
 * B⁽ˡ⁾ᵀ ∂L/∂m⁽ˡ⁾ on down to m⁽ˡ⁻¹⁾, so gradients reach x through every shortcut.
 */
import seedrandom from "seedrandom";
import { LSTM } from "../cells/builtins/lstm";
import { evalSize, type CellDef } from "../cells/define";
import { errors, requireObject } from "../errors";
import { allocate, BYTES, checkBytes, checkFinite, memoryLimit, toFlat, toNested, type DType, type FloatArray, type NestedInput } from "../engine/arrays";
import { cell, cellSizes, requireDefinition, describeSizes, paramBytes, type Cell } from "../engine/cell";
import { paramShapes, readWeights, type Weights } from "../engine/params";
import { sequenceBackward, type RawSequenceGradients } from "./backward";
import { aligned, checkTraces, finalStates, outputNode, outputSize, readSequence, runLayer, splitInitial, swap01, type Layer } from "./layer";
import { cellKey, checkUpstream, readUpstream, shapeGradients, UPSTREAM_LABELS, type DifferentiableResult, type ForwardOptions, type ResultShape, type SequenceGradients, type SequenceUpstream } from "./sequence";
import { SequenceTrace, type Direction } from "./trace";

/** Options of {@link dbLstm}. */
export interface DbLstmOptions {
  inputSize: number;
  hiddenSize: number;
  /** Number of layers (default 8, the paper's best). */
  depth?: number;
  /** The cell of every layer (default LSTM; any definition works). */
  cell?: CellDef;
  seed?: number | string;
  dtype?: DType;
  /** Most bytes all parameters, and a forward pass's traces, may take (see {@link CellOptions.maxBytes}). */
  maxBytes?: number;
}

/** The shortcut of layer l ≥ 1: `m = A h⁽ˡ⁻¹⁾ + B m⁽ˡ⁻¹⁾ + b`. */
interface Shortcut {
  A: FloatArray;
  B: FloatArray;
  b: FloatArray;
  shapes: { A: [number, number]; B: [number, number]; b: [number] };
}

const SHORTCUT = ["A", "B", "b"] as const;

/** The direction of layer l: even → forward (left→right), odd → backward. */
export const dbDirection = (layer: number): Direction => (layer % 2 === 0 ? "forward" : "backward");

/** A DB-LSTM. Create with {@link dbLstm}. */
export class DbLstm {
  readonly layers: readonly Layer[];
  readonly depth: number;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly dtype: DType;
  readonly maxBytes: number | undefined;
  #shortcuts: (Shortcut | null)[];

  constructor(
    readonly def: CellDef,
    { inputSize, hiddenSize, depth = 8, seed = 0, dtype = "float64", maxBytes }: Omit<DbLstmOptions, "cell">,
  ) {
    requireDefinition(def, "dbLstm()");
    if (!Number.isInteger(depth) || depth < 1) throw errors.badOption("depth", depth, "a positive integer");
    if (dtype !== "float64" && dtype !== "float32") throw errors.badOption("dtype", dtype, `"float64" or "float32"`);
    // Every layer's parameters against the limit before any allocates (upper layers: an H-input cell and a shortcut, A and B at most H × max(In, H)).
    const first = cellSizes(def, { inputSize, hiddenSize });
    const upper = cellSizes(def, { inputSize: hiddenSize, hiddenSize });
    const shortcut = (2 * hiddenSize * Math.max(inputSize, evalSize(outputNode(def).size, upper)) + hiddenSize) * BYTES[dtype];
    const need = paramBytes(paramShapes(def, first), dtype) + (depth - 1) * (paramBytes(paramShapes(def, upper), dtype) + shortcut);
    checkBytes(need, memoryLimit(maxBytes), `The parameters of a DB-LSTM (${def.name}, depth ${depth})`, `depth = ${depth}, ${describeSizes(first)}`);
    const layers: Layer[] = [];
    const shortcuts: (Shortcut | null)[] = [];
    let hIn = 0, mIn = inputSize;
    for (let l = 0; l < depth; l++) {
      const d = dbDirection(l);
      const c = cell(def, { inputSize: l === 0 ? inputSize : hiddenSize, hiddenSize, dtype, maxBytes, seed: `${seed}/${cellKey(l, d)}` });
      layers.push({ [d]: c });
      shortcuts.push(l === 0 ? null : initShortcut(hiddenSize, hIn, mIn, dtype, `${seed}/m${l}`));
      if (l > 0) mIn = hiddenSize;
      hIn = outputSize(c);
    }
    this.layers = layers;
    this.#shortcuts = shortcuts;
    this.depth = depth;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.dtype = dtype;
    this.maxBytes = maxBytes;
  }

  /** Every cell, bottom to top. */
  get cells(): { layer: number; direction: Direction; key: string; cell: Cell }[] {
    return this.layers.map((layer, l) => ({ layer: l, direction: dbDirection(l), key: cellKey(l, dbDirection(l)), cell: layer[dbDirection(l)]! }));
  }

  describe(): string {
    return `DB-LSTM (${this.def.name}, depth ${this.depth})`;
  }

  /** Weights: each cell by key (`l0`, `l1_reverse`, `l2`, …) and each shortcut `m1`, `m2`, … as `{ A, B, b }`. */
  weights(): Record<string, Weights> {
    const out: Record<string, Weights> = Object.fromEntries(this.cells.map(({ key, cell: c }) => [key, c.weights()]));
    this.#shortcuts.forEach((s, l) => s && (out[`m${l}`] = Object.fromEntries(SHORTCUT.map((n) => [n, toNested(s[n], s.shapes[n])]))));
    return out;
  }

  /** Replaces every weight (keys as {@link weights}); everything is checked before anything changes. */
  setWeights(weights: Readonly<Record<string, Readonly<Record<string, unknown>>>>): this {
    requireObject(`weights of ${this.describe()}`, weights, "an object of cell key (l0, l1_reverse, …) and shortcut (m1, m2, …) → weights, as db.weights() gives");
    const cells = this.cells;
    const keys = [...cells.map((c) => c.key), ...this.#shortcuts.flatMap((s, l) => (s ? [`m${l}`] : []))];
    const extra = Object.keys(weights).filter((k) => !keys.includes(k));
    if (extra.length) throw errors.extraWeight(extra, this.describe(), keys);
    const missing = keys.find((k) => !Object.hasOwn(weights, k));
    if (missing) throw errors.missingKey(missing.startsWith("m") ? "shortcut" : "cell", missing, this.describe(), keys);
    for (const { key, cell: c } of cells) readWeights(c.def, c.shapes, weights[key], c.dtype, `cell ${key} of ${this.describe()}`);
    const shortcuts = this.#shortcuts.map((s, l) => s && readShortcut(s, weights[`m${l}`], this.dtype, `shortcut m${l} of ${this.describe()}`));
    for (const { key, cell: c } of cells) c.setWeights(weights[key]);
    this.#shortcuts = shortcuts;
    return this;
  }

  /**
   * Runs the DB-LSTM over `[T, B, In]` (or `[T, In]`, or `[B, T, In]` with `batchFirst`). Initial
   * states: state name → `[depth, B, size]`.
   *
   * @example
   * const db = dbLstm({ inputSize: 3, hiddenSize: 4, depth: 4, seed: 1 });
   * const { output, trace } = db.forward(xs);
   * trace.trace(1).direction;  // "backward": layer 1 runs right→left
   * trace.input(1);            // m⁽¹⁾ = A h⁽⁰⁾ + B x + b, by position
   * const g = db.forward(xs).backward({ output: dOutput });  // dOutput shaped like output
   * g.params.m1.A;              // ∂L/∂A⁽¹⁾; g.params.l1_reverse.U_f, g.input, g.initial.c, g.traces.l0
   */
  forward(xs: NestedInput, { initial, batchFirst = false, checkFinite = false }: ForwardOptions = {}): DifferentiableResult {
    const where = this.describe();
    const seq = readSequence(xs, this.inputSize, { what: `input of ${where}`, dtype: this.dtype, batchFirst });
    const cells = this.cells.map((c) => c.cell);
    checkTraces(cells, seq, this.maxBytes, where, `depth = ${this.depth}`);
    const initials = splitInitial(initial, this.def, cells, { B: seq.B, batched: seq.batched, where });
    const N = seq.T * seq.B;
    let m = { values: seq.values, size: this.inputSize };
    let h = m;
    const inputs = [];
    const traces = [];
    for (let l = 0; l < this.depth; l++) {
      const s = this.#shortcuts[l];
      if (s) m = { values: applyShortcut(s, h.values, m.values, N, this.dtype), size: this.hiddenSize };
      inputs.push(m);
      const { traces: t, output } = runLayer(this.layers[l], m, seq, () => initials[l], this.dtype, { checkFinite, where: `layer ${l} of the ${where}` });
      traces.push(t);
      h = output;
    }
    const out = batchFirst ? swap01(h.values, seq.T, seq.B, h.size) : h.values;
    const trace = new SequenceTrace(traces, inputs, seq.T, seq.B);
    const result = {
      output: toNested(out, batchFirst ? [seq.B, seq.T, h.size] : [seq.T, seq.B, h.size]),
      final: finalStates(this.def, traces.map((t, l) => t[dbDirection(l)]!)),
      trace,
    } as DifferentiableResult;
    // The shortcuts this pass ran with (setWeights replaces them, never changes them in place).
    const shortcuts = this.#shortcuts;
    // Not enumerable: the result stays plain data (output, final, trace) when shown or serialised.
    Object.defineProperty(result, "backward", { value: (upstream: SequenceUpstream = {}) => this.#backward(trace, shortcuts, { batched: seq.batched, batchFirst }, upstream) });
    return result;
  }

  /** {@link DifferentiableResult.backward} of a DB-LSTM: every cell's and every shortcut's weights (`m1`: `{ A, B, b }`, …), input, initial states. */
  #backward(trace: SequenceTrace, shortcuts: readonly (Shortcut | null)[], shape: ResultShape, upstream: SequenceUpstream): SequenceGradients {
    const where = `backward of the ${this.describe()}`;
    checkUpstream(this.def, upstream, where);
    const cells = this.cells;
    const top = cells[this.depth - 1].cell;
    const seeds = readUpstream(this.def, top, { cells: this.depth, output: outputSize(top) }, trace, shape, upstream, where, UPSTREAM_LABELS);
    const { raw, shortcuts: d } = dbBackward(cells, shortcuts, trace, seeds, where);
    const g = shapeGradients(raw, this.def, this.inputSize, trace, shape);
    d.forEach((s, l) => s && (g.params[`m${l}`] = Object.fromEntries(SHORTCUT.map((n) => [n, toNested(s[n], s.shapes[n])]))));
    return g;
  }
}

/**
 * Reverse mode through a DB-LSTM's forward pass (flat, time first, by position): `output` is ∂L/∂(top
 * layer's output), `final` state name → ∂L/∂(final states) `[depth, B, size]`.
 */
function dbBackward(
  cells: readonly { key: string; cell: Cell }[],
  shortcuts: readonly (Shortcut | null)[],
  trace: SequenceTrace,
  { output, final }: { output?: Float64Array; final: Readonly<Record<string, Float64Array>> },
  where: string,
): { raw: RawSequenceGradients; shortcuts: (Shortcut | null)[] } {
  const { steps: T, batch: B } = trace;
  const N = T * B;
  const depth = cells.length;
  const states = cells[0].cell.def.states;
  const initial = Object.fromEntries(states.map((s) => [s.name, new Float64Array(depth * B * cells[0].cell.size(s.size))]));
  const grads: RawSequenceGradients["cells"] = [];
  const dShortcuts: (Shortcut | null)[] = shortcuts.map(() => null);
  let dh = output; // ∂L/∂(layer l's output), by position
  let dmAbove: Float64Array | undefined; // B⁽ˡ⁺¹⁾ᵀ ∂L/∂m⁽ˡ⁺¹⁾
  let dm: Float64Array = new Float64Array(0);
  for (let l = depth - 1; l >= 0; l--) {
    const { key, cell: c } = cells[l];
    const d = dbDirection(l);
    // Layer l alone is a one-layer sequence model over its input m⁽ˡ⁾.
    const finals = Object.fromEntries(Object.entries(final).map(([name, v]) => [name, v.subarray((l * v.length) / depth, ((l + 1) * v.length) / depth)]));
    const g = sequenceBackward({ layers: [{ [d]: c }], cells: [{ key, cell: c }] }, new SequenceTrace([trace.layers[l]], [trace.inputs[l]], T, B), { output: dh, final: finals }, where);
    grads.unshift(g.cells[0]);
    for (const s of states) initial[s.name].set(g.initial[s.name], l * g.initial[s.name].length);
    dm = g.input;
    if (dmAbove) for (let j = 0; j < dm.length; j++) dm[j] += dmAbove[j];
    const s = shortcuts[l];
    if (!s) break;
    const below = trace.trace(l - 1, dbDirection(l - 1));
    const back = shortcutBackward(s, dm, aligned(below, cells[l - 1].cell.def.output), trace.inputs[l - 1].values, N);
    dShortcuts[l] = back.grads;
    dh = back.h;
    dmAbove = back.m;
  }
  return { raw: { cells: grads, input: dm, initial }, shortcuts: dShortcuts };
}

/**
 * The vector–Jacobian product of `m[n] = A h[n] + B m₋[n] + b` for ∂L/∂m `[N, H]`: ∂L/∂A, ∂L/∂B, ∂L/∂b
 * (summed over rows), ∂L/∂h = Aᵀ ∂L/∂m and ∂L/∂m₋ = Bᵀ ∂L/∂m row by row.
 */
function shortcutBackward(s: Shortcut, dm: Float64Array, h: FloatArray, mPrev: FloatArray, N: number): { grads: Shortcut; h: Float64Array; m: Float64Array } {
  const [H, hIn] = s.shapes.A;
  const mIn = s.shapes.B[1];
  const dA = new Float64Array(H * hIn), dB = new Float64Array(H * mIn), db = new Float64Array(H);
  const dh = new Float64Array(N * hIn), dmPrev = new Float64Array(N * mIn);
  for (let n = 0; n < N; n++)
    for (let r = 0; r < H; r++) {
      const g = dm[n * H + r];
      db[r] += g;
      for (let k = 0; k < hIn; k++) (dA[r * hIn + k] += g * h[n * hIn + k]), (dh[n * hIn + k] += g * s.A[r * hIn + k]);
      for (let k = 0; k < mIn; k++) (dB[r * mIn + k] += g * mPrev[n * mIn + k]), (dmPrev[n * mIn + k] += g * s.B[r * mIn + k]);
    }
  return { grads: { A: dA, B: dB, b: db, shapes: s.shapes }, h: dh, m: dmPrev };
}

function initShortcut(H: number, hIn: number, mIn: number, dtype: DType, seed: string): Shortcut {
  const random = seedrandom(seed);
  const k = 1 / Math.sqrt(hIn + mIn);
  const uniform = (n: number) => {
    const a = allocate(dtype, n);
    for (let j = 0; j < n; j++) a[j] = (2 * random() - 1) * k;
    return a;
  };
  return { A: uniform(H * hIn), B: uniform(H * mIn), b: uniform(H), shapes: { A: [H, hIn], B: [H, mIn], b: [H] } };
}

function readShortcut(s: Shortcut, given: Readonly<Record<string, unknown>>, dtype: DType, where: string): Shortcut {
  requireObject(`weights of ${where}`, given, "{ A, B, b }");
  const extra = Object.keys(given).filter((k) => !(SHORTCUT as readonly string[]).includes(k));
  if (extra.length) throw errors.extraWeight(extra, where, SHORTCUT);
  const read = (n: (typeof SHORTCUT)[number]) => {
    if (!Object.hasOwn(given, n)) throw errors.missingWeight(n, where, s.shapes[n]);
    const flat = toFlat(given[n], s.shapes[n], `weight "${n}" of ${where}`, dtype);
    checkFinite(flat, `weight "${n}" of ${where}`);
    return flat;
  };
  return { A: read("A"), B: read("B"), b: read("b"), shapes: s.shapes };
}

/** `m[n] = A h[n] + B m₋[n] + b` for every row n (position × batch). */
function applyShortcut(s: Shortcut, h: FloatArray, mPrev: FloatArray, N: number, dtype: DType): FloatArray {
  const [H, hIn] = s.shapes.A;
  const mIn = s.shapes.B[1];
  const out = allocate(dtype, N * H);
  for (let n = 0; n < N; n++)
    for (let r = 0; r < H; r++) {
      let acc = s.b[r];
      for (let k = 0; k < hIn; k++) acc += s.A[r * hIn + k] * h[n * hIn + k];
      for (let k = 0; k < mIn; k++) acc += s.B[r * mIn + k] * mPrev[n * mIn + k];
      out[n * H + r] = acc;
    }
  return out;
}

/**
 * A DB-LSTM of Zhou & Xu (2015): alternating-direction single LSTM layers with input shortcuts.
 *
 * @example
 * const db = dbLstm({ inputSize: 3, hiddenSize: 4, depth: 8, seed: 0 });
 * db.forward(xs).output; // [T][B][4], the top layer's h by position
 */
export function dbLstm({ cell: def = LSTM, ...options }: DbLstmOptions): DbLstm {
  return new DbLstm(def, options);
}
