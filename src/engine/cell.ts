/**
 * An instantiated cell: a definition with concrete sizes and parameters. It runs over a sequence
 * (recording everything into a {@link Trace}) or steps through one with a {@link Stepper}.
 */
import { BUILTIN_CELLS } from "../cells/builtins";
import { checkDefinition, evalSize, sizeNames, type CellDef } from "../cells/define";
import { formatOf } from "../display/registry";
import { DISPLAY, type MimeBundle } from "../display/protocol";
import { errors, requireObject } from "../errors";
import { allocate, BYTES, checkBytes, leadingShape, memoryLimit, shapeOf, toFlat, toShared, checkFinite, type DType, type FloatArray, type NestedInput } from "./arrays";
import { checkInterventions, type Intervention } from "./interventions";
import { initParams, paramShapes, readWeights, writeWeights, type Shape, type Weights } from "./params";
import { partsFor, runSplit } from "./parallel";
import { compile, type Storage } from "./program";
import { Stepper } from "./stepper";
import { TAPES, Trace } from "./trace";

/** Options of {@link cell}. */
export interface CellOptions {
  /** Size of the input x (the definition's `In`). */
  inputSize?: number;
  /** Size of the hidden state (the definition's `H`). */
  hiddenSize?: number;
  /** Any other symbolic size, e.g. `{ P: 4 }` for a projection. */
  sizes?: Record<string, number>;
  /** Seed of the reproducible initialisation (default 0). */
  seed?: number | string;
  /** Storage precision (default float64: exact to the last digit of the references). */
  dtype?: DType;
  /** Weights in archlab's layout (see {@link Cell.weights}); default: seeded initialisation. */
  weights?: Readonly<Record<string, unknown>>;
  /**
   * Most bytes the parameters, and each run's trace, may take (default: `ARCHLAB_MAX_BYTES`, else
   * 2 GiB). Sizes over it are refused before anything is allocated; `Infinity` turns the check off.
   */
  maxBytes?: number;
}

/** Initial states by state name, each `[B, size]` or `[size]` (same for every batch element). */
export type InitialState = Readonly<Record<string, unknown>>;

/** Options of a run. */
export interface RunOptions {
  initial?: InitialState;
  /** Process the sequence from last to first (the backward half of a bidirectional layer). */
  reverse?: boolean;
  /**
   * Stop at the first NaN or ±Infinity a node computes, with a named error giving the node, step,
   * batch element and unit (default false: such values are recorded like any other).
   */
  checkFinite?: boolean;
  /**
   * Values to override while running (see {@link Intervention}): each overridden value feeds
   * everything computed after it, and the trace records it (`trace.interventions` lists them).
   * Names, steps and units are checked first: an unknown name, a step or unit out of range, a value
   * that is not a finite number are named errors giving the valid ones. A run with interventions
   * runs on one thread (large runs without them may be split across threads).
   *
   * @example
   * lstm.run(xs, { interventions: [{ node: "f", t: 5, value: 1 }, { node: "h", units: [3], value: 0 }] });
   */
  interventions?: readonly Intervention[];
}

declare module "../display/registry" {
  interface Formats {
    /** A cell displays as its diagram with its concrete shapes (set up at the package root). */
    cell: Cell;
  }
}

/** A cell with sizes and parameters. Create with {@link cell}. */
export class Cell {
  readonly sizes: Readonly<Record<string, number>>;
  readonly dtype: DType;
  /** Concrete shape of every parameter. */
  readonly shapes: Readonly<Record<string, Shape>>;
  /** The memory limit given (see {@link CellOptions.maxBytes}); undefined: the environment's or the default. */
  readonly maxBytes: number | undefined;
  #params: Record<string, FloatArray>;

