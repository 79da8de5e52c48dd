/**
 * Hostile and careless input to the library (issue 10, "Library"): every one a named ArchlabError
 * that says which definition, option or tensor, what was expected and what was given — never a
 * TypeError from deep inside, never a prototype name ("toString", "constructor", "__proto__")
 * taken for a valid choice.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BUILTIN_CELLS, GRU_RESET_AFTER, LSTM } from "../src/cells/builtins";
import { cell } from "../src/engine/cell";
import { ArchlabError } from "../src/errors";
import { fromKeras, fromOnnx, fromTorch, loadOnnxWeights, toTorch } from "../src/io";
import { dbLstm, sequence } from "../src/models";
import { golden } from "./support/golden";

const isError = (code: string, ...texts: RegExp[]) => (e: unknown) => {
  assert.ok(e instanceof ArchlabError, `expected an ArchlabError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  assert.equal(e.code, code, e.message);
  for (const t of texts) assert.match(e.message, t);
  return true;
};
const X = golden.X as number[][][]; // [4][2][3]
const PROTOTYPE_NAMES = ["toString", "constructor", "__proto__", "hasOwnProperty", "valueOf"];

describe("something that is not a cell definition is named as such", () => {
  it("cell(undefined) — e.g. a BUILTIN_CELLS name that does not exist — lists the built-in names", () => {
    for (const def of [undefined, BUILTIN_CELLS["LSTMX"], null, 42, {}, { name: "x" }])
      assert.throws(() => cell(def as never, { inputSize: 3, hiddenSize: 2 }), isError("not-a-definition", /cell\(\) needs a cell definition, got /, /defineCell/));
    assert.throws(() => cell(BUILTIN_CELLS["LSTMX"], { inputSize: 3, hiddenSize: 2 }), isError("not-a-definition", /got undefined/, /BUILTIN_CELLS\["name"\] has only these names: .*"?LSTM"?, /));
  });

  it("cell('LSTM') says to pass the constant LSTM (or BUILTIN_CELLS['LSTM']); an unknown string lists the names", () => {
    assert.throws(() => cell("LSTM" as never, { inputSize: 3, hiddenSize: 2 }), isError("not-a-definition", /got "LSTM"/, /not its name: LSTM \(import \{ LSTM \} from "archlab"\), or BUILTIN_CELLS\["LSTM"\]/));
    assert.throws(() => cell("lstm" as never, { inputSize: 3, hiddenSize: 2 }), isError("not-a-definition", /got "lstm"/, /GRU_RESET_AFTER/));
    assert.throws(() => sequence("GRU_RESET_AFTER" as never, { inputSize: 3, hiddenSize: 2 }), isError("not-a-definition", /sequence\(\) needs a cell definition, got "GRU_RESET_AFTER"/));
    assert.throws(() => dbLstm({ cell: "LSTM" as never, inputSize: 3, hiddenSize: 2 }), isError("not-a-definition", /dbLstm\(\)/));
    assert.throws(() => cell(LSTM, null as never), isError("bad-option", /Option options = null/));
  });

  it("run and stepper options that are not an object, or not a boolean, are named", () => {
    const c = cell(LSTM, { inputSize: 3, hiddenSize: 2 });
    assert.throws(() => c.run(X, null as never), isError("bad-option", /Option options = null is not valid: expected \{ initial\?, reverse\?, checkFinite\?, interventions\? \}/));
    assert.throws(() => c.stepper(X, { initial: null as never }), isError("bad-option", /Option initial = null is not valid: expected state name → \[B, size\] or \[size\]/));
    assert.throws(() => c.run(X, { reverse: "yes" as never }), isError("bad-option", /Option reverse = "yes"/));
  });
});

describe("weights that are not an object of tensors are named", () => {
  it("setWeights(null) / [] / 5, on a cell and on a model, change nothing", () => {
    const c = cell(LSTM, { inputSize: 3, hiddenSize: 2, seed: 1 });
    const before = c.weights();
    for (const bad of [null, undefined, [], 5, "W_i"])
      assert.throws(() => c.setWeights(bad as never), isError("bad-option", /Option weights of cell "LSTM" = /, /expected an object of weight name → nested numbers with exactly: "W_i", "U_i"/));
    assert.deepEqual(c.weights(), before);
    const m = sequence(LSTM, { inputSize: 3, hiddenSize: 2, numLayers: 2 });
    assert.throws(() => m.setWeights(null as never), isError("bad-option", /Option weights of LSTM model, 2 layers = null/, /cell key \(l0, l0_reverse, …\)/));
    assert.throws(() => m.setWeights({ l0: null, l1: m.weights().l1 } as never), isError("bad-option", /weights of cell l0 of LSTM model, 2 layers = null/));
    const db = dbLstm({ inputSize: 3, hiddenSize: 2, depth: 2 });
    assert.throws(() => db.setWeights({ ...db.weights(), m1: null } as never), isError("bad-option", /weights of shortcut m1 .* = null is not valid: expected \{ A, B, b \}/));
  });

  it("fromOnnx(node, null) and loadOnnxWeights(model, null) ask for { W, R, B?, P? }", () => {
    for (const bad of [null, undefined, [[0]], 1])
      assert.throws(() => fromOnnx({ op_type: "LSTM", hidden_size: 2 }, bad as never), isError("bad-option", /Option weights = /, /initializers as an object \{ W, R, B\?, P\? \}/));
    assert.throws(() => loadOnnxWeights(sequence(LSTM, { inputSize: 3, hiddenSize: 2 }), null as never), isError("bad-option", /Option weights = null/));
  });
});

describe("a prototype name is not a valid choice of any option table", () => {
  const onnxLstm = { W: [Array.from({ length: 8 }, () => [0.1, 0.2, 0.3])], R: [Array.from({ length: 8 }, () => [0.1, 0.2])] };
  const kerasGru = [Array.from({ length: 3 }, () => new Array(6).fill(0.1)), Array.from({ length: 2 }, () => new Array(6).fill(0.1)), [new Array(6).fill(0), new Array(6).fill(0)]];

  it("fromTorch mode", () => {
    for (const mode of PROTOTYPE_NAMES)
      assert.throws(() => fromTorch({ mode: mode as never, inputSize: 3, hiddenSize: 2 }, {}), isError("bad-option", new RegExp(`Option mode = "${mode}" is not valid: expected "RNN_TANH" \\| "RNN_RELU" \\| "LSTM" \\| "GRU"`)));
  });

  it("ONNX direction and op_type (a valid node otherwise: \"toString\" used to run as forward)", () => {
    assert.doesNotThrow(() => fromOnnx({ op_type: "LSTM", hidden_size: 2, direction: "forward" }, onnxLstm));
    for (const name of PROTOTYPE_NAMES) {
      assert.throws(() => fromOnnx({ op_type: "LSTM", hidden_size: 2, direction: name as never }, onnxLstm), isError("bad-option", new RegExp(`Option direction = "${name}" is not valid: expected "forward" \\| "reverse" \\| "bidirectional"`)));
      assert.throws(() => fromOnnx({ op_type: name as never, hidden_size: 2 }, onnxLstm), isError("bad-option", new RegExp(`Option op_type = "${name}" is not valid: expected "RNN" \\| "LSTM" \\| "GRU"`)));
    }
  });

  it("Keras layer (\"constructor\" used to become a GRU) and recurrentActivation", () => {
    assert.doesNotThrow(() => fromKeras({ layer: "GRU", inputSize: 3, units: 2 }, kerasGru));
    for (const name of PROTOTYPE_NAMES) {
      assert.throws(() => fromKeras({ layer: name as never, inputSize: 3, units: 2 }, kerasGru), isError("bad-option", new RegExp(`Option layer = "${name}" is not valid: expected "SimpleRNN" \\| "LSTM" \\| "GRU"`)));
      assert.throws(() => fromKeras({ layer: "GRU", inputSize: 3, units: 2, recurrentActivation: name as never }, kerasGru), isError("bad-option", new RegExp(`Option recurrentActivation = "${name}"`), /"sigmoid" \| "hardSigmoid" \| "hard_sigmoid"/));
    }
  });

  it("a cell named like a prototype property has no framework layout", () => {
    const model = sequence({ ...GRU_RESET_AFTER, name: "constructor" }, { inputSize: 3, hiddenSize: 2 });
    assert.throws(() => toTorch(model), isError("unsupported", /PyTorch weights for cell "constructor" is not supported: PyTorch has no such cell/));
  });

  it("sizes and weights named like prototype properties are not found on Object.prototype", () => {
    assert.throws(() => cell(LSTM, { inputSize: 3, hiddenSize: 2, sizes: { toString: 2 } as never }), isError("unknown-name", /Unknown size "toString"/));
    const { W_i, ...rest } = cell(LSTM, { inputSize: 3, hiddenSize: 2 }).weights();
    void W_i;
    assert.throws(() => cell(LSTM, { inputSize: 3, hiddenSize: 2 }).setWeights(Object.create({ W_i: [[0, 0, 0], [0, 0, 0]] }, Object.getOwnPropertyDescriptors(rest))), isError("missing-weight", /Missing weight "W_i" \[2, 3\]/));
  });
});

describe("messages show every value as it is", () => {
  it("BigInt (JSON.stringify throws on it) and NaN (JSON prints null)", () => {
    assert.throws(() => cell(LSTM, { inputSize: 3n as never, hiddenSize: 2 }), isError("bad-option", /Option inputSize = 3n \(a BigInt\) is not valid: expected a positive integer/));
    assert.throws(() => cell(LSTM, { inputSize: 3, hiddenSize: NaN }), isError("bad-option", /Option hiddenSize = NaN is not valid/));
    assert.throws(() => cell(LSTM, { inputSize: 3, hiddenSize: 2 }).run([[[0, 1n, 0]]] as never), isError("not-a-number", /input "x" of cell "LSTM"\[0\]\[0\]\[1\] is 1n \(a BigInt\), not a number/));
    assert.throws(() => sequence(LSTM, { inputSize: 3, hiddenSize: 2, numLayers: NaN }), isError("bad-option", /Option numLayers = NaN/));
    const hostile = new Proxy({}, { get: () => { throw new Error("no"); }, ownKeys: () => { throw new Error("no"); } });
    assert.throws(() => cell(LSTM, { inputSize: hostile as never, hiddenSize: 2 }), isError("bad-option", /Option inputSize = .* is not valid/));
  });

  it("a unit index is a unit (valid units 0…H−1), a batch element a batch element", () => {
    const tr = cell(LSTM, { inputSize: 3, hiddenSize: 2, seed: 1 }).run(X);
    assert.throws(() => tr.series("f", 99), isError("out-of-range", /Unit of "f" 99 is out of range: valid units are 0…1\./));
    assert.throws(() => tr.series("f", NaN), isError("out-of-range", /Unit of "f" NaN is out of range: valid units are 0…1\./));
    assert.throws(() => tr.value("f", { b: 2 }), isError("out-of-range", /Batch element b 2 is out of range: valid batch elements are 0…1\./));
    assert.throws(() => tr.value("f", { t: 4 }), isError("out-of-range", /Step t 4 is outside the sequence: valid steps are 0…3\./));
    assert.throws(() => sequence(LSTM, { inputSize: 3, hiddenSize: 2 }).cell(3), isError("out-of-range", /Layer 3 is out of range: valid layers are 0…0\./));
  });
});

describe("a listener that throws during a stepper move", () => {
  it("does not undo the move: every listener hears it, then the move throws a named error with the cause", () => {
    const s = cell(LSTM, { inputSize: 3, hiddenSize: 2, seed: 1 }).stepper(X);
    const heard: number[] = [];
    const boom = new Error("boom");
    const stop = s.onChange(() => {
      throw boom;
    });
    s.onChange((st) => heard.push(st.t));
    let caught: unknown;
    assert.throws(() => s.step(), (e) => ((caught = e), isError("listener", /A stepper listener \(onChange\) threw: boom/, /the stepper is at step 0 and every other listener was told/, /remove it with the function onChange returned/)(e)));
    assert.equal((caught as Error).cause, boom);
    assert.equal(s.t, 0, "the stepper is where the listeners were told it is");
    assert.deepEqual(heard, [0]);
    assert.throws(() => s.reset(), isError("listener", /before the first step \(reset\)/));
    assert.equal(s.t, -1);
    assert.deepEqual(heard, [0, -1]);
    stop();
    s.run();
    assert.deepEqual(heard, [0, -1, 3]);
    assert.deepEqual(s.trace.get("h"), cell(LSTM, { inputSize: 3, hiddenSize: 2, seed: 1 }).run(X).get("h"));
  });
});

describe("option checkFinite: the first NaN or Infinity a node computes, by node and step", () => {
  // Finite weights and inputs whose products overflow at step 3 only: W_g's first row meets x[3] = [1e10, −1e10] → +∞ + −∞ = NaN in g_pre.
  const weights = () => {
    const w = cell(LSTM, { inputSize: 2, hiddenSize: 2, seed: 3 }).weights();
    return { ...w, W_g: [[1e300, 1e300], [0.5, -0.5]] };
  };
  const xs = [[0.1, 0.2], [0.3, -0.1], [0, 0.5], [1e10, -1e10], [0.2, 0.2]];

  it("run names the node, step, batch element, unit and value; without the option the same values are recorded", () => {
    const c = cell(LSTM, { inputSize: 2, hiddenSize: 2, weights: weights() });
    const plain = c.run(xs);
    // The oracle: the unchecked trace, read in computation order.
    for (let t = 0; t < 3; t++) for (const n of LSTM.nodes) assert.ok(plain.value(n.name, { t }).every(Number.isFinite), `${n.name} at ${t}`);
    for (const n of ["i_pre", "i", "f_pre", "f"]) assert.ok(plain.value(n, { t: 3 }).every(Number.isFinite), n);
    assert.ok(Number.isNaN(plain.value("g_pre", { t: 3 })[0]));
    assert.throws(() => c.run(xs, { checkFinite: true }), isError("computed-non-finite", /Node "g_pre" of cell "LSTM" at step 3 computed NaN \(batch element 0, unit 0\)/, /operands "x", "h_prev" were finite/, /overflows/, /without checkFinite/));
    assert.doesNotThrow(() => c.run(xs.slice(0, 3), { checkFinite: true }));
    assert.throws(() => c.run(xs, { checkFinite: "yes" as never }), isError("bad-option", /Option checkFinite = "yes"/));
  });

  it("Infinity in a batch element other than 0, and the stepper stops before the bad step", () => {
    const w = { ...weights(), W_g: [[0, 0], [1e300, 0]] };
    const c = cell(LSTM, { inputSize: 2, hiddenSize: 2, weights: w });
    const batch = xs.map((x, t) => [[0.1, 0.1], t === 3 ? [1e10, 0] : x]);
    assert.throws(() => c.run(batch, { checkFinite: true }), isError("computed-non-finite", /Node "g_pre" of cell "LSTM" at step 3 computed Infinity \(batch element 1, unit 1\)/));
    const s = c.stepper(batch, { checkFinite: true }).seek(2);
    assert.throws(() => s.step(), isError("computed-non-finite", /at step 3 computed Infinity/, /The stepper stays at step 2/));
    assert.equal(s.t, 2);
  });

  it("a model's forward pass names the layer and direction (a backward cell counts steps in its own processing order)", () => {
    const model = sequence(LSTM, { inputSize: 2, hiddenSize: 2, bidirectional: true, seed: 3 });
    const forwardWeights = model.weights().l0;
    model.setWeights({ l0: forwardWeights, l0_reverse: weights() });
    // Position 3 holds the overflowing input; the backward cell reaches it at its step 5 − 1 − 3 = 1.
    const plain = model.forward(xs);
    assert.ok(Number.isNaN(plain.trace.trace(0, "backward").value("g_pre", { t: 1 })[0]));
    assert.ok(plain.trace.trace(0, "forward").get("g_pre").flat(2).every(Number.isFinite), "the forward cell stays finite");
    assert.throws(
      () => model.forward(xs, { checkFinite: true }),
      isError("computed-non-finite", /^In layer 0 of the bidirectional LSTM model, 1 layer, backward direction \(steps in processing order\): Node "g_pre" of cell "LSTM" at step 1 computed NaN \(batch element 0, unit 0\)/),
    );
  });
});
