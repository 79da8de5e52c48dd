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
 * Gradients are stored in the trace's dtype: float64 for a float64 trace; for a float32 trace,
 * ∂L/∂(every input, node and initial state) is float32 and the products run in single precision, as
 * PyTorch's float32 autograd does (every rule still computes in float64 and rounds once when it
 * stores; {@link RawOptions.dtype} asks for float64 instead). Gradients of weights are summed over
 * steps and batch elements, always into float64: for a float32 trace each block of up to 4096 rows
 * (steps × batch elements) is one single-precision product, and the blocks are summed in float64. Like the forward engine, only the recurrent part runs step by step: weight
 * gradients and the gradients of the cell inputs are matrix products over all steps after the time
 * loop ({@link backwardRaw}); {@link backwardReference} is the plain interpreter the tests compare
 * it with.
 */
import { evalSize, type CellDef } from "../cells/define";
import { VJP, type Vjp, type VjpArgs, type VjpOperand } from "../cells/gradients";
import type { OpKind } from "../cells/ops";
import { errors, requireObject } from "../errors";
import { allocate, checkFinite, leadingShape, toFlat, toNested, type DType, type FloatArray, type NestedInput } from "./arrays";
import { gemmTNNative, product, productKind } from "./gemm";
import { nativeBlas, type NativeBlas } from "./native";
import { paramShapes, writeWeights, type Weights } from "./params";
import { derivedDefinition, TAPES, Trace } from "./trace";

/**
 * One upstream gradient: nested arrays, or every number flat in the trace's layout (a Float64Array
 * or Float32Array of T·B·size, as `trace.raw(name)` holds the values — no nested copy of a large run).
 */
export type UpstreamValue = NestedInput | Float64Array | Float32Array;

/** What L depends on: the upstream gradients a {@link backward} pass starts from (missing ones are zero). */
export interface Upstream {
  /**
   * ∂L/∂(the cell's output node, usually h) at every step: `[T, B, size]`, or `[T, size]` for a trace
   * of one sequence. Steps as the trace indexes them (processing order for a reversed run).
   */
  output?: UpstreamValue;
  /** ∂L/∂(the last value of a state): state name → `[B, size]` (or `[size]` for a trace of one sequence). */
  final?: Readonly<Record<string, UpstreamValue>>;
  /**
   * ∂L/∂(any node) at every step, node name → `[T, B, size]`: a vector–Jacobian product from any
   * intermediate (e.g. a loss on the forget gate). Added to what `output` and `final` give.
   */
  nodes?: Readonly<Record<string, UpstreamValue>>;
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

/** @internal Upstream gradients as flat float64 arrays: node name → `[T, B, size]`, state name → `[B, size]`. A pass only reads them. */
export interface Seeds {
  nodes?: Readonly<Record<string, Float64Array>>;
  final?: Readonly<Record<string, Float64Array>>;
}

/** @internal Gradients as flat arrays, in the trace's layout (see the module docs for their dtype). */
export interface RawGradients {
  /** Every input and node: `[T, B, size]`. */
  values: Record<string, FloatArray>;
  /** Every state: `[B, size]`. */
  initial: Record<string, FloatArray>;
  /** Every parameter, in the parameter's storage layout: float64. */
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
 * Gradient buffers of a trace, zeroed: every input (except those in `later`, made when first read)
 * and node `[T, B, size]`, every state `[B, size]` (in `dtype`), every parameter (float64), the seeds
 * added. With `unfilled`, the nodes' arrays are neither zeroed nor seeded: the caller sets each step's
 * slice before anything adds into it ({@link stepStarts}).
 */
function gradientArrays(
  trace: Trace,
  params: Readonly<Record<string, FloatArray>>,
  seeds: Seeds,
  dtype: DType = "float64",
  later: ReadonlySet<string> = new Set(),
  reuse?: RawGradients,
  unfilled = false,
): RawGradients {
  const { def, sizes, batch: B } = trace;
  const T = trace.length;
  const size = (expr: string) => evalSize(expr, sizes);
  /** Storage for `name` (zeroed unless `unset`): `reuse`'s array when it fits (read as a plain value: an input's made-on-read one is not made for this), else a new one. */
  const storage = (from: Record<string, FloatArray> | undefined, name: string, n: number, unset = false) => {
    const old = from && Object.getOwnPropertyDescriptor(from, name)?.value;
    const fits = old instanceof (dtype === "float32" ? Float32Array : Float64Array) && old.length === n;
    if (fits) return unset ? old : old.fill(0);
    return allocate(dtype, n, unset ? "unfilled" : "zeroed");
  };
  const nodes = new Set(def.nodes.map((x) => x.name));
  const values: Record<string, FloatArray> = {};
  // A later one's key is set now (defined by the caller) so that the keys keep the trace's order.
  for (const x of [...def.inputs, ...def.nodes])
    values[x.name] = later.has(x.name) ? (undefined as never) : storage(reuse?.values, x.name, T * B * size(x.size), unfilled && nodes.has(x.name));
  const initial = Object.fromEntries(def.states.map((s) => [s.name, storage(reuse?.initial, s.name, B * size(s.size))]));
  const paramGrads = Object.fromEntries(Object.entries(params).map(([name, p]) => [name, new Float64Array(p.length)]));
  if (!unfilled) {
    for (const [name, seed] of Object.entries(seeds.nodes ?? {})) add(values[name], seed, 0);
    for (const s of def.states) if (seeds.final?.[s.name]) add(values[s.next], seeds.final[s.name], (T - 1) * B * size(s.size));
  }
  return { values, initial, params: paramGrads };
}

/**
 * What sets each step's slice of the nodes' unfilled gradients ({@link gradientArrays}) to its seed,
 * or zero, just before the first share can be added into it — one slice at a time, so that it is
 * still in cache when the rules add into it (zeroing whole new arrays first, every page faulted in
 * and cleared by the kernel, then adding the seeds took about 3 ms of a 22 ms pass at T = 100,
 * B = 32, H = 32). Called with t = T, T − 1, …, 0 before the
 * nodes of step t run (t = T: before the loop): a node's slice of step t is set then, a state's
 * node's slice of step t − 1 one step earlier, since step t adds into it through the state's
 * previous value. The final states' seeds are added when their slices are set.
 */
function stepStarts(trace: Trace, nodes: ReturnType<typeof resolveOperands>, g: RawGradients, seeds: Seeds): (t: number) => void {
  const { def, batch: B } = trace;
  const T = trace.length;
  const finals = new Map<string, Float64Array[]>();
  for (const s of def.states) if (seeds.final?.[s.name]) finals.set(s.next, [...(finals.get(s.next) ?? []), seeds.final[s.name]]);
  const nexts = new Set(def.states.map((s) => s.next));
  const slices = nodes.map(({ node, n }) => {
    const grad = g.values[node.name];
    const seed = seeds.nodes?.[node.name];
    const set = (t: number) => {
      const at = t * B * n;
      if (seed) for (let k = at; k < at + B * n; k++) grad[k] = seed[k];
      else grad.fill(0, at, at + B * n);
    };
    if (!nexts.has(node.name)) return (t: number) => t < T && set(t);
    const ends = finals.get(node.name) ?? [];
    return (t: number) => {
      if (t === 0) return;
      set(t - 1);
      if (t === T) for (const end of ends) add(grad, end, (T - 1) * B * n);
    };
  });
  return (t) => {
    for (const slice of slices) slice(t);
  };
}

/**
 * The values a run's interventions set are constants: L depends on them, but nothing the cell
 * computed reaches L through them. So before a node's rule sends its gradient back at step t, its
 * held entries are zeroed, and they stay zero while the weights' and inputs' gradients are summed;
 * afterwards they are restored, since ∂L/∂node there is still L's sensitivity to the held value. An
 * input's held entries get gradient 0: the input given there is not what the cell read.
 */
class Held {
  /** name → step → offsets of held entries in that name's gradient. */
  private readonly at = new Map<string, Map<number, number[]>>();
  private readonly saved: [FloatArray, number, number][] = [];