  constructor(
    readonly def: CellDef,
    options: CellOptions = {},
  ) {
    requireDefinition(def, "cell()");
    // Definitions may arrive as plain data (JSON, a shared notebook): checked before anything uses them.
    checkDefinition(def);
    requireObject("options", options, "{ inputSize, hiddenSize, … }");
    const sizes = cellSizes(def, options);
    const dtype = options.dtype ?? "float64";
    if (dtype !== "float64" && dtype !== "float32") throw errors.badOption("dtype", dtype, `"float64" or "float32"`);
    this.maxBytes = options.maxBytes;
    this.sizes = sizes;
    this.dtype = dtype;
    this.shapes = paramShapes(def, this.sizes);
    checkBytes(paramBytes(this.shapes, dtype), memoryLimit(this.maxBytes), `The parameters of cell "${def.name}"`, describeSizes(sizes));
    this.#params = options.weights
      ? readWeights(def, this.shapes, options.weights, dtype, `cell "${def.name}"`)
      : initParams(def, this.shapes, dtype, options.seed ?? 0);
  }

  /** Shown as a cell's value: the diagram with this cell's concrete shapes. */
  [DISPLAY](): MimeBundle | Promise<MimeBundle> {
    return formatOf("cell", this, () => `${this.def.name} cell (${describeSizes(this.sizes)})`);
  }

  /** Size of a symbolic size expression, e.g. `cell.size("H")`. */
  size(expr: string): number {
    return evalSize(expr, this.sizes);
  }

