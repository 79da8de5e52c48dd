/**
 * Stacked and bidirectional sequence models over any cell definition.
 *
 *     layer 0:  x ──► cell→ (and ◄──cell, its own weights, on the reversed sequence) ──► [h→ ‖ h←]
 *     layer l:  layer l−1's output (D·H) ──► the same ──► …       output = last layer, by input position
 *
 * Stacked: layer l reads layer l−1's h. Bidirectional: a backward cell runs on the reversed
 * sequence, its outputs are re-aligned to input positions and concatenated after the forward ones;
 * both directions of the next layer read that 2H concat (PyTorch's and Keras' semantics).
 */
import { evalSize, type CellDef } from "../cells/define";
import { errors, requireObject } from "../errors";
import { checkBytes, memoryLimit, toFlat, toNested, type DType, type NestedInput } from "../engine/arrays";
import { cell, cellSizes, requireDefinition, describeSizes, paramBytes, type Cell } from "../engine/cell";
import { paramShapes, readWeights, writeWeights, type Weights } from "../engine/params";
import type { Trace } from "../engine/trace";
import { sequenceBackward, type RawSequenceGradients } from "./backward";
import { checkTraces, directionsOf, finalStates, outputNode, outputSize, readSequence, runLayer, splitInitial, swap01, type Layer } from "./layer";
import { SequenceTrace, type Direction } from "./trace";

/** Options of {@link sequence}. */
export interface SequenceOptions {
  /** Size of the input x of layer 0. */
  inputSize: number;
  /** Hidden size H of every layer. */
  hiddenSize: number;
  /** Number of stacked layers (default 1). */
  numLayers?: number;
  /** Add a backward cell to every layer (default false). */
  bidirectional?: boolean;
  /** One direction only, right→left (ONNX `direction="reverse"`); outputs still by input position (default false). */
  reverse?: boolean;
  /** Other symbolic sizes of the definition, e.g. `{ P: 4 }` (projection). */
  sizes?: Record<string, number>;
  /** Seed of the reproducible initialisation; each cell gets its own stream (default 0). */
  seed?: number | string;
  dtype?: DType;
  /** Most bytes all parameters, and a forward pass's traces, may take (see {@link CellOptions.maxBytes}). */
  maxBytes?: number;
}

/** Options of a forward pass. */
export interface ForwardOptions {
  /** Initial states, PyTorch's way: state name → `[layers·D, B, size]` (`[layers·D, size]` for one sequence). Default zeros. */
  initial?: Readonly<Record<string, unknown>>;
  /** Input `[B, T, In]` and output `[B, T, D·H]` (default false: time first). */
  batchFirst?: boolean;
  /** Stop at the first NaN or ±Infinity any cell computes, naming layer, direction, node and step (see {@link RunOptions.checkFinite}). */
  checkFinite?: boolean;
}

/** What a forward pass returns. */
export interface SequenceResult {
  /** The last layer's output `[T][B][D·H]` (batch first if asked), forward ‖ backward, by input position. */
  output: number[][][];
  /** Final value of every state, name → `[layers·D][B][size]` (PyTorch's h_n, c_n). */
  final: Record<string, number[][][]>;
  /** Every intermediate of every layer and direction. */
  trace: SequenceTrace;
}

/** A sequence model's (or a DB-LSTM's) forward pass, which can be backpropagated through. */
export interface DifferentiableResult extends SequenceResult {
  /**
   * Backpropagates through this forward pass from ∂L/∂output (shaped like `output`) and ∂L/∂(final
   * states) (shaped like `final`); missing ones count as zeros.
   *
   * @example
   * const r = model.forward(xs);
   * const g = r.backward({ final: { h: dhN } });   // g.params.l0.U_f, g.input, g.initial.h, g.traces.l0
   */
  backward(upstream?: SequenceUpstream): SequenceGradients;
}

/** Upstream gradients of {@link SequenceResult.backward}. */
export interface SequenceUpstream {
  /** ∂L/∂output, shaped like the forward output (`[T, B, D·H]`, batch first if the forward was). */
  output?: NestedInput;
  /** ∂L/∂(final states): state name → shaped like `final` (`[layers·D, B, size]`). */
  final?: Readonly<Record<string, NestedInput | undefined>>;
}

/** Gradients of a sequence model's forward pass. */
export interface SequenceGradients {
  /** ∂L/∂(every weight), keyed as {@link SequenceModel.weights}: cell key (`l0`, `l0_reverse`, …) → name → shape. */
  params: Record<string, Weights>;
  /** ∂L/∂(the input), shaped like the input. */
  input: number[][][];
  /** ∂L/∂(initial states), state name → `[layers·D, B, size]` (PyTorch's h0 / c0 layout). */
  initial: Record<string, number[][][]>;
  /** Each cell's gradient trace (processing order), by cell key. */
  traces: Record<string, Trace>;
}

