/**
 * Renders an executed notebook's outputs exactly as JupyterLab 4.6.3 does — its own
 * rendermime, output area, sanitizer and mime extensions, bundled by build.ts — in headless
 * Chromium, trusted or untrusted, and says per output what is wrong with what it shows.
 *
 *   .ipynb ─► readNotebook (rejoin lines as the Jupyter server does)
 *          ─► page in Chromium (page/index.ts) ─► OutputFacts per output
 *          ─► judge (the `checks` table) ─► problems per output, a screenshot per mode
 *
 * @example
 *   const result = await renderNotebook('notebooks/01-rnn.ipynb', { trusted: false });
 *   for (const output of result.outputs) console.log(output.cell, output.shown, output.problems);
 *
 * @example Many notebooks, one browser:
 *   await withRenderer(async (renderer) => {
 *     for (const path of paths) for (const trusted of [true, false]) await renderer.render(path, { trusted });
 *   });
 */
import { readFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, extname, join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildPage, distDir, pageIsStale } from './build';
import type { CellToRender, OutputFacts, RenderInPage } from './page/facts';

export type { OutputFacts } from './page/facts';

/** One thing wrong with an output: which check found it, and what it saw. */
export interface Problem {
  check: CheckName;
  message: string;
}

/** One output with what is wrong with it (nothing, when `problems` is empty). */
export interface OutputResult extends OutputFacts {
  problems: Problem[];
}

/** A notebook rendered in one trust mode. */
export interface NotebookRender {
  notebook: string;
  trusted: boolean;
  outputs: OutputResult[];
  /** Every output's problems, each prefixed with where it is ("cell 3 output 0: …"). */
  problems: string[];
  /** Errors the page logged (not judged: Lab's own console is noisy too; for diagnosis). */
  pageErrors: string[];
  /** The full-page screenshot, when one was asked for. */
  screenshot?: string;
  milliseconds: number;
}

export interface RenderOptions {
  trusted: boolean;
  /** Folder for the screenshot; false for none. Default: test/artifacts/render. */
  screenshots?: string | false;
  /** Longest wait for a notebook's outputs to finish rendering. Default 60 s. */
  timeoutMs?: number;
  /** Runs on the rendered page before the screenshot (e.g. clicks a player's buttons). */
  interact?: (page: Page) => Promise<void>;
}

export const defaultScreenshotDir = join(__dirname, '..', 'artifacts', 'render');

/** The Chromium this project tests with: Debian's, unless ARCHLAB_CHROMIUM names another. */
export const chromiumPath = process.env.ARCHLAB_CHROMIUM ?? '/usr/bin/chromium';

const chromiumFlags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

// ---------------------------------------------------------------------------------------------
// Reading a notebook

/** nbformat's rule: every mime type but JSON ones may be stored as a list of lines. */
const isJsonMime = (mime: string) => mime === 'application/json' || (mime.startsWith('application/') && mime.endsWith('+json'));

const isLines = (value: unknown): value is string[] => Array.isArray(value) && value.every((line) => typeof line === 'string');

/** Rejoins a bundle's multi-line strings as nbformat's reader does (`''.join`, JSON types untouched). */
function rejoinBundle(data: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(data).map(([mime, value]) => [mime, !isJsonMime(mime) && isLines(value) ? value.join('') : value]),
  );
}

function rejoinOutput(output: Record<string, unknown>): Record<string, unknown> {
  const type = output.output_type;
  if (type === 'execute_result' || type === 'display_data') {
    return { ...output, data: rejoinBundle((output.data ?? {}) as Record<string, unknown>) };
  }
  return isLines(output.text) ? { ...output, text: output.text.join('') } : output;
}

/**
 * Reads a stored notebook's code cells as JupyterLab receives them from the Jupyter server.
 * Throws a clear error for a file that is not an nbformat 4 notebook.
 */
