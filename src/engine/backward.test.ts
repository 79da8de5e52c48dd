import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import seedrandom from "seedrandom";
import { BUILTIN_CELLS, LSTM, RNN_TANH } from "../cells/builtins";
import { defineCell, type CellDef, type Handle, type Ops } from "../cells/define";
import { VJP } from "../cells/gradients";
import type { OpKind, UnaryKind } from "../cells/ops";
import { ArchlabError } from "../errors";
import { plot } from "../plot";
import { backward, backwardRaw, backwardReference, type RawGradients, type Seeds, type Upstream } from "./backward";
import { cell, type Cell, type RunOptions } from "./cell";
import { useNative } from "./native";
import type { Trace } from "./trace";

/**
 * Central finite differences, float64: the oracle every gradient here is checked against. L is
 * Σ_t ⟨gₜ, output_t⟩ + Σ_states ⟨g_s, last value of s⟩ for random upstream g; each weight, input and
 * initial-state number is moved by ±ε and the cell re-run from scratch.
 */
const EPS = 1e-5;
const TOLERANCE = 1e-6;

const random = (seed: string) => {
  const r = seedrandom(seed);
  return (scale = 1) => (2 * r() - 1) * scale;
};
const tensor = (shape: number[], next: (s?: number) => number, scale = 1): any =>
  shape.length === 0 ? next(scale) : Array.from({ length: shape[0] }, () => tensor(shape.slice(1), next, scale));

function loss(c: Cell, xs: number[][][], initial: Record<string, number[][]>, up: { output: number[][][]; final: Record<string, number[][]> }, run: RunOptions = {}): number {
  const trace = c.run(xs, { ...run, initial });
  const T = xs.length;
  let L = 0;
  trace.get(c.def.output).forEach((row, t) => row.forEach((v, b) => v.forEach((x, u) => (L += x * up.output[t][b][u]))));
  for (const s of c.def.states) trace.get(s.next)[T - 1].forEach((v, b) => v.forEach((x, u) => (L += x * up.final[s.name][b][u])));
  return L;
}

/** ‖numeric − analytic‖∞ / ‖analytic‖∞ of one tensor (nested, flattened). */
function relativeError(numeric: number[], analytic: number[]): number {
  const scale = Math.max(...analytic.map(Math.abs), 1e-8);
  return Math.max(...numeric.map((v, k) => Math.abs(v - analytic[k]))) / scale;
}

/** Every gradient of `backward` for one cell and sequence against central differences; returns the worst relative error per tensor. */
function checkAgainstFiniteDifferences(c: Cell, { T = 4, B = 2, seed = "fd", inputScale = 1, run = {} as RunOptions } = {}): Record<string, number> {
  const next = random(seed);
  const In = c.size(c.def.inputs[0].size);
  const xs = tensor([T, B, In], next, inputScale) as number[][][];
  const initial: Record<string, number[][]> = Object.fromEntries(c.def.states.map((s) => [s.name, tensor([B, c.size(s.size)], next, 0.5)]));
  const out = c.def.nodes.find((n) => n.name === c.def.output)!;
  const up = { output: tensor([T, B, c.size(out.size)], next), final: Object.fromEntries(c.def.states.map((s) => [s.name, tensor([B, c.size(s.size)], next)])) };
  const grads = backward(c.run(xs, { ...run, initial }), up);
  const errors: Record<string, number> = {};
  const central = (poke: (delta: number) => void) => {
    poke(EPS);
    const plus = loss(c, xs, initial, up, run);
    poke(-2 * EPS);
    const minus = loss(c, xs, initial, up, run);
    poke(EPS);
    return (plus - minus) / (2 * EPS);
  };
  for (const [name, values] of Object.entries(c.params)) {
    const numeric = Array.from(values, (_, k) => central((d) => (values[k] += d)));
    errors[`param ${name}`] = relativeError(numeric, (grads.params[name] as number[] | number[][]).flat());
  }
  const x = xs.flat();
  errors["input"] = relativeError(x.flatMap((v) => v.map((_, k) => central((d) => (v[k] += d)))), grads.inputs[c.def.inputs[0].name].flat(2));
  for (const s of c.def.states)
    errors[`initial ${s.name}`] = relativeError(initial[s.name].flatMap((v) => v.map((_, k) => central((d) => (v[k] += d)))), grads.initial[s.name].flat());
  return errors;
}

