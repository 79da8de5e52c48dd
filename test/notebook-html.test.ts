/**
 * The HTML export of `archlab run --html` (kernel/notebook/html.ts), in headless Chromium: markdown
 * tables are styled as JupyterLab 4.6.3 styles them — computed styles compared with a page that
 * uses Lab's own stylesheets (rendermime's base.css with the light theme's variables).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { notebookToHtml } from '../kernel/notebook/html';
import type { Notebook } from '../kernel/notebook/format';

const chromiumPath = process.env.ARCHLAB_CHROMIUM ?? '/usr/bin/chromium';
const labModules = join(__dirname, 'render', 'node_modules', '@jupyterlab');
/** JupyterLab's own CSS, in the order Lab loads it: material colours, the light theme's variables, rendermime's rules. */
const labCss = ['apputils/style/materialcolors.css', 'theme-light-extension/style/variables.css', 'rendermime/style/base.css'].map((f) => join(labModules, f));

const TABLE = ['| symbol | name | role |', '|---|:---:|---:|', '| i | input gate | writes |', '| f | forget gate | keeps |', '| o | output gate | reads |'].join('\n');

const executed: Notebook = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [
    { cell_type: 'markdown', metadata: {}, source: `# Gates\n\n${TABLE}\n` },
    {
      cell_type: 'code',
      metadata: {},
      source: 'table',
      execution_count: 1,
      outputs: [{ output_type: 'display_data', metadata: {}, data: { 'text/markdown': TABLE, 'text/plain': TABLE } }],
    },
  ],
};

const BOX = ['padding-top', 'padding-right', 'padding-bottom', 'padding-left', 'border-top-style', 'border-left-style', 'vertical-align', 'text-align', 'line-height'];
/** The computed styles that make a table look like Lab's: [name, element, properties]. */
const STYLED: [string, string, string[]][] = [
  ['table', 'table', ['border-collapse', 'border-spacing', 'border-top-style', 'font-size', 'color', 'table-layout', 'margin-bottom']],
  ['thead', 'thead', ['border-bottom-style', 'border-bottom-width', 'border-bottom-color', 'vertical-align']],
  ['th', 'th', [...BOX, 'font-weight']],
  ['centred', 'th:nth-child(2)', ['text-align']],
  ['td', 'tbody td', BOX],
  ['odd', 'tbody tr:nth-child(1)', ['background-color']],
  ['even', 'tbody tr:nth-child(2)', ['background-color']],
];

/** Those styles for the first table under `root`, and whether the table is centred in its container. */
function tableStyles(page: Page, root: string): Promise<Record<string, Record<string, string>> & { centred: unknown }> {
  // No named functions inside: tsx would wrap them in a helper (__name) the page does not have.
  return page.evaluate(([root, styled]) => {
    const out: Record<string, unknown> = {};
    for (const [name, selector, properties] of styled) {
      const style = getComputedStyle(document.querySelector(`${root} ${selector}`)!);
      out[name] = Object.fromEntries(properties.map((p) => [p, style.getPropertyValue(p)]));
    }
    const table = document.querySelector(`${root} table`)!;
    const [t, p, padding] = [table.getBoundingClientRect(), table.parentElement!.getBoundingClientRect(), getComputedStyle(table.parentElement!)];
    const [left, right] = [t.left - p.left - parseFloat(padding.paddingLeft), p.right - t.right - parseFloat(padding.paddingRight)];
    out.centredInContainer = Math.abs(left - right) < 1;
    return out as never;
  }, [root, STYLED] as const);
}

const missing = [existsSync(chromiumPath) ? '' : `a Chromium at ${chromiumPath}`, existsSync(labCss[2]) ? '' : 'npm ci --prefix test/render'].filter(Boolean);
const skip = missing.length > 0 && !process.env.CI ? `needs ${missing.join(' and ')}` : false;

describe('the HTML export', { skip }, () => {
  let browser: Browser;
  let page: Page;

  before(async () => {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  });
  after(async () => browser?.close());

  test("styles markdown tables as JupyterLab's rendered markdown does", async () => {
    const markdown = (await import('markdown-it')).default({ html: false });
    const css = labCss.map((f) => readFileSync(f, 'utf8')).join('\n');
    await page.setContent(
      `<!DOCTYPE html><html><head><style>${css}</style></head><body>` +
        `<div class="lab jp-RenderedHTMLCommon jp-RenderedMarkdown" style="width:900px">${markdown.render(`# Gates\n\n${TABLE}\n`)}</div></body></html>`,
    );
    const lab = await tableStyles(page, '.lab');
    await page.setContent(notebookToHtml(executed, 'gates'));
    for (const where of ['section.md', '.out .md']) {
      const exported = await tableStyles(page, where);
      assert.deepEqual(exported, lab, `the table in ${where} is styled as in Lab`);
    }
    // What that means, so a change on both sides cannot pass unnoticed: a rule under the header, padded cells, striped rows.
    assert.equal(lab.table['border-collapse'], 'collapse');
    assert.deepEqual([lab.thead['border-bottom-style'], lab.thead['border-bottom-width']], ['solid', '1px']);
    assert.equal(lab.td['padding-left'], '6.5px');
    assert.notEqual(lab.odd['background-color'], lab.even['background-color']);
  });
});
