/**
 * Sizes past what memory holds (issue 10: `hiddenSize: 1e9` filled memory for minutes, then a bare
 * RangeError): the bytes are estimated before anything is allocated and refused by name over a limit
 * the user can raise (option maxBytes, env ARCHLAB_MAX_BYTES; default 2 GiB). The estimates are checked
 * against the bytes the engine really allocates.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { LSTM, LSTM_PROJ } from "../src/cells/builtins";
import { DEFAULT_MAX_BYTES } from "../src/engine/arrays";
import { cell } from "../src/engine/cell";
import { ArchlabError } from "../src/errors";
import { fromTorch } from "../src/io";
import { dbLstm, sequence } from "../src/models";

const isError = (code: string, ...texts: RegExp[]) => (e: unknown) => {
  assert.ok(e instanceof ArchlabError, `expected an ArchlabError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  assert.equal(e.code, code, e.message);
  for (const t of texts) assert.match(e.message, t);
  return true;
};
const grouped = (n: number) => n.toLocaleString("en-US");
const HOW = /raise the limit with the option maxBytes .* or the environment variable ARCHLAB_MAX_BYTES/;
/** Bytes of every array a trace holds (its storage), measured on a real run. */
const storedBytes = (tr: ReturnType<ReturnType<typeof cell>["run"]>) =>
  [...tr.names.map((n) => tr.raw(n)), ...Object.values(tr.storage.initial)].reduce((n, a) => n + a.byteLength, 0);

afterEach(() => {
  delete process.env.ARCHLAB_MAX_BYTES;
});

