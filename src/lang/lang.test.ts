/**
 * The definition language's core: sizes compared structurally, scans against a hand-written loop
 * on both interpreters, the trace keyed by path, summaries, and named errors for bad definitions
 * and bad inputs.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ArchlabError } from "../errors";
import * as nn from "./index";
import * as nd from "./nd";
import { add, embedding, input, matmul, model, named, param, plus, sameSize, scan, size, tanh, times, transpose, softmax, inits, floorDiv, spectralRadius, type ND } from "./index";

test("sizes are compared structurally: H+In equals In+H, 2*(H+1) equals 2*H+2", () => {
  assert.ok(sameSize("H+In", "In+H"));
  assert.ok(sameSize("2*(H+1)", "2*H+2"));
  assert.ok(sameSize(times("N", "W"), "W*N"));
  assert.ok(sameSize(plus("H", "H"), "2*H"));
  assert.ok(!sameSize("H+In", "H"));
  assert.equal(size("In+H+1").eval({ H: 32, In: 8 }), 41);
  assert.equal(floorDiv("2*H", 2).key, "H");
  assert.equal(floorDiv(256, 2).constant, 128);
  assert.equal(floorDiv("H", 2).eval({ H: 7 }), 3);
  assert.throws(() => size("H+"), (e: ArchlabError) => e.code === "bad-size" && /ends too early/.test(e.message));
  assert.throws(() => size("H)"), (e: ArchlabError) => e.code === "bad-size");
  assert.throws(() => size("x; process.exit()"), (e: ArchlabError) => e.code === "bad-size");
  assert.throws(() => size("H").eval({}), (e: ArchlabError) => e.code === "unbound-size" && /\{ H: 16 \}/.test(e.message));
});

/** An Elman RNN with a frozen reservoir, as a scan. */
function rnn() {
  return model("RNN", { In: 3, H: 5 }, () => {
    const xs = input("x", ["B", "T", "In"]);
    const h0 = input("h0", ["B", "H"]);
    const Wx = param("Wx", ["In", "H"]);
    const Wh = param("Wh", ["H", "H"], { kind: "frozen", init: inits.spectral(0.9) });
    const b = param("b", ["H"], { init: inits.uniform(0.5) });
    const { out, final } = scan("rnn", { x: xs }, { h: h0 }, ({ x }, { h }) => {
      const hn = named("h", tanh(add(add(matmul(x, Wx), matmul(h, Wh)), b)));
      return { state: { h: hn }, out: { h: hn } };
    });
    return { hs: out.h, hN: final.h };
  }, { seed: 7 });
}

/** h_t = tanh(x_t Wx + h_{t−1} Wh + b), written out. */
function handRnn(p: Record<string, ND>, x: number[][][], h0: number[][]) {
  const [In, H] = p.Wx.shape;
  return x.map((seq, bi) => {
    let h = h0[bi];
    return seq.map((xt) => {
      h = Array.from({ length: H }, (_, j) => {
        let s = p.b.data[j];
        for (let i = 0; i < In; i++) s += xt[i] * p.Wx.data[i * H + j];
        for (let k = 0; k < H; k++) s += h[k] * p.Wh.data[k * H + j];
        return Math.tanh(s);
      });
      return h;
    });
  });
}

test("a scan equals the hand-written loop: reference to 1e-14, fast (float32) to 1e-5; every step recorded by path", async () => {
  const m = rnn();
  const x = [[[1, 0, -1], [0.5, 2, 0], [0, 0, 1], [1, 1, 1]], [[0.5, 0, 0], [0, -2, 0], [0, 0, 1], [1, -1, 1]]];
  const h0 = [[0, 0, 0, 0, 0], [0.1, 0.2, 0.3, 0.4, 0.5]];
  const expected = handRnn(m.params, x, h0).flat(2);
  for (const [backend, tol] of [["reference", 1e-14], ["fast", 1e-5]] as const) {
    const { outputs, trace } = await m.run({ x, h0 }, { backend });
    assert.deepEqual(outputs.hs.shape, [2, 4, 5]);
    outputs.hs.data.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= tol, `${backend} hs[${i}] = ${v}, expected ${expected[i]}`));
    // The body's h is recorded at every step: [T, B, H], and its last step is the final state.
    const h = trace.get("rnn/h");
    assert.deepEqual(h.shape, [4, 2, 5]);
    assert.ok(trace.inScan("rnn/h") && !trace.inScan("Wx"));
    assert.deepEqual([...outputs.hN.data], [...h.data.subarray(3 * 10)]);
    assert.deepEqual(trace.get("rnn/h_prev").data.subarray(10, 20), h.data.subarray(0, 10));
  }
  assert.ok(Math.abs(spectralRadius(m.params.Wh) - 0.9) < 1e-6);
});

