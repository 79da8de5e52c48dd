/**
 * Differences of two runs (`trace.diff(other)`) and comparisons of traces of different lengths:
 * the differences are checked value by value against the two traces' own values, the plots
 * against what vega renders.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ArchlabError, backward, cell, DISPLAY, GRU_RESET_AFTER, LSTM, plot, TraceDiff } from "../src";

const H = 3;
const wave = (T: number) => Array.from({ length: T }, (_, t) => [Math.sin(t * 0.5), Math.cos(t * 0.2)]);
const lstm = cell(LSTM, { inputSize: 2, hiddenSize: H, seed: 7 });
const code = (c: string, pattern?: RegExp) => (e: unknown) => e instanceof ArchlabError && e.code === c && (!pattern || pattern.test(e.message));

describe("trace.diff", () => {
  it("a trace minus itself is zero everywhere, and nothing diverges", () => {
    const a = lstm.run(wave(12));
    const d = a.diff(a);
    assert.ok(d instanceof TraceDiff);
    assert.equal(d.length, 12);
    for (const name of a.names) {
      assert.ok(d.get(name).flat(2).every((v) => v === 0), name);
      assert.deepEqual(d.summary[name], { maxAbs: 0, firstStep: null });
    }
    assert.equal(d.firstDivergence, null);
  });

  it("clamped minus plain: exactly a − b value by value; nothing differs before t = 5; the summary names where and how much", () => {
    const xs = wave(12);
    const plain = lstm.run(xs);
    const clamped = lstm.run(xs, { interventions: [{ node: "f", t: 5, value: 1 }] });
    const d = clamped.diff(plain);
    for (const name of plain.names) {
      const [a, b, delta] = [clamped.get(name).flat(2), plain.get(name).flat(2), d.get(name).flat(2)];
      assert.deepEqual(delta, a.map((v, k) => v - b[k]), name);
      const maxAbs = Math.max(...delta.map(Math.abs));
      assert.equal(d.summary[name].maxAbs, maxAbs, name);
      const first = d.get(name).findIndex((step) => step.flat().some((v) => v !== 0));
      assert.equal(d.summary[name].firstStep, first < 0 ? null : first, name);
    }
    assert.deepEqual(d.firstDivergence, { t: 5, names: ["f", "f_c", "c", "tanh_c", "h"] });
    assert.equal(d.summary.x.maxAbs, 0);
    assert.ok(d.summary.i.firstStep === 6, "i first reads the changed h at t = 6");
    assert.deepEqual(d.value("f", { t: 5 }), plain.value("f", { t: 5 }).map((f) => 1 - f));
  });

  it("a tolerance hides differences up to it in the summary (the values stay exact)", () => {
    const xs = wave(8);
    const a = lstm.run(xs);
    const b = lstm.run(xs, { interventions: [{ node: "h", t: 3, units: [0], value: a.value("h", { t: 3 })[0] + 1e-9 }] });
    const d = b.diff(a, { tolerance: 1e-6 });
    assert.equal(d.firstDivergence, null);
    assert.ok(d.summary.h.maxAbs > 0 && d.summary.h.maxAbs < 1e-6);
    assert.equal(b.diff(a).firstDivergence!.t, 3);
    assert.throws(() => a.diff(b, { tolerance: -1 }), code("bad-option", /tolerance of Trace\.diff/));
  });

  it("traces of different lengths are compared over their common steps; a stepper's partial trace too", () => {
    const long = lstm.run(wave(12));
    const short = lstm.run(wave(7));
    const d = long.diff(short);
    assert.equal(d.length, 7);
    assert.equal(d.firstDivergence, null, "the same inputs for 7 steps give the same values");
    const s = lstm.stepper(wave(12)).step(4);
    assert.equal(s.trace.diff(long).length, 4);
  });

  it("NaN in both traces at the same place differs by 0; NaN in one only diverges", () => {
    const a = lstm.run(wave(5));
    const b = lstm.run(wave(5));
    a.raw("g")[2 * H] = NaN;
    b.raw("g")[2 * H] = NaN;
    assert.equal(a.diff(b).firstDivergence, null);
    b.raw("g")[2 * H] = 0.5;
    assert.ok(Number.isNaN(a.diff(b).summary.g.maxAbs));
    assert.equal(a.diff(b).summary.g.firstStep, 2);
  });

  it("traces that cannot be compared value by value are refused by name, with what differs", () => {
    const a = lstm.run(wave(5));
    const gru = cell(GRU_RESET_AFTER, { inputSize: 2, hiddenSize: H }).run(wave(5));
    assert.throws(() => a.diff(gru), code("incompatible-traces", /Trace\.diff: .*names and sizes differ \(x\[2\], i_pre\[3\]/));
    assert.throws(() => a.diff(cell(LSTM, { inputSize: 2, hiddenSize: 4 }).run(wave(5))), code("incompatible-traces", /i_pre\[3\].* vs .*i_pre\[4\]/));
    assert.throws(() => a.diff(lstm.run(wave(5).map((x) => [x, x]))), code("incompatible-traces", /batch sizes differ \(1 vs 2\)/));
    assert.throws(() => a.diff(lstm.run(wave(5), { reverse: true })), code("incompatible-traces", /backward/));
    assert.throws(() => a.diff({} as never), code("not-a-trace"));
    assert.throws(() => a.diff(lstm.stepper(wave(5)).trace), code("empty-trace"));
  });

  it("a difference trace is no tape: backward refuses it by name", () => {
    const a = lstm.run(wave(5));
    assert.throws(() => backward(a.diff(a)), code("unsupported"));
  });
});

describe("plots of differences and of traces of different lengths", () => {
  it("plot.heatmap of a diff colours every panel on a scale symmetric around 0 (a gate's Δ too), labelled Δ", async () => {
    const xs = wave(12);
    const d = lstm.run(xs, { interventions: [{ node: "f", t: 5, value: 1 }] }).diff(lstm.run(xs));
    const chart = await plot.heatmap(d, { names: ["f", "c", "h"] });
    const panels = chart.spec.vconcat as { layer: { encoding: { color: { title: string; scale: { domain: number[]; domainMid?: number } } } }[] }[];
    for (const [k, name] of ["f", "c", "h"].entries()) {
      const { title, scale } = panels[k].layer[0].encoding.color;
      const m = d.summary[name].maxAbs;
      assert.equal(title, `Δ${name}`);
      assert.deepEqual(scale.domain, [-m, m], name);
      assert.equal(scale.domainMid, 0);
    }
    assert.match(await chart.toSVG(), /<svg/);
  });

  it("a diff shown as a cell's value is a heatmap of the names that differ", async () => {
    const xs = wave(6);
    const d = lstm.run(xs, { interventions: [{ node: "h", t: 5, units: [1], value: 0 }] }).diff(lstm.run(xs));
    assert.deepEqual(d.firstDivergence, { t: 5, names: ["h"] });
    const bundle = await d[DISPLAY]();
    assert.match(bundle["text/plain"] as string, /^Heatmap of Δh \(LSTM, 6 steps\)/);
  });

  it("plot.compare accepts traces of different lengths, aligned by step: one pixel scale per step in every panel, the cursor reaches the longest", async () => {
    const long = lstm.run(wave(20));
    const short = cell(GRU_RESET_AFTER, { inputSize: 2, hiddenSize: H }).run(wave(8));
    for (const chart of ["heatmap", "lines"] as const) {
      const c = await plot.compare({ LSTM: long, GRU: short }, { chart, cursor: 15 });
      assert.equal(c.info.steps, 20);
      assert.deepEqual(c.spec.params![0].bind, { input: "range", min: 0, max: 19, step: 1, name: "step t " });
      assert.ok(c.info.notes.includes("the traces' lengths differ (LSTM: 20, GRU: 8 steps), aligned by step"), c.info.notes.join("; "));
      const { cursors } = await c.scene();
      const perStep = cursors.map((g) => g.perStep);
      assert.ok(perStep.every((p) => Math.abs(p - perStep[0]) < 1e-6), `${chart}: ${perStep}`);
      assert.match(await c.at(19).toSVG(), /<svg/);
    }
    const sat = await plot.compare({ LSTM: long, GRU: short }, { chart: "saturation" });
    assert.equal(sat.cursor, null);
    await assert.rejects(plot.compare({ LSTM: long, GRU: short }, { cursor: 20 }), code("bad-option", /a step from 0 to 19/));
  });

  it("plot.compare of a trace and its clamped run on one diff-friendly scale still works for equal lengths", async () => {
    const xs = wave(10);
    const c = await plot.compare({ plain: lstm.run(xs), clamped: lstm.run(xs, { interventions: [{ node: "f", t: 5, value: 1 }] }) }, { names: ["f", "c"] });
    assert.ok(!c.info.notes.some((n) => /differ/.test(n)));
    assert.equal(c.info.steps, 10);
  });
});
