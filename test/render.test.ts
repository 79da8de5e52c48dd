/**
 * The render check (test/render/): archlab's outputs render in JupyterLab 4.6.3's own renderers,
 * trusted and untrusted, and the check provably fails on outputs Lab does not show as meant.
 *
 * Needs `npm ci --prefix test/render` and Debian's chromium; without them the browser tests are
 * skipped locally and fail under CI=true.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type * as RenderModule from './render/render';

const renderDir = join(__dirname, 'render');
const fixture = (name: string) => join(renderDir, 'fixtures', name);
const chromium = process.env.ARCHLAB_CHROMIUM ?? '/usr/bin/chromium';
const missing = [
  existsSync(join(renderDir, 'node_modules', 'playwright-core')) ? '' : 'npm ci --prefix test/render',
  existsSync(chromium) ? '' : `a Chromium at ${chromium} (apt-get install chromium)`,
].filter(Boolean);
const skip = missing.length > 0 && !process.env.CI ? `needs ${missing.join(' and ')}` : false;

describe('the render check', { skip }, () => {
  let render: typeof RenderModule;
  let renderer: RenderModule.Renderer;
  const outputs = async (name: string, trusted: boolean) => (await renderer.render(fixture(name), { trusted })).outputs;

  before(async () => {
    render = await import('./render/render.js');
    renderer = await render.openRenderer();
  });
  after(async () => renderer?.close());

  test('reads stored notebooks as the Jupyter server does: text lines rejoined, JSON left alone', () => {
    const [diagram, chart, stream] = render.readNotebook(fixture('archlab-outputs.ipynb'));
    const data = (diagram.outputs[0] as { data: Record<string, unknown> }).data;
    assert.equal(typeof data['image/svg+xml'], 'string');
    assert.match(data['image/svg+xml'] as string, /^<svg [^]*<\/svg>\n$/);
    assert.match(data['text/html'] as string, /^<img src="data:image\/svg\+xml;base64,/);
    const spec = (chart.outputs[0] as { data: Record<string, unknown> }).data['application/vnd.vegalite.v5+json'];
    assert.equal((spec as { mark: string }).mark, 'bar');
    assert.equal((stream.outputs[0] as { text: string }).text, 'step 1\nstep 2\n');
  });

  test('a file that is not a notebook gets a clear error', () => {
    assert.throws(() => render.readNotebook(join(renderDir, 'package.json')), /package\.json is not a valid notebook/);
    assert.throws(() => render.readNotebook(join(renderDir, 'cli.ts')), /cli\.ts is not a valid notebook/);
  });

  for (const trusted of [true, false]) {
    const mode = trusted ? 'a trusted' : 'an untrusted';

    test(`archlab's diagram, chart, stream and value all show in ${mode} notebook`, async () => {
      const [diagram, chart, stream, value] = await outputs('archlab-outputs.ipynb', trusted);
      assert.deepEqual(
        [diagram, chart, stream, value].flatMap((o) => o.problems),
        [],
      );
      assert.equal(diagram.shown, 'text/html');
      assert.equal(diagram.images.length, 1);
      assert.ok(diagram.images[0].decoded && diagram.images[0].naturalWidth === 240);
      assert.equal(chart.shown, 'application/vnd.vegalite.v5+json');
      assert.equal(chart.charts.length, 1);
      assert.equal(chart.charts[0].markItems, 3, 'one bar per unit');
      assert.ok(chart.charts[0].ink > 1000, 'the bars are painted');
      assert.equal(stream.text, 'step 1\nstep 2');
      assert.equal(value.text, '12');
    });

    test(`every broken output is flagged in ${mode} notebook`, async () => {
      const found = new Map<number, string[]>();
      for (const output of await outputs('broken-outputs.ipynb', trusted)) {
        found.set(output.cell, [...new Set(output.problems.map((p) => p.check))].sort());
      }
      assert.deepEqual(Object.fromEntries(found), {
        1: ['empty', 'unsupportedChart'], // a Vega-Lite v6 bundle only: Lab shows nothing
        2: ['chartDrawn', 'javascriptError'], // Vega-Lite as a JSON string: fetched as a URL, 404
        3: trusted ? [] : ['plainFallback'], // SVG only: hidden when untrusted
        4: ['imagesDecoded'],
        5: ['chartDrawn'], // axes but no marks
        6: ['errorOutput'],
      });
    });
  }
});
