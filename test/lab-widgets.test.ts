/**
 * Live widgets in a real JupyterLab 4.6.3 (test/lab, with @jupyter-widgets/jupyterlab-manager): a
 * stepper scrubbed from a slider and a play button, and a drop-down choosing the gate of an
 * intervention. Moving the controls in the page moves the kernel's stepper (a later cell prints
 * `s.t`) and changes the view the kernel shows under them.
 *
 * Needs what test/lab.test.ts needs; skipped locally without it, failing under CI=true.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type * as LabModule from './lab/lab';
import { codeNotebook } from './kernel/harness';
import { chromiumPath, kernelCli, labSkip } from './lab/prerequisites';

const artifacts = join(__dirname, 'artifacts', 'lab');
const skip = labSkip();
/** Generous: a kernel start and a first diagram layout on a busy 2-core machine. */
const stepTimeout = 150_000;
const T = 8;

const CELLS = [
  [
    `const xs = Array.from({ length: ${T} }, (_, t) => [Math.sin(t)]);`,
    'const lstm = cell(LSTM, { inputSize: 1, hiddenSize: 3, seed: 1 });',
    'const s = lstm.stepper(xs);',
    'const visited: number[] = [];',
    's.onChange((s) => visited.push(s.t));',
    'widgets.scrub(s, { plots: ["states"], interval: 150 })',
  ].join('\n'),
  // The kernel's stepper: where it is, and the steps it moved to since this cell last ran.
  'console.log(`kernel stepper at t = ${s.t}; visited ${visited.splice(0).join(" ")}`)',
  [
    'const gate = new widgets.Dropdown({ options: ["i", "f", "o"], value: "f", description: "gate" });',
    'const at = new widgets.IntSlider({ max: xs.length - 1, value: 2, description: "held at t" });',
    'const last = (tr: Trace) => tr.value("h", { t: tr.length - 1 }).map((v) => v.toFixed(5)).join(" ");',
    'widgets.interact({ gate, at }, ({ gate, at }) => `h[T-1] with ${gate} = 1 at t = ${at}: ${last(lstm.run(xs, { interventions: [{ node: gate, t: at, value: 1 }] }))}`)',
  ].join('\n'),
  'console.log(`reference: h[T-1] with i = 1 at t = 2: ${last(lstm.run(xs, { interventions: [{ node: "i", t: 2, value: 1 }] }))}`)',
];

