/**
 * The cell definition language.
 *
 * A cell is written once, as its equations, with {@link defineCell}. What comes out is plain data
 * ({@link CellDef}): named inputs, states and parameters with symbolic shapes, and an ordered list
 * of named nodes, each one op over ordered, named operands. Every interpreter — compute, trace,
 * diagram, plots, weight import — reads that same data, so none of them can disagree with another.
 *
 * @example
 * const Elman = defineCell(
 *   { name: "Elman", title: "Elman RNN", citation: "Elman 1990", inputs: { x: "In" }, states: { h: "H" } },
 *   ({ x, h }, op) => ({ h: op.tanh("h", op.affine("a", "H", { W: x, U: h }, "b")) }),
 * );
 */
import { DISPLAY } from "../display/protocol";
import { formatOf } from "../display/registry";
import { errors, show } from "../errors";
import { GATING, isUnary, NOTATION, type ElementwiseKind, type OpKind, type UnaryKind } from "./ops";

/** What a node is for; diagrams colour by it, plots group by it. */
export type NodeRole = "pre" | "gate" | "candidate" | "state" | "intermediate";

/** A symbolic size: a size name ("H", "In") or a sum of them ("H+In"). */
export type SizeExpr = string;

/** An input of the cell at step t, one vector per batch element: `[B, size]`. */
export interface InputDef {
  name: string;
  size: SizeExpr;
  /** How diagrams write it, e.g. `x[t]`. */
  label: string;
}

/** A recurrent state: its value from the previous step is the operand `prev`; node `next` is its new value. */
export interface StateDef {
  name: string;
  size: SizeExpr;
  /** The operand name of the previous value, e.g. `h_prev`. */
  prev: string;
  /** How diagrams write the previous value, e.g. `h[t−1]`. */
  label: string;
  /** The node holding the new value. */
  next: string;
}

/** How a parameter is initialised. `uniform`: U(−k, k), k = 1/√(rows), as PyTorch does. */
export type ParamInit = "uniform" | "zeros" | { constant: number };

/** A trainable parameter: a matrix `[rows, cols]` (used as `x Wᵀ`) or a vector `[size]`. */
export interface ParamDef {
  name: string;
  shape: readonly [SizeExpr, SizeExpr] | readonly [SizeExpr];
  kind: "matrix" | "diagonal" | "bias";
  init: ParamInit;
}

/** One term of an affine node: `W x` (matrix) or `p ⊙ x` (diagonal, a per-unit vector). */
export interface Term {
  weight: string;
  input: string;
  kind: "matrix" | "diagonal";
}

/** One named intermediate. `inputs` are operand names in order (for affine: the terms' inputs). */
export interface NodeDef {
  name: string;
  op: OpKind;
  inputs: readonly string[];
  size: SizeExpr;
  role: NodeRole;
  /** How diagrams and legends write it (the paper's symbol). */
  label: string;
  /** Affine only: the weighted terms, in order. */
  terms?: readonly Term[];
  /** Affine only: bias vectors added. */
  bias?: readonly string[];
  /** Shift only: the constant subtracted and its symbol. */
  constant?: { value: number; symbol: string };
  /** A note shown as the node's tooltip, e.g. a convention. */
  note?: string;
}

/** A complete cell definition: plain data, safe to serialise. */
export interface CellDef {
  name: string;
  title: string;
  citation: string;
  /** Conventions a reader must know (e.g. which GRU mixing form is shown). */
  notes: readonly string[];
  inputs: readonly InputDef[];
  states: readonly StateDef[];
  params: readonly ParamDef[];
  nodes: readonly NodeDef[];
  /** The node that is the cell's output (usually `h`). */
  output: string;
}

/** A value inside a definition: an input, a previous state, or a node. */
export class Handle {
  constructor(
    readonly name: string,
    readonly size: SizeExpr,
    /** How diagrams write it (the node's label, `x[t]`, `h[t−1]`). */
    readonly label: string = name,
  ) {}
}

