import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "parse5";
import { PNG } from "pngjs";

/** Runs test/support/png-child.ts in its own process; a crash there fails the test with its stderr. */
function child(args: string[], input = ""): Record<string, unknown> {
  const run = spawnSync(process.execPath, ["--import", "tsx", join(__dirname, "support", "png-child.ts"), ...args], { input, maxBuffer: 2 ** 30, timeout: 600_000 });
  assert.equal(run.signal, null, `the child was killed by ${run.signal}:\n${run.stderr}`);
  assert.equal(run.status, 0, `the child failed:\n${run.stderr}`);
  return JSON.parse(run.stdout.toString());
}

/** The `src` of every `<img>` in HTML, read by a real HTML parser. */
function imageSources(html: string): string[] {
  const found: string[] = [];
  const walk = (node: { nodeName?: string; attrs?: { name: string; value: string }[]; childNodes?: unknown[] }) => {
    if (node.nodeName === "img") found.push(node.attrs!.find((a) => a.name === "src")!.value);
    for (const c of node.childNodes ?? []) walk(c as never);
  };
  walk(parse(html) as never);
  return found;
}

/** A plot frame (an SVG data URI holding the chart's PNG): its declared size and the PNG decoded by pngjs. */
function plotFrame(src: string): { width: number; height: number; png: PNG } {
  const svg = Buffer.from(src.split(",")[1], "base64").toString("utf8");
  const [, width, height] = /^<svg[^>]* width="([\d.]+)" height="([\d.]+)"/.exec(svg)!.map(Number);
  const png = PNG.sync.read(Buffer.from(/href="data:image\/png;base64,([^"]+)"/.exec(svg)![1], "base64"));
  return { width, height, png };
}

/** The share of a PNG's pixels that are not white. */
function inked(png: PNG): number {
  let n = 0;
  for (let o = 0; o < png.data.length; o += 4) if (png.data[o] + png.data[o + 1] + png.data[o + 2] < 720) n++;
  return n / (png.width * png.height);
}

/** Checks the plots of a player or view: a PNG each, of the frame's size, with a chart drawn in it. */
function assertPlots(plots: string[]): void {
  for (const src of plots) {
    const { width, height, png } = plotFrame(src);
    assert.deepEqual([png.width, png.height], [Math.round(width), Math.round(height)], "PNG size = the frame's size (scale 1)");
    assert.ok(width > 300 && height > 80, `a real chart, ${width} × ${height}`);
    assert.ok(inked(png) > 0.05, `a chart is drawn (${(inked(png) * 100).toFixed(1)}% of the pixels)`);
  }
}

describe("long sequences render (resvg once aborted the kernel from ~170 steps on)", () => {
  it("a player of 1 000 steps has its diagram and both plots as PNG frames", { timeout: 600_000 }, () => {
    const { html } = child(["player", "1000"]) as { html: string };
    const [diagram, ...plots] = imageSources(html);
    assert.match(Buffer.from(diagram.split(",")[1], "base64").toString("utf8"), /<svg[^>]*>[^]*at t = 0</);
    assert.equal(plots.length, 2, "heatmap and states");
    assertPlots(plots);
    assert.match(html, /step t = 0 of 0…999 \(40 frames\)/);
  });

  it("a view at step 999 of 1 000 shows the cursor rule at that step over both plots", { timeout: 600_000 }, () => {
    const { html } = child(["view", "1000"]) as { html: string };
    const [, ...plots] = imageSources(html);
    assert.equal(plots.length, 2);
    assertPlots(plots);
    for (const src of plots) {
      const svg = Buffer.from(src.split(",")[1], "base64").toString("utf8");
      const { width } = plotFrame(src);
      const x = Number(/<line x1="([\d.]+)"/.exec(svg)![1]);
      assert.ok(x > width / 2 && x < width, `the cursor of step 999 is at the right of the plot (x = ${x} of ${width})`);
    }
    assert.match(html, /step t = 999 of 0…999/);
  });
});

const NS = 'xmlns="http://www.w3.org/2000/svg"';
const square = (attrs: string, body = '<rect width="5" height="5"/>') => `<svg ${NS} ${attrs}>${body}</svg>`;

