/**
 * Renders executed notebooks with JupyterLab 4.6.3's own renderers and fails when an output
 * does not show what it should.
 *
 *   node --import tsx test/render/cli.ts [--trusted | --untrusted] [--screenshots DIR | --no-screenshots]
 *                                        [--json] NOTEBOOK.ipynb...
 *
 * Both trust modes by default. Exit 0: every output fine; 1: problems found; 2: usage or a
 * notebook that could not be read or rendered.
 */
import { parseArgs } from 'node:util';
import { defaultScreenshotDir, withRenderer, type NotebookRender } from './render';

const usage =
  'usage: cli.ts [--trusted | --untrusted] [--screenshots DIR | --no-screenshots] [--json] NOTEBOOK.ipynb...';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      trusted: { type: 'boolean', default: false },
      untrusted: { type: 'boolean', default: false },
      screenshots: { type: 'string', default: defaultScreenshotDir },
      'no-screenshots': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals.length === 0) {
    console.error(usage);
    return values.help ? 0 : 2;
  }
  const modes = values.trusted === values.untrusted ? [true, false] : [values.trusted];
  const screenshots = values['no-screenshots'] ? false : values.screenshots;

  const results: NotebookRender[] = [];
  await withRenderer(async (renderer) => {
    for (const path of positionals) {
      for (const trusted of modes) {
        const result = await renderer.render(path, { trusted, screenshots });
        results.push(result);
        if (!values.json) report(result);
      }
    }
  });
  if (values.json) console.log(JSON.stringify(results, null, 2));
  const failed = results.filter((r) => r.problems.length > 0).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

function report(result: NotebookRender): void {
  const mode = result.trusted ? 'trusted' : 'untrusted';
  const verdict = result.problems.length === 0 ? 'ok' : `${result.problems.length} problem(s)`;
  console.log(`${result.notebook} [${mode}]: ${result.outputs.length} outputs, ${verdict}, ${result.milliseconds} ms`);
  for (const problem of result.problems) console.log(`  ✗ ${problem}`);
  if (result.screenshot) console.log(`  screenshot: ${result.screenshot}`);
}

main().then(
  (code) => (process.exitCode = code),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 2;
  },
);