/** Marks an affine term as elementwise (per-unit weights, e.g. peepholes): `p ⊙ c`. */
export interface Diagonal {
  diagonal: Handle;
}

/** A bias given by name, or with its own initialisation (e.g. a forget bias of 1). */
export type BiasSpec = string | { name: string; init: ParamInit };

/** Optional settings of any node. */
export interface NodeOptions {
  role?: NodeRole;
  label?: string;
  note?: string;
}

type UnaryBuilders = { [K in UnaryKind]: (name: string, x: Handle, options?: NodeOptions) => Handle };

/** The operations available inside a definition. Every node gets a name: the paper's symbol. */
export interface Ops extends UnaryBuilders {
  /** `Σ W·input + Σ b`: terms map a weight name to its input (a Handle, or `op.diag(h)` for `p ⊙ h`). */
  affine(
    name: string,
    size: SizeExpr,
    terms: Record<string, Handle | Diagonal>,
    bias?: BiasSpec | readonly BiasSpec[] | null,
    options?: NodeOptions,
  ): Handle;
  mul(name: string, ...operands: (Handle | NodeOptions)[]): Handle;
  add(name: string, ...operands: (Handle | NodeOptions)[]): Handle;
  sub(name: string, ...operands: (Handle | NodeOptions)[]): Handle;
  div(name: string, ...operands: (Handle | NodeOptions)[]): Handle;
  /** `x − constant`, e.g. JANET's `s − β`. */
  shift(name: string, x: Handle, constant: { value: number; symbol: string }, options?: NodeOptions): Handle;
  concat(name: string, ...operands: (Handle | NodeOptions)[]): Handle;
  /** Wraps an affine input so its weight is a per-unit vector. */
  diag(x: Handle): Diagonal;
}

/** The header of a definition: names, citation, inputs and states with their sizes. */
export interface CellSpec<I extends string, S extends string> {
  name: string;
  title: string;
  citation: string;
  notes?: readonly string[];
  inputs: Record<I, SizeExpr>;
  states: Record<S, SizeExpr>;
  /** The state that is the cell's output; default `h` if there is one, else the first state. */
  output?: S;
}

const SUBSCRIPT_PREV = "[t−1]";

/**
 * Defines a cell from its equations. `build` receives handles for the inputs (at step t) and the
 * states (their values at t−1), and the {@link Ops}; it returns the new value of every state.
 */
