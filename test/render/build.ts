/**
 * Bundles the render page (page/) into dist/ with esbuild: page.js, page.css, index.html and the
 * fonts and icons the styles point at.
 *
 *   node --import tsx test/render/build.ts      (or: npm --prefix test/render run build)
 */
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { assetLoaders, svgAsText, tildeImports } from '../../kernel/lab/esbuild-plugins';

const here = __dirname;
export const pageDir = join(here, 'page');
export const distDir = join(here, 'dist');

/** Builds the page; returns how long it took in milliseconds. */
export async function buildPage(): Promise<number> {
  const started = Date.now();
  mkdirSync(distDir, { recursive: true });
  await esbuild.build({
    entryPoints: { page: join(pageDir, 'index.ts'), 'page-style': join(pageDir, 'page.css') },
    outdir: distDir,
    bundle: true,
    format: 'iife',
    target: 'chrome110',
    minify: true,
    sourcemap: false,
    logLevel: 'warning',
    plugins: [tildeImports, svgAsText],
    loader: assetLoaders,
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  copyFileSync(join(pageDir, 'index.html'), join(distDir, 'index.html'));
  return Date.now() - started;
}

/** True when dist/ is missing or older than a file in page/ or this build's own code. */
export function pageIsStale(): boolean {
  let built: number;
  try {
    built = statSync(join(distDir, 'page.js')).mtimeMs;
  } catch {
    return true;
  }
  const sources = [...readdirSync(pageDir).map((name) => join(pageDir, name)), __filename, join(here, '..', '..', 'kernel', 'lab', 'esbuild-plugins.ts')];
  return sources.some((source) => statSync(source).mtimeMs > built);
}

if (require.main === module) {
  buildPage().then(
    (ms) => console.log(`render page built in ${ms} ms → ${distDir}`),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
