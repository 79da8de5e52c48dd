import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ArchlabError, cell, LSTM, plot, zoo } from "../src";
import { traces, wave } from "./support/plot";

const code = (c: string) => (e: unknown) => e instanceof ArchlabError && e.code === c;

describe("plots of bad input", () => {
  it("an empty trace (a stepper before its first step) is a named error, not a crash", async () => {
    const s = cell(LSTM, { inputSize: 2, hiddenSize: 3 }).stepper(wave(5));
    for (const make of [plot.heatmap, plot.lines, plot.states, plot.saturation])
      await assert.rejects(make(s.trace), (e: ArchlabError) => e.code === "empty-trace" && /no computed step yet/.test(e.message));
  });

  it("an unknown gate name is a named error listing the known names", async () => {
    const { lstm } = traces();
    await assert.rejects(plot.heatmap(lstm, { names: ["z"] }), (e: ArchlabError) => e.code === "unknown-name" && /"z"/.test(e.message) && /"f"/.test(e.message) && /plot\.heatmap/.test(e.message));
    await assert.rejects(plot.lines(lstm, { names: ["f"], units: [3] }), code("out-of-range"));
    await assert.rejects(plot.compare({ a: lstm }, { chart: "pie" as never }), code("unknown-name"));
  });

  it("NaN and ±Infinity are drawn as gaps and reported in the title and the notes", async () => {
    const trace = cell(LSTM, { inputSize: 2, hiddenSize: 3 }).run(wave(10));
    const f = trace.raw("f");
    f[4 * 3 + 1] = NaN;
    f[5 * 3 + 1] = Infinity;
    f[6 * 3 + 0] = -Infinity;
    const heat = await plot.heatmap(trace, { names: ["f"] });
    const panel = (heat.spec.vconcat as { title: { subtitle: string[] }; layer: { data: { values: { t: number; unit: number; value: number | null }[] } }[] }[])[0];
    assert.match(panel.title.subtitle.join(" "), /3 non-finite values \(NaN ×1, \+Infinity ×1, −Infinity ×1; first at t=4\) drawn as gaps/);
    assert.equal(panel.layer[0].data.values.find((r) => r.t === 4 && r.unit === 1)!.value, null);
    assert.ok(heat.info.notes.some((n) => n.startsWith("f: 3 non-finite")));
    assert.match(await heat.toSVG(), /<svg/);
    const line = await plot.lines(trace, { names: ["f"], units: [1] });
    const rows = (line.spec.vconcat as { data: { values: { t: number; seg: number }[] } }[])[0].data.values;
    assert.deepEqual(rows.map((r) => r.t), [0, 1, 2, 3, 6, 7, 8, 9], "non-finite steps left out");
    assert.deepEqual([...new Set(rows.map((r) => r.seg))], [0, 2], "the line breaks into two segments (detail: seg)");
    assert.match(await line.toSVG(), /<svg/);
  });

  it("bad options are named errors", async () => {
    const { lstm } = traces();
    await assert.rejects(plot.heatmap(lstm, { cursor: 99 }), code("bad-option"));
    await assert.rejects(plot.heatmap(lstm, { budget: 0 }), code("bad-option"));
    await assert.rejects(plot.heatmap(lstm, { overBudget: "drop" as never }), code("bad-option"));
    await assert.rejects(plot.saturation(lstm, { low: 0.9, high: 0.1 }), code("bad-option"));
    await assert.rejects(plot.heatmap(lstm, { b: 1 }), code("out-of-range"));
    await assert.rejects(plot.heatmap(lstm, { domains: { f: [1, 0] } }), (e: ArchlabError) => e.code === "bad-option" && /domains\.f of plot\.heatmap/.test(e.message));
    await assert.rejects(plot.lines(lstm, { domains: [[0, 1]] as never }), code("bad-option"));
    // Traces of different lengths are aligned by step (test/trace-diff.test.ts); a cursor past the longest is refused.
    const short = cell(LSTM, { inputSize: 2, hiddenSize: 3 }).run(wave(5));
    await assert.rejects(plot.compare({ a: lstm, b: short }, { cursor: lstm.length }), (e: ArchlabError) => e.code === "bad-option" && /cursor of plot\.compare/.test(e.message));
  });
});