export function defineCell<I extends string, S extends string>(
  spec: CellSpec<I, S>,
  build: (operands: Record<I | S, Handle>, op: Ops) => Record<S, Handle>,
): CellDef {
  const fail = (problem: string) => errors.badDefinition(spec.name, problem);
  const nodes: NodeDef[] = [];
  const params = new Map<string, ParamDef>();
  const names = new Map<string, SizeExpr>();

  const claim = (name: string, size: SizeExpr) => {
    const problem = nameProblem(name) ?? sizeProblem(size);
    if (problem) throw fail(problem);
    if (names.has(name) || params.has(name)) throw fail(`the name "${name}" is used twice; every input, state, parameter and node needs its own name.`);
    names.set(name, size);
  };
  const inputs: InputDef[] = Object.entries<SizeExpr>(spec.inputs).map(([name, size]) => {
    claim(name, size);
    return { name, size, label: `${name}[t]` };
  });
  const states = Object.entries<SizeExpr>(spec.states).map(([name, size]) => {
    const prev = `${name}_prev`;
    claim(prev, size);
    return { name, size, prev, label: `${name}${SUBSCRIPT_PREV}`, next: "" };
  });
  if (inputs.length === 0) throw fail("a cell needs at least one input.");
  if (states.length === 0) throw fail("a cell needs at least one state (it recurs over time).");

  const handles = {} as Record<I | S, Handle>;
  for (const i of inputs) handles[i.name as I] = new Handle(i.name, i.size, i.label);
  for (const s of states) handles[s.name as S] = new Handle(s.prev, s.size, s.label);

  const known = (h: unknown, where: string): Handle => {
    if (!(h instanceof Handle) || names.get(h.name) !== h.size)
      throw fail(`${where} is not a value of this cell; pass a handle that build() received or an op returned.`);
    return h;
  };
  const param = (name: string, shape: ParamDef["shape"], kind: ParamDef["kind"], init: ParamInit) => {
    const problem = nameProblem(name) ?? initProblem(name, init);
    if (problem) throw fail(problem);
    if (names.has(name)) throw fail(`parameter "${name}" has the name of an input, state or node.`);
    const existing = params.get(name);
    if (existing && existing.shape.join() !== shape.join())
      throw fail(`parameter "${name}" is used with shapes [${existing.shape}] and [${shape}]; a shared weight needs one shape.`);
    if (!existing) params.set(name, { name, shape, kind, init });
  };
  const add = (node: Omit<NodeDef, "role" | "label">, options: NodeOptions | undefined, role: NodeRole): Handle => {
    claim(node.name, node.size);
    const label = options?.label ?? node.name;
    nodes.push({ ...node, role: options?.role ?? role, label, ...(options?.note ? { note: options.note } : {}) });
    return new Handle(node.name, node.size, label);
  };
  const split = (operands: (Handle | NodeOptions)[]) => {
    const last = operands[operands.length - 1];
    const options = last && !(last instanceof Handle) ? (operands.pop() as NodeOptions) : undefined;
    return { hs: operands as Handle[], options };
  };
  const elementwise = (op: ElementwiseKind) => (name: string, ...operands: (Handle | NodeOptions)[]) => {
    const { hs, options } = split(operands);
    if (hs.length < 2) throw fail(`${op} "${name}" needs at least two operands.`);
    hs.forEach((h, k) => known(h, `operand ${k + 1} of ${op} "${name}"`));
    const size = hs[0].size;
    for (const h of hs)
      if (h.size !== size) throw fail(`${op} "${name}" mixes sizes ${size} ("${hs[0].name}") and ${h.size} ("${h.name}").`);
    return add({ name, op, inputs: hs.map((h) => h.name), size }, options, "intermediate");
  };
  const unary = (kind: UnaryKind) => (name: string, x: Handle, options?: NodeOptions) =>
    add({ name, op: kind, inputs: [known(x, `the operand of ${kind} "${name}"`).name], size: x.size }, options, GATING.has(kind) ? "gate" : "intermediate");

  const op = {
    affine(name, size, terms, bias, options) {
      const list: Term[] = Object.entries(terms).map(([weight, t]) => {
        const diagonal = !(t instanceof Handle);
        const h = known(diagonal ? (t as Diagonal).diagonal : t, `the input of weight "${weight}" in affine "${name}"`);
        if (diagonal && h.size !== size) throw fail(`diagonal weight "${weight}" in "${name}" needs an input of size ${size}, got ${h.size}.`);
        param(weight, diagonal ? [size] : [size, h.size], diagonal ? "diagonal" : "matrix", "uniform");
        return { weight, input: h.name, kind: diagonal ? "diagonal" : "matrix" };
      });
      const biases = (bias == null ? [] : Array.isArray(bias) ? bias : [bias]) as BiasSpec[];
      for (const b of biases) typeof b === "string" ? param(b, [size], "bias", "uniform") : param(b.name, [size], "bias", b.init);
      if (list.length === 0 && biases.length === 0) throw fail(`affine "${name}" has no terms and no bias.`);
      return add(
        { name, op: "affine", inputs: list.map((t) => t.input), size, terms: list, bias: biases.map((b) => (typeof b === "string" ? b : b.name)) },
        options,
        "pre",
      );
    },
    mul: elementwise("mul"),
    add: elementwise("add"),
    sub: elementwise("sub"),
    div: elementwise("div"),
    shift(name, x, constant, options) {
      known(x, `the operand of shift "${name}"`);
      if (!isFiniteNumber(constant?.value)) throw fail(badConstant(name, constant?.value));
      return add({ name, op: "shift", inputs: [x.name], size: x.size, constant }, options, "intermediate");
    },
    concat(name, ...operands) {
      const { hs, options } = split(operands);
      hs.forEach((h, k) => known(h, `operand ${k + 1} of concat "${name}"`));
      return add({ name, op: "concat", inputs: hs.map((h) => h.name), size: hs.map((h) => h.size).join("+") }, options, "intermediate");
    },
    diag: (x) => ({ diagonal: x }),
  } as Ops;
  for (const kind of Object.keys(NOTATION) as OpKind[]) if (isUnary(kind)) op[kind] = unary(kind);

  const result = build(handles, op);
  for (const s of states) {
    const h = (result as Record<string, Handle | undefined>)[s.name];
    if (!h) throw fail(`build() must return the new value of state "${s.name}".`);
    known(h, `the returned state "${s.name}"`);
    if (h.size !== s.size) throw fail(`state "${s.name}" has size ${s.size}, but build() returned "${h.name}" of size ${h.size}.`);
    if (!nodes.some((n) => n.name === h.name)) throw fail(`state "${s.name}" must be computed by a node, not passed through.`);
    s.next = h.name;
  }
  const extra = Object.keys(result).filter((k) => !(k in spec.states));
  if (extra.length) throw fail(`build() returned ${extra.map((k) => `"${k}"`).join(", ")}, which ${extra.length > 1 ? "are not states" : "is not a state"}.`);
  for (const s of states) {
    const node = nodes.find((n) => n.name === s.next)!;
    if (node.role === "intermediate" || node.role === "pre") node.role = "state";
  }
  const outputState = spec.output ?? (states.some((s) => s.name === "h") ? "h" : states[0].name);
  const out = states.find((s) => s.name === outputState);
  if (!out) throw fail(`output "${outputState}" is not a state.`);

  const def: CellDef = {
    name: spec.name,
    title: spec.title,
    citation: spec.citation,
    notes: [...(spec.notes ?? [])],
    inputs,
    states,
    params: [...params.values()],
    nodes,
    output: out.next,
  };
  checked.add(def);
  return deepFreeze(displayable(def));
}

