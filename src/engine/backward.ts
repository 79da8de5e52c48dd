/**
 * Reverse mode through a recorded trace: backpropagation through time. The forward trace already
 * holds every intermediate at every step — it is the tape. {@link backward} walks it from the last
 * step to the first and, within a step, through the nodes in reverse definition order, applying
 * each op's gradient rule (cells/gradients.ts, one per op kind). What it returns has the trace's
 * own structure: ∂L/∂(every input and node) at every step, as a {@link Trace} the same plots read.
 *
 *     step t:   ∂L/∂node  (complete: every consumer — later nodes at t, and step t+1 through the
 *               states — has already added its share)  ──VJP──►  ∂L/∂operands, ∂L/∂weights
 *     a state's previous value at step t is the state's node at step t−1 (the initial state at t=0),
 *     so what the rules add into `h_prev` at step t lands on ∂L/∂h at step t−1.
 *
 * Plain float64 loops, whatever the trace's dtype; gradients of weights are summed over steps and
 * batch elements.
 */
import { evalSize, type CellDef } from "../cells/define";
import { VJP, type VjpOperand } from "../cells/gradients";
import { errors, requireObject } from "../errors";
import { shapeOf, toFlat, toNested, type NestedInput } from "./arrays";
import { paramShapes, writeWeights, type Weights } from "./params";
import { TAPES, Trace } from "./trace";

/** What L depends on: the upstream gradients a {@link backward} pass starts from (missing ones are zero). */
export interface Upstream {
  /**
   * ∂L/∂(the cell's output node, usually h) at every step: `[T, B, size]`, or `[T, size]` for a trace
   * of one sequence. Steps as the trace indexes them (processing order for a reversed run).
   */
  output?: NestedInput;
  /** ∂L/∂(the last value of a state): state name → `[B, size]` (or `[size]` for a trace of one sequence). */
  final?: Readonly<Record<string, NestedInput>>;
  /**
   * ∂L/∂(any node) at every step, node name → `[T, B, size]`: a vector–Jacobian product from any
   * intermediate (e.g. a loss on the forget gate). Added to what `output` and `final` give.
   */
  nodes?: Readonly<Record<string, NestedInput>>;
}

/** The gradients of L from one {@link backward} pass. */
export interface Gradients {
  /**
   * ∂L/∂(every input and node) at every step, with the forward trace's names, steps and batch:
   * `grads.trace.get("c")` is ∂L/∂c `[T][B][H]`; `plot.heatmap(grads.trace)` shows where the gradient
   * dies. Its `initial` is ∂L/∂(initial states).
   */
  trace: Trace;
  /** ∂L/∂(every parameter), same names and shapes as `cell.weights()`. */
  params: Weights;
  /** ∂L/∂(every input) `[T][B][size]`, steps as the trace indexes them. */
  inputs: Record<string, number[][][]>;
  /** ∂L/∂(the initial value of every state) `[B][size]`. */
  initial: Record<string, number[][]>;
}

/** @internal Upstream gradients as flat float64 arrays: node name → `[T, B, size]`, state name → `[B, size]`. */
export interface Seeds {
  nodes?: Readonly<Record<string, Float64Array>>;
  final?: Readonly<Record<string, Float64Array>>;
}

/** @internal Gradients as flat float64 arrays, in the trace's layout. */
export interface RawGradients {
  /** Every input and node: `[T, B, size]`. */
  values: Record<string, Float64Array>;
  /** Every state: `[B, size]`. */
  initial: Record<string, Float64Array>;
  /** Every parameter, in the parameter's storage layout. */
  params: Record<string, Float64Array>;
}

/** The tape's parameters, or a named error for a trace no cell recorded (a gradient trace, or one built by hand). */
function tapeOf(trace: Trace, where: string) {
  if (!(trace instanceof Trace)) throw errors.badOption(`trace of ${where}`, trace, "a Trace from cell.run(xs) or a stepper's trace");
  if (trace.length === 0) throw errors.emptyTrace(where);
  const params = TAPES.get(trace);
  if (!params)
    throw errors.unsupported(`${where} of this trace`, "it was not recorded by cell.run(xs) or a stepper (a gradient trace cannot be differentiated again). Run the cell and pass its trace.");
  return params;
}

/**
 * @internal Reverse mode over the first `trace.length` steps of a trace, from flat seeds (checked by
 * the caller). Every gradient is a fresh float64 array.
 */