const assertSmall = (errors: Record<string, number>, what: string) => {
  for (const [tensorName, e] of Object.entries(errors)) assert.ok(e <= TOLERANCE, `${what}: ∂L/∂${tensorName} relative error ${e.toExponential(2)} > ${TOLERANCE}`);
};

/** Where each piecewise-linear op has a kink (its derivative jumps): finite differences must not straddle one. */
const KINKS: Partial<Record<OpKind, readonly number[]>> = { relu: [0], hardSigmoid: [-2.5, 2.5], hardSigmoid6: [-3, 3] };

/** Smallest distance from an operand of a kinked node to a kink, and how many operand values sit on each side of the kinks. */
function kinkReport(trace: Trace): { distance: number; sides: Set<number> } {
  let distance = Infinity;
  const sides = new Set<number>();
  for (const node of trace.def.nodes) {
    const kinks = KINKS[node.op];
    if (!kinks) continue;
    const operand = node.inputs[0];
    const values = trace.def.states.some((s) => s.prev === operand) ? [] : trace.get(operand).flat(2);
    for (const v of values) {
      for (const k of kinks) distance = Math.min(distance, Math.abs(v - k));
      sides.add(kinks.filter((k) => v > k).length);
    }
  }
  return { distance, sides };
}

/** A seed whose sequence keeps every kinked op's operand at least 1e-3 away from its kinks. */
function seedAwayFromKinks(c: Cell, inputScale: number): string {
  for (let k = 0; k < 200; k++) {
    const seed = `fd${k}`;
    const next = random(seed);
    const xs = tensor([4, 2, c.size(c.def.inputs[0].size)], next, inputScale);
    const initial = Object.fromEntries(c.def.states.map((s) => [s.name, tensor([2, c.size(s.size)], next, 0.5)]));
    if (kinkReport(c.run(xs, { initial })).distance > 1e-3) return seed;
  }
  throw new Error(`no seed keeps ${c.def.name} away from its kinks`);
}

const spec = { title: "gradient test cell", citation: "test", inputs: { x: "In" }, states: { h: "H" } } as const;
const pre = (op: Ops, x: Handle, h: Handle, name = "a") => op.affine(name, "H", { [`W_${name}`]: x, [`U_${name}`]: h }, `b_${name}`);
const unaryCell = (kind: UnaryKind) => defineCell({ ...spec, name: `only_${kind}` }, ({ x, h }, op) => ({ h: op.tanh("y", op[kind]("u", pre(op, x, h))) }));
const naryCell = (kind: "mul" | "add" | "sub" | "div") =>
  defineCell({ ...spec, name: `only_${kind}` }, ({ x, h }, op) => {
    const a = op.tanh("p", pre(op, x, h, "a"));
    const s = op.sigmoid("g", pre(op, x, h, "s"));
    // Three operands, one of them twice: every operand's share, and a repeated operand's two shares, are checked.
    return { h: op.tanh("y", op[kind]("m", a, s, kind === "div" ? s : a)) };
  });

/** One small cell per op kind, using that op where finite differences can see every operand's gradient. */
const OP_CELLS: Record<OpKind, CellDef> = {
  affine: defineCell({ ...spec, name: "only_affine" }, ({ x, h }, op) => ({
    h: op.tanh("y", op.affine("a", "H", { W: x, U: h, p: op.diag(h) }, ["b", { name: "b2", init: { constant: 0.3 } }])),
  })),
  shift: defineCell({ ...spec, name: "only_shift" }, ({ x, h }, op) => ({ h: op.tanh("y", op.shift("s", pre(op, x, h), { value: 0.7, symbol: "β" })) })),
  concat: defineCell({ ...spec, name: "only_concat" }, ({ x, h }, op) => ({ h: op.tanh("y", op.affine("a", "H", { W: op.concat("hx", h, x, h) }, "b")) })),
  sigmoid: unaryCell("sigmoid"),
  tanh: unaryCell("tanh"),
  hardSigmoid: unaryCell("hardSigmoid"),
  hardSigmoid6: unaryCell("hardSigmoid6"),
  relu: unaryCell("relu"),
  identity: unaryCell("identity"),
  oneMinus: unaryCell("oneMinus"),
  mul: naryCell("mul"),
  add: naryCell("add"),
  sub: naryCell("sub"),
  div: naryCell("div"),
};