declare module "../display/registry" {
  interface Formats {
    /** A cell definition displays as its diagram (set up at the package root). */
    cellDef: CellDef;
  }
}

/**
 * Gives a definition its display: shown as a cell's value, it asks the format table (its diagram,
 * registered at the package root). The method is non-enumerable, so the definition stays plain data
 * (JSON, deepEqual). Every function that makes a definition — defineCell, and those deriving one
 * from another — calls this, so a derived definition displays as a diagram too.
 */
export function displayable(def: CellDef): CellDef {
  if (!Object.hasOwn(def, DISPLAY)) Object.defineProperty(def, DISPLAY, { value: () => formatOf("cellDef", def, () => `${def.name}: ${def.title}`) });
  return def;
}

/**
 * What names of inputs, states, parameters and nodes may be: letters (with their accents, as in
 * `h̃`), digits, `_` and `-`, not starting with `-`, at most 64 characters — enough for every
 * built-in (`h_prev`, `W_i`, `1-z`). Labels (`options.label`) hold any other text. Names are keys of
 * storage and weights; none reaches generated code (engine/program.ts binds by position), and this
 * pattern keeps it that way whoever wrote the definition, including plain data from a file.
 */
const NAME_PATTERN = /^[\p{L}\p{N}_][\p{L}\p{M}\p{N}_-]{0,63}$/u;
/** What a size name in a size expression may be (`In`, `H`, `P`; expressions join them with `+`). */
const SIZE_PATTERN = /^[\p{L}_][\p{L}\p{M}\p{N}_]{0,63}$/u;

const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** Why `name` cannot name an input, state, parameter or node (undefined when it can). */
function nameProblem(name: unknown): string | undefined {
  if (typeof name !== "string" || !NAME_PATTERN.test(name))
    return `${show(name)} is not a valid name: use letters, digits, "_" and "-" (e.g. "h_tilde", "W_i", "1-z"), at most 64 characters; a label (option label) can hold any text.`;
  if (name in Object.prototype) return `"${name}" is not a valid name: every JavaScript object already has it; choose another.`;
}

