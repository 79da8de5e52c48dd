/**
 * Cells with no framework reference, against an independent scalar re-implementation of each
 * paper's equations (CELLS.md), written here with plain loops — and the structural facts each
 * variant is defined by.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  GRU1, GRU2, GRU3, INDRNN, JANET, LSTM_CIFG, LSTM_FGR, LSTM_NFG, LSTM_NIAF, LSTM_NIG, LSTM_NOAF, LSTM_NOG, LSTM_NP, MGU, MIN_GRU, MIN_LSTM,
  PEEPHOLE_LSTM, UGRNN, LSTM_HARD_SIGMOID, LSTM_HARD_SIGMOID6, LSTM, withGateActivation, GRU_RESET_BEFORE, BUILTIN_CELLS,
} from "../src/cells/builtins";
import type { CellDef } from "../src/cells/define";
import { cell } from "../src/engine/cell";
import { maxAbsDiff } from "./support/golden";

type V = number[];
type W = Record<string, any>;
const σ = (x: number) => 1 / (1 + Math.exp(-x));
const mv = (M: number[][], x: V): V => M.map((row) => row.reduce((s, w, k) => s + w * x[k], 0));
const add = (...vs: V[]): V => vs[0].map((_, k) => vs.reduce((s, v) => s + v[k], 0));
const mul = (a: V, b: V): V => a.map((v, k) => v * b[k]);
const map = (a: V, f: (x: number) => number): V => a.map(f);
const zeros = (n: number): V => new Array(n).fill(0);

/** One step of each paper's cell: state in, state out (h is always the output). */
type Step = (w: W, x: V, s: Record<string, V>) => Record<string, V>;

type Greff = "vanilla" | "NIG" | "NFG" | "NOG" | "NIAF" | "NOAF" | "NP" | "CIFG" | "FGR";
/** Greff et al. 2017, vanilla = peephole LSTM; each variant changes one thing. */
const greff = (v: Greff): Step => (w, x, { h, c, i: iPrev, f: fPrev, o: oPrev }) => {
  const peep = (name: string, cell: V) => (v === "NP" ? zeros(h.length) : mul(w[`p_${name}`], cell));
  const full = (name: string) => (v === "FGR" ? add(mv(w[`R_${name}i`], iPrev), mv(w[`R_${name}f`], fPrev), mv(w[`R_${name}o`], oPrev)) : zeros(h.length));
  const pre = (name: string) => add(mv(w[`W_${name}`], x), mv(w[`U_${name}`], h), w[`b_${name}`]);
  const gPre = pre("g");
  const g = v === "NIAF" ? gPre : map(gPre, Math.tanh);
  const i = v === "NIG" ? h.map(() => 1) : map(add(pre("i"), peep("i", c), full("i")), σ);
  const f = v === "NFG" ? h.map(() => 1) : v === "CIFG" ? i.map((u) => 1 - u) : map(add(pre("f"), peep("f", c), full("f")), σ);
  const cNew = add(mul(f, c), mul(i, g));
  const o = v === "NOG" ? h.map(() => 1) : map(add(pre("o"), peep("o", cNew), full("o")), σ);
  const hNew = mul(o, v === "NOAF" ? cNew : map(cNew, Math.tanh));
  const next: Record<string, V> = { h: hNew, c: cNew };
  return v === "FGR" ? { ...next, i, f, o } : next;
};

/** Dey & Salem 2017: gates from U h₋ + b (1), U h₋ (2), b (3); Chung's mixing. */
const deySalem = (level: 1 | 2 | 3): Step => (w, x, { h }) => {
  const gate = (n: string) => map(add(level === 3 ? zeros(h.length) : mv(w[`U_${n}`], h), level === 2 ? zeros(h.length) : w[`b_${n}`]), σ);
  const z = gate("z"), r = gate("r");
  const cand = map(add(mv(w.W_h, x), mv(w.U_h, mul(r, h)), w.b_h), Math.tanh);
  return { h: add(mul(map(z, (u) => 1 - u), h), mul(z, cand)) };
};

