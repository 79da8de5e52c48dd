/**
 * What finite differences cannot show about the gradient rules of the structure and softmax ops:
 * rules at points where the kernel is not differentiable or not finite (−∞ logits, fully masked
 * rows, a zero vector's norm), which operands take no gradient, and how rules compose (split then
 * concat is the identity, so its gradient is dy itself).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import seedrandom from "seedrandom";
import { build, fixture, values } from "./fixtures/cases";
import type { ND } from "./nd";
import { OPS, type KernelContext, type OpSpec } from "./ops";

const ctx: KernelContext = { training: false, step: 0, path: "test", sizes: {} };
const t = (shape: number[], data: number[]): ND => ({ shape, data: Float64Array.from(data) });
/** The op's result and its rule's operand gradients for upstream gradient dy. */
function vjpOf(op: keyof typeof OPS, inputs: ND[], attrs: Record<string, unknown>, dy: (out: ND) => ND) {
  const spec = OPS[op] as OpSpec;
  const out = spec.ref(inputs, attrs, ctx);
  const g = dy(out);
  return { out, grads: spec.vjp!(g, inputs, out, attrs, ctx), dy: g };
}
/** Softmax's Jacobian–vector product written out: ∂pⱼ/∂xᵢ = pⱼ(δᵢⱼ − pᵢ), for one row of finite logits. */
function softmaxRowGrad(x: number[], dy: number[]): number[] {
  const m = Math.max(...x);
  const e = x.map((v) => Math.exp(v - m));
  const z = e.reduce((a, b) => a + b, 0);
  const p = e.map((v) => v / z);
  return x.map((_, i) => p.reduce((s, pj, j) => s + dy[j] * pj * ((i === j ? 1 : 0) - p[i]), 0));
}
const close = (actual: ArrayLike<number>, expected: number[], what: string) =>
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i] - e) <= 1e-12 * Math.max(1, Math.abs(e)), `${what}[${i}]: ${actual[i]} ≠ ${e}`));

