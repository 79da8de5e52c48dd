import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { maxAbsDiff } from "../../test/support/golden";
import { ArchlabError } from "../errors";
import { fromTorch, type TorchOptions } from "./torch";

/** PyTorch 1.13 autograd, float64 (see fixtures/torch-gradients.py): inputs, weights, upstream gradients and the gradients. */
const reference = JSON.parse(readFileSync(join(__dirname, "fixtures", "torch-gradients.json"), "utf8"));

const maxAbs = (a: unknown): number => (Array.isArray(a) ? a.reduce((m, x) => Math.max(m, maxAbs(x)), 0) : Math.abs(a as number));
/** Normwise relative difference ‖ours − torch‖∞ / ‖torch‖∞. */
const relative = (ours: unknown, torch: unknown) => maxAbsDiff(ours, torch) / Math.max(maxAbs(torch), 1e-300);

const optionsOf = (c: any): TorchOptions => ({
  mode: c.mode,
  inputSize: c.inputSize,
  hiddenSize: c.hiddenSize,
  numLayers: c.numLayers,
  bidirectional: c.bidirectional,
  batchFirst: c.batchFirst ?? false,
  projSize: c.projSize ?? 0,
});

describe(`TorchOutput.backward: gradients equal PyTorch ${reference.torch} autograd to 1e-9 relative (float64)`, () => {
  for (const c of reference.cases) {
    const name = `${c.mode}, ${c.numLayers} layer${c.numLayers > 1 ? "s" : ""}${c.bidirectional ? ", bidirectional" : ""}${c.projSize ? `, proj_size ${c.projSize}` : ""}${c.batchFirst ? ", batch_first" : ""}${c.unbatched ? ", unbatched" : ""}`;
    it(`${name}: every parameter's gradient, dx, dh0${c.mode === "LSTM" ? ", dc0" : ""}`, async () => {
      const model = fromTorch(optionsOf(c), c.stateDict);
      const lstm = c.mode === "LSTM";
      const r = await model.forward(c.x, c.h0, lstm ? c.c0 : undefined);
      assert.ok(relative(r.output, c.output) < 1e-12, "the forward pass is PyTorch's");
      const g = await r.backward(c.dOutput, lstm ? { dhN: c.dhN, dcN: c.dcN } : { dhN: c.dhN });
      assert.deepEqual(Object.keys(g.grads), Object.keys(c.grads), "PyTorch's parameter names, in named_parameters() order");
      for (const [param, expected] of Object.entries(c.grads)) assert.ok(relative(g.grads[param], expected) < 1e-9, `${param}: ${relative(g.grads[param], expected)}`);
      assert.ok(relative(g.dx, c.dx) < 1e-9, `dx: ${relative(g.dx, c.dx)}`);
      assert.deepEqual(g.dx.shape, c.unbatched ? [c.T, c.inputSize] : c.batchFirst ? [c.B, c.T, c.inputSize] : [c.T, c.B, c.inputSize]);
      assert.ok(relative(g.dh0, c.dh0) < 1e-9, `dh0: ${relative(g.dh0, c.dh0)}`);
      if (lstm) assert.ok(relative(g.dc0, c.dc0) < 1e-9, `dc0: ${relative(g.dc0, c.dc0)}`);
      else assert.equal(g.dc0, undefined);
    });
  }

  it("upstream gradients left out count as zeros: only dhN gives PyTorch's gradient of ⟨dhN, h_n⟩", async () => {
    const c = reference.cases.find((x: any) => x.mode === "LSTM" && x.numLayers === 2 && x.bidirectional && !x.projSize);
    const r = await fromTorch(optionsOf(c), c.stateDict).forward(c.x, c.h0, c.c0);
    const zeros = (v: unknown): unknown => (Array.isArray(v) ? v.map(zeros) : 0);
    const all = await r.backward(c.dOutput, { dhN: c.dhN, dcN: c.dcN });
    const split = [await r.backward(c.dOutput), await r.backward(undefined, { dhN: c.dhN }), await r.backward(zeros(c.dOutput) as number[][][], { dcN: c.dcN })];
    // Gradients are linear in the upstream: the three parts add up to the whole.
    const sum = (k: string) => split.reduce((acc: number[][], g) => acc.map((row, i) => row.map((v, j) => v + (g.grads[k] as number[][])[i][j])), (split[0].grads[k] as number[][]).map((row) => row.map(() => 0)));
    assert.ok(maxAbsDiff(sum("weight_hh_l0_reverse"), all.grads.weight_hh_l0_reverse) < 1e-12);
  });

  it("backward is not enumerable: the forward result still shows as PyTorch's (output, h_n, c_n) and the trace", async () => {
    const c = reference.cases[0];
    const r = await fromTorch(optionsOf(c), c.stateDict).forward(c.x);
    assert.deepEqual(Object.keys(r), ["output", "hN", "trace"]);
    assert.equal(typeof r.backward, "function");
  });

  it("gives the gradient trace of every layer and direction", async () => {
    const c = reference.cases.find((x: any) => x.mode === "GRU" && x.bidirectional && !x.unbatched);
    const r = await fromTorch(optionsOf(c), c.stateDict).forward(c.x, c.h0);
    const g = await r.backward(c.dOutput, { dhN: c.dhN });
    assert.deepEqual(Object.keys(g.traces), ["l0", "l0_reverse", "l1", "l1_reverse"]);
    assert.equal(g.traces.l1_reverse.direction, "backward");
    assert.deepEqual(g.traces.l0.names, r.trace.trace(0, "forward").names);
    // The backward cell's first step read position 0 last: ∂L/∂x at position 0 includes its share.
    assert.equal(g.traces.l0.get("x").length, c.T);
  });
});

describe("TorchOutput.backward: bad upstream gradients are named errors", () => {
  const c = reference.cases.find((x: any) => x.mode === "LSTM" && x.numLayers === 2 && x.bidirectional && !x.projSize);
  const named = (code: string, text: RegExp) => (e: unknown) => e instanceof ArchlabError && e.code === code && text.test(e.message);

  it("dOutput, dhN, dcN of the wrong shape name the tensor and both shapes", async () => {
    const r = await fromTorch(optionsOf(c), c.stateDict).forward(c.x);
    await assert.rejects(r.backward(c.dhN), named("shape", /dOutput \(∂L\/∂output\) of backward of the bidirectional LSTM model, 2 layers: expected shape \[5, 2, 8\], got \[4, 2, 4\]/));
    await assert.rejects(r.backward(c.dOutput, { dhN: c.dOutput }), named("shape", /dhN \(∂L\/∂h_n\).*expected shape \[4, 2, 4\], got \[5, 2, 8\]/));
    await assert.rejects(r.backward(c.dOutput, { dcN: [[0]] }), named("shape", /dcN \(∂L\/∂c_n\).*expected shape \[4, 2, 4\], got \[1, 1\]/));
    await assert.rejects(r.backward(c.dOutput, { dh_n: c.dhN } as never), named("unknown-name", /upstream gradient "dh_n".*"dhN", "dcN"/));
  });
  it("dcN for a mode without a cell state", async () => {
    const gru = reference.cases.find((x: any) => x.mode === "GRU");
    const r = await fromTorch(optionsOf(gru), gru.stateDict).forward(gru.x);
    await assert.rejects(r.backward(gru.dOutput, { dcN: gru.dhN }), named("bad-option", /dcN.*only LSTM has c_n/));
  });
});