/** Key of a cell in {@link SequenceModel.weights}: `l0`, `l0_reverse`, `l1`, … (PyTorch's suffixes). */
export const cellKey = (layer: number, direction: Direction): string => `l${layer}${direction === "backward" ? "_reverse" : ""}`;

/** A stack of layers of one cell definition, each one- or bidirectional. Create with {@link sequence}. */
export class SequenceModel {
  readonly layers: readonly Layer[];
  readonly numLayers: number;
  readonly bidirectional: boolean;
  readonly reverse: boolean;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly dtype: DType;
  readonly maxBytes: number | undefined;

  constructor(
    readonly def: CellDef,
    options: SequenceOptions,
  ) {
    requireDefinition(def, "sequence()");
    requireObject("options", options, "{ inputSize, hiddenSize, numLayers?, … }");
    const { inputSize, hiddenSize, numLayers = 1, bidirectional = false, reverse = false, sizes, seed = 0, dtype = "float64", maxBytes } = options;
    if (!Number.isInteger(numLayers) || numLayers < 1) throw errors.badOption("numLayers", numLayers, "a positive integer");
    if (typeof bidirectional !== "boolean") throw errors.badOption("bidirectional", bidirectional, "true or false");
    if (typeof reverse !== "boolean" || (reverse && bidirectional)) throw errors.badOption("reverse", reverse, "true or false, and not together with bidirectional");
    if (dtype !== "float64" && dtype !== "float32") throw errors.badOption("dtype", dtype, `"float64" or "float32"`);
    this.numLayers = numLayers;
    this.bidirectional = bidirectional;
    this.reverse = reverse;
    this.maxBytes = maxBytes;
    // The whole model's parameters against the limit before any cell allocates: layers above the
    // first all have the same sizes (their input is the layer below's D·output).
    const D = this.directions;
    const first = cellSizes(def, { inputSize, hiddenSize, sizes });
    const upper = numLayers > 1 ? cellSizes(def, { inputSize: D * evalSize(outputNode(def).size, first), hiddenSize, sizes }) : first;
    const need = D * (paramBytes(paramShapes(def, first), dtype) + (numLayers - 1) * paramBytes(paramShapes(def, upper), dtype));
    checkBytes(need, memoryLimit(maxBytes), `The parameters of the ${this.describe()}`, `numLayers = ${numLayers}, directions = ${D}, ${describeSizes(first)}`);
    const layers: Layer[] = [];
    let In = inputSize;
    for (let l = 0; l < numLayers; l++) {
      const make = (d: Direction) => cell(def, { inputSize: In, hiddenSize, sizes, dtype, maxBytes, seed: `${seed}/${cellKey(l, d)}` });
      const layer: Layer = bidirectional ? { forward: make("forward"), backward: make("backward") } : reverse ? { backward: make("backward") } : { forward: make("forward") };
      layers.push(layer);
      In = (bidirectional ? 2 : 1) * outputSize((layer.forward ?? layer.backward)!);
    }
    this.layers = layers;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.dtype = dtype;
  }

  /** Number of directions D (1 or 2). */
  get directions(): number {
    return this.bidirectional ? 2 : 1;
  }

  /** Every cell in PyTorch's order (layer-major, forward before backward). */
  get cells(): { layer: number; direction: Direction; key: string; cell: Cell }[] {
    return this.layers.flatMap((layer, l) => directionsOf(layer).map((d) => ({ layer: l, direction: d, key: cellKey(l, d), cell: layer[d]! })));
  }

