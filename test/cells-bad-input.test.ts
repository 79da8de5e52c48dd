/** Bad input to a cell, its trace and its stepper: a named error with the tensor, expected vs actual — and nothing changed. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LSTM } from "../src/cells/builtins";
import { cell } from "../src/engine/cell";
import { ArchlabError } from "../src/errors";
import { golden } from "./support/golden";

const isError = (code: string, text: RegExp) => (e: unknown) => e instanceof ArchlabError && e.code === code && text.test(e.message);
const X = golden.X as number[][][]; // [4][2][3]
const lstm = () => cell(LSTM, { inputSize: 3, hiddenSize: 2, seed: 1 });

describe("a cell refuses bad input by name", () => {
  it("wrong input size, wrong batch of an initial state, ragged arrays, non-numbers, NaN / Infinity", () => {
    const c = lstm();
    assert.throws(() => c.run(X.map((s) => s.map((r) => [...r, 0]))), isError("shape", /input "x" of cell "LSTM": expected shape \[4, 2, 3\], got \[4, 2, 4\]/));
    assert.throws(() => c.run(X, { initial: { h: [[0, 0]] } }), isError("shape", /initial state "h" of cell "LSTM": expected shape \[2, 2\], got \[1, 2\]/));
    assert.throws(() => c.run([[[0, 0, 0], [0, 0]]]), isError("ragged", /\[0\]\[1\] has length 2, but its siblings have length 3/));
    assert.throws(() => c.run([[[0, "1", 0]]] as never), isError("not-a-number", /\[0\]\[0\]\[1\] is "1", not a number/));
    assert.throws(() => c.run([[[0, 0, NaN]]]), isError("non-finite", /input "x" of cell "LSTM"\[0\]\[0\]\[2\] is NaN/));
    assert.throws(() => c.run(X, { initial: { c: [Infinity, 0] } }), isError("non-finite", /initial state "c".*is Infinity/));
    assert.throws(() => c.run(X, { initial: { m: [0, 0] } }), isError("unknown-name", /Unknown state "m".*Known states: "h", "c"/));
    assert.throws(() => c.run([]), isError("empty-sequence", /empty/));
  });

  it("bad weights (missing, extra, misshaped, non-finite) leave the weights as they were", () => {
    const c = lstm();
    const before = c.weights();
    const w = lstm().weights();
    assert.throws(() => c.setWeights({ ...w, W_z: [[0]] }), isError("extra-weight", /"W_z"/));
    const { U_o, ...missing } = w;
    void U_o;
    assert.throws(() => c.setWeights(missing), isError("missing-weight", /Missing weight "U_o" \[2, 2\]/));
    assert.throws(() => c.setWeights({ ...w, b_f: [0, 0, 0] }), isError("shape", /weight "b_f".*expected shape \[2\], got \[3\]/));
    assert.throws(() => c.setWeights({ ...w, W_g: [[0, 0, 0], [0, NaN, 0]] }), isError("non-finite", /weight "W_g".*\[1\]\[1\] is NaN/));
    assert.deepEqual(c.weights(), before);
  });
});

describe("a trace and a stepper refuse bad queries by name", () => {
  it("unknown names, steps, batch elements and units", () => {
    const tr = lstm().run(X);
    assert.throws(() => tr.get("gate"), isError("unknown-name", /Unknown trace name "gate" in Trace.get. Known trace names: "x", "i_pre"/));
    assert.throws(() => tr.value("f", { t: 4 }), isError("out-of-range", /Step t 4 is outside the sequence: valid steps are 0…3/));
    assert.throws(() => tr.value("f", { b: 2 }), isError("out-of-range", /Batch element b 2/));
    assert.throws(() => tr.series("f", 2), isError("out-of-range", /Unit of "f" 2/));
  });

  it("seeking outside the sequence throws and leaves the stepper where it was", () => {
    const s = lstm().stepper(X);
    assert.throws(() => s.current(), isError("out-of-range", /call step\(\) first/));
    s.seek(2);
    const at = s.current(1);
    for (const bad of [-2, 4, 1.5]) assert.throws(() => s.seek(bad), isError("out-of-range", new RegExp(`Step ${bad} is outside the sequence: valid steps are -1…3`)));
    assert.throws(() => s.step(2), isError("out-of-range", /Step 4/));
    assert.throws(() => s.back(4), isError("out-of-range", /Step -2/));
    assert.equal(s.t, 2);
    assert.deepEqual(s.current(1), at);
    assert.throws(() => s.reset({ initial: { h: [[1, 2, 3]] } }), isError("shape", /initial state "h"/));
    assert.equal(s.t, 2, "a failed reset changes nothing");
    assert.deepEqual(s.run().trace.get("h"), lstm().run(X).get("h"));
  });
});