const REFERENCES: [CellDef, Step][] = [
  [PEEPHOLE_LSTM, greff("vanilla")], [LSTM_NIG, greff("NIG")], [LSTM_NFG, greff("NFG")], [LSTM_NOG, greff("NOG")], [LSTM_NIAF, greff("NIAF")],
  [LSTM_NOAF, greff("NOAF")], [LSTM_NP, greff("NP")], [LSTM_CIFG, greff("CIFG")], [LSTM_FGR, greff("FGR")],
  [GRU1, deySalem(1)], [GRU2, deySalem(2)], [GRU3, deySalem(3)],
  // MGU (Zhou et al. 2016): f = σ(W_f [h₋, x] + b_f), ĥ = tanh(W_h [f ⊙ h₋, x] + b_h), h = (1 − f) h₋ + f ĥ.
  [MGU, (w, x, { h }) => {
    const f = map(add(mv(w.W_f, [...h, ...x]), w.b_f), σ);
    const cand = map(add(mv(w.W_h, [...mul(f, h), ...x]), w.b_h), Math.tanh);
    return { h: add(mul(map(f, (u) => 1 - u), h), mul(f, cand)) };
  }],
  // JANET: s = U_f h₋ + W_f x + b_f, c = σ(s) c₋ + (1 − σ(s − 1)) tanh(U_c h₋ + W_c x + b_c), h = c.
  [JANET, (w, x, { c }) => {
    const s = add(mv(w.U_f, c), mv(w.W_f, x), w.b_f);
    const cand = map(add(mv(w.U_c, c), mv(w.W_c, x), w.b_c), Math.tanh);
    const cNew = add(mul(map(s, σ), c), mul(map(s, (u) => 1 - σ(u - 1)), cand));
    return { c: cNew, h: cNew };
  }],
  // IndRNN: h = relu(W x + u ⊙ h₋ + b).
  [INDRNN, (w, x, { h }) => ({ h: map(add(mv(w.W, x), mul(w.u, h), w.b), (u) => Math.max(0, u)) })],
  // UGRNN: c = tanh(W^ch h₋ + W^cx x + b_c), g = σ(W^gh h₋ + W^gx x + b_g), h = g h₋ + (1 − g) c.
  [UGRNN, (w, x, { h }) => {
    const c = map(add(mv(w.W_ch, h), mv(w.W_cx, x), w.b_c), Math.tanh);
    const g = map(add(mv(w.W_gh, h), mv(w.W_gx, x), w.b_g), σ);
    return { h: add(mul(g, h), mul(map(g, (u) => 1 - u), c)) };
  }],
  // minGRU: z = σ(W_z x), h̃ = W_h x, h = (1 − z) h₋ + z h̃.
  [MIN_GRU, (w, x, { h }) => {
    const z = map(mv(w.W_z, x), σ);
    return { h: add(mul(map(z, (u) => 1 - u), h), mul(z, mv(w.W_h, x))) };
  }],
  // minLSTM: f, i = σ(W x), normalised by f + i; h = f′ h₋ + i′ W_h x.
  [MIN_LSTM, (w, x, { h }) => {
    const f = map(mv(w.W_f, x), σ), i = map(mv(w.W_i, x), σ);
    return { h: add(mul(f.map((u, k) => u / (u + i[k])), h), mul(i.map((u, k) => u / (u + f[k])), mv(w.W_h, x))) };
  }],
  // LSTM with a hard sigmoid on i, f, o (tfjs: clip(0.2x + 0.5); Keras 3: clip(x/6 + 0.5)).
  ...([[LSTM_HARD_SIGMOID, (u: number) => Math.min(1, Math.max(0, 0.2 * u + 0.5))], [LSTM_HARD_SIGMOID6, (u: number) => Math.min(1, Math.max(0, u / 6 + 0.5))]] as const).map(
    ([def, hs]): [CellDef, Step] => [def, (w, x, { h, c }) => {
      const pre = (n: string) => add(mv(w[`W_${n}`], x), mv(w[`U_${n}`], h), w[`b_${n}`]);
      const i = map(pre("i"), hs), f = map(pre("f"), hs), g = map(pre("g"), Math.tanh), o = map(pre("o"), hs);
      const cNew = add(mul(f, c), mul(i, g));
      return { h: mul(o, map(cNew, Math.tanh)), c: cNew };
    }],
  ),
];