  /** The cell of one layer and direction. */
  cell(layer: number, direction: Direction = this.reverse ? "backward" : "forward"): Cell {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.numLayers) throw errors.outOfRange("Layer", layer, 0, this.numLayers - 1, "layers");
    const c = this.layers[layer][direction];
    if (!c) throw errors.unknownName("direction", direction, directionsOf(this.layers[layer]), `layer ${layer} of ${this.describe()}`);
    return c;
  }

  /** A short description used in messages, e.g. `bidirectional LSTM, 2 layers`. */
  describe(): string {
    return `${this.bidirectional ? "bidirectional " : this.reverse ? "reverse " : ""}${this.def.name} model, ${this.numLayers} layer${this.numLayers > 1 ? "s" : ""}`;
  }

  /** Every cell's weights in archlab's layout, keyed `l0`, `l0_reverse`, `l1`, …. */
  weights(): Record<string, Weights> {
    return Object.fromEntries(this.cells.map(({ key, cell: c }) => [key, c.weights()]));
  }

  /** Replaces every cell's weights (keys as {@link weights}); everything is checked before anything changes. */
  setWeights(weights: Readonly<Record<string, Readonly<Record<string, unknown>>>>): this {
    requireObject(`weights of ${this.describe()}`, weights, "an object of cell key (l0, l0_reverse, …) → that cell's weights, as model.weights() gives");
    const cells = this.cells;
    const keys = cells.map((c) => c.key);
    const extra = Object.keys(weights).filter((k) => !keys.includes(k));
    if (extra.length) throw errors.extraWeight(extra, this.describe(), keys);
    for (const { key, cell: c } of cells) {
      if (!Object.hasOwn(weights, key)) throw errors.missingKey("cell", key, this.describe(), keys);
      readWeights(c.def, c.shapes, weights[key], c.dtype, `cell ${key} of ${this.describe()}`);
    }
    for (const { key, cell: c } of cells) c.setWeights(weights[key]);
    return this;
  }

  /**
   * Runs the model over a sequence `[T, B, In]` (or `[T, In]`, or `[B, T, In]` with `batchFirst`).
   *
   * @example
   * const bi = sequence(LSTM, { inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, seed: 1 });
   * const { output, final, trace } = bi.forward(xs);           // output [T][B][8]
   * trace.get("f", { layer: 1, direction: "backward" });       // forget gate by input position
   * const g = bi.forward(xs).backward({ output: dOutput });     // dOutput shaped like output
   * g.params.l1_reverse.U_f;                                    // ∂L/∂U_f of layer 1's backward cell
   */
  forward(xs: NestedInput, { initial, batchFirst = false, checkFinite = false }: ForwardOptions = {}): DifferentiableResult {
    const where = this.describe();
    const seq = readSequence(xs, this.inputSize, { what: `input of ${where}`, dtype: this.dtype, batchFirst });
    const cells = this.cells;
    checkTraces(cells.map((c) => c.cell), seq, this.maxBytes, where, `numLayers = ${this.numLayers}, directions = ${this.directions}`);
    const initials = splitInitial(initial, this.def, cells.map((c) => c.cell), { B: seq.B, batched: seq.batched, where });
    let input = { values: seq.values, size: this.inputSize };
    const inputs = [];
    const traces = [];
    for (let l = 0; l < this.numLayers; l++) {
      inputs.push(input);
      const k = l * this.directions;
      const { traces: t, output } = runLayer(this.layers[l], input, seq, (d) => initials[k + directionsOf(this.layers[l]).indexOf(d)], this.dtype, {
        checkFinite,
        where: `layer ${l} of the ${where}`,
      });
      traces.push(t);
      input = output;
    }
    const T = seq.T, B = seq.B, n = input.size;
    const out = batchFirst ? swap01(input.values, T, B, n) : input.values;
    const trace = new SequenceTrace(traces, inputs, T, B);
    const result = {
      output: toNested(out, batchFirst ? [B, T, n] : [T, B, n]),
      final: finalStates(this.def, traces.flatMap((t) => directionsOf(t).map((d) => t[d]!))),
      trace,
    } as DifferentiableResult;
    // Not enumerable: the result stays plain data (output, final, trace) when shown or serialised.
    Object.defineProperty(result, "backward", { value: (upstream: SequenceUpstream = {}) => this.#backward(trace, { batched: seq.batched, batchFirst }, upstream) });
    return result;
  }

  /**
   * @internal Reverse mode through one forward pass (see {@link DifferentiableResult.backward}).
   * `labels` name the upstream tensors in messages (fromTorch calls them dOutput, dhN, dcN).
   */
  gradients(trace: SequenceTrace, shape: ResultShape, upstream: SequenceUpstream, where: string, labels: UpstreamLabels = UPSTREAM_LABELS): SequenceGradients {
    const cells = this.cells;
    const seeds = readUpstream(this.def, cells[0].cell, { cells: cells.length, output: this.directions * outputSize(cells[0].cell) }, trace, shape, upstream, where, labels);
    return shapeGradients(sequenceBackward(this, trace, seeds, where), this.def, this.inputSize, trace, shape);
  }

  /** {@link DifferentiableResult.backward}: checks the upstream's names, then {@link gradients}. */
  #backward(trace: SequenceTrace, shape: ResultShape, upstream: SequenceUpstream): SequenceGradients {
    const where = `backward of the ${this.describe()}`;
    checkUpstream(this.def, upstream, where);
    return this.gradients(trace, shape, upstream, where);
  }
}

