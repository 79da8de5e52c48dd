import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { parse } from "parse5";
import { PNG } from "pngjs";
import { cell, LSTM, player, plot, setPublisher, view, type DisplayOptions, type MimeBundle } from "../src";
import { PlotFrames } from "../src/view/frames";
import { wave } from "./support/plot";

after(() => setPublisher(undefined));

/** Where a PNG row is red (the cursor #d62728, blended by anti-aliasing): the centroid of red-dominant pixels, or null. */
function redCentre(png: PNG, y: number): number | null {
  let sum = 0;
  let weight = 0;
  for (let x = 0; x < png.width; x++) {
    const o = (y * png.width + x) * 4;
    // Red over both green and blue: the yellow end of a viridis colour legend is not the cursor.
    const score = png.data[o] - Math.max(png.data[o + 1], png.data[o + 2]);
    if (score > 60) {
      sum += x * score;
      weight += score;
    }
  }
  return weight ? sum / weight + 0.5 : null;
}

describe("plot frames", () => {
  it("draw the cursor where vega itself draws it at step t", async () => {
    const trace = cell(LSTM, { inputSize: 2, hiddenSize: 3 }).run(wave(20));
    const chart = await plot.heatmap(trace, { names: ["f"] });
    const frames = await PlotFrames.render(chart, { scale: 1 });
    for (const t of [0, 7, 19]) {
      // Independent reference: vega renders the chart with its cursor at t; find the red rule's pixels.
      const png = PNG.sync.read(await chart.at(t).toPNG({ scale: 1 }));
      const c = frames.template.cursors[0];
      const y = Math.round((c.y1 + c.y2) / 2);
      const red = redCentre(png, y);
      assert.ok(red !== null, `vega drew a cursor at t=${t}`);
      const ours = Number(/<line x1="([\d.]+)"/.exec(frames.svgAt(t))![1]);
      assert.ok(Math.abs(ours - red) <= 1, `t=${t}: ours at x=${ours}, vega's red rule at x=${red}`);
    }
    assert.doesNotMatch(frames.svgAt(null), /<line/);
  });
});

describe("the stepper view", () => {
  it("shows once with a display id, then every move updates that same output in place", async () => {
    const published: { bundle: MimeBundle; options: DisplayOptions }[] = [];
    setPublisher({ display: (bundle, options) => published.push({ bundle, options }), clearOutput: () => {} });
    const s = cell(LSTM, { inputSize: 2, hiddenSize: 4 }).stepper(wave(8));
    const v = view(s, { plots: ["heatmap", "lines"] });
    await v.show();
    assert.equal(published.length, 1);
    assert.equal(published[0].options.id, v.id);
    assert.ok(!published[0].options.update);
    assert.match(published[0].bundle["text/plain"], /before the first step/);
    s.step();
    await v.settled();
    s.seek(5);
    await v.settled();
    s.back();
    await v.settled();
    assert.equal(published.length, 4);
    for (const p of published.slice(1)) assert.deepEqual(p.options, { id: v.id, update: true });
    assert.match(published[3].bundle["text/plain"], /step t = 4 of 0…7/);
    const h = s.trace.value("h", { t: 4 }).map((x) => x.toPrecision(4)).join(", ");
    assert.ok(published[3].bundle["text/plain"].includes(`h = [${h}]`), "live state values of step 4");
    const html = published[3].bundle["text/html"] as string;
    assert.equal(html.match(/<img /g)!.length, 3, "diagram + two plots");
    v.close();
    s.step();
    await v.settled();
    assert.equal(published.length, 4, "closed: no more updates");
  });

  it("coalesces moves made faster than it publishes into one more update at the last step", async () => {
    const published: MimeBundle[] = [];
    setPublisher({ display: (bundle) => published.push(bundle), clearOutput: () => {} });
    const s = cell(LSTM, { inputSize: 2, hiddenSize: 2 }).stepper(wave(10));
    const v = view(s, { plots: ["states"] });
    await v.show();
    s.step();
    s.step();
    s.step();
    s.step();
    await v.settled();
    assert.ok(published.length <= 3, `${published.length} outputs for 4 moves`);
    assert.match(published.at(-1)!["text/plain"], /step t = 3 /);
  });

  it("diagram at step t shows the values of step t (the same trace numbers)", async () => {
    setPublisher(undefined);
    const s = cell(LSTM, { inputSize: 2, hiddenSize: 2 }).stepper(wave(6));
    s.seek(3);
    const bundle = await view(s, { plots: ["heatmap"] }).frame();
    const img = /<img src="data:image\/svg\+xml;base64,([^"]+)"/.exec(bundle["text/html"] as string)!;
    const svg = Buffer.from(img[1], "base64").toString("utf8");
    assert.match(svg, /at t = 3/);
    const x = s.trace.value("x", { t: 3 }).map((v) => v.toFixed(2).replace("-", "−"));
    assert.ok(svg.includes(x.join(", ")), `x[3] = ${x} in the diagram`);
  });
});

