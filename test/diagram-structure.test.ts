/**
 * Every built-in cell's diagram, read back from Graphviz's SVG with an HTML parser, holds every
 * operation of its definition and every operand edge — so the diagram cannot disagree with the
 * math that computes (CELLS.md, errata: o ⊙ tanh(c), each GRU gate its own U, the RNN's tanh).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cell } from "../src/engine";
import { BUILTIN_CELLS, GRU_RESET_AFTER, GRU_RESET_BEFORE, LSTM, RNN_RELU, RNN_TANH, defineCell, type CellDef } from "../src/cells";
import { diagram } from "../src/diagram";
import { readSvg } from "./support/svg";

const has = (edges: [string, string][], from: string, to: string) => edges.some(([a, b]) => a === from && b === to);

/** What the folded full diagram must hold, counted from the definition alone. */
const expectedNodeCount = (def: CellDef) => def.inputs.length + 2 * def.states.length + def.nodes.length + def.nodes.filter((n) => n.op === "affine").length;

const Leaky = defineCell(
  { name: "Leaky", title: "Leaky tanh RNN", citation: "user", notes: ["a user's own cell"], inputs: { x: "In" }, states: { h: "H" } },
  ({ x, h }, op) => {
    const a = op.sigmoid("a", op.affine("a_pre", "H", { W_a: x }, "b_a"));
    const cand = op.tanh("cand", op.affine("cand_pre", "H", { W: x, U: h }, "b"), { role: "candidate" });
    return { h: op.add("h", op.mul("keep", op.oneMinus("1-a", a), h), op.mul("write", a, cand)) };
  },
);

