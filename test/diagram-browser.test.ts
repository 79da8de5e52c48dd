/**
 * Diagrams as a browser draws them: in Chromium (with Debian's DejaVu Sans, the font the SVG names
 * first), every text of every node lies inside its box and the caption inside the picture —
 * measured by the browser's own `getBBox()`, independently of resvg.
 *
 * Needs Debian's chromium and playwright-core (a dependency of the render check); without them the
 * test is skipped locally and fails under CI=true, as the render check does.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { BUILTIN_CELLS, LSTM, MGU } from "../src/cells";
import { diagram } from "../src/diagram";
import { MyRNN } from "./support/readme-cell";

const chromium = process.env.ARCHLAB_CHROMIUM ?? "/usr/bin/chromium";
const skip = !existsSync(chromium) && !process.env.CI ? `needs a Chromium at ${chromium}` : false;

/**
 * Texts that stick out of their node's shape, or out of the SVG, as Chromium lays them out. Plain
 * JavaScript run in the page (a string: the test runner's transpiler would add helpers to a function).
 */
const OVERFLOWS = `(() => {
  const svg = document.querySelector("svg");
  const out = [];
  const within = (a, b) => a.x >= b.x - 0.5 && a.y >= b.y - 0.5 && a.right <= b.right + 0.5 && a.bottom <= b.bottom + 0.5;
  for (const node of svg.querySelectorAll("g.node")) {
    const shape = node.querySelector("polygon, path").getBoundingClientRect();
    for (const t of node.querySelectorAll("text"))
      if (!within(t.getBoundingClientRect(), shape)) out.push(node.querySelector("title").textContent + ': "' + t.textContent + '"');
  }
  const whole = svg.getBoundingClientRect();
  for (const t of svg.querySelectorAll("g.graph > text")) if (!within(t.getBoundingClientRect(), whole)) out.push('caption: "' + t.textContent + '"');
  return out;
})()`;

describe("diagrams in a browser", { skip }, () => {
  let browser: Browser;
  let page: Page;
  before(async () => {
    const { chromium: launcher } = await import("playwright-core");
    browser = await launcher.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
    page = await browser.newPage();
  });
  after(async () => browser?.close());

  for (const def of [LSTM, MGU, BUILTIN_CELLS.GRU_RESET_AFTER, BUILTIN_CELLS.PEEPHOLE_LSTM, MyRNN]) {
    it(`${def.name}: every text stays inside its box, and the caption inside the picture`, async () => {
      await page.setContent(`<!doctype html><body style="margin:0">${await diagram(def).toSvg()}</body>`);
      await page.evaluate(`document.fonts.ready.then(() => true)`);
      const family = await page.evaluate(`getComputedStyle(document.querySelector("g.node text")).fontFamily`);
      assert.match(String(family), /^"?DejaVu Sans"?,/);
      assert.deepEqual(await page.evaluate(OVERFLOWS), []);
    });
  }
});