export function backwardRaw(trace: Trace, seeds: Seeds = {}, where = "backward"): RawGradients {
  const params = tapeOf(trace, where);
  const { def, sizes, batch: B, storage } = trace;
  const T = trace.length;
  const size = (expr: string) => evalSize(expr, sizes);
  const values: Record<string, Float64Array> = {};
  for (const x of [...def.inputs, ...def.nodes]) values[x.name] = new Float64Array(T * B * size(x.size));
  const initial = Object.fromEntries(def.states.map((s) => [s.name, new Float64Array(B * size(s.size))]));
  const paramGrads = Object.fromEntries(Object.entries(params).map(([name, p]) => [name, new Float64Array(p.length)]));

  for (const [name, seed] of Object.entries(seeds.nodes ?? {})) add(values[name], seed, 0);
  for (const s of def.states) if (seeds.final?.[s.name]) add(values[s.next], seeds.final[s.name], (T - 1) * B * size(s.size));

  // Each node's operands, resolved once; per step only the offsets move.
  const previous = new Map(def.states.map((s) => [s.prev, s]));
  const nodes = def.nodes.map((node) => ({
    node,
    n: size(node.size),
    operands: node.inputs.map((name) => {
      const s = previous.get(name);
      const n = size(s ? s.size : [...def.inputs, ...def.nodes].find((x) => x.name === name)!.size);
      return { name, state: s, size: n };
    }),
  }));
  const operand = (o: (typeof nodes)[number]["operands"][number], t: number): VjpOperand => {
    const { state, size: n } = o;
    if (!state) return { size: n, value: storage.values[o.name], valueAt: t * B * n, grad: values[o.name], gradAt: t * B * n };
    // A previous state: the state's node at step t−1, or the initial state at step 0.
    if (t === 0) return { size: n, value: storage.initial[state.name], valueAt: 0, grad: initial[state.name], gradAt: 0 };
    return { size: n, value: storage.values[state.next], valueAt: (t - 1) * B * n, grad: values[state.next], gradAt: (t - 1) * B * n };
  };
  for (let t = T - 1; t >= 0; t--)
    for (let j = nodes.length - 1; j >= 0; j--) {
      const { node, n, operands } = nodes[j];
      VJP[node.op]({
        node,
        n,
        B,
        grad: values[node.name],
        gradAt: t * B * n,
        value: storage.values[node.name],
        valueAt: t * B * n,
        operands: operands.map((o) => operand(o, t)),
        params,
        paramGrads,
      });
    }
  return { values, initial, params: paramGrads };
}

function add(into: Float64Array, from: ArrayLike<number>, at: number): void {
  for (let k = 0; k < from.length; k++) into[at + k] += from[k];
}

/**
 * Reads a user's upstream gradient of the expected shape `[…, B, size]`, also accepting `[…, size]`
 * when B is 1 (a trace of one sequence); a named shape error otherwise.
 */
function readUpstream(value: NestedInput, lead: readonly number[], B: number, n: number, what: string): Float64Array {
  const full = [...lead, B, n];
  const shape = shapeOf(value, what);
  const expected = B === 1 && shape.length === full.length - 1 ? [...lead, n] : full;
  const hint = `Give ∂L/∂ in the trace's layout${B === 1 ? ` (or [${[...lead, n].join(", ")}] for one sequence)` : ""}.`;
  return toFlat(value, expected, what, "float64", hint) as Float64Array;
}

/** Checks an upstream record keyed by the names of `known` (nodes or states) and reads each given entry. */
function readNamed<D extends { name: string; size: string }>(
  record: Readonly<Record<string, NestedInput | undefined>> | undefined,
  option: string,
  kind: string,
  known: readonly D[],
  expected: string,
  where: string,
  read: (d: D, value: NestedInput) => void,
): void {
  if (record === undefined) return;
  requireObject(`upstream gradient "${option}" of ${where}`, record, expected);
  for (const [name, value] of Object.entries(record)) {
    const d = known.find((x) => x.name === name);
    if (!d) throw errors.unknownName(kind, name, known.map((x) => x.name), `upstream gradient "${option}" of ${where}`);
    if (value !== undefined) read(d, value);
  }
}

/** @internal The upstream gradients of {@link Upstream}, checked and flattened. */
export function readSeeds(trace: Trace, upstream: Upstream, where: string): Seeds {
  requireObject(`upstream gradients of ${where}`, upstream, "{ output?: ∂L/∂output [T, B, size], final?: { state: ∂L/∂(last state) [B, size] }, nodes?: { node: ∂L/∂node [T, B, size] } }");
  const { def, batch: B, length: T } = trace;
  const known = ["output", "final", "nodes"];
  const extra = Object.keys(upstream).find((k) => !known.includes(k));
  if (extra) throw errors.unknownName("upstream gradient", extra, known, where);
  const seeds: { nodes: Record<string, Float64Array>; final: Record<string, Float64Array> } = { nodes: {}, final: {} };
  const output = def.nodes.find((x) => x.name === def.output)!;
  if (upstream.output !== undefined)
    seeds.nodes[output.name] = readUpstream(upstream.output, [T], B, trace.entry(output.name).size, `upstream gradient "output" (∂L/∂${output.name} at every step) of ${where}`);
  readNamed(upstream.nodes, "nodes", "node", def.nodes, "node name → ∂L/∂(that node) at every step [T, B, size]", where, (node, value) => {
    const seed = readUpstream(value, [T], B, evalSize(node.size, trace.sizes), `upstream gradient nodes.${node.name} (∂L/∂${node.name} at every step) of ${where}`);
    const previous = seeds.nodes[node.name];
    if (previous) for (let k = 0; k < seed.length; k++) seed[k] += previous[k];
    seeds.nodes[node.name] = seed;
  });
  readNamed(upstream.final, "final", "state", def.states, "state name → ∂L/∂(its last value) [B, size]", where, (s, value) => {
    seeds.final[s.name] = readUpstream(value, [], B, evalSize(s.size, trace.sizes), `upstream gradient final.${s.name} (∂L/∂ the last ${s.name}) of ${where}`);
  });
  return seeds;
}

