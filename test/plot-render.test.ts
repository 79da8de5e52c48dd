/**
 * Charts in JupyterLab 4.6.3's own renderers (test/render/, a real Chromium): wide comparisons fit
 * the notebook's width as the browser lays them out with its fonts, and heatmaps keep their legend.
 *
 * Needs `npm ci --prefix test/render` and Debian's chromium; without them the test is skipped
 * locally and fails under CI=true (as test/render.test.ts).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DISPLAY, plot, type Chart } from "../src";
import type * as RenderModule from "./render/render";
import { traces } from "./support/plot";

const renderDir = join(__dirname, "render");
const chromium = process.env.ARCHLAB_CHROMIUM ?? "/usr/bin/chromium";
const missing = [
  existsSync(join(renderDir, "node_modules", "playwright-core")) ? "" : "npm ci --prefix test/render",
  existsSync(chromium) ? "" : `a Chromium at ${chromium} (apt-get install chromium)`,
].filter(Boolean);
const skip = missing.length > 0 && !process.env.CI ? `needs ${missing.join(" and ")}` : false;

/** A notebook whose code cells each display one chart, as the kernel sends it. */
async function notebookOf(charts: Chart[]): Promise<object> {
  const cells = [];
  for (const [k, chart] of charts.entries())
    cells.push({ cell_type: "code", execution_count: k + 1, metadata: {}, source: `chart ${k}`, outputs: [{ output_type: "display_data", metadata: {}, data: await chart[DISPLAY]() }] });
  return { nbformat: 4, nbformat_minor: 5, metadata: {}, cells };
}

describe("charts in JupyterLab's renderers", { skip }, () => {
  let render: typeof RenderModule;
  let renderer: RenderModule.Renderer;
  const dir = mkdtempSync(join(tmpdir(), "archlab-plot-render-"));
  before(async () => {
    render = await import("./render/render.js");
    renderer = await render.openRenderer();
  });
  after(async () => {
    await renderer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("nine cells compared fit 900 px, every kind; a heatmap draws its legend", async () => {
    const { lstm, gru, mgu } = traces(16, 6);
    const nine = Object.fromEntries(Array.from({ length: 9 }, (_, k) => [`variant ${k}`, [lstm, gru, mgu][k % 3]]));
    const charts = [
      await plot.compare(nine, { chart: "heatmap" }),
      await plot.compare(nine, { chart: "lines" }),
      await plot.compare(nine, { chart: "states" }),
      await plot.compare(nine, { chart: "saturation" }),
      await plot.heatmap(lstm, { names: ["f"] }),
    ];
    const path = join(dir, "charts.ipynb");
    writeFileSync(path, JSON.stringify(await notebookOf(charts)));
    const { outputs, problems } = await renderer.render(path, { trusted: true, screenshots: false });
    assert.deepEqual(problems, []);
    assert.equal(outputs.length, charts.length);
    for (const [k, output] of outputs.entries()) {
      assert.equal(output.shown, "application/vnd.vegalite.v5+json");
      const [chart] = output.charts;
      assert.ok(chart.width > 0 && chart.width <= 900, `chart ${k}: ${chart.width} px wide in the browser`);
      assert.ok(output.width <= 1100, `output ${k} not wider than the page`);
    }
    // The single heatmap: the legend adds its gradient beside the 480 px plot (axis ~60 px, legend ~50 px).
    assert.ok(outputs[4].charts[0].width >= 480 + 60 + 30, `heatmap with its legend: ${outputs[4].charts[0].width} px`);
  });
});
