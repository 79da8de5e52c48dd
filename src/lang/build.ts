/**
 * Building a model: `model(name, sizes, build)` runs `build` once with a graph under construction;
 * inside it, `input`, `param`, the op functions, `block`/`layer` and `scan` add nodes. The result is
 * plain data — nodes in creation order, parameters with their initial values — that the
 * interpreters run, the trace records, the diagram draws and `summary` counts.
 *
 * @example
 * const elm = model("ELM", { In: 8, H: 64, Out: 1 }, () => {
 *   const x = input("x", ["B", "In"]);
 *   const W = param("W", ["In", "H"], { kind: "frozen", init: inits.uniform(1) });
 *   const h = named("h", tanh(matmul(x, W)));
 *   return { y: matmul(h, param("Wout", ["H", "Out"])) };
 * });
 */
import { ArchlabError } from "../errors";
import { Tensor, scopePath, type DType, type ParamKind, type Scope } from "./graph";
import { type ND } from "./nd";
// ops.ts imports addNode from here; its functions are only called while a model is being built, after both modules loaded.
import { reshape, where } from "./ops";
import { sameShape, shapeOf, showShape, size, type Shape, type ShapeLike, type SizeLike } from "./size";

/** Makes a parameter's initial value from its concrete shape and a seeded random source in [0, 1). */
export type Init = (shape: readonly number[], random: () => number) => ND;

/** Options of {@link param}. */
export interface ParamOptions {
  /** trainable (default), frozen (a reservoir: fixed after init), or constant (a given value). */
  kind?: ParamKind;
  /** The initial value (see `inits`); default Glorot-uniform for matrices, zeros for vectors. */
  init?: Init;
}

/** A scan's body and wiring, kept in the scan node's attributes. */
export interface ScanInfo {
  /** The body's nodes in creation order. */
  readonly body: readonly Tensor[];
  /** One `step` placeholder per sequence (the sequence's slice at the current step). */
  readonly steps: readonly Tensor[];
  /** One `state` placeholder per carried state (its value from the previous step). */
  readonly states: readonly Tensor[];
  /** The body's next value of each state, in the order of `states`. */
  readonly next: readonly Tensor[];
  /** The body's per-step outputs, stacked over time into the scan's outputs. */
  readonly outs: readonly Tensor[];
  /** Position of the time axis in the sequences and the stacked outputs. */
  readonly axis: number;
  /** Number of steps: the sequences' length on `axis`, or the given `steps`. */
  readonly length: import("./size").Size;
  readonly reverse: boolean;
}

/** The graph under construction. */
interface Builder {
  readonly sizes: Readonly<Record<string, number>>;
  /** Where new nodes go: the model's list, or the body list of the scan being built. */
  list: Tensor[];
  /** The model's own list. */
  readonly outer: Tensor[];
  scope: Scope | undefined;
  readonly taken: Map<string, Set<string>>;
  nextId: number;
  readonly inputs: Tensor[];
  readonly params: Tensor[];
  readonly values: Map<Tensor, ND>;
  readonly random: () => number;
  /** The scan bodies being built, innermost last, with their placeholders (a body may read only these and outer nodes). */
  readonly bodies: Tensor[][];
}

let active: Builder | undefined;

function builder(what: string): Builder {
  if (!active)
    throw new ArchlabError("no-model", `${what} can only be called inside a model definition: model("name", sizes, () => { … }).`);
  return active;
}

/** A fresh name in the current scope: the requested one (an error if taken) or `op`, `op_2`, …. */
function claim(b: Builder, requested: string | undefined, op: string): string {
  const key = scopePath(b.scope);
  let taken = b.taken.get(key);
  if (!taken) b.taken.set(key, (taken = new Set()));
  if (requested !== undefined) {
    checkName(requested);
    if (taken.has(requested))
      throw new ArchlabError("duplicate-name", `The name ${JSON.stringify(requested)} is already used in ${key ? `block ${key}` : "this model"}. Give each node its own name.`);
    taken.add(requested);
    return requested;
  }
  let name = op;
  for (let i = 2; taken.has(name); i++) name = `${op}_${i}`;
  taken.add(name);
  return name;
}