/** Why `expr` is not a size expression such as "H" or "H+In" (undefined when it is). */
function sizeProblem(expr: unknown): string | undefined {
  if (typeof expr === "string" && expr.split("+").every((s) => SIZE_PATTERN.test(s.trim()) && !(s.trim() in Object.prototype))) return undefined;
  return `${show(expr)} is not a size: use size names such as "H" or "In", joined by "+" ("H+In").`;
}

function initProblem(name: string, init: unknown): string | undefined {
  if (init === "uniform" || init === "zeros") return undefined;
  if (init && typeof init === "object" && isFiniteNumber((init as { constant?: unknown }).constant)) return undefined;
  return `parameter "${name}" has the initialisation ${show(init)}; use "uniform", "zeros" or { constant: a finite number }.`;
}

/** The message for a shift whose constant is not a finite number. */
export const badConstant = (node: string, value: unknown) =>
  `shift "${node}" has the constant ${show(value)}; a shift's constant must be a finite number (e.g. { value: 1, symbol: "β" }).`;

/** Definitions made by defineCell (frozen, so they stay as checked). */
const checked = new WeakSet<object>();

/**
 * Checks a definition that may come from anywhere (JSON, a shared notebook, a hand-built object):
 * every name is letters, digits, `_` and `-` (see NAME_PATTERN) and used once, every size is a size
 * expression, every op is one archlab has, every operand is defined before it is read, every weight
 * and bias is a parameter, and constants are finite numbers. Throws a bad-definition ArchlabError naming the
 * first problem. Definitions from defineCell pass at once; cell() checks every definition it gets.
 *
 * @example
 * const def = JSON.parse(fs.readFileSync("my-cell.json", "utf8"));
 * checkDefinition(def);   // throws ArchlabError "bad-definition" for a hostile or broken file
 * cell(def, { inputSize: 1, hiddenSize: 8 });
 */
