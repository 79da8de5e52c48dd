/**
 * What the real-JupyterLab tests need, checked without loading it (lab.ts imports the built Lab's
 * paths and playwright): a test is skipped locally when something is missing, and fails under
 * CI=true, where a missing tool is a CI bug.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const repo = join(__dirname, '..', '..');
export const labDir = join(repo, 'kernel', 'lab');
export const chromiumPath = process.env.ARCHLAB_CHROMIUM ?? '/usr/bin/chromium';
export const kernelCli = join(repo, 'dist', 'kernel', 'cli.js');

/** The `skip` option of a JupyterLab test: false, or what is missing (never under CI=true). */
export function labSkip({ archlabKernel = true } = {}): string | false {
  const missing = [
    existsSync(join(labDir, 'node_modules', 'playwright-core')) ? '' : 'npm ci --prefix kernel/lab',
    existsSync(join(labDir, 'build', 'static', 'bundle.js')) ? '' : 'npm --prefix kernel/lab run build',
    existsSync(chromiumPath) ? '' : `a Chromium at ${chromiumPath}`,
    existsSync('/usr/bin/python3') ? '' : 'Debian python3 with jupyter-server',
    !archlabKernel || existsSync(kernelCli) ? '' : 'npm run build (dist/kernel/cli.js)',
  ].filter(Boolean);
  return missing.length > 0 && !process.env.CI ? `needs ${missing.join(', ')}` : false;
}