describe("backward: every gradient rule against central finite differences (float64, relative error ≤ 1e-6)", () => {
  it("the gradient table has a rule for every op kind the test table exercises", () => {
    assert.deepEqual(Object.keys(VJP).sort(), Object.keys(OP_CELLS).sort());
  });

  for (const [kind, def] of Object.entries(OP_CELLS) as [OpKind, CellDef][]) {
    it(`${kind}: ∂L/∂ weights, inputs and initial state`, () => {
      const kinked = KINKS[kind] !== undefined;
      // Kinked ops get operands on both sides of their kinks (the clipped, zero-slope parts too), never within 1e-3 of one.
      const inputScale = kinked ? 6 : 1;
      const c = cell(def, { inputSize: 3, hiddenSize: 3, seed: 2 });
      const seed = kinked ? seedAwayFromKinks(c, inputScale) : "fd";
      if (kinked) {
        const next = random(seed);
        const xs = tensor([4, 2, 3], next, inputScale);
        const { sides } = kinkReport(c.run(xs, { initial: { h: tensor([2, 3], next, 0.5) } }));
        assert.equal(sides.size, KINKS[kind]!.length + 1, `${kind}: operands on every side of the kinks`);
      }
      assertSmall(checkAgainstFiniteDifferences(c, { seed, inputScale }), kind);
    });
  }
});

describe("backward: every built-in cell against central finite differences", () => {
  for (const def of Object.values(BUILTIN_CELLS)) {
    it(`${def.name}: ∂L/∂ every weight, the inputs and every initial state`, () => {
      const c = cell(def, { inputSize: 3, hiddenSize: 3, sizes: def.params.some((p) => p.shape.includes("P")) ? { P: 2 } : undefined, seed: 3 });
      const seed = def.nodes.some((n) => KINKS[n.op]) ? seedAwayFromKinks(c, 1) : "fd";
      assertSmall(checkAgainstFiniteDifferences(c, { seed }), def.name);
    });
  }
});

describe("backward of a run with interventions: held values are constants", () => {
  it("every gradient equals central differences of the same intervened run (forget gate held, a unit ablated, an input overridden)", () => {
    const lstm = cell(LSTM, { inputSize: 2, hiddenSize: 3, seed: 4 });
    const run: RunOptions = {
      interventions: [
        { node: "f", t: 1, value: 1 },
        { node: "h", units: [1], value: 0 },
        { node: "x", t: 2, units: [0], value: 0.5 },
      ],
    };
    assertSmall(checkAgainstFiniteDifferences(lstm, { T: 4, B: 2, seed: "held", run }), "LSTM with interventions");
  });

  it("the fast and reference interpreters agree, and ∂L/∂(held node) still reports L's sensitivity to the held value", () => {
    const lstm = cell(LSTM, { inputSize: 2, hiddenSize: 3, seed: 4 });
    const xs = [[[0.3, -0.2]], [[0.1, 0.4]], [[-0.5, 0.2]]];
    const trace = lstm.run(xs, { interventions: [{ node: "f", t: 1, value: 1 }] });
    const seeds: Seeds = { final: { h: new Float64Array([1, 1, 1]) } };
    const fast = backwardRaw(trace, seeds);
    const { name, error } = worstDifference(fast, backwardReference(trace, seeds));
    assert.ok(error <= 1e-12, `${name}: ${error}`);
    // L's sensitivity to f at t = 1 is ∂L/∂(f⊙c[t−1]) ⊙ c[0] — not zero, though nothing flows back through f's pre-activation.
    const fc = trace.def.nodes.find((n) => n.op === "mul" && n.inputs.includes("f"))!.name;
    const c0 = trace.value("c", { t: 0 });
    for (let u = 0; u < 3; u++) assert.ok(Math.abs(fast.values.f[3 + u] - fast.values[fc][3 + u] * c0[u]) < 1e-12);
    assert.ok([0, 1, 2].every((u) => fast.values.f_pre[3 + u] === 0), "nothing flows back through the held gate's pre-activation at t = 1");
  });
});