describe("folded diagrams hold every operation and every operand edge of the definition", () => {
  for (const def of [...Object.values(BUILTIN_CELLS), Leaky]) {
    it(`${def.name}: every node, operand edge, parameter and recurrence is in the SVG`, async () => {
      const svg = readSvg(await diagram(def).toSvg());
      assert.equal(svg.nodes.length, expectedNodeCount(def));
      for (const n of def.nodes) {
        assert.ok(svg.nodes.includes(n.name), `node ${n.name}`);
        for (const input of n.inputs) assert.ok(has(svg.edges, input, n.name), `edge ${input} -> ${n.name}`);
        if (n.op === "affine") {
          assert.ok(has(svg.edges, `${n.name}.params`, n.name), `parameters of ${n.name}`);
          for (const w of [...n.terms!.map((t) => t.weight), ...n.bias!]) assert.match(svg.nodeText[`${n.name}.params`], new RegExp(`(^| )${w} `), `${w} feeds ${n.name}`);
        }
      }
      for (const s of def.states) {
        assert.ok(has(svg.edges, s.next, `${s.name}[t]`), `new state ${s.name}`);
        assert.ok(has(svg.edges, `${s.name}[t]`, s.prev), `recurrence of ${s.name}`);
      }
      for (const note of def.notes) assert.ok(svg.text.replace(/\s+/g, " ").includes(note.replace(/\s+/g, " ")), `note "${note}" in the caption`);
    });
  }

  it("draws the LSTM's h from o and tanh(c), never c and tanh(o)", async () => {
    const svg = readSvg(await diagram(LSTM).toSvg());
    assert.ok(has(svg.edges, "o", "h") && has(svg.edges, "tanh_c", "h"));
    assert.ok(has(svg.edges, "c", "tanh_c"));
    assert.ok(!has(svg.edges, "c", "h") && !has(svg.edges, "o", "tanh_c"));
    assert.ok(svg.tooltips.some((t) => t.startsWith("h = o ⊙ tanh(c)")));
  });

  it("multiplies the reset-after GRU's r with the projected h (U_n h + b_hn), and the reset-before GRU's r with h", async () => {
    const after = readSvg(await diagram(GRU_RESET_AFTER).toSvg());
    assert.ok(has(after.edges, "r", "r_nh") && has(after.edges, "n_h", "r_nh") && has(after.edges, "h_prev", "n_h"));
    assert.ok(after.tooltips.some((t) => t.startsWith("r⊙nₕ = r ⊙ nₕ")));
    assert.ok(after.tooltips.some((t) => t.startsWith("nₕ = U_n h[t−1] + b_hn")));
    const before = readSvg(await diagram(GRU_RESET_BEFORE).toSvg());
    assert.ok(has(before.edges, "r", "r_h") && has(before.edges, "h_prev", "r_h") && has(before.edges, "r_h", "h_tilde_pre"));
  });

  it("gives each GRU gate its own recurrent matrix", async () => {
    for (const def of [GRU_RESET_AFTER, GRU_RESET_BEFORE]) {
      const svg = readSvg(await diagram(def).toSvg());
      assert.match(svg.nodeText["z_pre.params"], /U_z/);
      assert.doesNotMatch(svg.nodeText["z_pre.params"], /U_r|U_h|U_n/);
      assert.match(svg.nodeText["r_pre.params"], /U_r/);
      assert.doesNotMatch(svg.nodeText["r_pre.params"], /U_z/);
    }
  });

  it("draws the plain RNN with tanh (or relu), not a sigmoid", async () => {
    const tanh = readSvg(await diagram(RNN_TANH).toSvg());
    assert.ok(tanh.tooltips.some((t) => t.startsWith("h = tanh(h̄)")));
    assert.ok(!tanh.text.includes("σ"));
    const relu = readSvg(await diagram(RNN_RELU).toSvg());
    assert.ok(relu.tooltips.some((t) => t.startsWith("h = relu(h̄)")));
  });

  it("names each diagram after the cell it draws: the LSTM's has a cell state c, the GRU's none, and the GRU caption states its mixing convention", async () => {
    const lstm = readSvg(await diagram(LSTM).toSvg());
    const gru = readSvg(await diagram(GRU_RESET_AFTER).toSvg());
    assert.ok(lstm.nodes.includes("c_prev") && !gru.nodes.includes("c_prev"));
    assert.match(lstm.text, /^LSTM: Long short-term memory/);
    assert.match(gru.text, /^GRU_RESET_AFTER: GRU, reset after/);
    assert.match(gru.text, /h = z ⊙ h\[t−1\] \+ \(1 − z\) ⊙ candidate/);
    assert.ok(gru.tooltips.some((t) => t.startsWith("h = z⊙h[t−1] + (1−z)⊙n")));
  });

  it("writes compound operands in parentheses, so an equation reads as the definition computes", () => {
    const eq = (def: CellDef, name: string) => diagram(def).nodes.find((n) => n.id === name)!.equation;
    assert.equal(eq(GRU_RESET_AFTER, "n_pre"), "nₓ + r⊙nₕ");
    assert.equal(eq(GRU_RESET_AFTER, "write"), "(1−z) ⊙ n");
    assert.equal(eq(GRU_RESET_BEFORE, "h_tilde_pre"), "W_h x[t] + U_h (r⊙h[t−1]) + b_h");
    assert.equal(eq(BUILTIN_CELLS.JANET, "i_c"), "(1 − σ(s − β)) ⊙ c̃");
    assert.equal(eq(LSTM, "f_c"), "f ⊙ c[t−1]");
  });

  it("shows concrete shapes for a Cell and symbolic ones for a definition", async () => {
    const sym = readSvg(await diagram(LSTM).toSvg());
    assert.match(sym.nodeText["x"], /x\[t\] \[B, In\]/);
    assert.match(sym.nodeText["f_pre.params"], /U_f \[H, H\]/);
    const concrete = readSvg(await diagram(cell(LSTM, { inputSize: 3, hiddenSize: 5 })).toSvg());
    assert.match(concrete.nodeText["x"], /x\[t\] \[B, 3\]/);
    assert.match(concrete.nodeText["f_pre.params"], /W_f \[5, 3\]/);
  });
});
