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
 */
import { evalSize, type CellDef, type NodeDef } from "../cells/define";
import { EXPRESSION, type OpKind, type UnaryKind } from "../cells/ops";
import type { FloatArray } from "./arrays";

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
  node: NodeDef;
  out: string;
  n: number;
  B: number;
  operands: Operand[];
  param: (name: string) => string;
}

type Kernel = (s: NodeSource) => string;

/** `out[k] = f(a[k], b[k], …)` over the node's B·n values. */
const elementwise = (kind: UnaryKind | "mul" | "add" | "sub" | "div"): Kernel => ({ out, n, B, operands }) => {
  const args = operands.map((a, j) => `${a.buf}[a${j} + k]`);
  return `{ const o = t * ${n * B}; ${operands.map((a, j) => `const a${j} = ${a.off};`).join(" ")}
  for (let k = 0; k < ${n * B}; k++) ${out}[o + k] = ${EXPRESSION[kind](...args)}; }`;
};

/** `acc += a[ia + k] · w[wr + k]` for k < m: unrolled when short (teaching sizes), a loop otherwise. */
const UNROLL = 32;
const dot = (a: string, w: string, m: number) =>
  m <= UNROLL
    ? `acc += ${Array.from({ length: m }, (_, k) => `${a}[ia + ${k}] * ${w}[wr + ${k}]`).join(" + ")};`
    : `for (let k = 0; k < ${m}; k++) acc += ${a}[ia + k] * ${w}[wr + k];`;

/** `out[b, r] = Σ bias[r] + Σ_terms (W[r, :] · in[b, :] | p[r] · in[b, r])`. */
const affine: Kernel = ({ node, out, n, B, operands, param }) => {
  const bias = node.bias!.map((b) => `${param(b)}[r]`).join(" + ") || "0";
  const terms = node.terms!.map((term, j) => {
    const a = operands[j];
    const w = param(term.weight);
    return term.kind === "diagonal"
      ? `acc += ${w}[r] * ${a.buf}[${a.off} + b * ${a.size} + r];`
      : `{ const ia = ${a.off} + b * ${a.size}, wr = r * ${a.size}; ${dot(a.buf, w, a.size)} }`;
  });
  return `for (let b = 0; b < ${B}; b++) { const o = t * ${n * B} + b * ${n};
  for (let r = 0; r < ${n}; r++) { let acc = ${bias}; ${terms.join(" ")} ${out}[o + r] = acc; } }`;
};

const shift: Kernel = ({ node, out, n, B, operands: [a] }) =>
  `{ const o = t * ${n * B}, a0 = ${a.off}; for (let k = 0; k < ${n * B}; k++) ${out}[o + k] = ${a.buf}[a0 + k] - ${node.constant!.value}; }`;

const concat: Kernel = ({ out, n, B, operands }) => {
  let col = 0;
  const parts = operands.map((a) => {
    const s = `{ const ia = ${a.off} + b * ${a.size}; for (let k = 0; k < ${a.size}; k++) ${out}[o + ${col} + k] = ${a.buf}[ia + k]; }`;
    col += a.size;
    return s;
  });
  return `for (let b = 0; b < ${B}; b++) { const o = t * ${n * B} + b * ${n}; ${parts.join(" ")} }`;
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

/** The generated source of `step(t)` (exposed for inspection: `cell.source()`). */
export function generate(def: CellDef, sizes: Readonly<Record<string, number>>, B: number): string {
  const index = new Map<string, string>();
  const operands = new Map<string, Operand>();
  const lines: string[] = [];
  const bind = (kind: "v" | "init" | "p", name: string) => {
    const key = `${kind}:${name}`;
    if (!index.has(key)) {
      const id = `${kind}${index.size}`;
      index.set(key, id);
      lines.push(`const ${id} = ${kind}[${JSON.stringify(name)}];`);
    }
    return index.get(key)!;
  };
  for (const x of [...def.inputs, ...def.nodes]) {
    const size = evalSize(x.size, sizes);
    operands.set(x.name, { buf: bind("v", x.name), off: `t * ${size * B}`, size });
  }
  // Previous states: step 0 reads the initial state, step t reads the new value of step t−1.
  const previous = def.states.map((s, j) => {
    const size = evalSize(s.size, sizes);
    operands.set(s.prev, { buf: `prev${j}`, off: `prevOff${j}`, size });
    return `const prev${j} = t === 0 ? ${bind("init", s.name)} : ${operands.get(s.next)!.buf}, prevOff${j} = t === 0 ? 0 : (t - 1) * ${size * B};`;
  });
  const body = def.nodes.map(
    (node) =>
      `// ${node.name}\n` +
      KERNELS[node.op]({
        node,
        out: operands.get(node.name)!.buf,
        n: evalSize(node.size, sizes),
        B,
        operands: node.inputs.map((name) => operands.get(name)!),
        param: (name) => bind("p", name),
      }),
  );
  return `${lines.join("\n")}\nreturn function step(t) {\n${previous.join("\n")}\n${body.join("\n")}\n};`;
}

type Factory = (v: Storage["values"], init: Storage["initial"], p: Record<string, FloatArray>) => (t: number) => void;
const factories = new WeakMap<CellDef, Map<string, Factory>>();

/**
 * Compiles a definition into `step(t)` over the given storage and parameters. The generated code is
 * cached per definition, sizes and batch, so every run shares one function that V8 has optimised.
 */
export function compile(
  def: CellDef,
  sizes: Readonly<Record<string, number>>,
  B: number,
  params: Record<string, FloatArray>,
  storage: Storage,
): (t: number) => void {
  const byShape = factories.get(def) ?? factories.set(def, new Map()).get(def)!;
  const key = `${JSON.stringify(sizes)}|${B}`;
  let make = byShape.get(key);
  if (!make) byShape.set(key, (make = new Function("v", "init", "p", generate(def, sizes, B)) as Factory));
  return make(storage.values, storage.initial, params);
}