/** Names of nodes, blocks and sizes: the cell language's rule (letters of any script, digits, _ and -; never "/", which separates a path). */
const NAME = /^[\p{L}\p{N}_][\p{L}\p{M}\p{N}_-]{0,63}$/u;

function checkName(name: unknown): asserts name is string {
  if (typeof name !== "string" || !NAME.test(name))
    throw new ArchlabError(
      "bad-name",
      `A node or block name must be letters, digits, _ or - (at most 64, not starting with -), not ${typeof name === "string" ? JSON.stringify(name.slice(0, 80)) : typeof name}.`,
    );
}

/** @internal Adds a node to the graph under construction (the op functions call this). */
export function addNode(op: string, inputs: readonly Tensor[], attrs: Record<string, unknown>, shape: Shape, dtype: DType, name?: string, claimed = false): Tensor {
  const b = builder(`${op}()`);
  for (const t of inputs) {
    if (!(t instanceof Tensor))
      throw new ArchlabError("bad-operand", `${op}: an operand is ${t === undefined ? "undefined" : typeof t}, not a tensor of this model. Pass tensors made by input(), param() or an op.`);
    if (!reachable(b, t))
      throw new ArchlabError("bad-operand", `${op}: the operand ${t.path} belongs to another model or to a finished scan body. Use tensors of this model (a scan's results are its outputs).`);
  }
  const node = new Tensor(b.nextId++, op, inputs, attrs, shape, dtype, claimed && name ? name : claim(b, name, op), b.scope);
  b.list.push(node);
  owner.set(node, b.list);
  if (name === undefined) autoNamed.add(node);
  return node;
}

/** Which list (the model's, or a scan body's) each node belongs to. */
const owner = new WeakMap<Tensor, Tensor[]>();

/** Nodes of the model and of the scan bodies being built are reachable; other models' and finished bodies' are not. */
function reachable(b: Builder, t: Tensor): boolean {
  const list = owner.get(t);
  return list !== undefined && (list === b.outer || b.bodies.includes(list));
}

/** Gives a computed tensor its symbol (`h`, `c`, `scores`): the name diagrams and the trace use. The equation text stays derived from the math. */
export function named(name: string, t: Tensor): Tensor {
  const b = builder("named()");
  if (!(t instanceof Tensor)) throw new ArchlabError("bad-operand", `named(${JSON.stringify(name)}, …): the value is not a tensor of this model.`);
  // A node computed just here under its op's default name takes the symbol itself (no extra box);
  // an input, a parameter or an already named node gets an identity node carrying the new name.
  if (autoNamed.has(t) && t.scope === b.scope && owner.get(t) === b.list && !STRUCTURAL.has(t.op)) {
    checkName(name);
    const taken = b.taken.get(scopePath(b.scope))!;
    if (taken.has(name) && name !== t.name)
      throw new ArchlabError("duplicate-name", `The name ${JSON.stringify(name)} is already used in ${scopePath(b.scope) || "this model"}. Give each node its own name.`);
    taken.delete(t.name);
    taken.add(name);
    (t as { name: string }).name = name;
    autoNamed.delete(t);
    return t;
  }
  return addNode("identity", [t], {}, t.shape, t.dtype, name);
}

/** Nodes still under their op's default name (renamable by {@link named}). */
const autoNamed = new WeakSet<Tensor>();

/** Whether a node still has its op's default name (`matmul_2`): no symbol was given to it. Diagrams write such a node into its consumer's equation. */
export const isAutoNamed = (t: Tensor): boolean => autoNamed.has(t);
/** Ops whose nodes are wiring, not math: never renamed in place. */
const STRUCTURAL = new Set(["input", "param", "step", "state", "scan", "scanOut", "scanFinal"]);

/** An input of the model: its name and symbolic shape (`["B", "T", "In"]`); `dtype: "int"` for word ids or labels. */
export function input(name: string, shape: ShapeLike, options: { dtype?: DType } = {}): Tensor {
  const b = builder("input()");
  if (b.bodies.length) throw new ArchlabError("no-model", `input(${JSON.stringify(name)}) inside a scan body: declare inputs at the model's top level and pass them to the scan.`);
  const t = addNode("input", [], {}, shapeOf(shape, `input ${name}'s shape`), options.dtype ?? "float", name);
  b.inputs.push(t);
  return t;
}