test("summary: one row per top-level layer with concrete shapes and PyTorch's parameter count", () => {
  const m = rnn();
  const s = m.summary({ B: 2, T: 7 });
  assert.deepEqual(s.rows.map((r) => [r.name, r.op, r.shape, r.params]), [
    ["x", "Input", [2, 7, 3], 0],
    ["h0", "Input", [2, 5], 0],
    ["rnn", "Scan", [2, 7, 5], 3 * 5 + 5 * 5 + 5],
  ]);
  assert.equal(s.totalParams, 45);
  assert.equal(s.trainableParams, 20);
});

test("summary: a scan without sequences whose body reads an input is a row (a generator reading the input at every step)", () => {
  const m = model("Gen", { In: 3, H: 4 }, () => {
    const x = input("x", ["B", "In"]);
    const W = param("W", ["In", "H"]);
    const { final } = scan("gen", {}, { h: nn.fill(["B", "H"], 0) }, (_xs, { h }) => ({ state: { h: named("h", tanh(add(h, matmul(x, W)))) } }), { steps: 5 });
    return { y: final.h };
  });
  assert.deepEqual(m.summary({ B: 2 }).rows.map((r) => [r.name, r.op, r.shape, r.params]), [
    ["x", "Input", [2, 3], 0],
    ["gen", "Scan", [2, 4], 12],
  ]);
});

test("a tied embedding is one parameter used twice; the summary counts it once", async () => {
  const m = model("Tied", { V: 6, H: 3 }, () => {
    const ids = input("ids", ["B", "SeqLen"], { dtype: "int" });
    const E = param("Emb", ["V", "H"]);
    const e = embedding(E, ids);
    return { p: softmax(matmul(e, transpose(E)), "V") };
  });
  assert.equal(m.summary({ B: 1, SeqLen: 4 }).totalParams, 18);
  const { outputs } = await m.run({ ids: [[0, 5, 2, 2]] }, { backend: "reference" });
  assert.deepEqual(outputs.p.shape, [1, 4, 6]);
  for (let r = 0; r < 4; r++) assert.ok(Math.abs(Array.from(outputs.p.data.subarray(r * 6, r * 6 + 6)).reduce((a, b) => a + b, 0) - 1) < 1e-12);
  await assert.rejects(m.run({ ids: [[0, 6]] }, { backend: "reference" }), (e: ArchlabError) => e.code === "bad-id" && /id 6/.test(e.message));
});

test("bad definitions and inputs are named errors", async () => {
  const thrown = (f: () => unknown, code: string, pattern: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof ArchlabError && e.code === code && pattern.test(e.message), `expected ${code} ${pattern}`);
  thrown(() => model("M", { In: 3, H: 4 }, () => matmul(input("x", ["B", "In"]), param("W", ["H", "H"]))), "shape", /matmul: the right operand W has shape \[H, H\]; expected \[…, In, n\]/);
  thrown(() => model("M", {}, () => { input("x", ["B", 2]); return input("x", ["B", 2]); }), "duplicate-name", /"x" is already used/);
  thrown(() => model("M", {}, () => matmul(input("x", ["B", "In"]), param("W", ["In", 4]))), "unbound-size", /needs the size In/);
  thrown(() => input("x", ["B"]), "no-model", /inside a model definition/);
  thrown(() => model("M", {}, () => tanh(undefined as never)), "bad-operand", /undefined/);
  thrown(() => model("M", {}, () => named("h\n}", tanh(input("x", ["B", 2])))), "bad-name", /letters, digits, _ or -/);
  let leaked: ReturnType<typeof input> | undefined;
  model("A", {}, () => (leaked = input("x", ["B", 2])));
  thrown(() => model("B", {}, () => tanh(leaked!)), "bad-operand", /belongs to another model/);
  const m = rnn();
  await assert.rejects(m.run({ x: [[[1, 2]]], h0: [[0, 0, 0, 0, 0]] }), (e: ArchlabError) => e.code === "shape" && /input x/.test(e.message) && /\[1, 1, 2\]/.test(e.message));
  await assert.rejects(m.run({ x: [[[1, 2, 3]]] }), (e: ArchlabError) => e.code === "bad-option" && /h0/.test(e.message));
});