describe("gradient rules where finite differences cannot look", () => {
  test("an embedding row looked up several times gets the sum of those positions' gradients; unused rows get 0 and the ids none", () => {
    const table = t([4, 2], [0, 1, 2, 3, 4, 5, 6, 7]);
    const ids = t([4], [2, 0, 2, 2]);
    const dy = t([4, 2], [1, 10, 2, 20, 3, 30, 4, 40]);
    const { grads } = vjpOf("gather", [table, ids], {}, () => dy);
    assert.deepEqual([...grads[0]!.data], [2, 20, 0, 0, 1 + 3 + 4, 10 + 30 + 40, 0, 0]);
    assert.equal(grads[1], undefined);
  });

  test("oneHot's ids take no gradient", () => {
    const { grads } = vjpOf("oneHot", [t([3], [0, 2, 1])], { depth: 3 }, (out) => out);
    assert.deepEqual(grads, [undefined]);
  });

  test("softmax over logits with −∞ entries: those get 0, the rest the softmax gradient of the finite entries alone; a row of −∞ only gets 0, not NaN", () => {
    const x = t([3, 4], [0.5, -Infinity, 1.5, -0.2, -Infinity, -Infinity, -Infinity, -Infinity, 2, 1, -Infinity, 0]);
    const dy = t([3, 4], [0.3, -1, 0.7, 0.2, 1, 2, 3, 4, -0.4, 0.9, 5, 0.1]);
    const { out, grads } = vjpOf("softmax", [x], { axis: 1 }, () => dy);
    assert.ok(out.data.slice(4, 8).every(Number.isNaN), "a row with nothing finite is NaN forward, as in PyTorch");
    const dx = grads[0]!.data;
    assert.ok(dx.every(Number.isFinite), `finite gradients: ${[...dx]}`);
    const [g0, g2] = [softmaxRowGrad([0.5, 1.5, -0.2], [0.3, 0.7, 0.2]), softmaxRowGrad([2, 1, 0], [-0.4, 0.9, 0.1])];
    close(dx, [g0[0], 0, g0[1], g0[2], 0, 0, 0, 0, g2[0], g2[1], 0, g2[2]], "dx");
  });

  test("maskedSoftmax: masked entries and a fully masked row get gradient 0; the mask gets 0 in its own shape", () => {
    const x = t([2, 3], [0.1, 0.9, -0.5, 2, -1, 0.3]);
    const m = t([2, 3], [1, 0, 1, 0, 0, 0]);
    const dy = t([2, 3], [0.6, -2, 0.4, 1, 1, 1]);
    const { grads } = vjpOf("maskedSoftmax", [x, m], { axis: 1 }, () => dy);
    const g = softmaxRowGrad([0.1, -0.5], [0.6, 0.4]);
    close(grads[0]!.data, [g[0], 0, g[1], 0, 0, 0], "dx");
    assert.deepEqual(grads[1], { shape: [2, 3], data: new Float64Array(6) });
  });

  test("logSoftmax: an entry at −∞ passes its gradient through (∂yᵢ/∂xᵢ = 1 − pᵢ = 1, as PyTorch); a row of −∞ only gets 0", () => {
    const x = t([2, 3], [1, -Infinity, 0, -Infinity, -Infinity, -Infinity]);
    const dy = t([2, 3], [0.5, 2, -1, 1, 1, 1]);
    const { grads } = vjpOf("logSoftmax", [x], { axis: 1 }, () => dy);
    const p = [Math.exp(1), Math.exp(0)].map((e) => e / (Math.exp(1) + 1));
    const total = 0.5 + 2 - 1;
    close(grads[0]!.data, [0.5 - p[0] * total, 2, -1 - p[1] * total, 0, 0, 0], "dx");
  });

  test("the norm of a zero vector has gradient 0 (PyTorch's choice), not NaN", () => {
    const { grads } = vjpOf("norm", [t([2, 2], [0, 0, 3, 4])], { axes: [1] }, () => t([2], [1, 2]));
    close(grads[0]!.data, [0, 0, (2 * 3) / 5, (2 * 4) / 5], "dx");
  });

  test("cosine with a zero vector: the clamped denominator gives a finite gradient", () => {
    const { grads } = vjpOf("cosine", [t([1, 2], [0, 0]), t([1, 2], [3, 4])], {}, () => t([1], [1]));
    assert.ok([...grads[0]!.data, ...grads[1]!.data].every(Number.isFinite));
    close(grads[0]!.data, [3 / 1e-8, 4 / 1e-8], "∂/∂a"); // cos = ⟨a, b⟩ / 1e-8 near a = 0
    close(grads[1]!.data, [0, 0], "∂/∂b");
  });

  test("where: the mask takes gradient 0; a branch broadcast over the mask gets the selected entries summed", () => {
    const m = t([2, 2], [1, 0, 1, 1]);
    const a = t([2], [5, 6]);
    const b = t([2, 2], [7, 8, 9, 10]);
    const { grads } = vjpOf("where", [m, a, b], {}, () => t([2, 2], [1, 2, 3, 4]));
    assert.deepEqual([...grads[0]!.data], [0, 0, 0, 0]);
    assert.deepEqual([...grads[1]!.data], [1 + 3, 4]);
    assert.deepEqual([...grads[2]!.data], [0, 2, 0, 0]);
  });

  test("split then concat is the identity, so its gradient is dy: slices' rules put every part of dy back in place", () => {
    const x = t([2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const parts = [[0, 2], [2, 1], [3, 2]].map(([start, length]) => ({ start, length, value: (OPS.slice as OpSpec).ref([x], { axis: 1, start, length }, ctx) }));
    const joined = (OPS.concat as OpSpec).ref(parts.map((p) => p.value), { axis: 1 }, ctx);
    assert.deepEqual([...joined.data], [...x.data]);
    const dy = t([2, 5], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    const dParts = (OPS.concat as OpSpec).vjp!(dy, parts.map((p) => p.value), joined, { axis: 1 }, ctx);
    const dx = new Float64Array(10);
    parts.forEach((p, i) => {
      const [g] = (OPS.slice as OpSpec).vjp!(dParts[i]!, [x], p.value, { axis: 1, start: p.start, length: p.length }, ctx);
      g!.data.forEach((v, k) => (dx[k] += v));
    });
    assert.deepEqual([...dx], [...dy.data]);
  });

  test("transpose's gradient undoes the permutation", () => {
    const x = t([2, 3, 4], Array.from({ length: 24 }, (_, i) => i));
    const perm = [2, 0, 1];
    const { out, grads } = vjpOf("transpose", [x], { perm }, (y) => y);
    assert.equal(out.shape.join(), "4,2,3");
    assert.deepEqual(grads[0], { shape: [2, 3, 4], data: Float64Array.from(x.data) }, "the gradient of the result itself is the operand back");
  });

  test("the rules read the recorded values without changing them, accept float32 values (the fast path's), and return fresh float64 arrays", async () => {
    const ops = new Set(["where", "norm", "softmax", "logSoftmax", "maskedSoftmax", "cosine", "concat", "slice", "reshape", "transpose", "gather", "oneHot", "roll"]);
    const cases = fixture.cases.filter((c) => ops.has(build(c).graph.nodes.at(-1)!.op));
    assert.ok(cases.length >= 20, `${cases.length} cases`);
    for (const c of cases) {
      const m = build(c);
      const run = await m.run(values(c), { backend: "reference" });
      const random = seedrandom(c.name);
      for (const node of m.graph.nodes.filter((n) => ops.has(n.op))) {
        const spec = OPS[node.op as keyof typeof OPS] as OpSpec;
        const f32 = (v: ND): ND => ({ shape: v.shape, data: Float32Array.from(v.data) });
        const inputs = node.inputs.map((t) => f32(run.trace.get(t.path)));
        const out = f32(run.trace.get(node.path));
        const dy: ND = { shape: out.shape, data: Float32Array.from(out.data, () => random() - 0.5) };
        const before = [...inputs, out, dy].map((v) => Float32Array.from(v.data));
        const grads = spec.vjp!(dy, inputs, out, node.attrs as Record<string, unknown>, { ...ctx, path: node.path, sizes: run.trace.sizes });
        [...inputs, out, dy].forEach((v, i) => assert.deepEqual(v.data, before[i], `${c.name}: ${node.op} left its operands, result and dy as they were`));
        for (const g of grads.filter((g) => g !== undefined))
          assert.ok(g!.data instanceof Float64Array && ![...inputs, out, dy].some((v) => v.data === g!.data), `${c.name}: ${node.op} returns a new float64 array`);
      }
    }
  });
});
