import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PNG } from "pngjs";
import { ArchlabError, Chart, DISPLAY, plot } from "../src";
import { traces } from "./support/plot";

const { lstm, gru, mgu } = traces();
const compileV5 = async (spec: object) => (await import("vega-lite")).compile(spec as never).spec;

const charts: Record<string, () => Promise<Chart>> = {
  heatmap: () => plot.heatmap(lstm),
  "heatmap of chosen names": () => plot.heatmap(lstm, { names: ["f", "c"], cursor: 4 }),
  lines: () => plot.lines(lstm, { names: ["f", "i"], units: [0, 2] }),
  states: () => plot.states(lstm),
  saturation: () => plot.saturation(gru),
  compare: () => plot.compare({ LSTM: lstm, GRU: gru, MGU: mgu }),
  "compare lines": () => plot.compare([lstm, gru], { chart: "lines", cursor: 3 }),
  "compare of five, wrapped": () => plot.compare([lstm, gru, mgu, gru, lstm], { chart: "lines", names: ["h"] }),
  "aggregated heatmap": () => plot.heatmap(lstm, { budget: 40, overBudget: "aggregate" }),
  "rasterised heatmap": () => plot.heatmap(lstm, { budget: 40 }),
  "aggregated lines": () => plot.lines(lstm, { budget: 20 }),
};