test("a masked scan carries each row's state past its own length: its final state is the state at its last step", async () => {
  const m = model("Masked", { In: 2, H: 3 }, () => {
    const xs = input("x", ["B", "T", "In"]);
    const mask = input("mask", ["B", "T"]);
    const Wx = param("Wx", ["In", "H"]);
    const Wh = param("Wh", ["H", "H"]);
    const { final } = scan("rnn", { x: xs }, { h: nn.fill(["B", "H"], 0) }, ({ x }, { h }) => ({ state: { h: named("h", tanh(add(matmul(x, Wx), matmul(h, Wh)))) } }), { mask });
    return { hN: final.h };
  });
  const x = [[[1, 2], [0, 1], [3, -1], [1, 1], [0.5, 0.5]], [[-1, 0], [2, 2], [1, 0], [9, 9], [9, 9]]];
  const { outputs } = await m.run({ x, mask: [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]] }, { backend: "reference" });
  const alone = await m.run({ x: [x[1].slice(0, 3)], mask: [[1, 1, 1]] }, { backend: "reference" });
  assert.deepEqual([...outputs.hN.data.subarray(3)], [...alone.outputs.hN.data]);
  const full = await m.run({ x: [x[0]], mask: [[1, 1, 1, 1, 1]] }, { backend: "reference" });
  assert.deepEqual([...outputs.hN.data.subarray(0, 3)], [...full.outputs.hN.data]);
});

test("a length-1 axis broadcasts against an operand without that axis: [1, T, 1] − 0.5 keeps the shape [1, T, 1]", async () => {
  const m = model("Centred", {}, () => ({ y: nn.sub(input("x", [1, "T", 1]), 0.5), z: add(input("v", [2, 1]), param("b", [3])) }));
  assert.deepEqual(m.graph.outputs.y.shape.map((s) => s.key), ["1", "T", "1"]);
  assert.deepEqual(m.graph.outputs.z.shape.map((s) => s.key), ["2", "3"]);
  const { outputs } = await m.run({ x: [[[1], [2]]], v: [[1], [2]] }, { backend: "reference" });
  assert.deepEqual(outputs.y, { shape: [1, 2, 1], data: Float64Array.of(0.5, 1.5) });
});

test("the reference matmul and the gradient's transposed products (nd.matmulT) equal the textbook triple loop exactly, broadcast batches included", () => {
  const random = (shape: number[], seed: number): ND => ({ shape, data: Float64Array.from({ length: shape.reduce((p, d) => p * d, 1) }, (_, i) => Math.sin(seed * 7.1 + i * 1.3) * 3) });
  // out[q, i, j] = Σ_p a[q, i, p] b[q, p, j], summed over p in increasing order, with a's batch [2, 1] and b's [3] broadcast.
  const textbook = (a: ND, b: ND, m: number, k: number, n: number, aAt: (q: number, i: number, p: number) => number, bAt: (q: number, p: number, j: number) => number) => {
    const out: number[] = [];
    for (let q = 0; q < 6; q++) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a.data[aAt(q, i, p)] * b.data[bAt(q, p, j)];
      out.push(s);
    }
    return out;
  };
  const [m, k, n] = [4, 5, 3];
  const a = random([2, 1, m, k], 1), b = random([3, k, n], 2);
  const qa = (q: number) => Math.floor(q / 3), qb = (q: number) => q % 3;
  assert.deepEqual(Array.from(nd.matmul(a, b).data), textbook(a, b, m, k, n, (q, i, p) => (qa(q) * m + i) * k + p, (q, p, j) => (qb(q) * k + p) * n + j));
  // a bᵀ with b stored [3, n, k]; aᵀ b with a stored [2, 1, k, m].
  const bt = random([3, n, k], 3), at = random([2, 1, k, m], 4);
  assert.deepEqual(nd.matmulT(a, bt, "b").shape, [2, 3, m, n]);
  assert.deepEqual(Array.from(nd.matmulT(a, bt, "b").data), textbook(a, bt, m, k, n, (q, i, p) => (qa(q) * m + i) * k + p, (q, p, j) => (qb(q) * n + j) * k + p));
  assert.deepEqual(Array.from(nd.matmulT(at, b, "a").data), textbook(at, b, m, k, n, (q, i, p) => (qa(q) * k + p) * m + i, (q, p, j) => (qb(q) * k + p) * n + j));
  assert.throws(() => nd.matmulT(a, b, "b"), (e: ArchlabError) => e.code === "shape" && /inner sizes differ/.test(e.message));
});
