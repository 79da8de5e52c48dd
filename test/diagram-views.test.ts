/**
 * The views: live values at step t match the trace; unrolled diagrams carry every state from step to
 * step (never feed-forward); stacked, bidirectional and DB-LSTM layouts connect the right blocks;
 * diffs name what changed; diagrams display and save.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { PNG } from "pngjs";
import { GRU_RESET_AFTER, LSTM, LSTM_CIFG, MGU, RNN_TANH } from "../src/cells";
import { diagram, diff, unrolled } from "../src/diagram";
import { cell } from "../src/engine";
import { DISPLAY } from "../src/display/protocol";
import { dbLstm, sequence } from "../src/models";
import { golden } from "./support/golden";
import { readSvg } from "./support/svg";

const xs = golden.X as number[][][]; // [T=4][B=2][In=3]

describe("live values", () => {
  const lstm = cell(LSTM, { inputSize: 3, hiddenSize: 2, seed: 5 });
  const trace = lstm.run(xs);

  it("puts each node's value at step t (batch element b) on the node, previous states from step t−1", () => {
    const d = diagram(lstm, { trace, t: 2, b: 1 });
    const node = (id: string) => d.nodes.find((n) => n.id === id)!;
    for (const name of ["x", "i", "f", "g", "o", "c", "tanh_c", "h"]) assert.deepEqual(node(name).values, trace.value(name, { t: 2, b: 1 }), name);
    assert.deepEqual(node("h_prev").values, trace.value("h", { t: 1, b: 1 }));
    assert.deepEqual(node("c_prev").values, trace.value("c", { t: 1, b: 1 }));
    assert.deepEqual(node("h[t]").values, trace.value("h", { t: 2, b: 1 }));
    assert.deepEqual(d.edges.find((e) => e.from === "f" && e.to === "f_c")!.values, node("f").values);
  });

  it("shows the initial state as h[t−1] at t = 0, and the vector preview in the DOT", () => {
    const d = diagram(lstm, { trace, t: 0 });
    assert.deepEqual(d.nodes.find((n) => n.id === "h_prev")!.values, [0, 0]);
    const f = trace.value("f", { t: 0 });
    assert.ok(d.toDot().includes(`[${f.map((v) => v.toFixed(2)).join(", ")}]`));
    assert.match(d.graph.caption.title, /at t = 0, batch element 0/);
  });

  it("draws a stepper at its current step", () => {
    const stepper = lstm.stepper(xs);
    assert.ok(diagram(stepper).nodes.every((n) => n.values === undefined), "nothing live before the first step");
    stepper.step(3);
    const d = diagram(stepper, { b: 1 });
    assert.deepEqual(d.nodes.find((n) => n.id === "f")!.values, trace.value("f", { t: 2, b: 1 }));
    assert.match(d.graph.caption.title, /at t = 2, batch element 1/);
  });

  it("rejects a step outside the trace, a trace of another cell, and t without a trace", () => {
    assert.throws(() => diagram(lstm, { trace, t: 4 }), /Step t 4 is outside the sequence: valid steps are 0…3/);
    assert.throws(() => diagram(lstm, { trace, b: 2 }), /Batch element b 2/);
    const gru = cell(GRU_RESET_AFTER, { inputSize: 3, hiddenSize: 2 });
    assert.throws(() => diagram(gru, { trace }), /a trace of cell "GRU_RESET_AFTER"/);
    assert.throws(() => diagram(lstm, { t: 1 }), /Unknown option "t"/);
  });
});

describe("unrolled", () => {
  const recurrent = (d: ReturnType<typeof unrolled>) => d.edges.filter((e) => e.kind === "recurrent");

  it("carries every state from each step to the next, so the model cannot look feed-forward", async () => {
    for (const def of [LSTM, GRU_RESET_AFTER, RNN_TANH]) {
      const T = 5;
      const d = unrolled(def, { steps: T });
      const r = recurrent(d);
      for (const s of def.states) {
        for (let t = 1; t < T; t++) assert.ok(r.some((e) => e.from === `L0@${t - 1}` && e.to === `L0@${t}` && e.label === s.name), `${def.name} ${s.name} ${t - 1}→${t}`);
        assert.ok(r.some((e) => e.from === `L0:${s.name}[init]` && e.to === "L0@0"));
      }
      assert.equal(r.length, def.states.length * T);
      assert.match(d.toDot(), /style="dashed", penwidth=2/);
      const svg = readSvg(await d.toSvg());
      assert.equal(svg.nodes.length, T + T + T + def.states.length); // x, cells, y, initial states
    }
  });

  it("in gates detail, connects each step's new state records to the next step's previous-state records", async () => {
    const d = unrolled(LSTM, { steps: 3, detail: "gates" });
    const r = recurrent(d);
    for (const s of ["h", "c"]) for (const t of [1, 2]) assert.ok(r.some((e) => e.from === `L0@${t - 1}/${s}[t]` && e.to === `L0@${t}/${s}_prev`));
    assert.ok(d.nodes.some((n) => n.id === "L0@1/h_prev" && n.title === "h[0]"), "labels carry the step");
    assert.equal(readSvg(await d.toSvg()).nodes.length, 3 + 3 + 3 * (1 + 2 + LSTM.nodes.length + 2));
  });

  it("draws a bidirectional stack: backward recurrences point right to left, the next layer reads both directions", () => {
    const d = unrolled({ def: GRU_RESET_AFTER, layers: 2, bidirectional: true }, { steps: 3 });
    const back = recurrent(d).filter((e) => e.from.startsWith("L0_reverse@"));
    assert.deepEqual(back.map((e) => [e.from, e.to, e.reversed]), [["L0_reverse@2", "L0_reverse@1", true], ["L0_reverse@1", "L0_reverse@0", true]]);
    for (const t of [0, 1, 2]) {
      assert.ok(d.edges.some((e) => e.from === `L0@${t}` && e.to === `L1@${t}` && e.kind === "layer"));
      assert.ok(d.edges.some((e) => e.from === `L0_reverse@${t}` && e.to === `L1@${t}`));
      assert.ok(d.edges.some((e) => e.from === `L1_reverse@${t}` && e.to === `y[${t}]`));
    }
  });

  it("draws a DB-LSTM: alternating directions, each layer reading m⁽ˡ⁾ from the layer below's output and input", () => {
    const model = dbLstm({ inputSize: 3, hiddenSize: 2, depth: 3 });
    const d = unrolled(model, { steps: 2 });
    assert.ok(d.nodes.some((n) => n.id === "L0@0") && d.nodes.some((n) => n.id === "L1_reverse@0") && d.nodes.some((n) => n.id === "L2@0"));
    assert.ok(!d.nodes.some((n) => n.id === "L1@0"), "layer 1 runs backward only");
    assert.ok(d.edges.some((e) => e.from === "L0@1" && e.to === "m1[1]") && d.edges.some((e) => e.from === "x[1]" && e.to === "m1[1]" && e.label === "shortcut"));
    assert.ok(d.edges.some((e) => e.from === "L1_reverse@1" && e.to === "m2[1]") && d.edges.some((e) => e.from === "m1[1]" && e.to === "m2[1]"));
  });

  it("shows a sequence model's values by input position, backward cells re-aligned", () => {
    const model = sequence(LSTM, { inputSize: 3, hiddenSize: 2, numLayers: 1, bidirectional: true, seed: 1 });
    const { trace, output } = model.forward(xs);
    const d = unrolled(model, { trace, b: 1 });
    for (let t = 0; t < 4; t++) {
      assert.deepEqual(d.nodes.find((n) => n.id === `y[${t}]`)!.values, output[t][1]);
      assert.deepEqual(d.nodes.find((n) => n.id === `L0_reverse@${t}`)!.values, trace.value("h", { layer: 0, direction: "backward", t, b: 1 }));
    }
  });
});

describe("diff", () => {
  it("LSTM → CIFG: the forget gate becomes 1 − i, its own weights go", () => {
    const d = diff(LSTM, LSTM_CIFG);
    assert.ok(d.changes.changed.includes("f"));
    assert.ok(d.changes.removed.includes("f_pre"));
    assert.match(d.nodes.find((n) => n.id === "f")!.change!, /was: f = σ\(f̄\)/);
    assert.ok(d.edges.some((e) => e.from === "i" && e.to === "f" && e.status === "added"));
    assert.ok(d.edges.some((e) => e.from === "f_pre" && e.to === "f" && e.status === "removed"));
  });

  it("GRU → MGU: r and z go, MGU's single gate f comes", () => {
    const { changes } = diff(GRU_RESET_AFTER, MGU);
    for (const gone of ["r", "z", "r_pre", "z_pre", "n"]) assert.ok(changes.removed.includes(gone), gone);
    for (const added of ["f", "f_pre", "h_tilde"]) assert.ok(changes.added.includes(added), added);
    assert.deepEqual(diff(LSTM, LSTM).changes, { added: [], removed: [], changed: [] });
  });
});

describe("display and save", () => {
  it("displays as <img> HTML, SVG and text, the text listing every equation", async () => {
    const d = diagram(LSTM);
    const bundle = await d[DISPLAY]();
    assert.deepEqual(Object.keys(bundle).sort(), ["image/svg+xml", "text/html", "text/plain"]);
    assert.equal(bundle["image/svg+xml"], await d.toSvg());
    assert.match(bundle["text/plain"], /^LSTM: Long short-term memory — folded cell diagram \(full\)/);
    assert.match(bundle["text/plain"], /\n {2}h = o ⊙ tanh\(c\) {3}\[B, H\]/);
    assert.match(bundle["text/plain"], /parameters: .*U_f \[H, H\]/);
  });

  it("saves .dot, .svg and .png by extension", async () => {
    const dir = mkdtempSync(join(tmpdir(), "archlab-diagram-"));
    const d = diagram(GRU_RESET_AFTER);
    assert.equal(readFileSync(await d.save(join(dir, "gru.dot")), "utf8"), d.toDot());
    assert.equal(readFileSync(await d.save(join(dir, "gru.svg")), "utf8"), await d.toSvg());
    const png = PNG.sync.read(readFileSync(await d.save(join(dir, "gru.png"))));
    const widthPt = Number((await d.toSvg()).match(/<svg width="(\d+)pt"/)![1]);
    const expected = widthPt * (96 / 72) * 2; // CSS px per pt, times the default scale 2
    assert.ok(Math.abs(png.width - expected) <= 2, `PNG at scale 2: ${png.width} px, expected ${expected}`);
  });
});
