/**
 * The player inside a real JupyterLab 4.6.3 (kernel/lab): run on the archlab kernel, its output is
 * trusted and its script runs; its buttons move t, and with the player focused the arrow keys and
 * space work — JupyterLab's own keyboard shortcuts (command mode) neither take the keys first nor
 * act on them as well.
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

const artifacts = join(__dirname, 'artifacts', 'lab');const skip = labSkip();
const stepTimeout = 90_000;

const CELLS = [
  [
    'const lstm = cell(LSTM, { inputSize: 3, hiddenSize: 4, seed: 1 });',
    'const xs = Array.from({ length: 20 }, (_, t) => [Math.sin(t / 3), Math.cos(t / 3), t % 5 === 0 ? 1 : 0]);',
    'await player(lstm.run(xs))',
  ].join('\n'),
  '1 + 1',
];

describe('the player in JupyterLab 4.6.3', { skip, timeout: 5 * stepTimeout }, () => {
  let lab: LabModule.Lab;
  let browser: Browser;
  let page: Page;
  let root: string;

  const notebook = () => page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  const player = () => notebook().locator('.archlab-player');
  const t = async () => Number(await player().getAttribute('data-t'));
  /** Index of Lab's active cell: moving it is what Lab's command-mode arrow shortcuts do. */
  const activeCell = () => notebook().evaluate((nb) => Array.from(nb.querySelectorAll('.jp-Cell')).findIndex((c) => c.classList.contains('jp-mod-active')));

  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    const { installKernel, launchChromium, startLab } = await import('./lab/lab.js');
    root = mkdtempSync(join(tmpdir(), 'archlab-lab-player-'));
    writeFileSync(join(root, 'player.ipynb'), JSON.stringify(codeNotebook(CELLS, 'code')));
    lab = await startLab({ root, kernelPrefix: installKernel(root, kernelCli) });
    browser = await launchChromium(chromiumPath);
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.setDefaultTimeout(stepTimeout);
  });

  after(async () => {
    if (page) await page.screenshot({ path: join(artifacts, 'player-last.png') }).catch(() => undefined);
    await browser?.close();
    await lab?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test('runs, and the player script is live: controls enabled, the scriptless note gone', async () => {
    await page.goto(lab.url('/lab/tree/player.ipynb'));
    await page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').first().waitFor();
    await page.locator('.lm-MenuBar-item', { hasText: /^Run$/ }).click();
    await page.locator('.lm-Menu-item:visible', { hasText: /^Run All Cells/ }).first().click();
    await player().locator('.ap-forward:not([disabled])').waitFor();
    assert.equal(await player().locator('.ap-note').count(), 0);
    assert.equal(await t(), 0);
  });

  test('buttons, arrow keys and space move t; Lab does not act on those keys', async () => {
    await player().locator('.ap-forward').click();
    assert.equal(await t(), 1);
    await player().locator('.ap-back').click();
    assert.equal(await t(), 0);
    const active = await activeCell();
    await player().locator('.ap-t').click(); // a click in the output: focus goes to the player, as a user's would
    await player().focus();
    for (const key of ['ArrowRight', 'ArrowRight', 'ArrowRight', 'ArrowLeft']) await page.keyboard.press(key);
    assert.equal(await t(), 2);
    assert.equal(await activeCell(), active, "Lab's active cell did not move");
    await page.keyboard.press(' ');
    await page.waitForFunction((el) => Number(el!.getAttribute('data-t')) >= 5, await player().elementHandle());
    await page.keyboard.press(' ');
    const paused = await t();
    await page.waitForTimeout(800);
    assert.equal(await t(), paused, 'space paused it');
    assert.equal(await activeCell(), active);
    assert.equal(await page.locator('.jp-Notebook.jp-mod-editMode').count(), 0, 'no cell went into edit mode');
  });
});