/** A small deterministic generator (no dependence on archlab's seeding). */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}
const sequenceOf = (T: number, B: number, In: number, seed: number) => {
  const r = lcg(seed);
  return Array.from({ length: T }, () => Array.from({ length: B }, () => Array.from({ length: In }, () => 1.5 * r())));
};

describe("cells without a framework reference, against their papers' equations (scalar loops)", () => {
  for (const [def, step] of REFERENCES)
    it(`${def.name} (${def.citation.split("(")[0].trim()})`, () => {
      const In = 3, H = 4, T = 6, B = 2;
      const c = cell(def, { inputSize: In, hiddenSize: H, seed: def.name });
      const w = c.weights();
      const xs = sequenceOf(T, B, In, def.name.length * 7);
      const trace = c.run(xs);
      for (let b = 0; b < B; b++) {
        let state: Record<string, V> = Object.fromEntries(def.states.map((s) => [s.name, zeros(H)]));
        for (let t = 0; t < T; t++) {
          state = step(w, xs[t][b], state);
          const out = def.states.some((s) => s.name === "h") ? "h" : "c";
          assert.ok(maxAbsDiff(trace.value(def.states.find((s) => s.name === out)!.next, { t, b }), state.h ?? state.c) < 1e-12, `${def.name} t=${t} b=${b}`);
        }
      }
    });
});

describe("the structural facts each variant is defined by", () => {
  const xs = sequenceOf(5, 2, 3, 11);
  it("CIFG's forget gate is exactly 1 − i", () => {
    const tr = cell(LSTM_CIFG, { inputSize: 3, hiddenSize: 4, seed: 2 }).run(xs);
    tr.get("f").flat(2).forEach((f, k) => assert.equal(f, 1 - tr.get("i").flat(2)[k]));
  });
  it("NIG has no node i, NFG no node f, NOG no node o; NP has no peephole parameters", () => {
    assert.ok(!LSTM_NIG.nodes.some((n) => n.name === "i"));
    assert.ok(!LSTM_NFG.nodes.some((n) => n.name === "f"));
    assert.ok(!LSTM_NOG.nodes.some((n) => n.name === "o"));
    assert.ok(!LSTM_NP.params.some((p) => p.name.startsWith("p_")) && PEEPHOLE_LSTM.params.some((p) => p.name === "p_o"));
  });
  it("minGRU's and minLSTM's gates do not depend on h: another initial h leaves them unchanged (and changes h)", () => {
    for (const [def, gates] of [[MIN_GRU, ["z"]], [MIN_LSTM, ["f", "i", "f_norm"]]] as const) {
      const c = cell(def, { inputSize: 3, hiddenSize: 4, seed: 3 });
      const a = c.run(xs), b = c.run(xs, { initial: { h: [0.9, -0.9, 0.5, -0.5] } });
      for (const g of gates) assert.deepEqual(a.get(g), b.get(g));
      assert.ok(maxAbsDiff(a.get("h"), b.get("h")) > 1e-3);
    }
  });
  it("IndRNN's recurrent weight is one number per unit; GRU3's gates see neither x nor h", () => {
    assert.deepEqual(INDRNN.params.find((p) => p.name === "u")?.shape, ["H"]);
    const tr = cell(GRU3, { inputSize: 3, hiddenSize: 4, seed: 4 }).run(xs);
    const z = tr.get("z");
    z.forEach((step) => assert.deepEqual(step, z[0]));
  });
  it("a gate-activation variant changes only the gate ops: same parameters, same other nodes", () => {
    const hard = withGateActivation(GRU_RESET_BEFORE, "hardSigmoid");
    assert.deepEqual(hard.params, GRU_RESET_BEFORE.params);
    assert.deepEqual(hard.nodes.map((n) => (n.op === "hardSigmoid" ? "sigmoid" : n.op)), GRU_RESET_BEFORE.nodes.map((n) => n.op));
    assert.deepEqual(hard.nodes.filter((n) => n.op === "hardSigmoid").map((n) => n.name), ["z", "r"]);
    assert.ok(Object.isFrozen(hard) && Object.isFrozen(hard.nodes[0]));
    assert.equal(BUILTIN_CELLS.LSTM_HARD_SIGMOID6, LSTM_HARD_SIGMOID6);
    assert.deepEqual(LSTM_HARD_SIGMOID.params, LSTM.params);
  });
});