export function readNotebook(path: string): CellToRender[] {
  let notebook: { nbformat?: unknown; cells?: unknown };
  try {
    notebook = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path} is not a valid notebook: ${(error as Error).message}`);
  }
  if (notebook?.nbformat !== 4 || !Array.isArray(notebook.cells)) {
    throw new Error(`${path} is not a valid notebook: expected nbformat 4 with a "cells" list`);
  }
  const cells = notebook.cells as Record<string, unknown>[];
  return cells.flatMap((cell, index) =>
    cell.cell_type !== 'code'
      ? []
      : [
          {
            cell: index,
            executionCount: (cell.execution_count as number | null) ?? null,
            source: isLines(cell.source) ? cell.source.join('') : String(cell.source ?? ''),
            outputs: ((cell.outputs ?? []) as Record<string, unknown>[]).map(rejoinOutput),
          },
        ],
  );
}

// ---------------------------------------------------------------------------------------------
// Judging what an output shows

/** The chart mime types JupyterLab 4.6.3 renders (@jupyterlab/vega5-extension). */
const labChartMimes = new Set([
  'application/vnd.vega.v5+json',
  'application/vnd.vegalite.v3+json',
  'application/vnd.vegalite.v4+json',
  'application/vnd.vegalite.v5+json',
]);
const isChartMime = (mime: string) => /^application\/vnd\.vega(lite)?\.v\d+\+json$/.test(mime);

type Check = (output: OutputFacts) => string | string[] | undefined;

export type CheckName =
  | 'errorOutput'
  | 'empty'
  | 'javascriptError'
  | 'unsupportedChart'
  | 'chartDrawn'
  | 'imagesDecoded'
  | 'plainFallback'
  | 'untrustedSvgNotice';

/** Each check names one way an output can fail to show what it should. */
export const checks: Record<CheckName, Check> = {
  errorOutput: ({ error }) => error && `error output: ${error.ename}: ${error.evalue}`,

  empty: ({ shown, mimeTypes, text, media, height }) => {
    if (shown === null) return `empty output: nothing JupyterLab renders in this trust mode among ${mimeTypes.join(', ')}`;
    if (height === 0 || (text === '' && media === 0)) {
      return `empty output: ${shown} rendered nothing visible`;
    }
  },

  javascriptError: ({ text }) => {
    const line = text.split('\n').find((l) => l.includes('Javascript Error'));
    return line && `shows "${line.trim().slice(0, 200)}"`;
  },

  unsupportedChart: ({ mimeTypes }) =>
    mimeTypes
      .filter((mime) => isChartMime(mime) && !labChartMimes.has(mime))
      .map((mime) => `carries ${mime}, which JupyterLab 4.6.3 does not render (Vega 5 and Vega-Lite 3–5 only)`),

  chartDrawn: ({ shown, charts }) => {
    if (shown === null || !labChartMimes.has(shown)) return;
    if (charts.length === 0) return `no chart drawn for ${shown}`;
    return charts
      .filter((chart) => chart.width === 0 || chart.height === 0 || chart.markItems === 0 || chart.ink === 0)
      .map((chart) => `chart did not draw: ${chart.renderer} ${chart.width}×${chart.height}, ${chart.markItems} mark items, ${chart.ink} inked`);
  },

  imagesDecoded: ({ images }) =>
    images.filter((image) => !image.decoded).map((image) => `image did not decode: ${image.src}…`),

  plainFallback: ({ shown, mimeTypes }) => {
    const richer = mimeTypes.filter((mime) => mime !== 'text/plain');
    if (shown === 'text/plain' && richer.length > 0) {
      return `shown as text/plain: ${richer.join(', ')} not rendered in this trust mode`;
    }
  },

  untrustedSvgNotice: ({ text }) =>
    text.includes('Cannot display an untrusted SVG') ? 'shows "Cannot display an untrusted SVG"' : undefined,
};

/** Everything wrong with one output; empty when it shows what it should. */
export function judge(output: OutputFacts): Problem[] {
  return (Object.entries(checks) as [CheckName, Check][]).flatMap(([check, find]) =>
    [find(output) ?? []].flat().map((message) => ({ check, message })),
  );
}

// ---------------------------------------------------------------------------------------------
// The browser and the page's server

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.eot': 'application/vnd.ms-fontobject',
};

/** Serves dist/ on 127.0.0.1 at a free port. */
async function servePage(): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const name = basename(new URL(request.url ?? '/', 'http://127.0.0.1').pathname) || 'index.html';
    try {
      const body = readFileSync(join(distDir, name));
      response.writeHead(200, { 'content-type': contentTypes[extname(name)] ?? 'application/octet-stream' });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/index.html` };
}

/** A browser and the page's server, kept open to render many notebooks. */
export interface Renderer {
  render(path: string, options: RenderOptions): Promise<NotebookRender>;
  close(): Promise<void>;
}

/** Opens Chromium and serves the page (building it first when page/ changed since the last build). */
export async function openRenderer(): Promise<Renderer> {
  if (pageIsStale()) await buildPage();
  const { server, url } = await servePage();
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumFlags, headless: true });
  } catch (error) {
    server.close();
    throw error;
  }
  return {
    render: (path, options) => renderWith(browser, url, path, options),
    async close() {
      await browser.close();
      await new Promise((done) => server.close(done));
    },
  };
}

/** Opens a renderer, hands it to `use`, and closes it whatever happens. */
export async function withRenderer<T>(use: (renderer: Renderer) => Promise<T>): Promise<T> {
  const renderer = await openRenderer();
  try {
    return await use(renderer);
  } finally {
    await renderer.close();
  }
}

/** Renders one notebook in one trust mode (opens and closes its own browser). */
export async function renderNotebook(path: string, options: RenderOptions): Promise<NotebookRender> {
  return withRenderer((renderer) => renderer.render(path, options));
}

async function renderWith(browser: Browser, url: string, path: string, options: RenderOptions): Promise<NotebookRender> {
  const { trusted, screenshots = defaultScreenshotDir, timeoutMs = 60_000, interact } = options;
  const started = Date.now();
  const cells = readNotebook(path);
  // A fresh context per notebook and mode: scripts that trusted outputs run stay in it.
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  try {
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => message.type() === 'error' && pageErrors.push(message.text()));
    await page.goto(url);
    await page.waitForFunction(() => 'archlabRender' in window);
    const rendering = page.evaluate(
      ([cells, trusted]) => (window as unknown as { archlabRender: RenderInPage }).archlabRender(cells, { trusted }),
      [cells, trusted] as const,
    );
    const facts = await withTimeout(rendering, timeoutMs, `${path}: outputs still rendering after ${timeoutMs} ms`);
    const outputs = facts.map((output) => ({ ...output, problems: judge(output) }));
    const result: NotebookRender = {
      notebook: resolve(path),
      trusted,
      outputs,
      problems: outputs.flatMap((o) => o.problems.map(({ message }) => `cell ${o.cell} output ${o.output}: ${message}`)),
      pageErrors,
      milliseconds: 0,
    };
    if (interact) await interact(page);
    if (screenshots) {
      mkdirSync(screenshots, { recursive: true });
      result.screenshot = join(screenshots, `${basename(path, '.ipynb')}.${trusted ? 'trusted' : 'untrusted'}.png`);
      await page.screenshot({ path: result.screenshot, fullPage: true });
    }
    result.milliseconds = Date.now() - started;
    return result;
  } finally {
    await context.close();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