describe("svgToPng never aborts the process", () => {
  const rendered = (svg: string, scale = 1) => child(["svg", String(scale)], svg) as { png?: string; error?: { name: string; code: string; message: string } };
  const refused = (svg: string, code: string, message: RegExp, scale = 1) => {
    const { png, error } = rendered(svg, scale);
    assert.equal(png, undefined, "no PNG");
    assert.equal(error?.name, "ArchlabError");
    assert.equal(error?.code, code);
    assert.match(error!.message, message);
  };
  const size = (svg: string, scale = 1) => {
    const { png, error } = rendered(svg, scale);
    assert.equal(error, undefined, error?.message);
    const image = PNG.sync.read(Buffer.from(png!, "base64"));
    return [image.width, image.height];
  };

  it("refuses PNGs too big to allocate, naming the size and what to do", { timeout: 120_000 }, () => {
    refused(square('width="1e9" height="1e9"'), "bad-svg", /1000000000 × 1000000000 pixels .* over the limit .* Lower the scale/);
    refused(square('width="100000" height="100000"'), "bad-svg", /over the limit/);
    refused(square('viewBox="0 0 1e9 1e9"'), "bad-svg", /over the limit/);
    refused(square('width="1e30" height="10"'), "bad-svg", /over the limit/);
    refused(square('width="10" height="10"'), "bad-svg", /at scale 1000000000, over the limit/, 1e9);
  });

  it("refuses SVGs with no pixels and markup that is not SVG", { timeout: 120_000 }, () => {
    refused(square('width="0" height="0"'), "bad-svg", /invalid size/);
    refused(square('width="-5" height="10"'), "bad-svg", /invalid size/);
    refused(square('width="0.1" height="0.1"'), "bad-svg", /Target size is zero/);
    refused(square('width="10" height="10"'), "bad-svg", /Target size is zero/, 1e-9);
    refused("not svg", "bad-svg", /parsing failed/);
  });

  it("renders what resvg can, at the size it declares", { timeout: 120_000 }, () => {
    assert.deepEqual(size(square('width="40" height="30"'), 2), [80, 60]);
    // An unusable width is ignored as browsers do: the picture takes the content's size.
    assert.deepEqual(size(square('width="NaN" height="Infinity"')), [5, 5]);
    // Content far outside the picture, on no layer of its own: resvg copes (rendered apart, to be sure).
    assert.deepEqual(size(`<svg ${NS} width="100" height="100"><rect x="5000" width="50" height="50"/><rect width="10" height="10"/></svg>`), [100, 100]);
  });

  it("turns resvg's crash on a layered group entirely outside the picture into a named error", { timeout: 120_000 }, () => {
    const outside = [
      // The player's old hidden cursor: a clipped rule moved 1.8e9 px left.
      `<svg ${NS} width="479" height="331"><defs><clipPath id="c"><rect width="360" height="90"/></clipPath></defs><g clip-path="url(#c)"><line transform="translate(-1809045226.13,0)" x2="0" y2="90" stroke="#d62728"/></g></svg>`,
      `<svg ${NS} width="100" height="100"><g opacity=".5"><rect x="5000" width="50" height="50"/></g><rect width="10" height="10"/></svg>`,
      `<svg ${NS} width="100" height="100"><defs><mask id="m"><g opacity="0.5"><rect x="5000" width="50" height="50" fill="white"/></g></mask></defs><rect mask="url(#m)" width="50" height="50"/></svg>`,
      `<svg ${NS} width="100" height="100"><defs><pattern id="p" width="10" height="10" patternUnits="userSpaceOnUse"><g opacity="0.5"><rect x="5000" width="5" height="5"/></g></pattern></defs><rect fill="url(#p)" width="50" height="50"/></svg>`,
      `<svg ${NS} width="100" height="100"><defs><filter id="f" filterUnits="userSpaceOnUse" x="5000" y="0" width="10" height="10"><feGaussianBlur stdDeviation="2"/></filter></defs><rect filter="url(#f)" width="50" height="50"/></svg>`,
    ];
    for (const svg of outside) refused(svg, "render-failed", /resvg, the rasteriser, crashed .*entirely outside the picture/);
  });
});