/** A parameter: trainable, frozen or constant, with its initial value made now from the model's sizes and seed. Use the same tensor twice to share (tie) it. */
export function param(name: string, shape: ShapeLike, options: ParamOptions = {}): Tensor {
  const b = builder("param()");
  const s = shapeOf(shape, `parameter ${name}'s shape`);
  const kind = options.kind ?? "trainable";
  if (!["trainable", "frozen", "constant"].includes(kind))
    throw new ArchlabError("bad-option", `param ${name}: kind must be "trainable", "frozen" or "constant", not ${JSON.stringify(kind)}.`);
  const saved = b.list;
  b.list = b.outer; // parameters belong to the model, even when declared inside a scan body
  let t: Tensor;
  try {
    t = addNode("param", [], { kind }, s, "float", name);
  } finally {
    b.list = saved;
  }
  const concrete = s.map((d) => d.eval(b.sizes, `parameter ${t.path}`));
  const init = options.init ?? (concrete.length >= 2 ? glorot : zerosInit);
  const value = init(concrete, b.random);
  if (value.shape.length !== concrete.length || value.shape.some((d, i) => d !== concrete[i]))
    throw new ArchlabError("shape", `parameter ${t.path}: its init made shape [${value.shape}], expected [${concrete}].`);
  b.values.set(t, value);
  b.params.push(t);
  return t;
}

const zerosInit: Init = (shape) => ({ shape, data: new Float64Array(shape.reduce((a, b) => a * b, 1)) });
const glorot: Init = (shape, random) => {
  const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const fanOut = shape[shape.length - 1];
  const a = Math.sqrt(6 / (fanIn + fanOut));
  const v = zerosInit(shape, random);
  for (let i = 0; i < v.data.length; i++) v.data[i] = (2 * random() - 1) * a;
  return v;
};

/** Runs `build` inside a named block (a scope for paths, folded into one box of `kind` in diagrams). */
export function block<R>(name: string, kind: string | undefined, build: () => R): R {
  const b = builder("block()");
  claim(b, name, "block");
  const saved = b.scope;
  b.scope = { name, kind, parent: saved };
  try {
    return build();
  } finally {
    b.scope = saved;
  }
}

/** @internal A block with a fresh name in the current scope (`base`, `base_2`, …): for library parts used more than once (a loss). */
export function freshBlock<R>(base: string, kind: string, build: () => R): R {
  const b = builder("block()");
  const saved = b.scope;
  b.scope = { name: claim(b, undefined, base), kind, parent: saved };
  try {
    return build();
  } finally {
    b.scope = saved;
  }
}

/** @internal A size's value in the model being built (from its sizes; a size bound only by the inputs at run time, such as B, has none yet: a named error). */
export function sizeValue(s: import("./size").Size, what: string): number {
  return s.eval(builder(what).sizes, what);
}

/**
 * A reusable layer: `const convBlock = layer("ConvBlock", (x, cin, cout) => …)`, then
 * `convBlock("enc1", x, 3, 16)` builds one instance in block `enc1` (its parameters are its own).
 */
export function layer<A extends unknown[], R>(kind: string, build: (...args: A) => R): (name: string, ...args: A) => R {
  return (name: string, ...args: A) => block(name, kind, () => build(...args));
}

/** Options of {@link scan}. */
export interface ScanOptions {
  /** The time axis of the sequences and of the stacked outputs (default 1: `[B, T, …]`). */
  axis?: number;
  /** The number of steps when no sequence is given (a decoder that generates). */
  steps?: SizeLike;
  /** Run from the last step to the first (the backward half of a bidirectional layer). */
  reverse?: boolean;
  /** The block's kind in diagrams (default "Scan"). */
  kind?: string;
  /**
   * Variable-length sequences: a 0/1 mask with the sequences' batch and time axes (`[B, T]` for
   * time axis 1). Where it is 0 the states carry over unchanged, so each row's final state is its
   * state at its own last step (PyTorch's packed sequences).
   */
  mask?: Tensor;
}