describe("every chart", () => {
  for (const [name, make] of Object.entries(charts)) {
    it(`${name}: is Vega-Lite v5, compiles with vega-lite 5, and renders headless with marks`, async () => {
      const chart = await make();
      assert.equal(chart.spec.$schema, "https://vega.github.io/schema/vega-lite/v5.json");
      const vega = await compileV5(chart.spec);
      assert.equal((vega as { $schema: string }).$schema, "https://vega.github.io/schema/vega/v5.json");
      const svg = await chart.toSVG();
      assert.match(svg, /^<svg/);
      assert.match(svg, /class="mark-(rect|line|symbol|image|area)[^"]*role-mark/);
    });
  }

  it("displays as a vegalite v5 JSON object, a decodable PNG of the chart's size, and text", async () => {
    const chart = await plot.heatmap(lstm, { names: ["f"] });
    const bundle = await chart[DISPLAY]();
    const spec = bundle["application/vnd.vegalite.v5+json"];
    assert.equal(typeof spec, "object", "sent as an object, never a string");
    assert.deepEqual(spec, chart.spec);
    const png = PNG.sync.read(Buffer.from(bundle["image/png"] as string, "base64"));
    const scene = await chart.scene();
    assert.equal(png.width, Math.round(scene.width));
    assert.match(bundle["text/plain"], /Heatmap of f \(LSTM, 12 steps\)/);
    // Text was drawn (a font exists): the title row holds dark pixels.
    let dark = 0;
    for (let y = 0; y < 16; y++) for (let x = 0; x < png.width; x++) if (png.data[(y * png.width + x) * 4] < 80) dark++;
    assert.ok(dark > 20, `title text drawn (${dark} dark pixels)`);
  });

  it("has a time cursor: a param t bound to a range slider, and a rule per panel", async () => {
    const chart = await plot.heatmap(lstm, { names: ["i", "f"], cursor: 5 });
    const param = chart.spec.params!.find((p) => p.name === "t")!;
    assert.equal(param.value, 5);
    assert.deepEqual(param.bind, { input: "range", min: 0, max: 11, step: 1, name: "step t " });
    assert.equal((await chart.scene()).cursors.length, 2);
    assert.equal(chart.at(7).cursor, 7);
    assert.throws(() => chart.at(12), (e: ArchlabError) => e.code === "out-of-range");
    assert.equal((await plot.heatmap(lstm, { cursor: false })).spec.params, undefined);
  });

  it("puts exact values in the data and tooltips, and paper labels in titles and legends", async () => {
    const chart = await plot.heatmap(lstm, { names: ["f"] });
    const panel = (chart.spec.vconcat as { title: string; layer: { data: { values: { t: number; unit: number; value: number }[] }; encoding: { color: { title: string }; tooltip: { field: string }[] } }[] }[])[0];
    assert.equal(panel.title, "f — forget gate");
    const rect = panel.layer[0];
    assert.equal(rect.encoding.color.title, "f");
    assert.deepEqual(rect.encoding.tooltip.map((x) => x.field), ["t", "unit", "value"]);
    const row = rect.data.values.find((r) => r.t === 7 && r.unit === 2)!;
    assert.equal(row.value, lstm.value("f", { t: 7 })[2]);
  });

  for (const [mode, options] of [["exact", {}], ["aggregated", { budget: 40, overBudget: "aggregate" }], ["rasterised", { budget: 40 }]] as const)
    it(`a ${mode} heatmap has a colour legend per panel, in the spec and in the static fallback`, async () => {
      const chart = await plot.heatmap(lstm, { names: ["f", "g"], ...options });
      const legends = JSON.stringify(await compileV5(chart.spec)).match(/"legends":\[\{[^\]]*"title":"[fg]"/g) ?? [];
      assert.equal(legends.length, 2, "vega-lite makes one legend per panel, titled with its label");
      const svg = await chart.toSVG();
      assert.equal(svg.match(/class="mark-group role-legend"/g)?.length, 2, "two legends drawn");
      assert.match(svg, /<linearGradient/, "a colour gradient");
      const labels = [...svg.matchAll(/role-legend-label[^]*?<\/g>/g)].map((m) => [...m[0].matchAll(/>([^<>]+)<\/text>/g)].map((t) => t[1]));
      const ends = labels.map((l) => [l[0], l.at(-1)!].map((x) => Number(x.replace("−", "-"))));
      assert.deepEqual(ends, [[0, 1], [-1, 1]], "f (a gate) from 0 to 1, g (tanh) from −1 to 1");
    });

  it("puts the time cursor at the same pixel in every chart of the same width, as vega renders them", async () => {
    const [T, width] = [lstm.length, 300];
    const made = {
      heatmap: await plot.heatmap(lstm, { width }),
      "aggregated heatmap": await plot.heatmap(lstm, { width, budget: 40, overBudget: "aggregate" }),
      "rasterised heatmap": await plot.heatmap(lstm, { width, budget: 40 }),
      lines: await plot.lines(lstm, { width }),
      "aggregated lines": await plot.lines(lstm, { width, budget: 20 }),
      states: await plot.states(lstm, { width, height: 90 }),
    };
    const reference = (await made.heatmap.scene()).cursors[0];
    assert.ok(Math.abs(reference.perStep - width / T) < 1e-9, "one step is width / T pixels");
    for (const [name, chart] of Object.entries(made))
      for (const c of (await chart.scene()).cursors)
        for (const t of [0, 5, T - 1]) assert.ok(Math.abs(c.x0 + c.perStep * t - (reference.x0 + reference.perStep * t)) < 0.01, `${name}: cursor at t=${t} at x=${c.x0 + c.perStep * t}, heatmap's at ${reference.x0 + reference.perStep * t}`);
  });

  it("draws the heatmap's cursor through the middle of step t's cells", async () => {
    const chart = await plot.heatmap(lstm, { names: ["f"], cursor: 4 });
    const vega = await import("vega");
    const view = new vega.View(vega.parse(await compileV5(chart.spec)), { renderer: "none" });
    await view.runAsync();
    type Node = { marktype?: string; name?: string; x?: number; width?: number; datum?: { t?: number; cursor?: number }; items?: Node[] };
    const found: Node[] = [];
    const walk = (n: Node, mark?: Node) => {
      if (n.datum && mark?.marktype === "rect" && n.datum.t === 4) found.push(n);
      if (n.datum && mark?.marktype === "rule" && mark.name?.startsWith("cursor")) found.push({ ...n, name: "rule" });
      for (const c of n.items ?? []) walk(c, n.marktype ? n : mark);
    };
    walk((view.scenegraph() as unknown as { root: Node }).root);
    const rule = found.find((n) => n.name === "rule")!;
    const cells = found.filter((n) => n.name !== "rule");
    assert.ok(cells.length === 3, "three units at t = 4");
    // The drawn cell is t ± 0.5 plus its overlap into the next cell (≤ 1 px here); the rule is at its centre within that.
    for (const cell of cells) assert.ok(Math.abs(cell.x! + (chart.spec.vconcat as { width: number }[])[0].width / 12 / 2 - rule.x!) < 1e-6, `cell starts at ${cell.x}, rule at ${rule.x}`);
    view.finalize();
  });

  it("says the GRU mixing convention from the definition's notes", async () => {
    const chart = await plot.heatmap(gru);
    const note = gru.def.notes.find((n) => n.includes("Mixing"))!;
    assert.equal((chart.spec.title as { subtitle: string[] }).subtitle.join(" "), note, "the whole note, wrapped into lines");
    assert.ok(chart.info.notes.includes(note));
  });

  it("saturation: fractions near 0 and near 1 per unit match a direct count", async () => {
    const chart = await plot.saturation(lstm, { names: ["f"], low: 0.45, high: 0.55 });
    const values = (chart.spec.hconcat as { data: { values: { unit: number; near0: number; near1: number }[] } }[])[0].data.values;
    const f = lstm.get("f").map((row) => row[0]);
    for (const { unit, near0, near1 } of values) {
      assert.equal(near0, f.filter((v) => v[unit] <= 0.45).length / f.length);
      assert.equal(near1, f.filter((v) => v[unit] >= 0.55).length / f.length);
    }
  });

  it("compare: one shared cursor, one panel column per cell, cursor names unique", async () => {
    const chart = await plot.compare({ LSTM: lstm, GRU: gru, MGU: mgu }, { cursor: 2 });
    assert.equal((chart.spec.hconcat as unknown[]).length, 3);
    assert.equal(chart.spec.params!.length, 1);
    const names = JSON.stringify(chart.spec).match(/"name":"cursor[^"]*"/g)!;
    assert.equal(new Set(names).size, names.length);
    assert.equal((await chart.scene()).cursors.length, 4 + 3 + 2, "LSTM i f g o, GRU r z n, MGU f h̃");
  });

  it("compare: more than three cells wrap into rows of three", async () => {
    const chart = await plot.compare([lstm, gru, mgu, gru], { chart: "lines", names: ["h"] });
    assert.equal(chart.spec.hconcat, undefined);
    assert.equal((chart.spec.concat as unknown[]).length, 4);
    assert.equal(chart.spec.columns, 3);
  });
});
