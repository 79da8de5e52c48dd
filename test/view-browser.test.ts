/**
 * The player and the stepper view in a real browser, inside JupyterLab 4.6.3's own output renderers
 * (test/render): trusted, the player's buttons, slider and keys move t, and the keys it handles do
 * not reach JupyterLab's document-level shortcuts; untrusted (no scripts), it is a still frame that
 * says so. In both, the diagram's smallest text is readable at a notebook's width (~1000 px).
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Locator, Page } from "playwright-core";
import { cell, format, LSTM, player, view } from "../src";
import { MIN_TEXT_PX } from "../src/view/layout";
import type * as RenderModule from "./render/render";

const dir = mkdtempSync(join(tmpdir(), "archlab-view-browser-"));
const notebook = join(dir, "views.ipynb");
/** Where the screenshots go (look at them: the layout at a notebook's width). */
const screenshots = join(__dirname, "artifacts", "view-browser");

/** The smallest text of the diagram `img` as drawn, in CSS px: its SVG's smallest font-size × (drawn width / viewBox width). */
function smallestTextPx(img: Locator): Promise<number> {
  return img.evaluate((el: HTMLImageElement) => {
    const base64 = el.src.slice(el.src.indexOf(",") + 1);
    const text = new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
    const svg = new DOMParser().parseFromString(text, "image/svg+xml").documentElement as unknown as SVGSVGElement;
    const fonts = Array.from(svg.querySelectorAll("[font-size]")).map((e) => parseFloat(e.getAttribute("font-size")!));
    return (Math.min(...fonts) * el.getBoundingClientRect().width) / svg.viewBox.baseVal.width;
  });
}

/** The step the diagram `img` shows ("at t = …" in its SVG). */
function diagramStep(img: Locator): Promise<number> {
  return img.evaluate((el: HTMLImageElement) => {
    const text = new TextDecoder().decode(Uint8Array.from(atob(el.src.slice(el.src.indexOf(",") + 1)), (c) => c.charCodeAt(0)));
    return Number(/at t = (\d+)</.exec(text)?.[1] ?? NaN);
  });
}

before(async () => {
  const lstm = cell(LSTM, { inputSize: 3, hiddenSize: 4, seed: 1 });
  const xs = Array.from({ length: 20 }, (_, t) => [Math.sin(t / 3), Math.cos(t / 3), t % 5 === 0 ? 1 : 0]);
  const trace = lstm.run(xs);
  const outputs = [await view(lstm.stepper(xs)).frame(5), await format(await player(trace)), await format(await player(trace, { t: 6 }))];
  const cells = outputs.map((data, i) => ({
    cell_type: "code",
    id: `view-${i}`,
    metadata: {},
    execution_count: i + 1,
    source: ["view(s) at t = 5", "await player(trace)", "await player(trace, { t: 6 })"][i],
    outputs: [{ output_type: "display_data", data, metadata: {} }],
  }));
  writeFileSync(notebook, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells }));
});