describe("plots past the mark budget", () => {
  it("a request over budget with overBudget: 'error' is refused, naming the budget", async () => {
    const { lstm } = traces();
    await assert.rejects(plot.heatmap(lstm, { budget: 100, overBudget: "error" }), (e: ArchlabError) => e.code === "over-budget" && /would draw 144 marks/.test(e.message) && /budget of 100/.test(e.message));
    await assert.rejects(plot.lines(lstm, { budget: 10, overBudget: "error" }), code("over-budget"));
  });

  it("more series than the budget cannot be aggregated over time: refused", async () => {
    const { lstm } = traces();
    await assert.rejects(plot.lines(lstm, { names: ["i", "f", "o"], budget: 5 }), (e: ArchlabError) => e.code === "over-budget" && /fewer names or units/.test(e.message));
  });

  it("aggregation: each window's mean, min and max match the values it covers", async () => {
    const { lstm } = traces(12, 3);
    const chart = await plot.heatmap(lstm, { names: ["f"], budget: 12, overBudget: "aggregate" });
    assert.deepEqual(chart.info.reduction, { mode: "aggregate", window: 3 });
    const rows = (chart.spec.vconcat as { layer: { data: { values: { t: number; t2: number; unit: number; mean: number; min: number; max: number }[] } }[] }[])[0].layer[0].data.values;
    assert.equal(rows.length, 12);
    const f = lstm.get("f");
    for (const r of rows) {
      const vs = f.slice(r.t, r.t2).map((s) => s[0][r.unit]);
      assert.ok(Math.abs(r.mean - vs.reduce((a, b) => a + b) / vs.length) < 1e-5);
      assert.ok(Math.abs(r.min - Math.min(...vs)) < 1e-5 && Math.abs(r.max - Math.max(...vs)) < 1e-5);
    }
  });

  it("a 100 000-step × 64-unit trace is rasterised automatically and stays small", async () => {
    const T = 100_000;
    const xs = Array.from({ length: T }, (_, t) => [Math.sin(t / 50)]);
    const trace = cell(LSTM, { inputSize: 1, hiddenSize: 64, seed: 4 }).run(xs);
    const chart = await plot.heatmap(trace, { names: ["f"] });
    assert.equal(chart.info.reduction.mode, "raster");
    const json = JSON.stringify(chart.spec);
    assert.ok(json.length < 2_000_000, `spec ${json.length} bytes`);
    assert.match(json, /"type":"image"/);
    assert.match(json, /data:image\/png;base64,/);
    const lines = await plot.lines(trace, { names: ["h"], units: [0, 1, 2, 3] });
    assert.equal(lines.info.reduction.mode, "aggregate");
    assert.ok(lines.info.marks <= 20_000);
  });
});

describe("plots of something that is not a trace", () => {
  it("is a named error saying a Trace was expected and what came instead", async () => {
    const s = cell(LSTM, { inputSize: 2, hiddenSize: 3 }).stepper(wave(5));
    const cases: [string, () => Promise<unknown>][] = [
      ["plot.heatmap", () => plot.heatmap({} as never)],
      ["plot.lines", () => plot.lines(null as never)],
      ["plot.states", () => plot.states(s as never)],
      ["plot.saturation", () => plot.saturation([] as never)],
      ["plot.compare (GRU)", () => plot.compare({ GRU: { length: 3 } as never })],
      ["plot.compare (trace 1)", () => plot.compare([traces().lstm, 42 as never])],
    ];
    for (const [where, make] of cases)
      await assert.rejects(make(), (e: unknown) => e instanceof ArchlabError && e.code === "not-a-trace" && e.message.startsWith(`${where} expects a Trace`), where);
    await assert.rejects(plot.heatmap({} as never), /got an object \(Object\) with keys \[\]/);
    await assert.rejects(plot.states(s as never), /got an object \(Stepper\)/);
    // A model's trace is not a cell trace: the error names the plot that draws it.
    const modelRun = await zoo.elm({ NInput: 2, NHidden: 3, NOutput: 1 }).run({ x: [[0.5, -1]] }, { backend: "reference" });
    await assert.rejects(plot.heatmap(modelRun.trace as never), /got an object \(ModelTrace\).*is drawn by plot\.tensor\(trace, path\)\./);
    await assert.rejects(plot.compare(undefined as never), code("bad-option"));
  });
});
