/**
 * nn.losses against PyTorch (fixtures/torch-losses.json, made by torch-losses.py): each case's loss
 * value and PyTorch autograd's gradients, then the gradient again against central finite
 * differences of the whole model; plus the losses' named errors.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ArchlabError } from "../errors";
import { checkAgainstFiniteDifferences, relativeError } from "./fixtures/finite-differences";
import type { Tensor } from "./graph";
import { input, losses, model } from "./index";
import type { ND } from "./nd";

interface LossCase {
  name: string;
  fn: keyof typeof losses;
  sizes: Record<string, number>;
  inputs: { name: string; dims: (string | number)[]; shape: number[]; data: number[]; dtype: "float" | "int" }[];
  args: unknown[];
  value: number;
  grads: Record<string, number[]>;
}

const fixture = JSON.parse(readFileSync(join(__dirname, "fixtures", "torch-losses.json"), "utf8")) as { torch: string; cases: LossCase[] };

const build = (c: LossCase) =>
  model("lossCase", c.sizes, () => {
    const tensors = c.inputs.map((i) => input(i.name, i.dims, { dtype: i.dtype }));
    const fn = losses[c.fn] as (...args: unknown[]) => Tensor;
    return { loss: fn(...tensors, ...c.args) };
  });

const values = (c: LossCase): Record<string, ND> => Object.fromEntries(c.inputs.map((i) => [i.name, { shape: i.shape, data: Float64Array.from(i.data) }]));

describe(`nn.losses against PyTorch ${fixture.torch} (float64)`, () => {
  for (const c of fixture.cases) {
    test(c.name, async () => {
      const m = build(c);
      const inputs = values(c);
      const run = await m.run(inputs, { backend: "reference" });
      assert.deepEqual(run.outputs.loss.shape, [], "a scalar loss");
      const value = run.outputs.loss.data[0];
      assert.ok(Math.abs(value - c.value) <= 1e-12 * Math.abs(c.value), `value ${value}, PyTorch ${c.value}`);
      const g = m.backward(run);
      for (const [name, want] of Object.entries(c.grads)) assert.ok(relativeError(g.inputs[name].data, want) <= 1e-10, `∂loss/∂${name} against PyTorch autograd`);
      // Finite differences of every float input (not of a target with zeros, where log p has no two-sided difference).
      const zeros = c.inputs.filter((i) => i.dtype === "float" && !(i.name in c.grads)).map((i) => i.name);
      await checkAgainstFiniteDifferences(m, inputs, { loss: 1 }, zeros);
    });
  }

  test("the loss is part of the definition: a block of its kind, its nodes in the trace, a fresh name for a second loss", async () => {
    const m = model("Two", { C: 3 }, () => {
      const x = input("x", ["B", "C"]);
      const y = input("y", ["B", "C"]);
      return { a: losses.mse(x, y), b: losses.mse(y, x) };
    });
    assert.deepEqual(Object.values(m.graph.outputs).map((t) => t.path), ["mse/loss", "mse_2/loss"]);
    assert.equal(m.graph.outputs.a.scope?.kind, "MSELoss");
  });

  test("named errors: a target of another shape, float class ids, a class axis of unknown length, a bad option", () => {
    const code = (text: RegExp) => (e: unknown) => e instanceof ArchlabError && text.test(e.message);
    assert.throws(
      () => model("M", { C: 3 }, () => ({ loss: losses.mse(input("x", ["B", "C"]), input("y", ["B", 2])) })),
      code(/losses\.mse: the target y has shape \[B, 2\]; expected the prediction x's shape \[B, C\]/),
    );
    assert.throws(
      () => model("M", { C: 3 }, () => ({ loss: losses.crossEntropy(input("x", ["B", "C"]), input("k", ["B"]), "C") })),
      code(/losses\.crossEntropy: the target k .*whole-number class ids/),
    );
    assert.throws(
      () => model("M", { C: 3 }, () => ({ loss: losses.crossEntropy(input("x", ["B", "C"]), input("k", ["B", "C"], { dtype: "int" }), "C") })),
      code(/the target k has shape \[B, C\]; expected \[B\]/),
    );
    assert.throws(
      () => model("M", {}, () => ({ loss: losses.nll(input("x", ["B", "C"]), input("k", ["B"], { dtype: "int" })) })),
      code(/the number of classes \(axis C of x\) needs the size C, which has no value/),
    );
    assert.throws(
      () => model("M", { C: 3 }, () => ({ loss: losses.binaryCrossEntropy(input("x", ["B", "C"]), input("y", ["B", "C"]), { from: "probs" as "logits" }) })),
      code(/from must be "logits" or "probabilities", not "probs"/),
    );
  });
});