const gradientDefinitions = new WeakMap<CellDef, CellDef>();

/**
 * @internal The definition a gradient trace is labelled with: the same names and sizes, each value
 * written ∂L/∂(its label). Every value of a gradient trace is a sum of its consumers' shares
 * (op "add", no operands recorded) and none is a gate: gradients are unbounded and signed, so plots
 * colour them on a symmetric scale.
 */
export function gradientDefinition(def: CellDef): CellDef {
  const cached = gradientDefinitions.get(def);
  if (cached) return cached;
  const d = (label: string) => `∂L/∂${label}`;
  const out: CellDef = Object.freeze({
    name: def.name,
    title: `gradients ∂L/∂(every value) of ${def.title}`,
    citation: def.citation,
    notes: [...def.notes, "Gradient trace: each value is ∂L/∂(that value) at that step, from backward()."],
    inputs: def.inputs.map((i) => ({ ...i, label: d(i.label) })),
    states: def.states.map((s) => ({ ...s, label: d(s.label) })),
    params: def.params,
    nodes: def.nodes.map((n) => ({ name: n.name, op: "add" as const, inputs: [], size: n.size, role: n.role === "gate" ? ("intermediate" as const) : n.role, label: d(n.label), ...(n.note ? { note: n.note } : {}) })),
    output: def.output,
  });
  gradientDefinitions.set(def, out);
  return out;
}

/** @internal The gradient trace of a forward trace: its names, steps, batch and direction; values ∂L/∂(each). */
export function gradientTrace(trace: Trace, raw: RawGradients): Trace {
  const grads = new Trace(gradientDefinition(trace.def), trace.sizes, trace.length, trace.batch, "float64", { values: raw.values, initial: raw.initial }, trace.direction);
  grads.length = trace.length;
  return grads;
}

/**
 * Backpropagation through time over a recorded trace: the gradients of a loss L given how L depends
 * on the cell's outputs at every step (`output`) and on the last state values (`final`).
 * Returns ∂L/∂(every node) at every step as a trace (plot it like the forward one), ∂L/∂(every
 * weight) as `cell.weights()` shapes them, ∂L/∂inputs and ∂L/∂(initial states) — what
 * `torch.autograd.grad(outputs, inputs, grad_outputs)` gives, and every intermediate besides.
 *
 * @example
 * const lstm = cell(LSTM, { inputSize: 2, hiddenSize: 3, seed: 1 });
 * const trace = lstm.run([[0.1, 0.2], [0.3, -0.1], [0.5, 0.4]]);   // one sequence, T = 3
 * const grads = backward(trace, { final: { h: [1, 1, 1] } });      // L = Σ h at the last step
 * grads.params.U_f;                                                 // ∂L/∂U_f [3][3]
 * grads.trace.get("c");                                             // ∂L/∂c at every step [3][1][3]
 * grads.initial.c;                                                  // ∂L/∂c₀ [1][3]
 * await plot.heatmap(grads.trace);                                  // ∂L/∂c, ∂L/∂h: where the gradient dies
 */
export function backward(trace: Trace, upstream: Upstream = {}): Gradients {
  const where = `backward (cell "${trace?.def?.name}")`;
  tapeOf(trace, where);
  const raw = backwardRaw(trace, readSeeds(trace, upstream, where), where);
  const { def, sizes, batch: B, length: T } = trace;
  const size = (expr: string) => evalSize(expr, sizes);
  return {
    trace: gradientTrace(trace, raw),
    params: writeWeights(raw.params, paramShapes(def, sizes)),
    inputs: Object.fromEntries(def.inputs.map((i) => [i.name, toNested(raw.values[i.name], [T, B, size(i.size)])])),
    initial: Object.fromEntries(def.states.map((s) => [s.name, toNested(raw.initial[s.name], [B, size(s.size)])])),
  };
}
