/**
 * `archlab start --no-browser --port N` on a machine without `jupyter lab` (Debian 12 has none):
 * it serves archlab's own JupyterLab 4.6.3 on Debian's jupyter-server, with the archlab kernel, and
 * the project's notebooks open trusted. Driven in Chromium as a person would: open a notebook from
 * the file browser, clear its outputs, run it, and see an interactive Vega-Lite chart (vega-embed's
 * canvas or svg, not the static PNG fallback).
 *
 * The JupyterLab is the one in archlab's cache that every JupyterLab test uses: scripts/test.sh
 * fills it with `archlab install-lab`, the code a first start runs; when it is missing, this test's
 * start is the first start and installs it (minutes, once). The notebooks are copies in a temporary
 * folder, so running them never touches the repository's; Jupyter's data and config folders are
 * temporary too (the kernel spec and the trust database land there).
 *
 * Needs Debian's chromium, jupyter-server and jupyterlab-server, and `npm run build`; skipped
 * locally without them, failing under CI=true.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startText } from '../kernel/messages';
import { chromiumPath, kernelCli, labSkip, repo } from './lab/prerequisites';

const artifacts = join(__dirname, 'artifacts', 'lab');
const skip = labSkip({ lab: false });
/** Generous: a first start installs JupyterLab; on a busy 2-core machine a kernel start has taken 18 s. */
const firstStartTimeout = 20 * 60_000;
const stepTimeout = 180_000;
const notebook = '01-first-rnn.ipynb';

/** PATH without the folders that have a `jupyter-lab`, so start must use archlab's own JupyterLab. */
const pathWithoutJupyterLab = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir && !existsSync(join(dir, 'jupyter-lab'))).join(delimiter);

