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

interface SceneNode {
  marktype?: string;
  role?: string;
  text?: string | string[];
  orient?: string;
  items?: SceneNode[];
}

/** Texts of the descendants of `node` whose mark role is `role`. */
function textsOf(node: SceneNode, role: string, out: string[] = []): string[] {
  for (const child of node.items ?? []) {
    if (node.role === role && child.text !== undefined) out.push([child.text].flat().join(" "));
    textsOf(child, role, out);
  }
  return out;
}

/** Per guide (axis with its orient, or legend) of a chart as vega lays it out: its label texts. */
async function guides(chart: Chart): Promise<{ axes: { orient: string; labels: string[] }[]; legends: string[][] }> {
  const [vega, vl] = await Promise.all([import("vega"), import("vega-lite")]);
  const view = new vega.View(vega.parse(vl.compile(chart.spec as never).spec), { renderer: "none" });
  await view.runAsync();
  const axes: { orient: string; labels: string[] }[] = [];
  const legends: string[][] = [];
  const walk = (n: SceneNode) => {
    for (const item of n.items ?? []) {
      if (n.role === "axis") axes.push({ orient: item.orient ?? "", labels: textsOf(item, "axis-label") });
      else if (n.role === "legend") legends.push(textsOf(item, "legend-label"));
      else walk(item);
    }
  };
  walk((view.scenegraph() as unknown as { root: SceneNode }).root);
  view.finalize();
  return { axes, legends };
}

describe("comparisons", () => {
  // GRU and MGU of six units over 16 steps: h spans about −0.5…0.7 and −0.6…0.3 (issue 11: 0–0.5 against −0.5–0.5).
  const { gru: gru6, mgu: mgu6 } = traces(16, 6);
  it("share the y scale of the same name across cells by default; scales: 'independent' gives each its own", async () => {
    const yLabels = async (chart: Chart) => (await guides(chart)).axes.filter((a) => a.orient === "left" && a.labels.length > 0).map((a) => a.labels.join(" "));
    // Label axes only (vega-lite draws grid lines as separate axes without labels).
    const shared = await yLabels(await plot.compare({ GRU: gru6, MGU: mgu6 }, { chart: "states" }));
    const own = await yLabels(await plot.compare({ GRU: gru6, MGU: mgu6 }, { chart: "states", scales: "independent" }));
    assert.equal(shared.length, 2);
    assert.notEqual(own[0], own[1], "the two cells' h ranges differ (or this test could not tell)");
    assert.equal(shared[0], shared[1], "one y scale for h");
    const [lo, hi] = [Math.min(...gru6.raw("h"), ...mgu6.raw("h")), Math.max(...gru6.raw("h"), ...mgu6.raw("h"))];
    const domains = JSON.stringify((await plot.compare({ GRU: gru6, MGU: mgu6 }, { chart: "states" })).spec).match(/"y":\{[^}]*"domain":\[[^\]]*\]/g)!;
    assert.ok(domains.length >= 2);
    for (const d of domains) assert.ok(d.endsWith(`"domain":[${lo},${hi}]`), `${d}: the union of both cells' h, ${lo}…${hi}`);
  });

  it("share the heatmap colour domain of the same name across cells by default", async () => {
    const legends = async (options: object) => (await guides(await plot.compare({ GRU: gru6, MGU: mgu6 }, { chart: "heatmap", names: ["h"], ...options }))).legends.map((l) => l.join(" "));
    const own = await legends({ scales: "independent" });
    const shared = await legends({});
    assert.equal(shared.length, 2);
    assert.notEqual(own[0], own[1], "the two cells' h ranges differ (or this test could not tell)");
    assert.equal(shared[0], shared[1], "one colour domain for h");
  });

  const nine = Object.fromEntries(Array.from({ length: 9 }, (_, k) => [`variant ${k}`, [lstm, gru, mgu][k % 3]]));
  for (const kind of ["heatmap", "lines", "states", "saturation"] as const)
    it(`of nine cells (${kind}) fit a notebook's 900 px as vega lays them out, titles and subtitles in full`, async () => {
      const chart = await plot.compare(nine, { chart: kind });
      const scene = await chart.scene();
      assert.ok(scene.width <= 900, `${kind}: ${scene.width} px wide`);
      const spec = JSON.stringify(chart.spec);
      for (const note of [gru.def.notes.find((n) => /mixing/i.test(n))!, `variant 1 — ${gru.def.title}`]) {
        const words = note.split(" ");
        // Wrapped lines joined give back the whole note.
        const lines = [...spec.matchAll(/"([^"]*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
        const start = lines.findIndex((l) => note.startsWith(l) && l.length > 0 && words[0] === l.split(" ")[0]);
        assert.ok(start >= 0, `${kind}: ${note}`);
        let joined = lines[start];
        for (let k = start + 1; joined.length < note.length && k < lines.length; k++) joined += ` ${lines[k]}`;
        assert.equal(joined, note, `${kind}: the whole text, wrapped`);
      }
    });

  it("a saturation chart of five names sizes its panels to fit 900 px", async () => {
    const chart = await plot.saturation(lstm, { names: ["i", "f", "o", "g", "c"] });
    const width = (await chart.scene()).width;
    assert.ok(width <= 900, `${width} px`);
    await assert.rejects(plot.saturation(lstm, { maxWidth: 0 }), (e: ArchlabError) => e.code === "bad-option" && /maxWidth of plot\.saturation/.test(e.message));
  });

  it("fit a narrower maxWidth by using fewer columns", async () => {
    const chart = await plot.compare(nine, { chart: "lines", maxWidth: 700 });
    assert.ok((await chart.scene()).width <= 700);
    assert.equal(chart.spec.columns, 2);
    await assert.rejects(plot.compare(nine, { maxWidth: -1 }), (e: ArchlabError) => e.code === "bad-option");
    await assert.rejects(plot.compare(nine, { scales: "same" as never }), (e: ArchlabError) => e.code === "bad-option");
  });
});