  constructor(trace: Trace, private readonly g: RawGradients) {
    const T = trace.length;
    const B = trace.batch;
    for (const iv of trace.interventions ?? []) {
      const n = g.values[iv.node].length / (T * B);
      const steps = (iv.t ?? Array.from({ length: T }, (_, t) => t)).filter((t) => t < T);
      const units = iv.units ?? Array.from({ length: n }, (_, u) => u);
      const byStep = this.at.get(iv.node) ?? this.at.set(iv.node, new Map()).get(iv.node)!;
      for (const t of steps) {
        const offsets = byStep.get(t) ?? byStep.set(t, []).get(t)!;
        for (let b = 0; b < B; b++) for (const u of units) offsets.push((t * B + b) * n + u);
      }
    }
  }

  /** Zeroes `name`'s held entries at step t (before its rule runs). */
  cut(name: string, t: number): void {
    const offsets = this.at.get(name)?.get(t);
    if (!offsets) return;
    const grad = this.g.values[name];
    for (const k of offsets) {
      this.saved.push([grad, k, grad[k]]);
      grad[k] = 0;
    }
  }

  /** Restores the nodes' held entries and zeroes the inputs' (after everything is summed). */
  finish(inputs: ReadonlySet<string>): void {
    for (const [grad, k, v] of this.saved) grad[k] = v;
    for (const [name, byStep] of this.at) if (inputs.has(name)) for (const offsets of byStep.values()) for (const k of offsets) this.g.values[name][k] = 0;
  }
}

/**
 * One operand of a node, resolved once: a previous state (its values are the state's node one step
 * earlier, or the initial state at step 0) or an input or node of the same step.
 */
interface Resolved {
  name: string;
  state: CellDef["states"][number] | undefined;
  size: number;
}

function resolveOperands(trace: Trace) {
  const { def, sizes } = trace;
  const size = (expr: string) => evalSize(expr, sizes);
  const previous = new Map(def.states.map((s) => [s.prev, s]));
  return def.nodes.map((node) => ({
    node,
    n: size(node.size),
    operands: node.inputs.map((name): Resolved => {
      const s = previous.get(name);
      return { name, state: s, size: size(s ? s.size : [...def.inputs, ...def.nodes].find((x) => x.name === name)!.size) };
    }),
  }));
}

/** Points `into` at operand `o`'s values and gradient at step t (no allocation: the object is reused every step). */
function place(into: VjpOperand, o: Resolved, t: number, B: number, storage: Trace["storage"], g: RawGradients): void {
  const n = o.size;
  if (!o.state) {
    into.value = storage.values[o.name];
    into.grad = g.values[o.name];
    into.valueAt = into.gradAt = t * B * n;
  } else if (t === 0) {
    into.value = storage.initial[o.state.name];
    into.grad = g.initial[o.state.name];
    into.valueAt = into.gradAt = 0;
  } else {
    into.value = storage.values[o.state.next];
    into.grad = g.values[o.state.next];
    into.valueAt = into.gradAt = (t - 1) * B * n;
  }
}

/**
 * @internal The reference interpreter: every node's whole gradient rule ({@link VJP}, affine
 * included) step by step, plain float64 loops. {@link backwardRaw} computes the same numbers faster;
 * the tests hold the two together.
 */
export function backwardReference(trace: Trace, seeds: Seeds = {}, where = "backward"): RawGradients {
  const params = tapeOf(trace, where);
  const { batch: B, storage } = trace;
  const g = gradientArrays(trace, params, seeds);
  const nodes = resolveOperands(trace);
  const held = new Held(trace, g);
  for (let t = trace.length - 1; t >= 0; t--)
    for (let j = nodes.length - 1; j >= 0; j--) {
      const { node, n, operands } = nodes[j];
      held.cut(node.name, t);
      VJP[node.op]({
        node,
        n,
        B,
        grad: g.values[node.name],
        gradAt: t * B * n,
        value: storage.values[node.name],
        valueAt: t * B * n,
        operands: operands.map((o) => {
          const v = { size: o.size } as VjpOperand;
          place(v, o, t, B, storage, g);
          return v;
        }),
        params,
        paramGrads: g.params,
      });
    }
  held.finish(new Set(trace.def.inputs.map((i) => i.name)));
  return g;
}

/** @internal Options of {@link backwardRaw}. */
export interface RawOptions {
  /**
   * Whether to compute ∂L/∂(parameters) and ∂L/∂(cell inputs) (default true). Without them only the
   * nodes' and initial states' gradients are complete — all a Jacobian needs, and the time loop is
   * then all the work.
   */
  leaves?: boolean;
  /**
   * Storage of the gradients of inputs, nodes and initial states (default: the trace's dtype). A
   * Jacobian asks for float64 whatever the trace: its curves span hundreds of orders of magnitude.
   */
  dtype?: DType;
  /**
   * The gradients of an earlier pass that nobody reads any more (a training loop's previous step):
   * their arrays of ∂L/∂(inputs, nodes, initial states) are reused where they fit (every value
   * written again: the nodes' are not zeroed first, see {@link stepStarts}), so a
   * loop of passes allocates (and the collector frees) nothing per step. Parameters' gradients are
   * always fresh.
   */
  reuse?: RawGradients;
}

/**
 * Multiply–adds from which a backward product goes to OpenBLAS (when built). Lower than gemm.ts's
 * NATIVE_MIN_MACS: the backward pass's products are float64 and repeat every step, where a native
 * call is worth it from about 32×32×16 on; teaching sizes (units in single digits) stay in
 * JavaScript and give the same numbers on every machine.
 */
const STEP_MIN_MACS = 1 << 14;

/** The threshold of the backward pass's products: {@link STEP_MIN_MACS} for OpenBLAS; TensorFlow.js keeps gemm.ts's own (its calls cost far more). */
const stepMinMacs = () => (nativeBlas() ? STEP_MIN_MACS : undefined);

/** Rows per block when weight gradients are summed over all T·B rows (bounds the transposed copies). */
const ROWS_PER_BLOCK = 4096;

/**
 * @internal Reverse mode over the first `trace.length` steps of a trace, from flat seeds (checked by
 * the caller). Every gradient array is new, or one of {@link RawOptions.reuse}'s.
 *
 * Structured like the forward engine (program.ts): inside the time loop only what carries the
 * gradient back through time — every non-affine rule, and for each affine term on a state or a node
 * ∂L/∂operand += ∂L/∂y · W, one product per term and step ({@link product}: the JavaScript kernel,
 * or OpenBLAS when large). Everything else needs only the finished ∂L/∂(nodes) of all steps, so it
 * leaves the loop: each weight's gradient Σ_{t,b} ∂L/∂y ⊗ operand is one product over all T·B rows,
 * each input term's ∂L/∂x = ∂L/∂Y · W one product for all steps (when first read, see
 * {@link lazyInputs}), each bias a column sum. No allocation per step.
 */
export function backwardRaw(trace: Trace, seeds: Seeds = {}, where = "backward", { leaves = true, dtype, reuse }: RawOptions = {}): RawGradients {
  const params = tapeOf(trace, where);
  const { def, batch: B, storage } = trace;
  const T = trace.length;
  const store = dtype ?? trace.dtype;
  const nodes = resolveOperands(trace);
  const inputs = new Set(def.inputs.map((i) => i.name));
  const later = new Set(leaves ? lazyInputs(trace, nodes) : []);
  const g = gradientArrays(trace, params, seeds, store, later, reuse, true);
  const start = stepStarts(trace, nodes, g, seeds);
  const transposed = new Map<string, FloatArray>();
  /** Wᵀ `[m, n]` in the gradients' dtype, once per weight: the products read W as `x Wᵀ`, and ∂L/∂x = ∂L/∂y · W. */
  const transpose = (weight: string, n: number, m: number) => {
    let t = transposed.get(weight);
    if (!t) {
      const w = params[weight];
      t = allocate(store, n * m);
      for (let r = 0; r < n; r++) for (let c = 0; c < m; c++) t[c * n + r] = w[r * m + c];
      transposed.set(weight, t);
    }
    return t;
  };

  const groups = fusedGroups(nodes, inputs, B);
  const grouped = new Set(groups.flatMap((g) => g.members.map((m) => `${m.node}:${m.weight}`)));

  // Per node, what runs at step t, built once.
  const steps = nodes.map(({ node, n, operands }, index): ((t: number) => void) => {
    const placed = operands.map((o): VjpOperand => ({ size: o.size, value: storage.values[def.output], valueAt: 0, grad: g.values[def.output], gradAt: 0 }));
    if (node.op !== "affine") {
      const args: VjpArgs = { node, n, B, grad: g.values[node.name], gradAt: 0, value: storage.values[node.name], valueAt: 0, operands: placed, params, paramGrads: g.params };
      const rule = (store === trace.dtype && nativeRule(node.op, n * B, operands.length)) || VJP[node.op];
      return (t) => {
        args.gradAt = args.valueAt = t * B * n;
        for (let j = 0; j < operands.length; j++) place(placed[j], operands[j], t, B, storage, g);
        rule(args);
      };
    }
    // Affine: only the terms on states and nodes, whose gradients flow on within the loop.
    const grad = g.values[node.name];
    const terms = node.terms!.flatMap((term, j) => {
      const o = operands[j];
      if (inputs.has(o.name) || grouped.has(`${node.name}:${term.weight}`)) return [];
      const m = o.size;
      if (term.kind === "diagonal") {
        const p = params[term.weight];
        return [
          (t: number) => {
            const a = placed[j];
            place(a, o, t, B, storage, g);
            for (let b = 0; b < B; b++) for (let r = 0; r < n; r++) a.grad[a.gradAt + b * m + r] += grad[(t * B + b) * n + r] * p[r];
          },
        ];
      }
      const prod = product(transpose(term.weight, n, m), m, n, B, stepMinMacs());
      return [
        (t: number) => {
          const a = placed[j];
          place(a, o, t, B, storage, g);
          prod.run(grad, t * B * n, B, a.grad, a.gradAt, m);
        },
      ];
    });
    // A fused group runs with its first member: the last of them the reverse loop reaches, so every member's gradient is complete.
    for (const group of groups.filter((gr) => gr.first === index)) terms.push(groupStep(group, B, storage, g, params, store));
    return (t) => {
      for (const term of terms) term(t);
    };
  });
  const held = new Held(trace, g);
  start(T);
  for (let t = T - 1; t >= 0; t--) {
    start(t);
    for (let j = steps.length - 1; j >= 0; j--) {
      held.cut(nodes[j].node.name, t);
      steps[j](t);
    }
  }
  if (leaves) {
    const affine = nodes.filter(({ node }) => node.op === "affine");
    const R = T * B;
    for (const name of inputs) {
      if (!later.has(name)) inputTerms(name, g.values[name], affine, g, params, R, transpose);
      else
        onFirstRead(g.values, name, () => {
          const dx = allocate(store, R * evalSize(def.inputs.find((i) => i.name === name)!.size, trace.sizes));
          inputTerms(name, dx, affine, g, params, R, transpose);
          return dx;
        });
    }
    affineLeaves(trace, g, affine, store);
  }
  held.finish(inputs);
  return g;
}

/**
 * The inputs whose gradient {@link backwardRaw} computes when it is first read: those only affine
 * terms read (their ∂L/∂x = Σ ∂L/∂Y · W is a product after the time loop, which nothing inside the
 * pass needs) in a run without interventions (whose held entries must be zero while it is summed).
 * PyTorch likewise computes ∂L/∂x only for an input that requires it; a training step reads the
 * weights' gradients only, and at T = 512, In = H = 256 this product is a sixth of the pass.
 */
function lazyInputs(trace: Trace, nodes: ReturnType<typeof resolveOperands>): string[] {
  if (trace.interventions.length > 0) return [];
  return trace.def.inputs.map((i) => i.name).filter((name) => nodes.every(({ node, operands }) => node.op === "affine" || !operands.some((o) => o.name === name)));
}

/** Defines `record[name]` as `make()`, called on the first read (then kept as a plain value). */
function onFirstRead<V>(record: Record<string, V>, name: string, make: () => V): void {
  const keep = (value: V) => void Object.defineProperty(record, name, { value, enumerable: true, writable: true, configurable: true });
  Object.defineProperty(record, name, {
    enumerable: true,
    configurable: true,
    get: () => {
      const value = make();
      keep(value);
      return value;
    },
    set: keep,
  });
}

/**
 * ∂L/∂x for one input x: every affine term on x over all R = T·B rows, in definition order —
 * ∂L/∂x += Y · W (one product) for a matrix term, Y ⊙ p for a diagonal one, Y = ∂L/∂(the term's node).
 */
function inputTerms(
  name: string,
  dx: FloatArray,
  affine: ReturnType<typeof resolveOperands>,
  g: RawGradients,
  params: Readonly<Record<string, FloatArray>>,
  R: number,
  transpose: (weight: string, n: number, m: number) => FloatArray,
): void {
  for (const { node, n, operands } of affine) {
    const Y = g.values[node.name];
    node.terms!.forEach((term, j) => {
      const o = operands[j];
      if (o.name !== name) return;
      if (term.kind === "matrix") product(transpose(term.weight, n, o.size), o.size, n, R, stepMinMacs()).run(Y, 0, R, dx, 0, o.size);
      else scaleColumns(Y, R, n, params[term.weight], dx);
    });
  }
}

/**
 * Values per step from which an elementwise rule runs natively ({@link nativeRule}): below it, a call
 * into the binding costs more than the JavaScript loop saves.
 */
const NATIVE_RULE_MIN = 256;

/**
 * The native form of a gate's elementwise rule — sigmoid, tanh, a mul of two operands, add, sub: the
 * same numbers as {@link VJP}'s (computed in double precision in the same order), about ten times
 * faster a value than the JavaScript loop where this was measured. Undefined (the JavaScript rule
 * runs) without the binding, for another op, or below {@link NATIVE_RULE_MIN} values per step; the
 * caller also keeps JavaScript where the gradients' dtype is not the trace's (the kernels take one).
 */
function nativeRule(op: OpKind, count: number, operandCount: number): Vjp | undefined {
  const blas = nativeBlas();
  if (!blas || count < NATIVE_RULE_MIN) return undefined;
  switch (op) {
    case "sigmoid":
    case "tanh": {
      const code = op === "sigmoid" ? 0 : 1;
      return ({ grad, gradAt, value, valueAt, operands: [a] }) => blas.unaryBackward(code, grad, gradAt, value, valueAt, a.grad, a.gradAt, count);
    }
    case "mul":
      if (operandCount !== 2) return undefined;
      return ({ grad, gradAt, operands: [a, b] }) => blas.mulBackward(grad, gradAt, a.value, a.valueAt, a.grad, a.gradAt, b.value, b.valueAt, b.grad, b.gradAt, count);
    case "add":
    case "sub":
      return ({ grad, gradAt, operands }) => {
        for (let j = 0; j < operands.length; j++) blas.unaryBackward(j === 0 || op === "add" ? 2 : 3, grad, gradAt, grad, 0, operands[j].grad, operands[j].gradAt, count);
      };
    default:
      return undefined;
  }
}

/**
 * Matrix terms of several affine nodes on one state or node (LSTM's four `U · h[t−1]`): their
 * gradients flow back as one product per step, ∂L/∂operand += [∂L/∂y₁ … ∂L/∂y_k] · [W₁; …; W_k],
 * instead of one per term — one larger product runs faster than several small ones in JavaScript or
 * TensorFlow.js (the forward fuses the same terms, program.ts; with OpenBLAS neither does).
 */
interface FusedGroup {
  operand: Resolved;
  /** Each member's node, size, weight and first column in the stacked gradient `[B, R]`. */
  members: { node: string; n: number; weight: string; column: number }[];
  R: number;
  /** Index of the first member's node in definition order. */
  first: number;
}

/**
 * The groups of {@link FusedGroup}: matrix terms on the same non-input operand, when there are several
 * — except terms whose own product goes to OpenBLAS: stacking their gradients is a copy of every
 * value each step, and OpenBLAS takes four products straight from the gradients faster (measured at
 * T = 100, B = 32, H = 32: the backward pass 10 % faster unfused), as the forward engine leaves them
 * unfused (program.ts).
 */
function fusedGroups(nodes: ReturnType<typeof resolveOperands>, inputs: ReadonlySet<string>, B: number): FusedGroup[] {
  const byOperand = new Map<string, FusedGroup>();
  nodes.forEach(({ node, n, operands }, index) => {
    if (node.op !== "affine") return;
    node.terms!.forEach((term, j) => {
      const o = operands[j];
      if (term.kind !== "matrix" || inputs.has(o.name)) return;
      if (productKind(false, o.size, n, B, stepMinMacs()) === "native") return;
      const group = byOperand.get(o.name) ?? byOperand.set(o.name, { operand: o, members: [], R: 0, first: index }).get(o.name)!;
      group.members.push({ node: node.name, n, weight: term.weight, column: group.R });
      group.R += n;
    });
  });
  return [...byOperand.values()].filter((group) => group.members.length > 1);
}

/**
 * One group's step: the members' gradients at step t copied side by side into `[B, R]`, then one
 * product with the weights stacked (stored transposed, `[m, R]`, as the products read them).
 */
function groupStep(
  { operand, members, R }: FusedGroup,
  B: number,
  storage: Trace["storage"],
  g: RawGradients,
  params: Readonly<Record<string, FloatArray>>,
  dtype: DType,
): (t: number) => void {
  const m = operand.size;
  const stacked = allocate(dtype, m * R);
  for (const { n, weight, column } of members) {
    const w = params[weight];
    for (let r = 0; r < n; r++) for (let c = 0; c < m; c++) stacked[c * R + column + r] = w[r * m + c];
  }
  const prod = product(stacked, m, R, B, stepMinMacs());
  const S = allocate(dtype, B * R);
  const sources = members.map(({ node, n, column }) => ({ grad: g.values[node], n, column }));
  const a = { size: m } as VjpOperand;
  return (t) => {
    for (const { grad, n, column } of sources)
      for (let b = 0; b < B; b++) {
        const from = (t * B + b) * n;
        const to = b * R + column;
        for (let r = 0; r < n; r++) S[to + r] = grad[from + r];
      }
    place(a, operand, t, B, storage, g);
    prod.run(S, 0, B, a.grad, a.gradAt, m);
  };
}

/**
 * After the time loop, for every affine node with Y = ∂L/∂(node) over all R = T·B rows: biases
 * (column sums of Y) and every weight's gradient, ∂L/∂W += Yᵀ · operand. With the native binding
 * that is one OpenBLAS product per term reading Y and the operand where they are (gemmTN: its first
 * operand transposed); without it, the JavaScript and TensorFlow.js products take their reduction
 * index last, so they run on transposed copies: one product per operand and block of rows for all
 * the matrix terms on that operand, their nodes' gradients stacked (one larger product runs faster
 * than several small ones).
 */
function affineLeaves(trace: Trace, g: RawGradients, affine: ReturnType<typeof resolveOperands>, dtype: DType): void {
  const { batch: B, storage } = trace;
  const R = trace.length * B;
  const blas = nativeBlas();
  const biasSums = blas ? columnSumsNative(blas, dtype, R) : columnSums;
  for (const { node, n } of affine) for (const name of node.bias!) biasSums(g.values[node.name], R, n, g.params[name]);

  // Weight gradients, block by block of rows. The matrix terms on one operand are one product: the
  // gradients of their nodes stacked, transposed, `[Σ n, C]` (LSTM: the four gates' on x, and again on
  // h[t−1] — the same stack, made once per block), times the operand's transposed values `[m, C]`.
  const block = Math.min(R, ROWS_PER_BLOCK);
  const byOperand = new Map<string, { o: Resolved; members: { node: string; n: number; weight: string; row: number }[]; rows: number }>();
  const diagonal: { node: string; n: number; weight: string; o: Resolved }[] = [];
  for (const { node, n, operands } of affine)
    node.terms!.forEach((term, j) => {
      const o = operands[j];
      if (term.kind === "diagonal") return void diagonal.push({ node: node.name, n, weight: term.weight, o });
      const entry = byOperand.get(o.name) ?? byOperand.set(o.name, { o, members: [], rows: 0 }).get(o.name)!;
      entry.members.push({ node: node.name, n, weight: term.weight, row: entry.rows });
      entry.rows += n;
    });
  // With OpenBLAS, each matrix term's gradient is products straight on the traces (when the
  // gradients have the trace's dtype: gemmTN does not convert); the transposed copies are for the rest.
  if (blas && dtype === trace.dtype)
    for (const [name, { o, members, rows }] of byOperand) {
      if (rows * o.size * block < STEP_MIN_MACS) continue;
      for (const { node, n, weight } of members) weightGradientNative(blas, g.values[node], n, o, trace, g.params[weight]);
      byOperand.delete(name);
    }
  const scratch = new Map<string, FloatArray>();
  const buffer = (key: string, size: number) => scratch.get(key) ?? scratch.set(key, allocate(dtype, size * block)).get(key)!;
  /** Operand o's values in rows r0 … r0 + C (the row index is t·B + b), transposed into `[size, C]`. */
  const operandRows = (o: Resolved, r0: number, C: number, out: FloatArray) => {
    const m = o.size;
    if (!o.state) return transposeRows(storage.values[o.name], r0 * m, C, m, out, C, 0);
    // A previous state: rows of step 0 are the initial state, row r ≥ B is the state's node at row r − B.
    const first = Math.max(0, Math.min(C, B - r0));
    transposeRows(storage.initial[o.state.name], r0 * m, first, m, out, C, 0);
    transposeRows(storage.values[o.state.next], (r0 + first - B) * m, C - first, m, out, C, first);
  };
  /** Each operand's products sum into `[Σ n, m]` (float64; for a float32 trace each block's product goes to a float32 buffer first, then is added). */
  const sums = new Map([...byOperand].map(([name, { o, rows }]) => [name, new Float64Array(rows * o.size)]));
  const part = dtype === "float32" ? new Map([...byOperand].map(([name, { o, rows }]) => [name, new Float32Array(rows * o.size)])) : undefined;
  for (let r0 = 0; r0 < R; r0 += block) {
    const C = Math.min(block, R - r0);
    const transposed = new Set<string>();
    /** The members' gradients in this block, transposed and stacked (made once per block for each list of nodes). */
    const stacked = (members: { node: string; n: number; row: number }[], rows: number) => {
      const key = `nodes:${members.map((m) => m.node).join(",")}`;
      const out = buffer(key, rows);
      if (!transposed.has(key)) {
        for (const { node, n, row } of members) transposeRows(g.values[node], r0 * n, C, n, out, C, row * C);
        transposed.add(key);
      }
      return out;
    };
    const values = (o: Resolved) => {
      const key = `operand:${o.name}`;
      const out = buffer(key, o.size);
      if (!transposed.has(key)) {
        operandRows(o, r0, C, out);
        transposed.add(key);
      }
      return out;
    };
    for (const [name, { o, members, rows }] of byOperand) {
      const m = o.size;
      const Yt = stacked(members, rows);
      const Xt = values(o);
      const single = part?.get(name);
      if (single) {
        single.fill(0);
        product(Xt, m, C, rows, stepMinMacs()).run(Yt, 0, rows, single, 0, m);
        add(sums.get(name)!, single, 0);
      } else product(Xt, m, C, rows, stepMinMacs()).run(Yt, 0, rows, sums.get(name)!, 0, m);
    }
    for (const { node, n, weight, o } of diagonal) rowDots(stacked([{ node, n, row: 0 }], n), values(o), n, C, g.params[weight]);
  }
  for (const [name, { o, members }] of byOperand)
    for (const { n, weight, row } of members) add(g.params[weight], sums.get(name)!.subarray(row * o.size, (row + n) * o.size), 0);
}

/**
 * ∂L/∂W += Σ_rows Y[row]ᵀ ⊗ operand[row] through OpenBLAS's gemmTN, reading Y `[R, n]` and the
 * operand where they are (a previous state's rows of step 0 are the initial state, row r ≥ B the
 * state's node at row r − B). A float64 trace's sum is one product over all rows; a float32 trace's
 * is one single-precision product per block of {@link ROWS_PER_BLOCK} rows, the blocks summed in float64.
 */
function weightGradientNative(blas: NativeBlas, Y: FloatArray, n: number, o: Resolved, trace: Trace, into: Float64Array): void {
  const { batch: B, storage } = trace;
  const R = trace.length * B;
  const m = o.size;
  /** Adds rows r0 … r1 of Yᵀ · operand into `out` `[n, m]`. */
  const rows = (r0: number, r1: number, out: FloatArray) => {
    if (!o.state) return gemmTNNative(blas, Y, r0 * n, n, storage.values[o.name], r0 * m, m, r1 - r0, n, m, out, 0, m);
    const split = Math.min(Math.max(B, r0), r1);
    if (split > r0) gemmTNNative(blas, Y, r0 * n, n, storage.initial[o.state.name], r0 * m, m, split - r0, n, m, out, 0, m);
    if (r1 > split) gemmTNNative(blas, Y, split * n, n, storage.values[o.state.next], (split - B) * m, m, r1 - split, n, m, out, 0, m);
  };
  if (trace.dtype === "float64") return rows(0, R, into);
  const part = new Float32Array(n * m);
  for (let r0 = 0; r0 < R; r0 += ROWS_PER_BLOCK) {
    part.fill(0);
    rows(r0, Math.min(R, r0 + ROWS_PER_BLOCK), part);
    add(into, part, 0);
  }
}

// The loops of affineLeaves as functions of their own: V8 optimises each as a hot function (inside
// affineLeaves, called once per pass, they ran several times slower).

/** `into[r] += Σ_row Y[row, r]` over R rows of n. */
function columnSums(Y: FloatArray, R: number, n: number, into: Float64Array): void {
  for (let row = 0; row < R; row++) {
    const at = row * n;
    for (let r = 0; r < n; r++) into[r] += Y[at + r];
  }
}

/**
 * {@link columnSums} through OpenBLAS when large: `into += onesᵀ · Y`, one product with a column of
 * ones (gemmTN) — for float32 gradients one per block of {@link ROWS_PER_BLOCK} rows, the blocks
 * summed in float64, as the weights' gradients are.
 */
function columnSumsNative(blas: NativeBlas, dtype: DType, R: number): typeof columnSums {
  const block = Math.min(R, ROWS_PER_BLOCK);
  const ones = allocate(dtype, dtype === "float64" ? R : block).fill(1);
  return (Y, R, n, into) => {
    if (R * n < STEP_MIN_MACS) return columnSums(Y, R, n, into);
    if (dtype === "float64") return gemmTNNative(blas, ones, 0, 1, Y, 0, n, R, 1, n, into, 0, n);
    const part = new Float32Array(n);
    for (let r0 = 0; r0 < R; r0 += block) {
      part.fill(0);
      gemmTNNative(blas, ones, 0, 1, Y, r0 * n, n, Math.min(block, R - r0), 1, n, part, 0, n);
      add(into, part, 0);
    }
  };
}

/** `into[row, r] += Y[row, r] · p[r]` over R rows of n (a diagonal term's ∂L/∂input). */
function scaleColumns(Y: FloatArray, R: number, n: number, p: FloatArray, into: FloatArray): void {
  for (let k = 0; k < R * n; k++) into[k] += Y[k] * p[k % n];
}

/** `into[r] += Σ_i A[r, i] · B[r, i]` over n rows of C (a diagonal term's weight gradient, on transposed blocks). */
function rowDots(A: FloatArray, B: FloatArray, n: number, C: number, into: Float64Array): void {
  for (let r = 0; r < n; r++) {
    let sum = 0;
    for (let i = 0; i < C; i++) sum += A[r * C + i] * B[r * C + i];
    into[r] += sum;
  }
}

/** Rows per tile of {@link transposeRows}: a tile's source rows stay in cache while its columns are written out. */
const TILE = 64;

/**
 * `rows` rows of n numbers from `src` at `at`, transposed into columns i0 … i0 + rows of `out`
 * (`[n, C]`): out[c·C + i0 + i] = src[at + i·n + c]. Tiled, so the writes run along out's rows.
 */
function transposeRows(src: FloatArray, at: number, rows: number, n: number, out: FloatArray, C: number, i0: number): void {
  for (let t0 = 0; t0 < rows; t0 += TILE) {
    const t1 = Math.min(rows, t0 + TILE);
    for (let c = 0; c < n; c++) {
      const o = c * C + i0;
      for (let i = t0; i < t1; i++) out[o + i] = src[at + i * n + c];
    }
  }
}

function add(into: FloatArray, from: ArrayLike<number>, at: number): void {
  for (let k = 0; k < from.length; k++) into[at + k] += from[k];
}

/**
 * Reads a user's upstream gradient of the expected shape `[…, B, size]`, also accepting `[…, size]`
 * when B is 1 (a trace of one sequence) and a flat typed array of all the numbers; a named shape
 * error otherwise. A flat Float64Array is returned as it is, not copied (the pass only reads its
 * seeds, and returns before the caller can change them); anything else is read into a new one.
 */
function readUpstream(value: UpstreamValue, lead: readonly number[], B: number, n: number, what: string): Float64Array {
  const full = [...lead, B, n];
  if (value instanceof Float64Array || value instanceof Float32Array) {
    const count = full.reduce((a, b) => a * b, 1);
    if (value.length !== count) throw errors.shape(what, [count], [value.length], `A flat ∂L/∂ holds every number of [${full.join(", ")}] in the trace's layout, as trace.raw(name) does.`);
    checkFinite(value, what);
    return value instanceof Float64Array ? value : new Float64Array(value);
  }
  // The depth by the first elements only: toFlat checks the whole value (one walk, not two; a bad
  // one is walked again there to name its problem).
  const depth = leadingShape(value).length;
  const expected = B === 1 && depth === full.length - 1 ? [...lead, n] : full;
  const hint = `Give ∂L/∂ in the trace's layout${B === 1 ? ` (or [${[...lead, n].join(", ")}] for one sequence)` : ""}.`;
  return toFlat(value, expected, what, "float64", hint) as Float64Array;
}

/** Checks an upstream record keyed by the names of `known` (nodes or states) and reads each given entry. */
function readNamed<D extends { name: string; size: string }>(
  record: Readonly<Record<string, UpstreamValue | undefined>> | undefined,
  option: string,
  kind: string,
  known: readonly D[],
  expected: string,
  where: string,
  read: (d: D, value: UpstreamValue) => void,
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
    seeds.nodes[node.name] = previous ? seed.map((v, k) => v + previous[k]) : seed;
  });
  readNamed(upstream.final, "final", "state", def.states, "state name → ∂L/∂(its last value) [B, size]", where, (s, value) => {
    seeds.final[s.name] = readUpstream(value, [], B, evalSize(s.size, trace.sizes), `upstream gradient final.${s.name} (∂L/∂ the last ${s.name}) of ${where}`);
  });
  return seeds;
}