describe("a cell too large for memory is refused before anything is allocated", () => {
  it("hiddenSize 1e9 and 1e5: too-large, naming hiddenSize, the bytes it would take and how to raise the limit", () => {
    const before = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    assert.throws(() => cell(LSTM, { inputSize: 1, hiddenSize: 1e9 }), isError("too-large", /The parameters of cell "LSTM" would need /, /hiddenSize = 1000000000/, HOW));
    assert.throws(() => cell(LSTM, { inputSize: 2 ** 31, hiddenSize: 2, dtype: "float32" }), isError("too-large", /inputSize = 2147483648, hiddenSize = 2/, HOW));
    // PyTorch's count for nn.LSTM(1, H, bias=False) plus one bias per gate: 4·(H·In + H·H + H) numbers of 8 bytes.
    const H = 1e5;
    const need = 4 * (H * 1 + H * H + H) * 8;
    assert.throws(
      () => cell(LSTM, { inputSize: 1, hiddenSize: H }),
      isError("too-large", new RegExp(`would need 320 GB \\(${grouped(need)} bytes\\), over archlab's memory limit of 2\\.15 GB \\(${grouped(DEFAULT_MAX_BYTES)} bytes\\)`), /inputSize = 1, hiddenSize = 100000/, HOW),
    );
    assert.ok(performance.now() - t0 < 5000, "refused at once, not after filling memory");
    assert.ok(process.memoryUsage().arrayBuffers - before < 1e6, "nothing was allocated");
  });

  it("sizes whose arrays JavaScript cannot hold at all fail by name even with the limit off (no bare RangeError)", () => {
    assert.throws(() => cell(LSTM, { inputSize: 1, hiddenSize: 2 ** 33, maxBytes: Infinity }), isError("out-of-memory", /Could not allocate .* one float64 array of 8,589,934,592 numbers/, /smaller sizes/));
  });

  it("the estimate is exactly the parameters' bytes: maxBytes at that count passes, one byte less is refused", () => {
    for (const dtype of ["float64", "float32"] as const) {
      const c = cell(LSTM_PROJ, { inputSize: 3, hiddenSize: 5, sizes: { P: 2 }, dtype });
      const bytes = Object.values(c.params).reduce((n, a) => n + a.byteLength, 0);
      assert.doesNotThrow(() => cell(LSTM_PROJ, { inputSize: 3, hiddenSize: 5, sizes: { P: 2 }, dtype, maxBytes: bytes }));
      assert.throws(() => cell(LSTM_PROJ, { inputSize: 3, hiddenSize: 5, sizes: { P: 2 }, dtype, maxBytes: bytes - 1 }), isError("too-large", new RegExp(`\\(${grouped(bytes)} bytes\\)`), /sizes\.P = 2/));
    }
  });

  it("ARCHLAB_MAX_BYTES sets the limit when the option is not given; a bad value of either is named", () => {
    process.env.ARCHLAB_MAX_BYTES = "1000";
    assert.throws(() => cell(LSTM, { inputSize: 3, hiddenSize: 8 }), isError("too-large", /over archlab's memory limit of 1 kB \(1,000 bytes\)/));
    assert.doesNotThrow(() => cell(LSTM, { inputSize: 3, hiddenSize: 8, maxBytes: 1e6 }), "the option wins over the environment");
    process.env.ARCHLAB_MAX_BYTES = "lots";
    assert.throws(() => cell(LSTM, { inputSize: 3, hiddenSize: 8 }), isError("bad-option", /Option ARCHLAB_MAX_BYTES \(environment variable\) = "lots" is not valid: expected a positive number of bytes/));
    delete process.env.ARCHLAB_MAX_BYTES;
    for (const bad of [0, -1, NaN, "1e6"])
      assert.throws(() => cell(LSTM, { inputSize: 3, hiddenSize: 8, maxBytes: bad as never }), isError("bad-option", /Option maxBytes = .* is not valid: expected a positive number of bytes \(Infinity: no limit\)/));
  });
});

describe("a run whose trace would exceed the limit is refused before it allocates", () => {
  it("cell.run and cell.stepper: the trace estimate equals the trace's real storage; one byte over is refused with T and B", () => {
    const xs = (T: number) => Array.from({ length: T }, (_, t) => [[t, 1, 0], [0, t, 1]]);
    const small = cell(LSTM, { inputSize: 3, hiddenSize: 4, seed: 1 }).run(xs(5));
    const exact = storedBytes(small);
    const paramBytes = 4 * (4 * 3 + 4 * 4 + 4) * 8;
    const atLimit = cell(LSTM, { inputSize: 3, hiddenSize: 4, seed: 1, maxBytes: exact });
    assert.ok(exact > paramBytes);
    assert.equal(storedBytes(atLimit.run(xs(5))), exact);
    const over = cell(LSTM, { inputSize: 3, hiddenSize: 4, seed: 1, maxBytes: exact - 1 });
    const refused = isError("too-large", /A trace of cell "LSTM" \(5 steps × batch 2\) would need/, new RegExp(`\\(${grouped(exact)} bytes\\)`), /T = 5, B = 2, inputSize = 3, hiddenSize = 4/, HOW);
    assert.throws(() => over.run(xs(5)), refused);
    assert.throws(() => over.stepper(xs(5)), refused);
    assert.doesNotThrow(() => over.run(xs(4)));
  });

  it("a sequence model checks every layer's parameters, and a forward pass every cell's trace, before allocating", () => {
    const t0 = performance.now();
    assert.throws(() => sequence(LSTM, { inputSize: 3, hiddenSize: 64, numLayers: 1e7, bidirectional: true }), isError("too-large", /The parameters of the bidirectional LSTM model, 10000000 layers would need/, /numLayers = 10000000, directions = 2, inputSize = 3, hiddenSize = 64/));
    assert.throws(() => dbLstm({ inputSize: 3, hiddenSize: 64, depth: 1e7 }), isError("too-large", /DB-LSTM \(LSTM, depth 10000000\)/, /depth = 10000000/));
    assert.throws(() => fromTorch({ mode: "GRU", inputSize: 3, hiddenSize: 1e6 }, {}), isError("too-large", /hiddenSize = 1000000/));
    assert.ok(performance.now() - t0 < 5000);
    // Parameters: PyTorch's counts (bias_ih and bias_hh summed into one bias here): layer 0 4H(In+H+1), layer 1 4H(2H+H+1), two directions.
    const H = 4, In = 3;
    const params = 2 * 4 * H * ((In + H + 1) + (2 * H + H + 1)) * 8;
    assert.doesNotThrow(() => sequence(LSTM, { inputSize: In, hiddenSize: H, numLayers: 2, bidirectional: true, maxBytes: params }));
    assert.throws(() => sequence(LSTM, { inputSize: In, hiddenSize: H, numLayers: 2, bidirectional: true, maxBytes: params - 1 }), isError("too-large", new RegExp(`\\(${grouped(params)} bytes\\)`)));
    const model = sequence(LSTM, { inputSize: In, hiddenSize: H, numLayers: 2, bidirectional: true, maxBytes: 1e6 });
    const x = Array.from({ length: 6 }, (_, t) => [[t / 6, 0, 1]]);
    const { trace } = model.forward(x);
    const traces = model.cells.reduce((n, { layer, direction }) => n + storedBytes(trace.trace(layer, direction)), 0);
    const tight = sequence(LSTM, { inputSize: In, hiddenSize: H, numLayers: 2, bidirectional: true, maxBytes: traces - 1 });
    assert.throws(() => tight.forward(x), isError("too-large", /The traces of a forward pass of the bidirectional LSTM model, 2 layers \(6 steps × batch 1\)/, new RegExp(`\\(${grouped(traces)} bytes\\)`)));
  });
});