/** Every element of a parse5 tree. */
function* elements(node: { childNodes?: unknown[]; nodeName?: string; attrs?: { name: string; value: string }[] }): Generator<{ nodeName: string; attrs: { name: string; value: string }[]; childNodes?: unknown[] }> {
  if (node.attrs) yield node as never;
  for (const child of node.childNodes ?? []) yield* elements(child as never);
}

describe("the player", () => {
  it("moves the heatmap's and the state plot's cursors to the same x at every step (they line up)", async () => {
    const trace = cell(LSTM, { inputSize: 2, hiddenSize: 5 }).run(wave(16));
    const p = await player(trace, { maxFrames: 4 });
    const data = JSON.parse(/<script type="application\/json" class="ap-data">(.*?)<\/script>/s.exec(p.html)![1]) as { plots: { cursors: { x0: number; perStep: number }[] }[] };
    assert.equal(data.plots.length, 2, "heatmap and states");
    const xs = data.plots.flatMap((plot) => plot.cursors.map((c) => [0, 7, 15].map((t) => c.x0 + c.perStep * t)));
    for (const x of xs) assert.deepEqual(x.map((v) => v.toFixed(2)), xs[0].map((v) => v.toFixed(2)));
  });

  it("is one HTML output that parses, loads nothing from the network, and shows step t without scripts", async () => {
    const s = cell(LSTM, { inputSize: 2, hiddenSize: 3 }).stepper(wave(30));
    s.seek(6);
    const p = await player(s, { maxFrames: 10 });
    const html = p.html;
    const doc = parse(html);
    const els = [...elements(doc as never)];
    for (const el of els)
      for (const a of el.attrs) {
        if (a.name === "src" || a.name === "href") {
          assert.doesNotMatch(a.value, /^(https?:)?\/\//i, `external ${a.name} on <${el.nodeName}>`);
          assert.match(a.value, /^data:/, `${a.name} is a data URI`);
        }
      }
    assert.doesNotMatch(html, /(src|href)\s*=\s*["']?(https?:)?\/\//i);
    // Scriptless state: drop the scripts, the images already show the starting step.
    const imgs = els.filter((e) => e.nodeName === "img");
    assert.equal(imgs.length, 3);
    const diagram = Buffer.from(imgs[0].attrs.find((a) => a.name === "src")!.value.split(",")[1], "base64").toString("utf8");
    const steps = JSON.parse(/<script type="application\/json" class="ap-data">(.*?)<\/script>/s.exec(html)![1]).steps as number[];
    const shown = steps.reduce((b, t) => (Math.abs(t - 6) < Math.abs(b - 6) ? t : b));
    assert.match(diagram, new RegExp(`at t = ${shown}<`));
    assert.ok(p.text.includes(`step t = ${shown} of 0…29`));
    const slider = els.find((e) => e.attrs.some((a) => a.name === "class" && a.value === "ap-slider"))!;
    assert.ok(slider.attrs.some((a) => a.name === "disabled"), "slider disabled until the script runs");
    assert.equal(steps.length, 10);
    assert.deepEqual([steps[0], steps.at(-1)], [0, 29]);
  });
});

describe("bad input to the player and the view", () => {
  it("is one named error a plain Node script catches: no second, unhandled rejection ends the process", () => {
    // A child process, as a user's script: an unhandled rejection would end it with exit code 1.
    const script = `
      const { player, view, cell, LSTM } = require(${JSON.stringify(join(__dirname, "..", "src", "index.ts"))});
      const caught = [];
      (async () => {
        const trace = cell(LSTM, { inputSize: 1, hiddenSize: 2 }).run([[0], [1], [0.5]]);
        const attempts = [
          () => player(42),
          () => player(trace, { heatmap: { names: ["nope"] }, states: { names: ["nope"] } }),
          async () => view(42),
          () => view(cell(LSTM, { inputSize: 1, hiddenSize: 2 }).stepper([[0], [1]]), { heatmap: { names: ["nope"] }, states: { names: ["nope"] } }).frame(),
        ];
        for (const attempt of attempts) {
          try { await attempt(); caught.push("no error"); } catch (e) { caught.push(e.name + ": " + e.message); }
        }
        await new Promise((resolve) => setTimeout(resolve, 300));
        console.log(JSON.stringify(caught));
      })();`;
    const run = spawnSync(process.execPath, ["--import", "tsx", "-e", script], { encoding: "utf8", timeout: 120_000 });
    assert.equal(run.status, 0, run.stderr);
    const caught = JSON.parse(run.stdout) as string[];
    assert.match(caught[0], /^ArchlabError: Option source of player\(\) = 42 is not valid: expected a Stepper .* or a Trace/);
    assert.match(caught[1], /^ArchlabError: Unknown trace name "nope" in plot.heatmap/);
    assert.match(caught[2], /^ArchlabError: Option stepper of view\(\) = 42 is not valid: expected a Stepper/);
    assert.match(caught[3], /^ArchlabError: Unknown trace name "nope" in plot.heatmap/);
  });
});
