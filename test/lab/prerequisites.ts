/**
 * What the real-JupyterLab tests need, checked without loading it (lab.ts loads playwright): a
 * test is skipped locally when something is missing, and fails under CI=true, where a missing
 * tool is a CI bug.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isBuilt, labDir } from '../../kernel/notebook/lab';

export const repo = join(__dirname, '..', '..');
export const chromiumPath = process.env.ARCHLAB_CHROMIUM ?? '/usr/bin/chromium';
export const kernelCli = join(repo, 'dist', 'kernel', 'cli.js');

/**
 * The `skip` option of a JupyterLab test: false, or what is missing (never under CI=true).
 * `lab: false` for a test that installs archlab's JupyterLab itself when it is missing.
 */
export function labSkip({ archlabKernel = true, lab = true } = {}): string | false {
  const missing = [
    !lab || isBuilt(labDir()) ? '' : 'archlab\'s JupyterLab (node dist/kernel/cli.js install-lab)',
    existsSync(chromiumPath) ? '' : `a Chromium at ${chromiumPath}`,
    existsSync('/usr/bin/python3') ? '' : 'Debian python3 with jupyter-server',
    !archlabKernel || existsSync(kernelCli) ? '' : 'npm run build (dist/kernel/cli.js)',
  ].filter(Boolean);
  return missing.length > 0 && !process.env.CI ? `needs ${missing.join(', ')}` : false;
}