/** @internal The gradient trace of a forward trace: its names, steps, batch and direction; values ∂L/∂(each). */
export function gradientTrace(trace: Trace, raw: RawGradients): Trace {
  // The dtype from a node's gradient (an input's may be made only when read).
  const dtype = raw.values[trace.def.nodes[0].name] instanceof Float32Array ? "float32" : "float64";
  const grads = new Trace(derivedDefinition(trace.def, "gradient"), trace.sizes, trace.length, trace.batch, dtype, { values: raw.values, initial: raw.initial }, trace.direction);
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
    inputs: nestedOnRead(def.inputs.map((i) => [i.name, () => toNested(raw.values[i.name], [T, B, size(i.size)])])),
    initial: nestedOnRead(def.states.map((s) => [s.name, () => toNested(raw.initial[s.name], [B, size(s.size)])])),
  };
}

/**
 * A record whose entries are nested arrays made on first read (then kept): ∂L/∂inputs of a large
 * run is millions of numbers, and most callers read the weights' gradients or the trace only.
 */
function nestedOnRead<V>(entries: readonly (readonly [string, () => V])[]): Record<string, V> {
  const out: Record<string, V> = {};
  for (const [name, make] of entries) {
    let value: V | undefined;
    Object.defineProperty(out, name, {
      enumerable: true,
      get: () => (value ??= make()),
      set: (v: V) => void (value = v),
    });
  }
  return out;
}