describe("backward: the gradient trace", () => {
  const c = cell(LSTM, { inputSize: 2, hiddenSize: 3, seed: 1 });
  const next = random("trace");
  const xs = tensor([5, 2, 2], next);
  const trace = c.run(xs);
  const dh = tensor([5, 2, 3], next);

  it("has the forward trace's names, steps and batch, and ∂L/∂h at every step includes the upstream at that step", () => {
    const grads = backward(trace, { output: dh });
    assert.deepEqual(grads.trace.names, trace.names);
    assert.equal(grads.trace.length, 5);
    assert.equal(grads.trace.batch, 2);
    // At the last step nothing later reads h: ∂L/∂h_T is exactly the upstream gradient.
    assert.deepEqual(grads.trace.get("h")[4], dh[4]);
    assert.deepEqual(grads.trace.initial.h, grads.initial.h);
    assert.equal(grads.trace.entry("f").label, "∂L/∂f");
  });

  it("a reversed run is differentiated in its processing order", () => {
    const reversed = c.run(xs, { reverse: true });
    const grads = backward(reversed, { output: dh });
    const forwardGrads = backward(c.run([...xs].reverse()), { output: dh });
    assert.deepEqual(grads.params, forwardGrads.params);
    assert.equal(grads.trace.direction, "backward");
  });

  it("draws as a heatmap on a symmetric colour scale (gradients are signed and unbounded)", async () => {
    const grads = backward(trace, { output: dh });
    const chart = await plot.heatmap(grads.trace, { names: ["f", "c"] });
    const spec = chart.spec as any;
    assert.equal(spec.vconcat.length, 2);
    const color = spec.vconcat[0].layer[0].encoding.color;
    assert.equal(color.title, "∂L/∂f");
    assert.equal(color.scale.domainMid, 0);
    const f = grads.trace.get("f").map((row) => row[0]).flat();
    assert.equal(color.scale.domain[1], Math.max(...f.map(Math.abs)));
    // By default: the gradients of the states, the ones that carry L back through time.
    const byDefault = (await plot.heatmap(grads.trace)).spec as any;
    assert.deepEqual(byDefault.vconcat.map((v: any) => v.layer[0].encoding.color.title), ["∂L/∂c", "∂L/∂h"]);
  });

  it("upstream on any node is a vector–Jacobian product from that intermediate (here L = Σ_t Σ f_t)", () => {
    const ones = (dh as number[][][]).map((row) => row.map((v) => v.map(() => 1)));
    const grads = backward(trace, { nodes: { f: ones } });
    const values = c.params.U_f;
    const sumF = () => c.run(xs).get("f").flat(2).reduce((a, b) => a + b, 0);
    values[4] += EPS;
    const plus = sumF();
    values[4] -= 2 * EPS;
    const minus = sumF();
    values[4] += EPS;
    const numeric = (plus - minus) / (2 * EPS);
    assert.ok(Math.abs(numeric - (grads.params.U_f as number[][])[1][1]) < 1e-9);
    // Upstream on the output node through `nodes` is the same as through `output`.
    assert.deepEqual(backward(trace, { nodes: { h: dh } }).params, backward(trace, { output: dh }).params);
  });

  it("a stepper's trace is differentiated over the steps computed so far", () => {
    const stepper = c.stepper(xs);
    stepper.step();
    stepper.step();
    const grads = backward(stepper.trace, { output: dh.slice(0, 2) });
    const direct = backward(c.run(xs.slice(0, 2)), { output: dh.slice(0, 2) });
    assert.deepEqual(grads.params, direct.params);
  });
});

