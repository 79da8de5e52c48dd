import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cell } from "../engine/cell";
import { BUILTIN_CELLS, LSTM } from "./builtins";
import { format } from "../display/protocol";
import { defineCell, equationOf } from "./define";
// The package root's format table: how definitions, cells and traces display (as the kernel loads it).
import "../formats";

/** A user's own cell, defined the way a notebook would. */
const Leaky = defineCell(
  { name: "Leaky", title: "Leaky tanh RNN", citation: "user", inputs: { x: "In" }, states: { h: "H" } },
  ({ x, h }, op) => {
    const a = op.sigmoid("a", op.affine("a_pre", "H", { W_a: x }, "b_a"));
    const cand = op.tanh("cand", op.affine("cand_pre", "H", { W: x, U: h }, "b"), { role: "candidate" });
    return { h: op.add("h", op.mul("keep", op.oneMinus("1-a", a), h), op.mul("write", a, cand)) };
  },
);

describe("defineCell", () => {
  it("records inputs, previous states, parameters with symbolic shapes, and nodes in order", () => {
    assert.deepEqual(LSTM.inputs.map((i) => [i.name, i.size]), [["x", "In"]]);
    assert.deepEqual(LSTM.states.map((s) => [s.name, s.prev, s.next]), [["h", "h_prev", "h"], ["c", "c_prev", "c"]]);
    assert.deepEqual(LSTM.params.find((p) => p.name === "U_f")?.shape, ["H", "H"]);
    assert.deepEqual(LSTM.params.find((p) => p.name === "W_i")?.shape, ["H", "In"]);
    assert.deepEqual(LSTM.nodes.find((n) => n.name === "h")?.inputs, ["o", "tanh_c"]);
    assert.equal(LSTM.output, "h");
  });

  it("writes each node's equation from its operands' labels", () => {
    const eq = (name: string) => equationOf(LSTM, LSTM.nodes.find((n) => n.name === name)!);
    assert.equal(eq("f_pre"), "W_f x[t] + U_f h[t−1] + b_f");
    assert.equal(eq("h"), "o ⊙ tanh(c)");
    assert.equal(eq("c"), "f⊙c[t−1] + i⊙g");
  });

  it("assigns roles: affine → pre, sigmoid → gate, returned states → state", () => {
    const role = (n: string) => LSTM.nodes.find((x) => x.name === n)?.role;
    assert.equal(role("i_pre"), "pre");
    assert.equal(role("i"), "gate");
    assert.equal(role("g"), "candidate");
    assert.equal(role("c"), "state");
    assert.equal(role("tanh_c"), "intermediate");
  });

  it("gives a user-defined cell everything a built-in gets: it runs and traces every node", () => {
    const c = cell(Leaky, { inputSize: 2, hiddenSize: 3, seed: 7 });
    const tr = c.run([[1, 0], [0, 1], [0.5, -0.5]]);
    assert.deepEqual(tr.names, ["x", "a_pre", "a", "cand_pre", "cand", "1-a", "keep", "write", "h"]);
    const w = c.weights() as Record<string, number[][] & number[]>;
    // h at t=0 from zero state, by hand: a = σ(W_a x + b_a), cand = tanh(W x + b), h = a ⊙ cand.
    for (let u = 0; u < 3; u++) {
      const a = 1 / (1 + Math.exp(-(w.W_a[u][0] * 1 + w.W_a[u][1] * 0 + w.b_a[u])));
      const cand = Math.tanh(w.W[u][0] + w.b[u]);
      assert.ok(Math.abs(tr.value("h", { t: 0 })[u] - a * cand) < 1e-15);
    }
  });

  it("displays as its diagram in a notebook, and stays plain data", async () => {
    const bundle = await format(LSTM);
    assert.match(bundle["text/html"] as string, /^<img src="data:image\/svg\+xml;base64,/);
    assert.match(bundle["text/plain"], /h = o ⊙ tanh\(c\)/);
    assert.deepEqual(JSON.parse(JSON.stringify(LSTM)).nodes.length, LSTM.nodes.length);
    assert.deepEqual(Object.keys(LSTM), ["name", "title", "citation", "notes", "inputs", "states", "params", "nodes", "output"]);
  });

  it("an instantiated cell displays as its diagram with concrete shapes, a trace as its heatmap", async () => {
    const c = cell(LSTM, { inputSize: 3, hiddenSize: 2 });
    assert.match((await format(c))["text/plain"], /U_f \[2, 2\]/);
    const t = await format(c.run([[1, 2, 3], [3, 2, 1]]));
    assert.equal((t["application/vnd.vegalite.v5+json"] as { $schema: string }).$schema, "https://vega.github.io/schema/vega-lite/v5.json");
  });

  it("is reproducible: the same seed gives the same weights, another seed others", () => {
    const a = cell(LSTM, { inputSize: 3, hiddenSize: 4, seed: 1 }).weights();
    assert.deepEqual(cell(LSTM, { inputSize: 3, hiddenSize: 4, seed: 1 }).weights(), a);
    assert.notDeepEqual(cell(LSTM, { inputSize: 3, hiddenSize: 4, seed: 2 }).weights(), a);
  });

  it("rejects broken definitions with the cell's name and the problem", () => {
    const base = { name: "Bad", title: "t", citation: "c", inputs: { x: "In" }, states: { h: "H" } };
    assert.throws(() => defineCell(base, ({ x, h }, op) => ({ h: op.add("h", x, h) })), /Cell definition "Bad": add "h" mixes sizes In \("x"\) and H \("h_prev"\)/);
    assert.throws(() => defineCell(base, ({ x, h }, op) => ({ h: op.tanh("x", op.affine("a", "H", { W: x, U: h })) })), /the name "x" is used twice/);
    assert.throws(() => defineCell(base, ({ h }) => ({ h })), /state "h" must be computed by a node/);
    assert.throws(() => defineCell(base, ({ x }, op) => ({}) as { h: never }), /must return the new value of state "h"/);
    assert.throws(
      () => defineCell(base, ({ x, h }, op) => ({ h: op.tanh("h", op.affine("a", "H", { W: x, U: h }, "W")) })),
      /parameter "W" is used with shapes \[H,In\] and \[H\]/,
    );
  });

  it("every built-in is frozen data with unique names and a citation", () => {
    for (const def of Object.values(BUILTIN_CELLS)) {
      assert.ok(Object.isFrozen(def) && Object.isFrozen(def.nodes[0]), def.name);
      const names = [...def.inputs.map((i) => i.name), ...def.states.map((s) => s.prev), ...def.params.map((p) => p.name), ...def.nodes.map((n) => n.name)];
      assert.equal(new Set(names).size, names.length, def.name);
      assert.ok(def.citation.length > 10, def.name);
    }
  });
});

describe("cell options", () => {
  it("names the missing or wrong size", () => {
    assert.throws(() => cell(LSTM, { inputSize: 3 }), /hiddenSize = undefined is not valid: expected a positive integer: cell "LSTM" needs size H/);
    assert.throws(() => cell(LSTM, { inputSize: 3, hiddenSize: 2.5 }), /hiddenSize = 2.5 is not valid/);
    assert.throws(() => cell(LSTM, { inputSize: 3, hiddenSize: 2, sizes: { Q: 1 } }), /Unknown size "Q"/);
  });
});