describe('live widgets in JupyterLab 4.6.3', { skip, timeout: 8 * stepTimeout }, () => {
  let lab: LabModule.Lab;
  let browser: Browser;
  let page: Page;
  let root: string;

  const codeCell = (n: number) => page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-CodeCell').nth(n - 1);
  const scrubber = () => codeCell(1).locator('.widget-vbox').first();
  const caption = () => scrubber().locator('.archlab-stepper figcaption');
  const shot = (name: string) => page.screenshot({ path: join(artifacts, `widgets-${name}.png`) });

  /** Lab's menus: click the menu bar item, then the item in the menu. */
  async function menu(top: string, item: RegExp) {
    await page.locator('.lm-MenuBar-item', { hasText: new RegExp(`^${top}$`) }).click();
    await page.locator('.lm-Menu-item:visible', { hasText: item }).first().click();
  }

  /** Runs code cell n (selected by its prompt, then Run ▸ Run Selected Cell), waits for its new execution count, returns its output showing `text`. */
  async function runCell(n: number, text: string | RegExp): Promise<string> {
    const prompt = codeCell(n).locator('.jp-InputPrompt');
    const before = (await prompt.innerText()).trim();
    // While the player plays, cell 1's output re-renders and can move cell n under the pointer
    // between Playwright's stability check and its click: click until cell n is the active cell,
    // so that "Run Selected Cell" runs cell n and not its neighbour.
    for (let attempt = 0; ; attempt++) {
      await prompt.click();
      if (await codeCell(n).evaluate((el) => el.classList.contains('jp-mod-active'))) break;
      if (attempt === 10) throw new Error(`cell ${n} did not become the active cell after 10 clicks on its prompt`);
    }
    await menu('Run', /^Run Selected Cell/);
    await codeCell(n).locator('.jp-InputPrompt', { hasText: /\[\d+\]/, hasNotText: before }).waitFor();
    const output = codeCell(n).locator('.jp-OutputArea-output', { hasText: text }).first();
    await output.waitFor();
    return (await output.innerText()).trim();
  }

  /** Waits until the notebook's kernel is idle with Lab connected (the page's indicator says idle before a kernel exists). */
  async function kernelReady(): Promise<void> {
    await page.waitForFunction(
      async (url) => {
        const sessions = (await (await fetch(url)).json()) as { kernel: { execution_state: string; connections: number } }[];
        return sessions.some((s) => s.kernel.execution_state === 'idle' && s.kernel.connections >= 1);
      },
      lab.url('/api/sessions'),
      { polling: 500, timeout: stepTimeout },
    );
  }

  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    const { installKernel, launchChromium, startLab } = await import('./lab/lab.js');
    root = mkdtempSync(join(tmpdir(), 'archlab-lab-widgets-'));
    writeFileSync(join(root, 'widgets.ipynb'), JSON.stringify(codeNotebook(CELLS, 'code')));
    lab = await startLab({ root, kernelPrefix: installKernel(root, kernelCli) });
    browser = await launchChromium(chromiumPath);
    page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    page.setDefaultTimeout(stepTimeout);
  });

  after(async () => {
    if (page) await shot('last').catch(() => undefined);
    await browser?.close();
    await lab?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test('the scrubber renders as widgets: play buttons, a slider at step 0, the view of step 0 below', async () => {
    await page.goto(lab.url('/lab/tree/widgets.ipynb'));
    await kernelReady();
    await runCell(1, /step t = 0 of 0…7/);
    await scrubber().locator('.widget-slider .noUi-handle').waitFor();
    assert.equal((await scrubber().locator('.widget-readout').innerText()).trim(), '0');
    assert.equal(await scrubber().locator('.widget-play button').count() >= 3, true, 'play, pause, stop');
    const width = await scrubber().locator('.archlab-stepper img').first().evaluate(async (img: HTMLImageElement) => (await img.decode(), img.naturalWidth));
    assert.ok(width > 100, `the diagram decoded (${width} px wide)`);
    assert.equal(await codeCell(1).locator('.jp-OutputArea-output', { hasText: 'Error' }).count(), 0);
    await shot('scrub-start');
  });

  test('moving the slider moves the kernel-side stepper and the view shows that step', async () => {
    /** A click on the slider's track at step t (the handle jumps there, as a person's click moves it). */
    const clickAt = async (t: number) => {
      await scrubber().locator('.widget-slider').scrollIntoViewIfNeeded();
      const box = (await scrubber().locator('.widget-slider .noUi-base').boundingBox())!;
      await page.mouse.click(box.x + Math.min((box.width * t) / (T - 1), box.width - 2), box.y + box.height / 2);
    };
    await clickAt(3);
    await caption().filter({ hasText: 'step t = 3 of 0…7' }).waitFor();
    assert.equal((await scrubber().locator('.widget-readout').innerText()).trim(), '3');
    assert.equal(await runCell(2, 'kernel stepper at'), 'kernel stepper at t = 3; visited 0 3');
    await clickAt(T - 1);
    await caption().filter({ hasText: 'step t = 7 of 0…7' }).waitFor();
    assert.equal(await runCell(2, 'kernel stepper at t = 7'), 'kernel stepper at t = 7; visited 7');
    await shot('scrub-moved');
  });

  test('the play button steps the slider (jslink in the browser), and the steps reach the kernel', async () => {
    const play = scrubber().locator('.widget-play');
    await play.locator('button:has(.fa-stop)').click(); // stop: back to the first step
    await caption().filter({ hasText: 'step t = 0 of 0…7' }).waitFor();
    assert.match(await runCell(2, 'kernel stepper at t = 0'), /^kernel stepper at t = 0; visited .*0$/);
    await play.locator('button:has(.fa-play)').click();
    // The kernel hears the steps as the page plays them (coalesced while it is busy): read its
    // stepper until it is back at the end; no timing is asserted.
    const visited: number[] = [];
    for (let attempt = 0; attempt < 20 && visited.at(-1) !== T - 1; attempt++) {
      const line = await runCell(2, 'kernel stepper at');
      visited.push(...line.replace(/.*visited ?/, '').split(' ').filter(Boolean).map(Number));
    }
    assert.ok(visited[0] > 0, `play moved on from 0 (visited ${visited.join(' ')})`);
    assert.equal(visited.at(-1), T - 1, `and played to the end (visited ${visited.join(' ')})`);
    assert.ok(new Set(visited).size >= 2, `the kernel heard a step on the way, not only the end (visited ${visited.join(' ')})`);
    assert.deepEqual(visited, [...visited].sort((a, b) => a - b), 'in order');
    await caption().filter({ hasText: `step t = ${T - 1} of 0…7` }).waitFor();
    await shot('scrub-played');
  });

  test('a drop-down and a slider choose the gate and step of an intervention; the kernel recomputes', async () => {
    await runCell(3, 'h[T-1] with f = 1 at t = 2');
    const reference = (await runCell(4, 'reference')).replace('reference: ', '');
    await codeCell(3).locator('.widget-dropdown select').selectOption('i');
    const shown = await codeCell(3).locator('.widget-output', { hasText: 'with i = 1' }).innerText();
    assert.equal(shown.trim(), reference, 'the widget output equals the same run computed in a cell');
    await shot('intervention');
  });
});
