/**
 * Every gradient rule of the op table against central finite differences of the op's own reference
 * kernel (float64): each case of the op fixture (fixtures/torch-ops.json) is run on the reference
 * interpreter, and at every node of it whose op has a rule, the rule's ∂L/∂(operand) for a random
 * upstream gradient dy is compared with the finite difference of ⟨dy, op(operand)⟩ — element by element for
 * small operands, along random directions for large ones. An op of the table without a rule fails the
 * exhaustiveness test.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import seedrandom from "seedrandom";
import { build, fixture, values, WIRING, type FixtureCase } from "./fixtures/cases";
import type { Tensor } from "./graph";
import * as nd from "./nd";
import type { ND } from "./nd";
import { OPS, type KernelContext, type OpSpec } from "./ops";

/** Operands up to this many elements are checked element by element; larger ones along random directions. */
const FULL = 64;
const DIRECTIONS = 3;
const RTOL = 1e-6;
/**
 * The ops whose rule is by definition not the derivative of their forward (the identity) but a
 * multiple of it: stopGradient's is 0 × it, the gradient reversal layer's −λ × it.
 */
const NOT_THE_DERIVATIVE: Record<string, (attrs: Record<string, any>) => number> = { stopGradient: () => 0, gradReverse: (a) => -a.lambda };

const dotND = (a: ND, b: ND) => {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i] * b.data[i];
  return s;
};
const randomND = (shape: readonly number[], random: () => number): ND => {
  const out = nd.zeros(shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = 2 * random() - 1;
  return out;
};

/** Checks one node's rule: ⟨rule(dy)ᵢ, v⟩ = d/dε ⟨dy, op(xᵢ + εv)⟩ at ε = 0, for every float operand i. */
function checkNode(c: FixtureCase, node: Tensor, spec: OpSpec, inputs: ND[], out: ND, ctx: KernelContext, random: () => number) {
  const attrs = node.attrs as Record<string, unknown>;
  const dy = randomND(out.shape, random);
  const grads = spec.vjp!(dy, inputs, out, attrs, ctx);
  const loss = (xs: ND[]) => dotND(dy, spec.ref(xs, attrs, ctx));
  node.inputs.forEach((operand, i) => {
    const what = `${c.name}: ${node.op} ∂/∂${operand.name}`;
    if (operand.dtype === "int") return;
    const g = grads[i];
    assert.ok(g, `${what}: the rule gives no gradient for a float operand`);
    assert.deepEqual([...g.shape], [...inputs[i].shape], `${what}: the gradient's shape is the operand's`);
    const x = inputs[i];
    const directions: ND[] = [];
    if (x.data.length <= FULL)
      for (let k = 0; k < x.data.length; k++) {
        const e = nd.zeros(x.shape);
        e.data[k] = 1;
        directions.push(e);
      }
    else for (let k = 0; k < DIRECTIONS; k++) directions.push(randomND(x.shape, random));
    const scale = Math.max(1, ...Array.from(x.data, Math.abs));
    const h = 1e-6 * scale;
    for (const v of directions) {
      const at = (eps: number) => inputs.map((y, j) => (j === i ? nd.zip(y, v, (a, b) => a + eps * b) : y));
      const fd = (NOT_THE_DERIVATIVE[node.op]?.(attrs) ?? 1) * ((loss(at(h)) - loss(at(-h))) / (2 * h));
      const rule = dotND(g, v);
      assert.ok(Math.abs(rule - fd) <= RTOL * Math.max(1, Math.abs(fd)), `${what}: along a direction the rule gives ${rule}, finite differences ${fd}`);
    }
  });
}

describe("every gradient rule against finite differences of its reference kernel (float64)", () => {
  // At a kink (ties in a max) the central difference averages the two sides: those cases are checked against PyTorch (vjp-torch.test.ts).
  for (const c of fixture.cases.filter((c) => !c.kink)) {
    test(c.name, async () => {
      const m = build(c);
      const run = await m.run(values(c), { backend: "reference", training: c.training });
      const random = seedrandom(c.name);

      for (const node of m.graph.nodes) {
        const spec = OPS[node.op as keyof typeof OPS] as OpSpec;
        if (WIRING.has(node.op) || !spec.vjp) continue;
        const ctx: KernelContext = { training: c.training, step: 0, path: node.path, sizes: run.trace.sizes };
        checkNode(c, node, spec, node.inputs.map((t) => run.trace.get(t.path)), run.trace.get(node.path), ctx, random);

      }
    });
  }

  test("every op of the table has a gradient rule", () => {
    const missing = Object.entries(OPS).filter(([op, spec]) => !WIRING.has(op) && !(spec as OpSpec).vjp).map(([op]) => op);
    assert.deepEqual(missing, [], `ops without a gradient rule: ${missing.join(", ")}`);
  });
});
