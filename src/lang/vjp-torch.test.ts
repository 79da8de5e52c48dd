/**
 * The gradient rules of the op table against PyTorch autograd (float64): every case of the op
 * fixture (fixtures/torch-ops.json) that records PyTorch's gradients — for a seeded upstream
 * gradient dy per output, ∂⟨dy, outputs⟩/∂input for every float input — is run as its one-op model
 * on the reference interpreter and differentiated by walking its nodes in reverse with the rules.
 * Cases of ops without a rule yet are the exhaustiveness test's business (vjp.test.ts); the last
 * test here makes sure every other case was checked.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import seedrandom from "seedrandom";
import { build, fixture, values, WIRING, type FixtureCase } from "./fixtures/cases";
import type { Tensor } from "./graph";
import * as nn from "./index";
import * as nd from "./nd";
import type { ND } from "./nd";
import { OPS, type KernelContext, type OpSpec } from "./ops";

const RTOL = 1e-10;
const spec = (op: string) => OPS[op as keyof typeof OPS] as OpSpec;
/** Whether every op of the case's model has a gradient rule. */
const ruled = (c: FixtureCase) => build(c).graph.nodes.every((n) => WIRING.has(n.op) || spec(n.op).vjp);

/** ∂⟨dy, outputs⟩/∂input for every input of the case's model, by the rules in reverse creation order (undefined: no gradient reached it). */
async function backward(c: FixtureCase): Promise<Map<string, ND | undefined>> {
  const m = build(c);
  const run = await m.run(values(c), { backend: "reference", training: c.training });
  const grads = new Map<Tensor, ND>();
  const accumulate = (t: Tensor, g: ND) => {
    const had = grads.get(t);
    grads.set(t, had ? nd.zip(had, g, (a, b) => a + b) : g);
  };
  c.dy!.forEach((dy, i) => accumulate(m.graph.outputs[`y${i}`], { shape: dy.shape, data: Float64Array.from(dy.data) }));
  for (const node of [...m.graph.nodes].sort((a, b) => b.id - a.id)) {
    const g = grads.get(node);
    if (WIRING.has(node.op) || !g) continue;
    const ctx: KernelContext = { training: c.training, step: 0, path: node.path, sizes: run.trace.sizes };
    const inputs = node.inputs.map((t) => run.trace.get(t.path));
    const back = spec(node.op).vjp!(g, inputs, run.trace.get(node.path), node.attrs as Record<string, unknown>, ctx);
    node.inputs.forEach((t, i) => {
      if (!back[i]) return;
      assert.deepEqual([...back[i]!.shape], [...inputs[i].shape], `${c.name}: ${node.op}'s gradient for ${t.name} has the operand's shape`);
      accumulate(t, back[i]!);
    });
  }
  return new Map(m.graph.inputs.map((t) => [t.name, grads.get(t)]));
}

describe("every gradient rule against PyTorch autograd (float64)", () => {
  const checked = new Set<string>();
  for (const c of fixture.cases.filter((c) => c.grads && ruled(c))) {
    test(c.name, async () => {
      const got = await backward(c);
      assert.deepEqual(Object.keys(c.grads!).sort(), Object.entries(c.inputs).filter(([, v]) => v.dtype === "float").map(([k]) => k).sort(), `${c.name}: PyTorch's gradients are of the float inputs`);
      for (const [name, want] of Object.entries(c.grads!)) {
        // An operand the rules give no gradient (a mask) must be one PyTorch does not differentiate either: zeros.
        const g = got.get(name) ?? nd.zeros(want.shape);
        assert.deepEqual([...g.shape], want.shape, `${c.name}: ∂/∂${name} shape`);
        const scale = Math.max(1, ...want.data.map(Math.abs));
        want.data.forEach((w, i) => {
          assert.ok(Math.abs(g.data[i] - w) <= RTOL * scale, `${c.name}: ∂/∂${name}[${i}] is ${g.data[i]}, PyTorch ${w}`);
        });
      }
      checked.add(c.name);
    });
  }

  test("every case with outputs whose ops all have rules was checked against PyTorch's gradients", () => {
    const due = fixture.cases.filter((c) => c.outputs && ruled(c)).map((c) => c.name);
    assert.ok(due.length > 0);
    assert.deepEqual(due.filter((n) => !checked.has(n)), [], "cases with rules but no PyTorch gradients checked (regenerate torch-ops.json?)");
  });
});

describe("the gradient reversal layer", () => {
  for (const lambda of [1, 0.3, 0]) {
    test(`backward is −λ × upstream, λ = ${lambda}`, async () => {
      const m = nn.model("dann", {}, () => ({ y: nn.gradReverse(nn.input("x", ["B", "H"]), lambda === 1 ? {} : { lambda }) }));
      const node = m.graph.outputs.y;
      const random = seedrandom(String(lambda));
      const x: ND = { shape: [3, 5], data: Float64Array.from({ length: 15 }, () => random() - 0.5) };
      const dy: ND = { shape: [3, 5], data: Float64Array.from({ length: 15 }, () => random() - 0.5) };
      const run = await m.run({ x }, { backend: "reference", training: true });
      assert.deepEqual([...run.outputs.y.data], [...x.data], "forward: the identity");
      const ctx: KernelContext = { training: true, step: 0, path: node.path, sizes: run.trace.sizes };
      const [dx] = spec("gradReverse").vjp!(dy, [x], run.outputs.y, node.attrs as Record<string, unknown>, ctx);
      assert.deepEqual([...dx!.data], [...dy.data].map((g) => -lambda * g));
      assert.equal(spec("gradReverse").notation(["x"], node.attrs as Record<string, unknown>), lambda === 1 ? "R(x)" : `R_λ=${lambda}(x)`);
    });
  }
});