  /** The weights in archlab's layout: matrices `[rows, cols]` (applied as `x Wᵀ`), vectors `[size]`. */
  weights(): Weights {
    return writeWeights(this.#params, this.shapes);
  }

  /** Replaces weights: all named, none extra, right shapes, finite — or nothing changes. */
  setWeights(weights: Readonly<Record<string, unknown>>): this {
    this.#params = readWeights(this.def, this.shapes, weights, this.dtype, `cell "${this.def.name}"`);
    return this;
  }

  /**
   * @internal Replaces every parameter from flat arrays in the storage layout (as {@link params}
   * holds them): training's step, without nesting and re-reading the weights. New arrays, so the
   * tapes of earlier traces keep the weights they ran with; lengths and finiteness checked.
   */
  setParams(flat: Readonly<Record<string, ArrayLike<number>>>): void {
    const next: Record<string, FloatArray> = {};
    for (const { name } of this.def.params) {
      const value = flat[name];
      const what = `weight "${name}" of cell "${this.def.name}"`;
      if (value?.length !== this.#params[name].length) throw errors.badOption(what, value, `${this.#params[name].length} numbers (flat, as cell.params holds them)`);
      const a = allocate(this.dtype, value.length);
      a.set(value);
      checkFinite(a, what);
      next[name] = a;
    }
    this.#params = next;
  }

  /** @internal The parameter storage (read-only use). */
  get params(): Readonly<Record<string, FloatArray>> {
    return this.#params;
  }

  /** Number of trainable numbers. */
  get parameterCount(): number {
    return Object.values(this.#params).reduce((n, a) => n + a.length, 0);
  }

  /** Runs the whole sequence (`[T, B, In]`, or `[T, In]` for batch 1) and returns the full trace. */
  run(xs: NestedInput, options: RunOptions = {}): Trace {
    return this.#run(xs, options);
  }

  /**
   * @internal `run` on an input its caller already checked and flattened time first (a sequence
   * model's layer input, `[T, B, In]`): the same trace, without turning it back into nested arrays
   * and walking them again (at T = 1000, H = 16 those passes are a sixth of a forward pass).
   */
  runFlat(input: FlatSequence, options: RunOptions = {}): Trace {
    return this.#run(undefined, options, input);
  }

  /**
   * @internal `run` writing the nodes' values into the arrays of `previous` where they fit: a trace
   * of this cell that nobody reads any more (a training loop's previous step; it must not be read
   * afterwards). A loop of runs then allocates, and the collector frees, nothing per step.
   */
  runReusing(xs: NestedInput, previous: Trace | undefined): Trace {
    return this.#run(xs, {}, undefined, previous);
  }

  #run(xs: NestedInput | undefined, options: RunOptions, flat?: FlatSequence, reuse?: Trace): Trace {
    let parts = 1;
    // Large runs are split across threads (parallel.ts), which needs the trace in shared memory.
    const trace = this.#prepare(xs, options, (T, B) => (parts = partsFor(this.def, this.sizes, T, B)) > 1, flat, reuse, true);
    if (parts > 1) runSplit(this.def, this.sizes, trace.batch, trace.steps, this.#params, trace.storage, parts);
    else {
      const step = compile(this.def, this.sizes, trace.batch, this.#params, trace.storage, trace.interventions);
      for (let t = 0; t < trace.steps; t++) step(t);
    }
    trace.length = trace.steps;
    if (options.checkFinite) this.checkComputed(trace, 0, "Run again without checkFinite to keep the trace and look at that step: trace.at(t).");
    return trace;
  }

  /** @internal With option checkFinite: a named error for the first value of steps from…length−1 that is not finite. */
  checkComputed(trace: Trace, from: number, after: string): void {
    const bad = trace.firstNonFinite(from, trace.length);
    if (bad) throw errors.computedNonFinite(this.def.name, this.def.nodes.find((n) => n.name === bad.name)!, bad, after);
  }

  /** Steps through a sequence one timestep at a time (see {@link Stepper}). */
  stepper(xs: NestedInput, options: RunOptions = {}): Stepper {
    return new Stepper(this, xs, options);
  }

  /** @internal Checks inputs and allocates a trace (nothing computed yet). */
  prepare(xs: NestedInput, options: RunOptions = {}): Trace {
    return this.#prepare(xs, options, () => false);
  }

  /**
   * Checks inputs and allocates a trace, in shared memory when `shared(T, B)` says so (never for a
   * run with interventions: it runs on one thread). `whole`: the caller computes every step before
   * anyone reads the trace (a run, not a stepper), so nodes whose values it writes all need no zeroing.
   */
  #prepare(xs: NestedInput | undefined, options: RunOptions, shared: (T: number, B: number) => boolean, flat?: FlatSequence, reuse?: Trace, whole = false): Trace {
    requireObject("options", options, "{ initial?, reverse?, checkFinite?, interventions? }");
    const { initial = {}, reverse = false, checkFinite: check = false } = options;
    requireObject("initial", initial, "state name → [B, size] or [size]");
    const inputName = this.def.inputs[0].name;
    if (this.def.inputs.length !== 1) throw errors.unsupported(`Running cell "${this.def.name}"`, "cells with several inputs need run({ … }) per input (not yet).");
    const In = this.size(this.def.inputs[0].size);
    const what = `input "${inputName}" of cell "${this.def.name}"`;
    // The shape by the first elements, checked in full by toFlat below (one walk over the input, not
    // two); an input refused here is walked by shapeOf first, so a ragged one is named as before.
    let shape = flat ? [flat.T, flat.B, In] : leadingShape(xs);
    if (!flat && (shape[0] === 0 || (shape.length !== 2 && shape.length !== 3))) shape = shapeOf(xs, what);
    if (shape[0] === 0) throw errors.emptySequence(`The ${what}`);
    if (typeof check !== "boolean") throw errors.badOption("checkFinite", check, "true or false");
    if (typeof reverse !== "boolean") throw errors.badOption("reverse", reverse, "true or false");
    const batched = shape.length === 3;
    if (shape.length !== 2 && shape.length !== 3)
      throw errors.shape(what, ["T", "B", In], shape, "Give a sequence shaped [T, B, In], or [T, In] for one sequence.");
    const [T, B] = batched ? shape : [shape[0], 1];
    checkBytes(this.traceBytes(T, B), memoryLimit(this.maxBytes), `A trace of cell "${this.def.name}" (${T} steps × batch ${B})`, `T = ${T}, B = ${B}, ${describeSizes(this.sizes)}`);
    const values = flat ? copyAs(this.dtype, flat.values, T * B * In, what) : toFlat(xs, batched ? [T, B, In] : [T, In], what, this.dtype, `Input size is ${In} (inputSize); time is the first axis.`);
    const interventions = checkInterventions(this.def, this.sizes, T, options.interventions);
    const share = interventions.length === 0 && shared(T, B);
    const x = reverse ? reverseTime(values, T, B * In) : values;
    const storage: Storage = { values: { [inputName]: share ? toShared(x) : x }, initial: {} };
    // A reused or new array is zeroed where the forward adds into it (an affine node without a bias:
    // the prologue starts the others from their bias); every other node's values are all written.
    const fresh: { name: string; size: number; zero: boolean }[] = [];
    for (const n of this.def.nodes) {
      const size = T * B * this.size(n.size);
      const zero = n.op === "affine" && n.bias!.length === 0;
      const old = reuse?.def === this.def && reuse.dtype === this.dtype ? reuse.storage.values[n.name] : undefined;
      if (old?.length === size && old.buffer instanceof SharedArrayBuffer === share) storage.values[n.name] = zero ? old.fill(0) : old;
      else fresh.push({ name: n.name, size, zero });
    }
    Object.assign(storage.values, nodeArrays(this.dtype, fresh, share ? "shared" : whole ? "unfilled" : "zeroed"));
    const unknown = Object.keys(initial).filter((k) => !this.def.states.some((s) => s.name === k));
    if (unknown.length) throw errors.unknownName("state", unknown[0], this.def.states.map((s) => s.name), `the initial state of cell "${this.def.name}"`);
    for (const s of this.def.states) {
      const value = this.initialState(s.name, initial[s.name], B);
      storage.initial[s.name] = share ? toShared(value) : value;
    }
    const trace = new Trace(this.def, this.sizes, T, B, this.dtype, storage, reverse ? "backward" : "forward", interventions);
    TAPES.set(trace, this.#params);
    return trace;
  }

  /** Bytes a trace of T steps over B batch elements takes: every input and node at every step, and the initial states. */
  traceBytes(T: number, B: number): number {
    const total = (list: readonly { size: string }[]) => list.reduce((n, x) => n + this.size(x.size), 0);
    return (T * B * (total(this.def.inputs) + total(this.def.nodes)) + B * total(this.def.states)) * BYTES[this.dtype];
  }

  private initialState(name: string, value: unknown, B: number): FloatArray {
    const size = this.size(this.def.states.find((s) => s.name === name)!.size);
    if (value === undefined) return allocate(this.dtype, B * size);
    const what = `initial state "${name}" of cell "${this.def.name}"`;
    const shape = shapeOf(value, what);
    if (shape.length === 1) {
      const row = toFlat(value, [size], what, this.dtype);
      const out = allocate(this.dtype, B * size);
      for (let b = 0; b < B; b++) out.set(row, b * size);
      return out;
    }
    const out = toFlat(value, [B, size], what, this.dtype, "Give [B, size], or [size] for every batch element.");
    checkFinite(out, what);
    return out;
  }
}

/** An input already checked and flattened time first: `[T, B, In]` in `values`. */
export interface FlatSequence {
  values: FloatArray;
  T: number;
  B: number;
}

/**
 * New arrays for a trace's nodes (each `size` numbers, those marked `zero` zeroed), all views of one
 * allocation: the collector then tracks and frees one backing store per trace, not one per node (a
 * loop of fresh runs at T = 100, B = 32, H = 32 ran its median forward pass in 6.2–7.5 ms instead
 * of 9–14, alternating in one process). A view keeps the whole allocation alive: an array read from
 * a trace (`trace.raw`) holds its trace's memory. Past {@link ONE_ALLOCATION_MAX_BYTES}, one array
 * per node.
 */
function nodeArrays(dtype: DType, nodes: readonly { name: string; size: number; zero: boolean }[], kind: "zeroed" | "shared" | "unfilled"): Record<string, FloatArray> {
  const total = nodes.reduce((n, x) => n + x.size, 0);
  const all = total * BYTES[dtype] <= ONE_ALLOCATION_MAX_BYTES ? allocate(dtype, total, kind) : undefined;
  const out: Record<string, FloatArray> = {};
  let at = 0;
  for (const { name, size, zero } of nodes) {
    out[name] = all ? all.subarray(at, at + size) : allocate(dtype, size, zero && kind === "unfilled" ? "zeroed" : kind);
    if (all && zero && kind === "unfilled") out[name].fill(0);
    at += size;
  }
  return out;
}

/** Largest trace whose nodes share one allocation (one typed array's reach, with room to spare). */
const ONE_ALLOCATION_MAX_BYTES = 2 ** 31;

/** The trace's own copy of a flat input, in the cell's dtype (the caller keeps its array). */
function copyAs(dtype: DType, values: FloatArray, n: number, what: string): FloatArray {
  if (values.length !== n) throw errors.shape(what, [n], [values.length]);
  const out = allocate(dtype, n);
  out.set(values);
  return out;
}

/** Option name of each size in messages: `In` is `inputSize`, `H` is `hiddenSize`, others `sizes.P`. */
const optionOf = (name: string) => (name === "In" ? "inputSize" : name === "H" ? "hiddenSize" : `sizes.${name}`);

/** Sizes as messages show them: `inputSize = 3, hiddenSize = 1000000000`. */
export const describeSizes = (sizes: Readonly<Record<string, number>>): string =>
  Object.entries(sizes).map(([k, v]) => `${optionOf(k)} = ${v}`).join(", ");

/** The concrete sizes of `def` from a cell's options; named errors for a missing, bad or unknown one. */
export function cellSizes(def: CellDef, options: Pick<CellOptions, "inputSize" | "hiddenSize" | "sizes">): Readonly<Record<string, number>> {
  const needed = sizeNames(def);
  const given: Record<string, number> = { ...(options.sizes ?? {}) };
  if (options.inputSize !== undefined) given.In = options.inputSize;
  if (options.hiddenSize !== undefined) given.H = options.hiddenSize;
  if (!Object.hasOwn(given, "P") && needed.includes("P") && given.H !== undefined) given.P = given.H;
  for (const name of needed) {
    const v = Object.hasOwn(given, name) ? given[name] : undefined;
    if (v === undefined) throw errors.badOption(optionOf(name), v, `a positive integer: cell "${def.name}" needs size ${name}`);
    if (!Number.isInteger(v) || v <= 0) throw errors.badOption(optionOf(name), v, "a positive integer");
  }
  const unknown = Object.keys(given).filter((k) => !needed.includes(k));
  if (unknown.length) throw errors.unknownName("size", unknown[0], needed, `cell "${def.name}"`);
  return Object.freeze(given);
}

/** Bytes parameters of these shapes take. */
export const paramBytes = (shapes: Readonly<Record<string, Shape>>, dtype: DType): number =>
  Object.values(shapes).reduce((n, shape) => n + shape.reduce((a, b) => a * b, 1), 0) * BYTES[dtype];

/**
 * Checks `def` looks like a cell definition (an object with a name and the four lists) before
 * anything reads it, so the usual slips get a message that says what to pass: a definition's name
 * as a string (`cell("LSTM")`), or undefined from a name missing in BUILTIN_CELLS. A shallow check:
 * what the lists hold is the definition validator's business.
 */
export function requireDefinition(def: unknown, where: string): asserts def is CellDef {
  const d = def as Partial<Record<keyof CellDef, unknown>> | null;
  const ok = d !== null && typeof d === "object" && typeof d.name === "string" && [d.inputs, d.states, d.params, d.nodes].every(Array.isArray);
  if (!ok) throw errors.notADefinition(where, def, Object.keys(BUILTIN_CELLS));
}

function reverseTime(flat: FloatArray, T: number, stride: number): FloatArray {
  const out = flat.slice();
  for (let t = 0; t < T; t++) out.set(flat.subarray((T - 1 - t) * stride, (T - t) * stride), t * stride);
  return out;
}

/**
 * Instantiates a cell definition with sizes and (seeded, reproducible) parameters.
 *
 * @example
 * const lstm = cell(LSTM, { inputSize: 3, hiddenSize: 4, seed: 1 });
 * const trace = lstm.run([[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]]);
 * trace.value("f", { t: 1 }); // the forget gate at step 1
 */
export function cell(def: CellDef, options: CellOptions = {}): Cell {
  return new Cell(def, options);
}
