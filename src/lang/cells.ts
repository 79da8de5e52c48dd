/**
 * A cell definition (`defineCell`) as a model of the language: a scan over time whose body is the
 * cell's equations. The cell engine stays the fast path for this recurrent vector subset; this
 * translation is the same math in the general language, so a cell draws, records and runs like any
 * other model — and the two are tested equal on every built-in cell.
 */
import type { CellDef } from "../cells/define";
import type { Cell } from "../engine/cell";
import { ArchlabError } from "../errors";
import { input, named, param, scan } from "./build";
import type { Tensor } from "./graph";
import { model, type Model } from "./model";
import { add, clip, concat, constant, div, fill, matmul, mul, relu, sigmoid, sub, tanh, transpose } from "./ops";

/** The elementwise kinds of the cell language, in the general language. */
const UNARY: Record<string, (x: Tensor) => Tensor> = {
  sigmoid,
  tanh,
  relu,
  identity: (x) => x,
  oneMinus: (x) => sub(1, x),
  hardSigmoid: (x) => clip(add(mul(0.2, x), 0.5), 0, 1),
  hardSigmoid6: (x) => clip(add(div(x, 6), 0.5), 0, 1),
};
const ELEMENTWISE: Record<string, (a: Tensor, b: Tensor) => Tensor> = { mul, add, sub, div };

/**
 * Builds one cell's scan inside the model being defined: the body is the cell's equations over the
 * step's inputs and the previous states; `paramsOrMake` are the cell's parameters as tensors of the
 * model, or a function making them inside the scan's block.
 * Returns every state stacked over time and the final states.
 */
export function cellScan(name: string, def: CellDef, paramsOrMake: Readonly<Record<string, Tensor>> | (() => Record<string, Tensor>), seqs: Record<string, Tensor>, init: Record<string, Tensor>, options: { reverse?: boolean; rename?: Readonly<Record<string, string>> } = {}) {
  return scan(
    name,
    seqs,
    init,
    (xs, prev) => {
      // Parameters made here belong to the scan's block (paths `l0/W_i`); they are still the model's.
      const params = typeof paramsOrMake === "function" ? paramsOrMake() : paramsOrMake;
      const env = new Map<string, Tensor>([...Object.entries(xs), ...def.states.map((s) => [s.prev, prev[s.name]] as const)]);
      const get = (operand: string) => {
        const t = env.get(operand);
        if (!t) throw new ArchlabError("bad-definition", `cell ${def.name}: operand ${operand} is used before it is defined.`);
        return t;
      };
      for (const n of def.nodes) {
        let v: Tensor;
        switch (n.op) {
          case "affine": {
            const terms = (n.terms ?? []).map((t) => (t.kind === "matrix" ? matmul(get(t.input), transpose(params[t.weight])) : mul(params[t.weight], get(t.input))));
            // A bias-only affine (GRU3's gates) is still one row per batch element: 0 + b.
            const first = terms.length ? [] : [fill(["B", renamed(n.size, options.rename)], 0)];
            v = [...first, ...terms, ...(n.bias ?? []).map((b) => params[b])].reduce((a, b) => add(a, b));
            break;
          }
          case "shift":
            v = sub(get(n.inputs[0]), constant(n.constant!.value));
            break;
          case "concat":
            v = concat(n.inputs.map(get), -1);
            break;
          default:
            if (Object.hasOwn(UNARY, n.op)) v = UNARY[n.op](get(n.inputs[0]));
            else v = n.inputs.map(get).reduce((a, b) => ELEMENTWISE[n.op](a, b));
        }
        env.set(n.name, named(n.name, v));
      }
      const next = Object.fromEntries(def.states.map((s) => [s.name, get(s.next)]));
      return { state: next, out: next };
    },
    { axis: 0, kind: def.title || def.name, reverse: options.reverse },
  );
}

/** A cell size expression with size names replaced (`In` → `H` for a layer reading the layer below). */
function renamed(expr: string, rename: Readonly<Record<string, string>> = {}): string {
  return expr.replace(/[\p{L}_][\p{L}\p{N}_]*/gu, (name) => (Object.hasOwn(rename, name) ? `(${rename[name]})` : name));
}

/** An instantiated cell's parameters as parameters of the model being defined, with the cell's values; `rename` maps the cell's size names to the model's. */
export function cellParams(c: Cell, rename?: Readonly<Record<string, string>>): Record<string, Tensor> {
  const values = c.params;
  return Object.fromEntries(c.def.params.map((p) => [p.name, param(p.name, p.shape.map((d) => renamed(d, rename)), { init: (shape) => ({ shape, data: Float64Array.from(values[p.name]) }) })]));
}

/**
 * The model of an instantiated cell: inputs `x` `[T, B, In]` (one per cell input, time first as
 * `cell.run` takes them) and each state's initial value `h0` `[B, H]`; parameters are the cell's
 * own values (PyTorch layout: a matrix W is used as x Wᵀ); outputs are every state at every step
 * (`h` `[T, B, H]`) and the final states (`hN`).
 *
 * @example
 * const lstm = cell(LSTM, { inputSize: 2, hiddenSize: 4 });
 * const m = cellModel(lstm);
 * const { outputs, trace } = await m.run({ x: xs, h0, c0 });
 * trace.get("LSTM/f"); // the forget gate at every step: [T, B, H]
 */
export function cellModel(c: Cell): Model {
  const def: CellDef = c.def;
  return model(def.name, { ...c.sizes }, () => {
    const seqs = Object.fromEntries(def.inputs.map((i) => [i.name, input(i.name, ["T", "B", i.size])]));
    const init = Object.fromEntries(def.states.map((s) => [s.name, input(`${s.name}0`, ["B", s.size])]));
    const { out, final } = cellScan(def.name, def, cellParams(c), seqs, init);
    return { ...out, ...Object.fromEntries(Object.entries(final).map(([k, t]) => [`${k}N`, t])) };
  });
}
