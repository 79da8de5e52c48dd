import assert from "node:assert/strict";
import { describe, it } from "node:test";
import seedrandom from "seedrandom";
import { GRU_RESET_AFTER, LSTM, RNN_TANH } from "../cells/builtins";
import { ArchlabError } from "../errors";
import { backward } from "./backward";
import { cell, type Cell } from "./cell";
import { gradientNorms, jacobian, jacobianNorms } from "./jacobian";

const sequence = (T: number, B: number, In: number, seed: string) => {
  const r = seedrandom(seed);
  return Array.from({ length: T }, () => Array.from({ length: B }, () => Array.from({ length: In }, () => 2 * r() - 1)));
};

/** How the other states of step t follow from a moved one within the step (an LSTM's h_t = o_t ⊙ tanh(c_t), CELLS.md). */
type Within = (states: Record<string, number[][]>, values: (name: string) => number[][]) => Record<string, number[][]>;
const lstmH: Within = (states, values) => ({ ...states, h: states.c.map((row, b) => row.map((c, u) => values("o")[b][u] * Math.tanh(c))) });

/**
 * ∂of_T/∂wrt_t by central differences: re-run the cell from step t+1 with the state `wrt` of step t
 * moved by ±ε, the states computed from it within step t recomputed (`within`), every other as the
 * trace has it. `wrt` must be a state's node.
 */
function numericJacobian(c: Cell, xs: number[][][], t: number, of: string, wrt: string, within: Within = (s) => s): number[][][] {
  const trace = c.run(xs);
  const T = xs.length, B = xs[0].length, eps = 1e-6;
  const state = c.def.states.find((s) => s.next === wrt)!;
  const states = Object.fromEntries(c.def.states.map((s) => [s.name, trace.get(s.next)[t]]));
  const n = trace.entry(of).size, m = trace.entry(wrt).size;
  const rest = xs.slice(t + 1);
  const J = Array.from({ length: B }, () => Array.from({ length: n }, () => new Array(m).fill(0)));
  for (let j = 0; j < m; j++) {
    const moved = (d: number) => {
      const initial = within({ ...states, [state.name]: states[state.name].map((row) => row.map((v, k) => (k === j ? v + d : v))) }, (name) => trace.get(name)[t]);
      return c.run(rest, { initial }).get(of)[T - t - 2];
    };
    const [plus, minus] = [moved(eps), moved(-eps)];
    for (let b = 0; b < B; b++) for (let i = 0; i < n; i++) J[b][i][j] = (plus[b][i] - minus[b][i]) / (2 * eps);
  }
  return J;
}

const frobenius = (m: number[][]) => Math.sqrt(m.flat().reduce((s, v) => s + v * v, 0));

describe("jacobian and jacobianNorms: exact ∂h_T/∂h_t, against central finite differences", () => {
  const cases = [
    { c: cell(LSTM, { inputSize: 2, hiddenSize: 3, seed: 5 }), of: "h", wrt: "h" },
    // Through every path from c_t: c_{t+1} and, within step t, h_t = o_t ⊙ tanh(c_t).
    { c: cell(LSTM, { inputSize: 2, hiddenSize: 3, seed: 5 }), of: "h", wrt: "c", within: lstmH },
    { c: cell(GRU_RESET_AFTER, { inputSize: 2, hiddenSize: 4, seed: 6 }), of: "h", wrt: "h" },
  ];
  for (const { c, of, wrt, within } of cases as { c: Cell; of: string; wrt: string; within?: Within }[]) {
    it(`${c.def.name}: ∂${of}_T/∂${wrt}_t for every t, each batch element, matches finite differences (relative 1e-6)`, () => {
      const xs = sequence(6, 2, 2, "jac");
      const trace = c.run(xs);
      const J = jacobian(trace, { of, wrt });
      const norms = jacobianNorms(trace, { of, wrt });
      assert.equal(norms.length, 6);
      for (let t = 0; t < 5; t++) {
        const numeric = numericJacobian(c, xs, t, of, wrt, within);
        for (let b = 0; b < 2; b++) {
          const scale = frobenius(numeric[b]);
          const diff = Math.sqrt(J[t][b].flat().reduce((s, v, k) => s + (v - numeric[b].flat()[k]) ** 2, 0));
          assert.ok(diff / scale < 1e-6, `t=${t} b=${b}: ${diff / scale}`);
          assert.ok(Math.abs(norms[t][b] - scale) / scale < 1e-6, `norm t=${t} b=${b}`);
        }
      }
    });
  }

  it("at the last step ∂h_T/∂h_T is the identity (norm √H); `at` picks an earlier step", () => {
    const trace = cell(LSTM, { inputSize: 2, hiddenSize: 4, seed: 1 }).run(sequence(5, 1, 2, "id"));
    assert.ok(Math.abs(jacobianNorms(trace)[4][0] - 2) < 1e-15);
    assert.deepEqual(jacobian(trace, { at: 2 })[2][0], [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]);
    assert.equal(jacobian(trace, { at: 2 }).length, 3);
  });

  it("a plain tanh RNN forgets: ‖∂h_T/∂h_t‖ falls geometrically as t goes back, below 1e-8 after 60 steps", () => {
    const trace = cell(RNN_TANH, { inputSize: 1, hiddenSize: 8, seed: 2 }).run(sequence(61, 1, 1, "decay"));
    const norms = jacobianNorms(trace).map((row) => row[0]);
    for (let t = 60; t >= 10; t -= 10) assert.ok(norms[t - 10] < norms[t] / 10, `t=${t - 10}: ${norms[t - 10]} vs ${norms[t]}`);
    assert.ok(norms[0] / norms[60] < 1e-8);
    assert.ok(norms[0] > 0, "exact: no noise floor, the tiny norms are still there");
  });
});

describe("gradientNorms", () => {
  it("is the Euclidean norm of ∂L/∂name at each step, from backward's result or its trace", () => {
    const trace = cell(LSTM, { inputSize: 2, hiddenSize: 3, seed: 1 }).run(sequence(4, 2, 2, "gn"));
    const grads = backward(trace, { final: { h: [[1, -1, 0.5], [0, 1, 2]] } });
    const norms = gradientNorms(grads, "c");
    const c = grads.trace.get("c");
    assert.equal(norms[1][1], Math.hypot(...c[1][1]));
    assert.deepEqual(gradientNorms(grads.trace, "c"), norms);
  });
});

describe("jacobian tools: bad options are named errors", () => {
  const trace = cell(LSTM, { inputSize: 2, hiddenSize: 3 }).run(sequence(3, 1, 2, "bad"));
  const named = (code: string, text: RegExp) => (e: unknown) => e instanceof ArchlabError && e.code === code && text.test(e.message);
  it("unknown nodes, steps outside the sequence, unknown options", () => {
    assert.throws(() => jacobianNorms(trace, { wrt: "q" }), named("unknown-name", /Unknown node \(option wrt\) "q" in jacobianNorms/));
    assert.throws(() => jacobian(trace, { at: 3 }), named("out-of-range", /Step at of jacobian 3 is outside the sequence: valid steps are 0…2/));
    assert.throws(() => jacobianNorms(trace, { from: "h" } as never), named("unknown-name", /Unknown option "from"/));
    assert.throws(() => gradientNorms(trace, "nope"), named("unknown-name", /"nope" in gradientNorms/));
  });
});