describe("the player and the stepper view in JupyterLab's renderers", () => {
  let renderer: RenderModule.Renderer;
  before(async () => {
    const render: typeof RenderModule = await import("./render/render.js");
    renderer = await render.openRenderer();
  });
  after(async () => renderer?.close());

  test("trusted: step buttons, play/pause, the slider and arrow keys move t; the diagram's text stays readable", async () => {
    const checks = async (page: Page) => {
      const root = page.locator(".archlab-player").first();
      const t = async () => Number(await root.getAttribute("data-t"));
      const readout = root.locator(".ap-t");
      const diagram = root.locator(".ap-diagram");
      assert.equal(await root.locator(".ap-note").count(), 0, "the scriptless note is gone");
      assert.equal(await t(), 0);

      await root.locator(".ap-forward").click();
      assert.equal(await t(), 1);
      assert.equal(await readout.textContent(), "t = 1");
      assert.equal(await diagramStep(diagram), 1, "the diagram shows step 1");
      await root.locator(".ap-back").click();
      await root.locator(".ap-back").click();
      assert.equal(await t(), 0, "back stops at the first step");

      // Keys, with JupyterLab's shortcuts listening on the document (Lab 4 handles keydown as it bubbles).
      await page.evaluate(() => {
        (window as unknown as { seen: string[] }).seen = [];
        document.addEventListener("keydown", (e) => (window as unknown as { seen: string[] }).seen.push(e.key));
      });
      await root.focus();
      for (const key of ["ArrowRight", "ArrowRight", "ArrowRight", "ArrowLeft"]) await page.keyboard.press(key);
      assert.equal(await t(), 2);
      assert.equal(await diagramStep(diagram), 2);
      await page.keyboard.press("End");
      assert.equal(await t(), 19);
      await page.keyboard.press("Home");
      assert.equal(await t(), 0);
      assert.deepEqual(await page.evaluate(() => (window as unknown as { seen: string[] }).seen), [], "handled keys stop at the player");
      const slider = root.locator(".ap-slider");
      await slider.focus();
      await page.keyboard.press("ArrowRight");
      assert.equal(await t(), 1, "the slider's own arrow key moves one step, not two");

      // Play and pause: space on the player, then the button.
      await root.focus();
      await page.keyboard.press(" ");
      await page.waitForFunction((el) => Number(el!.getAttribute("data-t")) >= 4, await root.elementHandle(), { timeout: 20_000 });
      await page.keyboard.press(" ");
      const paused = await t();
      await page.waitForTimeout(1000);
      assert.equal(await t(), paused, "paused");
      await root.locator(".ap-play").click();
      await page.waitForFunction(([el, from]) => Number((el as Element).getAttribute("data-t")) > (from as number), [await root.elementHandle(), paused] as const, { timeout: 20_000 });
      assert.equal(await root.locator(".ap-play").getAttribute("aria-pressed"), "true");
      await root.locator(".ap-play").click();
      assert.equal(await root.locator(".ap-play").getAttribute("aria-pressed"), "false");
      await root.locator(".ap-forward").click();
      await page.keyboard.press("Home");

      // The diagram at a notebook's width: readable text; a click zooms it to 1.5× and back.
      const fitted = (await diagram.boundingBox())!.width;
      assert.ok((await smallestTextPx(diagram)) >= MIN_TEXT_PX - 0.1, `player diagram text ${await smallestTextPx(diagram)} px`);
      await diagram.click();
      assert.equal(Math.round((await diagram.boundingBox())!.width), Math.round(1.5 * Number(await diagram.getAttribute("data-width"))));
      await diagram.click();
      assert.equal((await diagram.boundingBox())!.width, fitted);
      const stepperDiagram = page.locator(".archlab-stepper img").first();
      const text = await smallestTextPx(stepperDiagram);
      assert.ok(text >= MIN_TEXT_PX - 0.1, `stepper view diagram text ${text} px`);
    };
    const result = await renderer.render(notebook, { trusted: true, screenshots, interact: checks });
    assert.deepEqual(result.problems, []);
  });

  test("untrusted: a still frame at its step, controls disabled, a note saying why; the diagram's text readable", async () => {
    const checks = async (page: Page) => {
      const still = page.locator(".archlab-player").nth(1);
      assert.equal(await still.locator(".ap-t").textContent(), "t = 6");
      assert.match((await still.locator(".ap-note").textContent())!, /still frame at t = 6: scripts are off here \(trust the notebook to play\)/);
      for (const control of [".ap-back", ".ap-play", ".ap-forward", ".ap-slider"]) assert.ok(await still.locator(control).isDisabled(), `${control} is disabled`);
      const diagram = still.locator("img").first();
      assert.equal(await diagramStep(diagram), 6);
      assert.ok((await smallestTextPx(diagram)) >= MIN_TEXT_PX - 0.1, `player diagram text ${await smallestTextPx(diagram)} px`);
      assert.ok((await smallestTextPx(page.locator(".jp-OutputArea-output img").first())) >= MIN_TEXT_PX - 0.1, "stepper view diagram text");
    };
    const result = await renderer.render(notebook, { trusted: false, screenshots, interact: checks });
    assert.deepEqual(result.problems, []);
  });
});