/** @internal How a forward pass was given its input: batched or one sequence, batch or time first. */
export interface ResultShape {
  batched: boolean;
  batchFirst: boolean;
}

/** @internal How messages name the upstream tensors. */
export interface UpstreamLabels {
  output: string;
  final: (state: string) => string;
  hint: (what: "output" | "final") => string;
}

/** @internal Refuses, by name, upstream gradients other than `output` and `final`, and final states the cell does not have. */
export function checkUpstream(def: CellDef, upstream: SequenceUpstream, where: string): void {
  requireObject(`upstream gradients of ${where}`, upstream, "{ output?, final? }");
  const unknown = Object.keys(upstream).find((k) => k !== "output" && k !== "final");
  if (unknown) throw errors.unknownName("upstream gradient", unknown, ["output", "final"], where);
  if (upstream.final !== undefined) {
    requireObject(`upstream gradient "final" of ${where}`, upstream.final, "state name → ∂L/∂(its final values), shaped like forward's final");
    const states = def.states.map((x) => x.name);
    const bad = Object.keys(upstream.final).find((name) => !states.includes(name));
    if (bad) throw errors.unknownName("state", bad, states, `upstream gradient "final" of ${where}`);
  }
}

/**
 * @internal The upstream gradients, shapes checked, flat and time first: ∂L/∂output `[T, B, output]`
 * (undefined: zero) and ∂L/∂(final states) `[cells, B, size]` by state name.
 */
export function readUpstream(
  def: CellDef,
  cell0: Cell,
  sizes: { cells: number; output: number },
  { steps: T, batch: B }: SequenceTrace,
  { batched, batchFirst }: ResultShape,
  upstream: SequenceUpstream,
  where: string,
  labels: UpstreamLabels,
): { output?: Float64Array; final: Record<string, Float64Array> } {
  const n = sizes.output;
  let output: Float64Array | undefined;
  if (upstream.output !== undefined) {
    output = toFlat(upstream.output, batched ? (batchFirst ? [B, T, n] : [T, B, n]) : [T, n], `${labels.output} of ${where}`, "float64", labels.hint("output")) as Float64Array;
    if (batched && batchFirst) output = swap01(output, B, T, n) as Float64Array;
  }
  const final: Record<string, Float64Array> = {};
  for (const [name, value] of Object.entries(upstream.final ?? {})) {
    const s = def.states.find((x) => x.name === name)!;
    if (value === undefined) continue;
    const size = cell0.size(s.size);
    final[name] = toFlat(value, batched ? [sizes.cells, B, size] : [sizes.cells, size], `${labels.final(name)} of ${where}`, "float64", labels.hint("final")) as Float64Array;
  }
  return { output, final };
}

/** @internal Raw gradients in the shapes the forward pass was given: cell weights by key, input, initial states, gradient traces. */
export function shapeGradients(g: RawSequenceGradients, def: CellDef, In: number, { steps: T, batch: B }: SequenceTrace, { batched, batchFirst }: ResultShape): SequenceGradients {
  const drop = (shape: number[]) => (batched ? shape : shape.filter((_, k) => k !== 1));
  const x = batched && batchFirst ? swap01(g.input, T, B, In) : g.input;
  const cell0 = g.cells[0].cell;
  return {
    params: Object.fromEntries(g.cells.map((c) => [c.key, writeWeights(c.grads.params, c.cell.shapes)])),
    input: toNested(x, batched ? (batchFirst ? [B, T, In] : [T, B, In]) : [T, In]),
    initial: Object.fromEntries(def.states.map((s) => [s.name, toNested(g.initial[s.name], drop([g.cells.length, B, cell0.size(s.size)]))])),
    traces: Object.fromEntries(g.cells.map((c) => [c.key, c.trace])),
  };
}

/** @internal How messages name the upstream tensors of {@link DifferentiableResult.backward}. */
export const UPSTREAM_LABELS: UpstreamLabels = {
  output: `upstream gradient "output" (∂L/∂output)`,
  final: (state: string) => `upstream gradient final.${state} (∂L/∂ final ${state})`,
  hint: (what: "output" | "final") => `Give it shaped like the forward pass's ${what}.`,
};

/**
 * A sequence model of any cell definition: stacked layers, optionally bidirectional.
 *
 * @example
 * const model = sequence(GRU_RESET_AFTER, { inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 7 });
 * const { output, final } = model.forward(xs); // output [T][B][4]; final.h [2][B][4]
 */
export function sequence(def: CellDef, options: SequenceOptions): SequenceModel {
  return new SequenceModel(def, options);
}