describe('`archlab start` without `jupyter lab`: archlab\'s own JupyterLab', { skip, timeout: firstStartTimeout + 6 * stepTimeout }, () => {
  let tmp: string;
  let root: string;
  let start: ChildProcess;
  let output = '';
  let url: URL;
  let browser: Browser;
  let page: Page;

  const api = (path: string) => new URL(`${path}?token=${url.searchParams.get('token')}`, url).href;
  const panel = () => page.locator('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const codeCells = () => panel().locator('.jp-Notebook .jp-CodeCell');
  const shot = (name: string) => page.screenshot({ path: join(artifacts, `start-${name}.png`) });

  async function menu(top: string, item: string) {
    await page.locator('.lm-MenuBar-item', { hasText: new RegExp(`^${top}$`) }).click();
    await page.locator('.lm-Menu-item:visible', { hasText: new RegExp(`^${item}`) }).first().click();
  }

  /** Until the server has the notebook's kernel idle with Lab connected (the page says "idle" before a kernel exists). */
  async function kernelReady(): Promise<void> {
    const deadline = Date.now() + stepTimeout;
    let seen: unknown;
    while (Date.now() < deadline) {
      const sessions = (await (await fetch(api('/api/sessions'))).json()) as { path: string; kernel: { name: string; execution_state: string; connections: number } }[];
      seen = sessions.find((s) => s.path === notebook)?.kernel;
      const kernel = seen as { name?: string; execution_state?: string; connections?: number } | undefined;
      if (kernel?.execution_state === 'idle' && (kernel.connections ?? 0) >= 1) {
        assert.equal(kernel.name, 'archlab', 'the notebook runs on the archlab kernel');
        return;
      }
      await new Promise((done) => setTimeout(done, 500));
    }
    throw new Error(`the kernel was not idle with Lab connected within ${stepTimeout / 1000} s (last seen ${JSON.stringify(seen)})\n${output.slice(-3000)}`);
  }

  /** The trust indicator in Lab's status bar: its tooltip says "Notebook trusted: …" or "Notebook not trusted: …". */
  const trust = () => page.locator('.jp-StatusItem-trust').first().getAttribute('title');

  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    tmp = mkdtempSync(join(tmpdir(), 'archlab-start-'));
    root = join(tmp, 'notebooks');
    mkdirSync(root);
    for (const name of readdirSync(join(repo, 'notebooks')).filter((f) => f.endsWith('.ipynb'))) copyFileSync(join(repo, 'notebooks', name), join(root, name));
    const { JUPYTER_PATH: _, ...inherited } = process.env;
    const env = {
      ...inherited,
      PATH: pathWithoutJupyterLab,
      JUPYTER_NO_CONFIG: '1',
      JUPYTER_CONFIG_DIR: join(tmp, 'config'),
      JUPYTER_DATA_DIR: join(tmp, 'data'),
      JUPYTER_RUNTIME_DIR: join(tmp, 'runtime'),
    };
    const { launchChromium } = await import('./lab/lab.js');
    const { freePort } = await import('./support/free-port.js');
    const port = await freePort();
    const started = Date.now();
    start = spawn(process.execPath, [kernelCli, 'start', '--no-browser', '--port', String(port), '--dir', root], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    start.stdout!.on('data', (chunk) => (output += chunk));
    start.stderr!.on('data', (chunk) => (output += chunk));
    const printed = new RegExp(`http://127\\.0\\.0\\.1:${port}/lab\\?token=[0-9a-f]+`);
    while (!printed.test(output)) {
      if (start.exitCode !== null) throw new Error(`archlab start exited (${start.exitCode}):\n${output}`);
      if (Date.now() - started > firstStartTimeout) throw new Error(`archlab start printed no URL within ${firstStartTimeout / 1000} s:\n${output}`);
      await new Promise((done) => setTimeout(done, 250));
    }
    url = new URL(printed.exec(output)![0]);
    const firstStart = output.includes(startText.labBuilding);
    console.log(`archlab start: ${firstStart ? 'first start (installed and built JupyterLab)' : 'JupyterLab from the cache'}, URL printed after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    browser = await launchChromium(chromiumPath);
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.setDefaultTimeout(stepTimeout);
  });

  after(async () => {
    if (page) await shot('last').catch(() => undefined);
    await browser?.close();
    if (start?.exitCode === null) {
      const exited = new Promise((done) => start.once('exit', done));
      start.kill('SIGTERM'); // archlab start passes it on to the Jupyter server, which stops its kernels
      const killed = setTimeout(() => process.kill(-start.pid!, 'SIGKILL'), 20_000);
      await exited;
      clearTimeout(killed);
    }
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('serves JupyterLab on the archlab kernel and the notebooks folder, and prints the tokened URL', async () => {
    assert.ok(output.includes(startText.opening('JupyterLab', root)), output);
    assert.equal(url.pathname, '/lab');
    const specs = (await (await fetch(api('/api/kernelspecs'))).json()) as { kernelspecs: Record<string, unknown> };
    assert.ok('archlab' in specs.kernelspecs, `the archlab kernel is available: ${Object.keys(specs.kernelspecs)}`);
    const contents = (await (await fetch(api('/api/contents'))).json()) as { content: { name: string }[] };
    assert.ok(contents.content.some((c) => c.name === notebook), 'the notebooks are served');
    assert.equal((await fetch(new URL('/api/contents', url))).status, 403, 'without the token the server refuses');
  });

  test('opens a project notebook trusted: the server marks its cells trusted, Lab shows no "Not Trusted"', async () => {
    // Jupyter's own notary, through the server: a trusted notebook's code cells come with metadata.trusted.
    const model = (await (await fetch(api(`/api/contents/${notebook}`))).json()) as { content: { cells: { cell_type: string; metadata: { trusted?: boolean } }[] } };
    const code = model.content.cells.filter((c) => c.cell_type === 'code');
    assert.ok(code.length > 0 && code.every((c) => c.metadata.trusted === true), `every code cell trusted: ${JSON.stringify(code.map((c) => c.metadata.trusted))}`);

    await page.goto(url.href);
    await page.locator('body[data-archlab-started]').waitFor({ state: 'attached' });
    await page.locator('.jp-DirListing-item', { hasText: notebook }).dblclick();
    await panel().locator('.jp-Notebook').waitFor();
    await kernelReady();
    await codeCells().last().waitFor();
    await panel().locator('.jp-RenderedVegaCommon5 .vega-embed').first().waitFor(); // the stored outputs have rendered
    await shot('opened');
    assert.match((await trust()) ?? '', /^Notebook trusted/);
    assert.doesNotMatch(await page.locator('body').innerText(), /not trusted/i);
  });

  test('runs it: every cell executes on the kernel and the chart is an interactive Vega-Lite view', async () => {
    await menu('Edit', 'Clear Outputs of All Cells');
    await page.waitForFunction(() => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output').length === 0);
    await kernelReady();
    await menu('Run', 'Run All Cells');
    const count = await codeCells().count();
    for (let i = 0; i < count; i++) await codeCells().nth(i).locator('.jp-InputPrompt', { hasText: /\[\d+\]/ }).waitFor();
    const chart = panel().locator('.jp-RenderedVegaCommon5');
    await chart.locator('.vega-embed canvas, .vega-embed svg').first().waitFor();
    await shot('ran');
    assert.equal(await panel().locator('[data-mime-type="application/vnd.jupyter.stderr"]').count(), 0, 'no cell failed');
    const { vegaInk } = await import('./lab/lab.js');
    const ink = await vegaInk(chart.first());
    const drawn = await chart.first().evaluate((node) => ({ images: node.querySelectorAll('img').length, actions: node.querySelectorAll('.vega-embed .vega-actions a').length }));
    assert.ok(ink > 500, `vega painted the chart (${ink} pixels)`);
    assert.equal(drawn.images, 0, 'the chart is not an <img> (the PNG fallback)');
    assert.ok(drawn.actions > 0, 'vega-embed\'s actions menu (export, view source) is there');
    assert.match((await trust()) ?? '', /^Notebook trusted/);
  });
});