describe("backward: bad upstream gradients are named errors", () => {
  const c = cell(LSTM, { inputSize: 2, hiddenSize: 3 });
  const trace = c.run([[[0.1, 0.2]], [[0.3, 0.4]]]);
  const named = (code: string, text: RegExp) => (e: unknown) => e instanceof ArchlabError && e.code === code && text.test(e.message);

  it("output of the wrong shape names the tensor, the expected and the actual shape", () => {
    assert.throws(() => backward(trace, { output: [[[1, 1]], [[1, 1]]] }), named("shape", /upstream gradient "output" \(∂L\/∂h at every step\) of backward \(cell "LSTM"\): expected shape \[2, 1, 3\], got \[2, 1, 2\]/));
  });
  it("a final gradient of the wrong shape, or for a state the cell does not have", () => {
    assert.throws(() => backward(trace, { final: { c: [[1, 1, 1, 1]] } }), named("shape", /final\.c .* expected shape \[1, 3\], got \[1, 4\]/));
    assert.throws(() => backward(trace, { final: { z: [[1, 1, 1]] } }), named("unknown-name", /Unknown state "z".*Known states: "h", "c"/));
  });
  it("an unknown upstream name, and a gradient trace (no tape) given back to backward", () => {
    assert.throws(() => backward(trace, { outputs: [] } as unknown as Upstream), named("unknown-name", /upstream gradient "outputs"/));
    const grads = backward(trace, { final: { h: [[1, 0, 0]] } });
    assert.throws(() => backward(grads.trace, {}), named("unsupported", /not recorded by cell\.run/));
  });
  it("one sequence ([T, In]) takes its upstream as [T, size] or [T, 1, size]", () => {
    const one = c.run([[0.1, 0.2], [0.3, 0.4]]);
    assert.deepEqual(backward(one, { output: [[1, 2, 3], [4, 5, 6]] }).params, backward(one, { output: [[[1, 2, 3]], [[4, 5, 6]]] }).params);
  });
  it("upstream given flat (a typed array in the trace's layout, as trace.raw holds it) is read as the nested one, and left unchanged", () => {
    const flat = new Float32Array([1, 2, 3, 4, 5, 6]);
    const grads = backward(trace, { output: flat, final: { c: new Float64Array([0.5, -1, 2]) }, nodes: { f: new Float64Array(6).fill(0.25) } });
    const nested = backward(trace, { output: [[[1, 2, 3]], [[4, 5, 6]]], final: { c: [[0.5, -1, 2]] }, nodes: { f: [[[0.25, 0.25, 0.25]], [[0.25, 0.25, 0.25]]] } });
    assert.deepEqual(grads.params, nested.params);
    assert.deepEqual(grads.trace.get("c"), nested.trace.get("c"));
    assert.deepEqual([...flat], [1, 2, 3, 4, 5, 6]);
    // Float64Arrays are read where they are, never written: not by the pass, nor when output and nodes.h (the output node) are summed.
    const output = new Float64Array([1, 2, 3, 4, 5, 6]);
    const alsoH = new Float64Array([0.5, 0.5, 0.5, -1, -1, -1]);
    const final = new Float64Array([0.5, -1, 2]);
    const summed = backward(trace, { output, nodes: { h: alsoH }, final: { h: final } });
    const once = backward(trace, { output: [[[1.5, 2.5, 3.5]], [[3, 4, 5]]], final: { h: [[0.5, -1, 2]] } });
    assert.deepEqual(summed.params, once.params);
    assert.deepEqual(summed.trace.get("h"), once.trace.get("h"));
    assert.deepEqual([...output, ...alsoH, ...final], [1, 2, 3, 4, 5, 6, 0.5, 0.5, 0.5, -1, -1, -1, 0.5, -1, 2]);
    assert.throws(() => backward(trace, { output: new Float64Array(5) }), named("shape", /upstream gradient "output" .* expected shape \[6\], got \[5\]\. A flat ∂L\/∂ holds every number of \[2, 1, 3\]/));
    assert.throws(() => backward(trace, { final: { h: new Float64Array([1, NaN, 0]) } }), named("non-finite", /final\.h .* is NaN/));
  });
});

describe("backward in float32: a float32 trace's gradient trace is float32, its weights' gradients float64 sums", () => {
  it("agree with the float64 run's to float32 precision", () => {
    const weights = cell(RNN_TANH, { inputSize: 2, hiddenSize: 3, seed: 4 }).weights();
    const xs = tensor([6, 2, 2], random("f32"));
    const up = { final: { h: [[1, 1, 1], [1, 1, 1]] } };
    const g64 = backward(cell(RNN_TANH, { inputSize: 2, hiddenSize: 3, weights }).run(xs), up).params.U as number[][];
    const g32 = backward(cell(RNN_TANH, { inputSize: 2, hiddenSize: 3, weights, dtype: "float32" }).run(xs), up).params.U as number[][];
    assert.ok(relativeError(g32.flat(), g64.flat()) < 1e-5);
    assert.ok(g64.flat().some((v) => v !== 0));
  });

  it("an LSTM over several blocks of rows (B 40, T 120): ∂L/∂nodes float32, ∂L/∂weights within 1e-5 of the float64 run's", () => {
    const weights = cell(LSTM, { inputSize: 3, hiddenSize: 8, seed: 4 }).weights();
    const xs = tensor([120, 40, 3], random("f32-blocks"));
    const run = (dtype: "float32" | "float64") => {
      const trace = cell(LSTM, { inputSize: 3, hiddenSize: 8, weights, dtype }).run(xs);
      return backward(trace, { output: trace.get("h") });
    };
    const [g32, g64] = [run("float32"), run("float64")];
    assert.equal(g32.trace.dtype, "float32");
    assert.ok(g32.trace.raw("c") instanceof Float32Array);
    assert.equal(g64.trace.dtype, "float64");
    for (const name of Object.keys(g64.params)) assert.ok(relativeError((g32.params[name] as number[][]).flat(), (g64.params[name] as number[][]).flat()) < 1e-5, name);
    assert.ok(relativeError(Array.from(g32.trace.raw("c")), Array.from(g64.trace.raw("c"))) < 1e-5);
  });
});