export function checkDefinition(def: unknown): asserts def is CellDef {
  if (checked.has(def as object)) return;
  const d = (def ?? {}) as Partial<Record<keyof CellDef, unknown>>;
  const fail = (problem: string) => errors.badDefinition(typeof d.name === "string" ? d.name : show(d.name), problem);
  if (typeof def !== "object" || def === null) throw fail(`expected a cell definition (e.g. LSTM, or one made with defineCell), got ${show(def)}.`);
  const list = <T>(key: keyof CellDef) => {
    if (!Array.isArray(d[key])) throw fail(`"${key}" must be a list.`);
    return d[key] as readonly T[];
  };
  const [inputs, states, params, nodes] = [list<InputDef>("inputs"), list<StateDef>("states"), list<ParamDef>("params"), list<NodeDef>("nodes")];
  const seen = new Set<string>();
  const claim = (name: unknown, size: unknown) => {
    const problem = nameProblem(name) ?? sizeProblem(size);
    if (problem) throw fail(problem);
    if (seen.has(name as string)) throw fail(`the name "${name}" is used twice; every input, state, parameter and node needs its own name.`);
    seen.add(name as string);
  };
  const readable = new Set<string>();
  for (const i of inputs) {
    claim(i?.name, i?.size);
    readable.add(i.name);
  }
  for (const s of states) {
    // A state's name is also its new value's node (state h, node h): only its previous value is claimed here.
    const problem = nameProblem(s?.name);
    if (problem) throw fail(problem);
    claim(s.prev, s.size);
    readable.add(s.prev);
  }
  const weights = new Set<string>();
  for (const p of params) {
    claim(p?.name, Array.isArray(p?.shape) && p.shape.length > 0 && p.shape.length <= 2 ? p.shape.join("+") : undefined);
    const problem = initProblem(p.name, p.init);
    if (problem) throw fail(problem);
    weights.add(p.name);
  }
  for (const n of nodes) {
    claim(n?.name, n?.size);
    if (typeof n.op !== "string" || !Object.hasOwn(NOTATION, n.op)) throw fail(`node "${n.name}" has the op ${show(n.op)}; known ops: ${Object.keys(NOTATION).join(", ")}.`);
    if (!Array.isArray(n.inputs) || !n.inputs.every((i) => typeof i === "string" && readable.has(i)))
      throw fail(`node "${n.name}" reads operands ${show(n.inputs)}; each must be an input, a previous state or an earlier node.`);
    const used = [...(n.terms ?? []).map((t) => t?.weight), ...(n.bias ?? [])];
    if (!used.every((w) => weights.has(w as string))) throw fail(`node "${n.name}" uses weights ${show(used)}; each must be one of the parameters.`);
    if (n.op === "shift" && !isFiniteNumber(n.constant?.value)) throw fail(badConstant(n.name, n.constant?.value));
    readable.add(n.name);
  }
  const computed = new Set(nodes.map((n) => n.name));
  for (const s of states) if (!computed.has(s.next)) throw fail(`state "${s.name}" must be computed by a node (next = ${show(s.next)}).`);
  if (!computed.has(d.output as string)) throw fail(`the output ${show(d.output)} is not a node.`);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The size names a definition uses, e.g. `["In", "H"]`, in order of appearance. */
export function sizeNames(def: CellDef): string[] {
  const out = new Set<string>();
  const addExpr = (e: SizeExpr) => e.split("+").forEach((s) => out.add(s.trim()));
  def.inputs.forEach((i) => addExpr(i.size));
  def.states.forEach((s) => addExpr(s.size));
  def.params.forEach((p) => p.shape.forEach(addExpr));
  def.nodes.forEach((n) => addExpr(n.size));
  return [...out];
}

/** Evaluates a symbolic size with concrete sizes. */
export function evalSize(expr: SizeExpr, sizes: Readonly<Record<string, number>>): number {
  return expr.split("+").reduce((sum, s) => {
    const v = Object.hasOwn(sizes, s.trim()) ? sizes[s.trim()] : undefined;
    if (v === undefined) throw errors.unknownName("size", s.trim(), Object.keys(sizes), `size expression "${expr}"`);
    return sum + v;
  }, 0);
}

/** The right-hand side of a node's equation, with operands written by their labels (compound ones in parentheses). */
export function equationOf(def: CellDef, node: NodeDef): string {
  const label = labeller(def);
  const sum = /[+−-]/;
  if (node.op === "affine") {
    const terms = node.terms!.map((t) =>
      t.kind === "matrix" ? `${t.weight} ${grouped(label(t.input), /[+−\-⊙/ ]/)}` : `${t.weight} ⊙ ${grouped(label(t.input), sum)}`,
    );
    return NOTATION.affine.text([...terms, ...node.bias!]);
  }
  if (node.op === "shift") return NOTATION.shift.text([label(node.inputs[0]), node.constant!.symbol]);
  const binds: Partial<Record<OpKind, RegExp>> = { mul: sum, oneMinus: sum, div: /[+−\-⊙/]/, sub: sum };
  const operands = node.inputs.map((name, k) => {
    const text = label(name);
    const b = binds[node.op];
    return b && !(node.op === "sub" && k === 0) ? grouped(text, b) : text;
  });
  return NOTATION[node.op].text(operands);
}

/** `text` in parentheses when it has an operator matching `binds` outside any brackets (`1−z` → `(1−z)`, but not `h[t−1]`). */
function grouped(text: string, binds: RegExp): string {
  let bare = text;
  for (let prev = ""; prev !== bare; ) [prev, bare] = [bare, bare.replace(/\([^()]*\)|\[[^[\]]*\]/g, "")];
  return binds.test(bare.trim()) ? `(${text})` : text;
}

/** Maps an operand name (input, previous state, node, parameter) to its display label. */
export function labeller(def: CellDef): (name: string) => string {
  const map = new Map<string, string>();
  def.inputs.forEach((i) => map.set(i.name, i.label));
  def.states.forEach((s) => map.set(s.prev, s.label));
  def.nodes.forEach((n) => map.set(n.name, n.label));
  return (name) => map.get(name) ?? name;
}