/**
 * Recurrence: runs `body` once per step. `over` are sequences sliced at each step; `init` are the
 * states carried from step to step (the body returns their next values); the body's `out` tensors
 * are stacked over time. The body may read any tensor of the model (an encoder's outputs for
 * attention, parameters).
 *
 * @example
 * const { out } = scan("rnn", { x: xs }, { h: h0 }, ({ x }, { h }) => {
 *   const hn = named("h", tanh(add(matmul(x, Wx), matmul(h, Wh))));
 *   return { state: { h: hn }, out: { h: hn } };
 * });
 */
export function scan<S extends Record<string, Tensor>, O extends Record<string, Tensor>>(
  name: string,
  over: Record<string, Tensor>,
  init: S,
  body: (xs: Record<string, Tensor>, state: S) => { state: S; out?: O },
  options: ScanOptions = {},
): { out: { [K in keyof O]: Tensor }; final: S } {
  const b = builder("scan()");
  const axis = options.axis ?? 1;
  const mask = options.mask;
  if (mask !== undefined && (!(mask instanceof Tensor) || mask.rank !== 2))
    throw new ArchlabError("shape", `scan ${name}: the mask must be a tensor of shape [B, T] (batch and time), not ${mask instanceof Tensor ? showShape(mask.shape) : typeof mask}.`);
  const seqs = Object.entries(mask ? { ...over, [MASK]: mask } : over);
  const length = seqs.length ? seqs[0][1].shape[axis] : options.steps !== undefined ? size(options.steps) : undefined;
  if (length === undefined) throw new ArchlabError("bad-option", `scan ${name}: give at least one sequence, or the number of steps ({ steps: "T" }).`);
  for (const [k, t] of seqs) {
    if (!(t instanceof Tensor)) throw new ArchlabError("bad-operand", `scan ${name}: sequence ${k} is not a tensor of this model.`);
    if (t.rank <= axis || t.shape[axis].key !== length.key)
      throw new ArchlabError("shape", `scan ${name}: sequence ${k} (${t.path}) has shape ${showShape(t.shape)}; every sequence needs the time axis ${axis} of length ${length.key}.`);
  }
  const scope: Scope = { name: claim(b, name, "scan"), kind: options.kind ?? "Scan", parent: b.scope, isScan: true };
  const savedList = b.list;
  const savedScope = b.scope;
  const bodyList: Tensor[] = [];
  b.list = bodyList;
  b.scope = scope;
  b.bodies.push(bodyList);
  let steps: Tensor[], states: Tensor[], result: { state: S; out?: O };
  try {
    steps = seqs.map(([k, t]) =>
      k === MASK ? addNode("step", [], { of: t, axis }, t.shape.filter((_, i) => i !== axis), t.dtype, claim(b, undefined, "mask"), true) : addNode("step", [], { of: t, axis }, t.shape.filter((_, i) => i !== axis), t.dtype, k),
    );
    states = Object.entries(init).map(([k, t]) => {
      if (!(t instanceof Tensor)) throw new ArchlabError("bad-operand", `scan ${name}: initial state ${k} is not a tensor of this model.`);
      return addNode("state", [], { init: t }, t.shape, t.dtype, `${k}_prev`);
    });
    const prev = Object.fromEntries(states.map((t, i) => [Object.keys(init)[i], t])) as S;
    const xs = Object.fromEntries(steps.map((t, i) => [seqs[i][0], t]).filter(([k]) => k !== MASK));
    result = body(xs, prev);
    if (mask) result = { ...result, state: carryOver(steps[steps.length - 1], result?.state, prev) };
  } finally {
    b.bodies.pop();
    b.list = savedList;
    b.scope = savedScope;
  }
  const next = Object.keys(init).map((k, i) => {
    const t = result?.state?.[k];
    if (!(t instanceof Tensor)) throw new ArchlabError("bad-operand", `scan ${name}: the body must return the next value of state ${k} ({ state: { ${k}: … } }).`);
    if (!sameShape(t.shape, states[i].shape))
      throw new ArchlabError("shape", `scan ${name}: state ${k}'s next value ${t.path} has shape ${showShape(t.shape)}, but its initial value has ${showShape(states[i].shape)}.`);
    return t;
  });
  const outEntries = Object.entries(result.out ?? {});
  const info: ScanInfo = { body: bodyList, steps, states, next, outs: outEntries.map(([, t]) => t), axis, length, reverse: options.reverse ?? false };
  const node = addNode("scan", [...seqs.map(([, t]) => t), ...Object.values(init)], { scan: info, kind: scope.kind }, [], "float", scope.name, true);
  // The scan node itself has no value; its outputs are these nodes, named after the body's.
  const out = Object.fromEntries(
    outEntries.map(([k, t], i) => {
      const shape = [...t.shape.slice(0, axis), length, ...t.shape.slice(axis)];
      return [k, addNode("scanOut", [node], { index: i }, shape, t.dtype, `${scope.name}_${k}`)];
    }),
  ) as { [K in keyof O]: Tensor };
  const final = Object.fromEntries(Object.keys(init).map((k, i) => [k, addNode("scanFinal", [node], { index: i }, next[i].shape, next[i].dtype, `${scope.name}_${k}N`)])) as unknown as S;
  return { out, final };
}