/** The largest normwise relative difference between two raw gradients, over every array they hold. */
function worstDifference(fast: RawGradients, reference: RawGradients): { name: string; error: number } {
  let worst = { name: "", error: 0 };
  for (const part of ["values", "initial", "params"] as const)
    for (const [name, expected] of Object.entries(reference[part])) {
      const got = fast[part][name];
      assert.equal(got.length, expected.length, `${part}.${name}: length`);
      const scale = Math.max(...expected.map(Math.abs), 1e-300);
      let diff = 0;
      for (let k = 0; k < expected.length; k++) {
        // A NaN (a value the pass never wrote) is the largest difference, not one Math.max drops.
        const d = Math.abs(got[k] - expected[k]);
        if (!(d <= diff)) diff = Number.isNaN(d) ? Infinity : d;
      }
      if (diff / scale > worst.error) worst = { name: `${part}.${name}`, error: diff / scale };
    }
  return worst;
}

/** Random upstream on the output node at every step and on every state's last value. */
function randomSeeds(trace: Trace, seed: string): Seeds {
  const next = random(seed);
  const fill = (length: number) => Float64Array.from({ length }, () => next());
  const out = trace.entry(trace.def.output);
  return {
    nodes: { [out.name]: fill(trace.length * trace.batch * out.size) },
    final: Object.fromEntries(trace.def.states.map((s) => [s.name, fill(trace.batch * trace.entry(s.next).size)])),
  };
}

