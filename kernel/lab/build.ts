/**
 * Builds a JupyterLab 4.6.3 frontend from the npm packages in package.json into build/, laid out
 * as jupyterlab_server's LabServerApp serves it (see server.py):
 *
 *   build/static/    bundle.js + bundle.css (esbuild) and the fonts and icons they use
 *   build/schemas/   each extension's settings schemas, as @jupyterlab/builder copies them
 *   build/themes/    the light theme's CSS
 *   build/app_settings/overrides.json   setting defaults archlab changes (`overrides`)
 *
 * Every dependency whose package.json says `jupyterlab.extension` or `jupyterlab.mimeExtension`
 * is bundled, so the list of plugins is package.json's list and nothing else.
 *
 * `archlab start` runs it in the lab's cache folder (kernel/notebook/lab.ts); in the repository:
 *
 *   npm ci --prefix kernel/lab && npm --prefix kernel/lab run build
 */
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { assetLoaders, requireEnsure, svgAsText, tildeImports } from './esbuild-plugins';

const here = __dirname;
export const buildDir = join(here, 'build');

interface LabPackage {
  name: string;
  dir: string;
  jupyterlab: { extension?: boolean | string; mimeExtension?: boolean | string; schemaDir?: string; themePath?: string };
  styleModule?: string;
}

/** The JupyterLab extensions package.json depends on, read from their own package.json. */
function labPackages(): LabPackage[] {
  const { dependencies } = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  return Object.keys(dependencies).flatMap((name) => {
    const manifest = join(here, 'node_modules', name, 'package.json');
    const data = JSON.parse(readFileSync(manifest, 'utf8'));
    return data.jupyterlab ? [{ name, dir: dirname(manifest), jupyterlab: data.jupyterlab, styleModule: data.styleModule }] : [];
  });
}

/** The entry: one import per extension (and its style module), handed to app/start.ts. */
function entrySource(packages: LabPackage[]): string {
  const lines = [`import { start } from './app/start';`];
  const extensions: string[] = [];
  const mimeExtensions: string[] = [];
  packages.forEach(({ name, jupyterlab, styleModule }, i) => {
    if (styleModule) lines.push(`import '${name}/${styleModule}';`);
    if (jupyterlab.extension) {
      lines.push(`import * as extension${i} from '${name}';`);
      extensions.push(`extension${i}`);
    }
    if (jupyterlab.mimeExtension) {
      lines.push(`import * as mimeExtension${i} from '${name}';`);
      mimeExtensions.push(`mimeExtension${i}`);
    }
  });
  lines.push(`void start({ extensions: [${extensions.join(', ')}], mimeExtensions: [${mimeExtensions.join(', ')}] });`);
  return lines.join('\n');
}

/** Setting defaults: no news or update checks (they would reach the network, and pop up over the page; this build is updated with archlab). */
const overrides = {
  '@jupyterlab/apputils-extension:notification': { fetchNews: 'false', checkForUpdates: false },
};

const common: esbuild.BuildOptions = {
  bundle: true,
  minify: !process.env.ARCHLAB_LAB_DEBUG,
  logLevel: 'warning',
  plugins: [tildeImports, svgAsText, requireEnsure],
  loader: assetLoaders,
};

/** Builds build/; returns how long it took in milliseconds. */
export async function buildLab(): Promise<number> {
  const started = Date.now();
  const packages = labPackages();
  rmSync(buildDir, { recursive: true, force: true });

  await esbuild.build({
    ...common,
    stdin: { contents: entrySource(packages), resolveDir: here, sourcefile: 'entry.ts', loader: 'ts' },
    outfile: join(buildDir, 'static', 'bundle.js'),
    format: 'iife',
    target: 'chrome110',
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
  });

  for (const { name, dir, jupyterlab } of packages) {
    if (jupyterlab.schemaDir) {
      const schemas = join(buildDir, 'schemas', name);
      mkdirSync(schemas, { recursive: true });
      for (const file of readdirSync(join(dir, jupyterlab.schemaDir))) cpSync(join(dir, jupyterlab.schemaDir, file), join(schemas, file));
      cpSync(join(dir, 'package.json'), join(schemas, 'package.json.orig'));
    }
    if (jupyterlab.themePath) {
      await esbuild.build({ ...common, entryPoints: [join(dir, jupyterlab.themePath)], outfile: join(buildDir, 'themes', name, 'index.css') });
    }
  }
  mkdirSync(join(buildDir, 'app_settings'), { recursive: true });
  writeFileSync(join(buildDir, 'app_settings', 'overrides.json'), JSON.stringify(overrides, null, 2));
  return Date.now() - started;
}

if (require.main === module) {
  buildLab().then(
    (ms) => console.log(`JupyterLab built in ${ms} ms → ${buildDir}`),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
