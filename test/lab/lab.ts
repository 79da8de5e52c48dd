/**
 * Runs archlab's own JupyterLab 4.6.3 — the build `archlab start` installs into its cache (see
 * kernel/notebook/lab.ts; `archlab install-lab` makes it) — under Debian's jupyter-server for one
 * test, and writes the notebook the test opens.
 *
 * @example
 *   const lab = await startLab({ root, kernelPrefix });   // kernelPrefix: DIR/share/jupyter/kernels/…
 *   await page.goto(lab.url('/lab/tree/e2e.ipynb'));
 *   await lab.stop();
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator } from 'playwright-core';
import { isBuilt, labDir } from '../../kernel/notebook/lab';
import { freePort } from '../support/free-port';

/** Debian's Python, which has jupyter-server and jupyterlab-server (the first python3 on PATH may not). */
export const python = process.env.ARCHLAB_PYTHON ?? '/usr/bin/python3';

export interface Lab {
  /** A URL on the server for `path`, token included. */
  url(path: string): string;
  /** The server's output so far, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts the server on a free 127.0.0.1 port with `root` as its notebook folder. Kernel specs
 * under `kernelPrefix`/share/jupyter come first (where `archlab install --prefix` puts them).
 */
export async function startLab(options: { root: string; kernelPrefix?: string; timeoutMs?: number }): Promise<Lab> {
  const { root, kernelPrefix, timeoutMs = 30_000 } = options;
  const dir = labDir();
  if (!isBuilt(dir)) throw new Error(`JupyterLab is not installed in ${dir}: run \`node dist/kernel/cli.js install-lab\``);
  const port = await freePort();
  const token = `archlab-e2e-${process.pid}`;
  const state = mkdtempSync(join(tmpdir(), 'archlab-lab-runtime-'));
  const env = {
    ...process.env,
    // Configuration, settings and workspaces on this machine must not change what the test sees, nor the test change them.
    JUPYTER_NO_CONFIG: '1',
    JUPYTER_CONFIG_DIR: join(state, 'config'),
    JUPYTER_RUNTIME_DIR: state,
    JUPYTER_DATA_DIR: join(state, 'data'),
    ...(kernelPrefix ? { JUPYTER_PATH: join(kernelPrefix, 'share', 'jupyter') } : {}),
  };
  const args = [
    join(dir, 'server.py'),
    `--ServerApp.port=${port}`,
    '--ServerApp.port_retries=0',
    '--ServerApp.ip=127.0.0.1',
    `--ServerApp.token=${token}`,
    `--ServerApp.root_dir=${root}`,
    '--ServerApp.open_browser=False',
    '--ServerApp.allow_root=True',
  ];
  const server: ChildProcess = spawn(python, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  server.stdout!.on('data', (chunk) => (output += chunk));
  server.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((done) => server.once('exit', () => done()));

  const base = `http://127.0.0.1:${port}`;
  const lab: Lab = {
    url: (path) => `${base}${path}${path.includes('?') ? '&' : '?'}token=${token}`,
    log: () => output,
    async stop() {
      if (server.exitCode === null) server.kill('SIGTERM');
      const killed = setTimeout(() => server.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killed);
    },
  };

  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`the Jupyter server exited (${server.exitCode}):\n${output}`);
    try {
      const response = await fetch(lab.url('/api/status'));
      if (response.ok) return lab;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  await lab.stop();
  throw new Error(`the Jupyter server did not answer within ${timeoutMs} ms:\n${output}`);
}

/** The kernels the test can run on, with the cells it runs on each. */
export type KernelName = 'archlab' | 'python3';

/**
 * Cells of the end-to-end notebook, the same story in each kernel's language:
 *   1  shows "step 0" under a display id
 *   2  a Vega-Lite v5 chart and a diagram as <img> (what archlab emits)
 *   3  the step cell: steps, updates cell 1's output in place, prints "stepped to N"
 */
const cells: Record<KernelName, string[]> = {
  archlab: [
    [
      'let step = 0;',
      'const view = (n: number) => ({ [Symbol.for("Jupyter.display")]: () => ({ "text/html": `<b class="e2e-step">step ${n}</b>`, "text/plain": `step ${n}` }) });',
      'await display(view(step), { id: "e2e-step" });',
    ].join('\n'),
    [
      'const chart = { "application/vnd.vegalite.v5+json": CHART, "text/plain": "bar chart" };',
      'const diagram = { "text/html": DIAGRAM, "text/plain": "diagram" };',
      'await display({ [Symbol.for("Jupyter.display")]: () => chart });',
      'await display({ [Symbol.for("Jupyter.display")]: () => diagram });',
    ].join('\n'),
    [
      'step += 1;',
      'await display(view(step), { id: "e2e-step", update: true });',
      'console.log(`stepped to ${step}`);',
    ].join('\n'),
  ],
  python3: [
    [
      'from IPython.display import HTML, display',
      'step = 0',
      'view = lambda n: HTML(f\'<b class="e2e-step">step {n}</b>\')',
      'handle = display(view(step), display_id=True)',
    ].join('\n'),
    [
      'display({"application/vnd.vegalite.v5+json": CHART, "text/plain": "bar chart"}, raw=True)',
      'display({"text/html": DIAGRAM, "text/plain": "diagram"}, raw=True)',
    ].join('\n'),
    ['step += 1', 'handle.update(view(step))', "print(f'stepped to {step}')"].join('\n'),
  ],
};

const chart = {
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
  data: { values: [{ unit: 'h0', activation: 0.42 }, { unit: 'h1', activation: -0.31 }, { unit: 'h2', activation: 0.77 }] },
  mark: 'bar',
  encoding: { x: { field: 'unit', type: 'nominal' }, y: { field: 'activation', type: 'quantitative' } },
};

const diagramSvg =
  '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect x="2" y="2" width="116" height="36" rx="6" fill="#fdebd3" stroke="#ff7f0e"/><text x="60" y="25" text-anchor="middle" font-family="sans-serif" font-size="14">tanh</text></svg>';
const diagramHtml = `<img class="e2e-diagram" src="data:image/svg+xml;base64,${Buffer.from(diagramSvg).toString('base64')}">`;

const kernelspecs: Record<KernelName, object> = {
  archlab: { name: 'archlab', display_name: 'TypeScript (archlab)', language: 'typescript' },
  python3: { name: 'python3', display_name: 'Python 3 (ipykernel)', language: 'python' },
};

/** Writes the end-to-end notebook for `kernel` into `dir`, without outputs; returns its name. */
export function writeNotebook(dir: string, kernel: KernelName): string {
  const source = (text: string) =>
    text.replace('CHART', JSON.stringify(chart)).replace('DIAGRAM', JSON.stringify(diagramHtml));
  const notebook = {
    cells: [
      { cell_type: 'markdown', id: 'intro', metadata: {}, source: '# End-to-end: run, step, save, reopen' },
      ...cells[kernel].map((text, i) => ({
        cell_type: 'code',
        id: `code-${i + 1}`,
        metadata: {},
        execution_count: null,
        outputs: [],
        source: source(text),
      })),
    ],
    metadata: { kernelspec: kernelspecs[kernel] },
    nbformat: 4,
    nbformat_minor: 5,
  };
  const name = 'e2e.ipynb';
  writeFileSync(join(dir, name), JSON.stringify(notebook, null, 1));
  return name;
}

/** Installs the built archlab kernel (`cli`: dist/kernel/cli.js) under `root`/.kernels; returns that prefix for {@link startLab}. */
export function installKernel(root: string, cli: string): string {
  const prefix = join(root, '.kernels');
  execFileSync(process.execPath, [cli, 'install', '--prefix', prefix], { stdio: 'pipe' });
  return prefix;
}

/** Debian's Chromium (or `executablePath`), headless, with the flags this project tests with. */
export async function launchChromium(executablePath: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** How much vega drew in the charts under `locator`: painted canvas pixels plus svg mark paths (0 when nothing rendered). */
export function vegaInk(locator: Locator): Promise<number> {
  return locator.evaluate((node) => {
    const canvas = node.querySelector<HTMLCanvasElement>('.vega-embed canvas');
    let ink = node.querySelectorAll('.vega-embed svg .role-mark path').length;
    if (canvas && canvas.width > 0 && canvas.height > 0) {
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 0 && (data[i] < 240 || data[i + 2] < 240)) ink++;
    }
    return ink;
  });
}