describe("backward: the fast interpreter (products out of the time loop) equals the reference interpreter (every rule per step)", () => {
  const cases: { what: string; def: CellDef; In: number; H: number; B: number; T: number }[] = [
    // Teaching sizes: every product in the JavaScript kernel.
    ...Object.values(BUILTIN_CELLS).map((def) => ({ what: "teaching size", def, In: 3, H: 4, B: 2, T: 5 })),
    ...Object.values(OP_CELLS).map((def) => ({ what: "teaching size", def, In: 3, H: 4, B: 2, T: 5 })),
    // Per-step products, input products and weight products large enough for OpenBLAS (when built).
    { what: "native-size products", def: LSTM, In: 24, H: 40, B: 16, T: 6 },
    // More than one block of rows (4096) in the weight gradients.
    { what: "two blocks of rows", def: LSTM, In: 3, H: 5, B: 40, T: 110 },
    // Weight gradients stacked per operand: two terms of one node and a term of another node on x, one product for the three.
    {
      what: "several matrix terms on one operand",
      def: defineCell({ ...spec, name: "stacked_terms" }, ({ x, h }, op) => ({
        h: op.tanh("y", op.add("s", op.affine("a", "H", { W1: x, W2: x, U: h }, "b"), op.affine("c", "H", { W3: x, p: op.diag(h) }, null))),
      })),
      In: 3,
      H: 4,
      B: 3,
      T: 5,
    },
  ];
  for (const { what, def, In, H, B, T } of cases)
    for (const dtype of ["float64", "float32"] as const)
      for (const native of [true, false])
        it(`${def.name}, ${what} (In ${In}, H ${H}, B ${B}, T ${T}), ${dtype}, native ${native ? "on" : "off"}`, () => {
          const previous = useNative(native);
          try {
            const c = cell(def, { inputSize: In, hiddenSize: H, sizes: def.params.some((p) => p.shape.includes("P")) ? { P: 2 } : undefined, seed: 5, dtype });
            const next = random(`fast-${def.name}`);
            for (const reverse of [false, true]) {
              const trace = c.run(tensor([T, B, In], next), { reverse });
              const seeds = randomSeeds(trace, `seeds-${def.name}`);
              const reference = backwardReference(trace, seeds);
              // In float64 the two interpreters agree to rounding; a float32 trace's gradients are
              // float32 (single-precision products), within float32 rounding of the reference's.
              const { name, error } = worstDifference(backwardRaw(trace, seeds, "backward", { dtype: "float64" }), reference);
              assert.ok(error <= 1e-12, `${name}: relative difference ${error.toExponential(2)}`);
              if (dtype === "float32") {
                const single = backwardRaw(trace, seeds);
                assert.ok(Object.values(single.values).every((v) => v instanceof Float32Array) && Object.values(single.params).every((v) => v instanceof Float64Array));
                const worst = worstDifference(single, reference);
                assert.ok(worst.error <= 1e-5, `float32 gradients, ${worst.name}: relative difference ${worst.error.toExponential(2)}`);
              }
            }
          } finally {
            useNative(previous);
          }
        });

  it("the nodes' gradients are not zeroed before the pass: arrays reused full of NaN, and new ones from freed NaN memory, give the reference's gradients", () => {
    // Freed arrays full of 0xff bytes (NaN in both precisions), collected, are what new unfilled storage gets next (as in cell.test.ts).
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const poisoned = (g: RawGradients) => {
      for (const part of [g.values, g.initial]) for (const name of Object.keys(part)) Object.getOwnPropertyDescriptor(part, name)?.value?.fill(NaN);
      return g;
    };
    for (const def of [...Object.values(BUILTIN_CELLS), ...Object.values(OP_CELLS)])
      for (const dtype of ["float64", "float32"] as const)
        for (const native of [true, false]) {
          const previous = useNative(native);
          try {
            const c = cell(def, { inputSize: 3, hiddenSize: 4, sizes: def.params.some((p) => p.shape.includes("P")) ? { P: 2 } : undefined, seed: 5, dtype });
            const [T, B] = [5, 2];
            // A held node (its entries cut and restored), and seeds on the output, the first node and every state's last value.
            const held = def.nodes[0].name;
            const trace = c.run(tensor([T, B, 3], random(`unzeroed-${def.name}`)), { interventions: [{ node: held, t: 2, units: [0], value: 0.5 }] });
            const seeds = randomSeeds(trace, `unzeroed-${def.name}`);
            const first = trace.entry(held);
            if (held !== def.output) seeds.nodes = { ...seeds.nodes, [held]: Float64Array.from({ length: T * B * first.size }, random(`unzeroed-first-${def.name}`)) };
            const reference = backwardReference(trace, seeds);
            const bound = dtype === "float64" ? 1e-12 : 1e-5;
            const earlier = poisoned(backwardRaw(trace, seeds));
            const reused = backwardRaw(trace, seeds, "backward", { reuse: earlier });
            assert.equal(reused.values[def.output], earlier.values[def.output], "the NaN-filled array was reused");
            const worst = worstDifference(reused, reference);
            assert.ok(worst.error <= bound, `${def.name} ${dtype} native ${native}, reused NaN arrays: ${worst.name} ${worst.error}`);
            const lengths = [...new Set([...Object.values(reference.values), ...Object.values(reference.initial)].map((v) => v.length))];
            for (const n of lengths) for (let i = 0; i < 8; i++) Buffer.allocUnsafeSlow(n * 8).fill(0xff);
            gc();
            const fresh = worstDifference(backwardRaw(trace, seeds), reference);
            assert.ok(fresh.error <= bound, `${def.name} ${dtype} native ${native}, new arrays: ${fresh.name} ${fresh.error}`);
          } finally {
            useNative(previous);
          }
        }
  });

  it("backward's ∂L/∂inputs and ∂L/∂(initial states), made nested on first read, are the raw gradients", () => {
    const trace = cell(LSTM, { inputSize: 3, hiddenSize: 4, seed: 6 }).run(tensor([5, 2, 3], random("nested")));
    const up = { output: tensor([5, 2, 4], random("nested-up")) };
    const grads = backward(trace, up);
    const raw = backwardReference(trace, { nodes: { h: Float64Array.from((up.output as number[][][]).flat(2)) } });
    const json = JSON.parse(JSON.stringify({ inputs: grads.inputs, initial: grads.initial }));
    assert.deepEqual(Object.keys(json.inputs), ["x"]);
    assert.ok(relativeError(json.inputs.x.flat(2), [...raw.values.x]) < 1e-12);
    assert.ok(relativeError(json.initial.c.flat(), [...raw.initial.c]) < 1e-12);
    assert.equal(grads.inputs.x, grads.inputs.x, "made once");
  });

  it("without leaves, the nodes' and initial states' gradients are the same (what a Jacobian reads)", () => {
    const trace = cell(LSTM, { inputSize: 3, hiddenSize: 4, seed: 6 }).run(tensor([7, 3, 3], random("leaves")));
    const seeds = randomSeeds(trace, "leaves");
    const full = backwardRaw(trace, seeds);
    const nodesOnly = backwardRaw(trace, seeds, "backward", { leaves: false });
    for (const node of trace.def.nodes) assert.deepEqual(nodesOnly.values[node.name], full.values[node.name], node.name);
    assert.deepEqual(nodesOnly.initial, full.initial);
    assert.ok(nodesOnly.params.U_f.every((v) => v === 0), "no weight gradients computed");
  });

  it("a pass reusing an earlier pass's arrays (a training loop's) gives the same gradients in the same arrays, and fresh ones where they do not fit", () => {
    const c = cell(LSTM, { inputSize: 3, hiddenSize: 4, seed: 6 });
    const first = c.run(tensor([7, 3, 3], random("reuse-1")));
    const second = c.run(tensor([7, 3, 3], random("reuse-2")));
    const earlier = backwardRaw(first, randomSeeds(first, "reuse-1"));
    const seeds = randomSeeds(second, "reuse-2");
    const fresh = backwardRaw(second, seeds);
    const reused = backwardRaw(second, seeds, "backward", { reuse: earlier });
    assert.equal(reused.values.c, earlier.values.c, "the earlier pass's array, overwritten");
    assert.equal(reused.initial.h, earlier.initial.h);
    assert.notEqual(reused.params.U_f, earlier.params.U_f, "parameters' gradients are always fresh");
    assert.equal(typeof Object.getOwnPropertyDescriptor(earlier.values, "x")?.get, "function", "the earlier ∂L/∂x was not made for this");
    for (const part of ["values", "initial", "params"] as const) for (const [name, v] of Object.entries(fresh[part])) assert.deepEqual(reused[part][name], v, `${part}.${name}`);
    // Another batch size: nothing fits, everything is new (and right).
    const other = c.run(tensor([7, 2, 3], random("reuse-3")));
    const otherSeeds = randomSeeds(other, "reuse-3");
    const resized = backwardRaw(other, otherSeeds, "backward", { reuse: earlier });
    assert.notEqual(resized.values.c, earlier.values.c);
    assert.deepEqual(resized.values.c, backwardRaw(other, otherSeeds).values.c);
  });

  it("∂L/∂x of an input only affine terms read is computed when first read (PyTorch computes it only when asked), and equals the reference's", () => {
    const trace = cell(LSTM, { inputSize: 3, hiddenSize: 4, seed: 6 }).run(tensor([7, 3, 3], random("lazy")));
    const seeds = randomSeeds(trace, "lazy");
    const raw = backwardRaw(trace, seeds);
    assert.equal(typeof Object.getOwnPropertyDescriptor(raw.values, "x")?.get, "function", "not made by the pass");
    assert.equal(typeof Object.getOwnPropertyDescriptor(raw.values, "h")?.get, "undefined", "the nodes' gradients are made by the pass");
    const dx = raw.values.x;
    assert.equal(Object.getOwnPropertyDescriptor(raw.values, "x")?.value, dx, "kept after the first read");
    assert.deepEqual(Object.keys(raw.values), Object.keys(backwardReference(trace, seeds).values), "listed like the others");
    const { name, error } = worstDifference(raw, backwardReference(trace, seeds));
    assert.ok(error <= 1e-12, `${name}: ${error}`);
    // Where an input is held by an intervention (its held entries get gradient 0) or read by a non-affine node, it is made by the pass.
    const held = cell(LSTM, { inputSize: 3, hiddenSize: 4, seed: 6 }).run(tensor([7, 3, 3], random("lazy")), { interventions: [{ node: "x", t: 2, value: 0 }] });
    assert.equal(typeof Object.getOwnPropertyDescriptor(backwardRaw(held, seeds).values, "x")?.get, "undefined");
    const gated = defineCell({ ...spec, name: "input_gated" }, ({ x, h }, op) => ({ h: op.tanh("y", op.affine("a", "H", { W: op.mul("m", x, x), U: h }, "b")) }));
    const other = cell(gated, { inputSize: 3, hiddenSize: 3, seed: 2 }).run(tensor([4, 2, 3], random("lazy-mul")));
    const fast = backwardRaw(other, randomSeeds(other, "lazy-mul"));
    assert.equal(typeof Object.getOwnPropertyDescriptor(fast.values, "x")?.get, "undefined");
    const ref = worstDifference(fast, backwardReference(other, randomSeeds(other, "lazy-mul")));
    assert.ok(ref.error <= 1e-12, `${ref.name}: ${ref.error}`);
  });
});