/** The key of a scan's mask among its sequences (not a valid name, so it cannot clash with a user's). */
const MASK = "mask:";

/** Each state's next value where the step's mask is 1, its previous value where 0: `h_masked = m ? h : h_prev`. */
function carryOver<S extends Record<string, Tensor>>(m: Tensor, next: S, prev: S): S {
  if (!next || typeof next !== "object") return next;
  return Object.fromEntries(
    Object.entries(next).map(([k, t]) => {
      if (!(t instanceof Tensor) || !prev[k]) return [k, t];
      const column = reshape(m, [m.shape[0], ...t.shape.slice(1).map(() => 1)]);
      return [k, named(`${k}_masked`, where(column, t, prev[k]))];
    }),
  ) as S;
}

/** A built model's graph: what {@link model} hands to the interpreters, diagrams and summary. */
export interface Graph {
  readonly name: string;
  readonly sizes: Readonly<Record<string, number>>;
  /** Top-level nodes in creation order (scan bodies hang off their scan node). */
  readonly nodes: readonly Tensor[];
  readonly inputs: readonly Tensor[];
  readonly params: readonly Tensor[];
  readonly outputs: Readonly<Record<string, Tensor>>;
  /** Each parameter's current value. */
  readonly values: Map<Tensor, ND>;
}

/** Builds a graph: runs `build` with `sizes` bound, a seeded random source for initial values. */
export function buildGraph(name: string, sizes: Record<string, number>, build: () => Record<string, Tensor> | Tensor, random: () => number): Graph {
  checkName(name);
  for (const [k, v] of Object.entries(sizes)) {
    checkName(k);
    if (!Number.isSafeInteger(v) || v < 0) throw new ArchlabError("bad-size", `model ${name}: size ${k} must be a whole number ≥ 0, not ${v}.`);
  }
  if (active) throw new ArchlabError("nested-model", `model(${JSON.stringify(name)}) was called while building another model; build models one at a time (use layer() for reusable parts).`);
  const list: Tensor[] = [];
  const b: Builder = { sizes, list, outer: list, scope: undefined, taken: new Map(), nextId: 0, inputs: [], params: [], values: new Map(), random, bodies: [] };
  active = b;
  let result: Record<string, Tensor> | Tensor;
  try {
    result = build();
  } finally {
    active = undefined;
  }
  const outputs = result instanceof Tensor ? { [result.name]: result } : result;
  if (!outputs || typeof outputs !== "object" || Object.values(outputs).some((t) => !(t instanceof Tensor)))
    throw new ArchlabError("bad-model", `model ${name}: the definition must return its output tensor or an object of them ({ y: … }).`);
  return { name, sizes, nodes: list, inputs: b.inputs, params: b.params, outputs, values: b.values };
}
