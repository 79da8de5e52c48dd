/**
 * The backward pass's elementwise rules fused into one loop per step. Inside the time loop most of
 * a gated cell's nodes are elementwise (LSTM: its gates' sigmoids and tanhs, f ⊙ c, i ⊙ g, c, tanh c,
 * h): run rule by rule (cells/gradients.ts), each rule is its own pass over the step's `[B, n]`
 * block, reading and writing the same gradients again and again. Here consecutive elementwise nodes
 * of one size (in the reverse loop's order) become one generated function `run(t)` whose single loop
 * over the block applies every node's rule to element k before moving on to k + 1 — the way
 * program.ts compiles the forward step.
 *
 * The numbers are the rules' own, bit for bit: each element gets the same operations in the same
 * order (an elementwise node's gradient at element k is complete once the later nodes have been
 * applied to element k, and no rule reads another element). The per-element sources below repeat
 * the arithmetic of gradients.ts's loops; the tests hold the two together for every op kind.
 */
import type { NodeDef } from "../cells/define";
import { DERIVATIVE, type VjpOperand } from "../cells/gradients";
import { isUnary, type OpKind } from "../cells/ops";
import type { FloatArray } from "./arrays";

/** One node of a fused run: its rule's inputs at step t (the operands are placed by `place` first). */
export interface FusedNode {
  node: NodeDef;
  grad: FloatArray;
  value: FloatArray;
  /** The operands' values and gradients at step t, updated in place by `place(t)`. */
  operands: VjpOperand[];
  place: (t: number) => void;
}

/** A rule's element k in the generated source: the node's gradient and value, operand j's value and gradient; the number of operands. */
interface Names {
  G: string;
  V: string;
  av: (j: number) => string;
  ag: (j: number) => string;
  count: number;
}

/** Per-element source of each fusable rule: `+=` into the operands' gradients, exactly as gradients.ts's loop body. */
const ELEMENT: Partial<Record<OpKind, (s: Names) => string>> = {
  sigmoid: ({ G, V, ag }) => `{ const y = ${V}; ${ag(0)} += ${G} * y * (1 - y); }`,
  tanh: ({ G, V, ag }) => `{ const y = ${V}; ${ag(0)} += ${G} * (1 - y * y); }`,
  add: ({ G, ag, count }) => Array.from({ length: count }, (_, j) => `${ag(j)} += 1 * ${G};`).join(" "),
  sub: ({ G, ag, count }) => Array.from({ length: count }, (_, j) => `${ag(j)} += ${j === 0 ? 1 : -1} * ${G};`).join(" "),
  shift: ({ G, ag }) => `${ag(0)} += 1 * ${G};`,
  mul: ({ G, av, ag, count }) =>
    count === 2
      ? `{ const g = ${G}; ${ag(0)} += g * ${av(1)}; ${ag(1)} += g * ${av(0)}; }`
      : Array.from({ length: count }, (_, j) => `{ let others = ${G}; ${Array.from({ length: count }, (_, i) => (i === j ? "" : `others *= ${av(i)};`)).join(" ")} ${ag(j)} += others; }`).join(" "),
  div: ({ G, V, av, ag, count }) => {
    const rest = Array.from({ length: count - 1 }, (_, i) => i + 1);
    return `{ const g = ${G}; let denominator = 1; ${rest.map((j) => `denominator *= ${av(j)};`).join(" ")} ${ag(0)} += g / denominator; ${rest
      .map((j) => `${ag(j)} -= (g * ${V}) / ${av(j)};`)
      .join(" ")} }`;
  },
};

/** Whether a node's rule can join a fused run: an elementwise op whose operands all have the node's size. */
export function fusable(node: NodeDef, n: number, operandSizes: readonly number[]): boolean {
  return (ELEMENT[node.op] !== undefined || (isUnary(node.op) && node.op in DERIVATIVE)) && operandSizes.every((m) => m === n);
}

/** The per-element source of one node's rule. */
function element(q: number, node: NodeDef, count: number): string {
  const names: Names = {
    G: `g${q}[o + k]`,
    V: `v${q}[o + k]`,
    av: (j) => `a${q}_${j}v[a${q}_${j}vo + k]`,
    ag: (j) => `a${q}_${j}g[a${q}_${j}go + k]`,
    count,
  };
  const rule = ELEMENT[node.op];
  // Any other elementwise function through its derivative, as gradients.ts's generic rule does.
  return rule ? rule(names) : `${names.ag(0)} += ${names.G} * D${q}(${names.av(0)}, ${names.V});`;
}

/** A fused run's generated function, by source: `run(t, R, DERIVATIVE)` with the run's nodes `R`. */
const compiled = new Map<string, (t: number, R: readonly FusedNode[], derivative: typeof DERIVATIVE) => void>();

/**
 * `run(t)`: the rules of `run` (in the order given: the reverse loop's) over the `[B, n]` block of
 * step t, one loop. The generated function depends only on the ops, operand counts, block size and
 * storage type, and is compiled once per process for each: it takes the run's arrays as an argument
 * rather than closing over them, so every backward pass reuses the code V8 has optimised (a closure
 * made per pass would be optimised again each time).
 */
export function fusedRun(run: readonly FusedNode[], count: number): (t: number) => void {
  const perStep: string[] = [];
  const body: string[] = [];
  run.forEach(({ node, operands }, q) => {
    perStep.push(`const N${q} = R[${q}]; N${q}.place(t); const g${q} = N${q}.grad, v${q} = N${q}.value, P${q} = N${q}.operands, D${q} = DERIVATIVE[N${q}.node.op];`);
    operands.forEach((_, j) => perStep.push(`const a${q}_${j}v = P${q}[${j}].value, a${q}_${j}vo = P${q}[${j}].valueAt, a${q}_${j}g = P${q}[${j}].grad, a${q}_${j}go = P${q}[${j}].gradAt;`));
    body.push(element(q, node, operands.length));
  });
  // One function per storage type too: V8 then sees only Float64Array or only Float32Array.
  const source = `// ${run[0].grad.constructor.name}
${perStep.join("\n")}
const o = t * ${count};
for (let k = 0; k < ${count}; k++) {
${body.join("\n")}
}`;
  let fn = compiled.get(source);
  if (!fn) {
    fn = new Function("t", "R", "DERIVATIVE", source) as (t: number, R: readonly FusedNode[], derivative: typeof DERIVATIVE) => void;
    compiled.set(source, fn);
  }
  const f = fn;
  return (t) => f(t, run, DERIVATIVE);
}
