/**
 * What esbuild needs to bundle JupyterLab packages, which are written for webpack. Used by this
 * package's build.ts and by test/render/build.ts (types only are imported, so each package brings
 * its own esbuild).
 */
import type { Plugin } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';

/**
 * JupyterLab's styles import each other webpack-style, `@import url('~@jupyterlab/…')`: a
 * leading `~` means "from node_modules". esbuild resolves bare package paths already, so the
 * plugin only drops the `~`.
 */
export const tildeImports: Plugin = {
  name: 'tilde-imports',
  setup(build) {
    build.onResolve({ filter: /^~/ }, (args) =>
      build.resolve(args.path.slice(1), { kind: args.kind, resolveDir: args.resolveDir }),
    );
  },
};

/**
 * An `.svg` imported from JavaScript is the icon's markup as a string (ui-components' icons, as
 * webpack's raw loader gives them); one referenced from CSS with url() stays a file.
 */
export const svgAsText: Plugin = {
  name: 'svg-as-text',
  setup(build) {
    build.onResolve({ filter: /\.svg$/ }, async (args) => {
      if (args.kind !== 'import-statement' && args.kind !== 'require-call' && args.kind !== 'dynamic-import') return;
      if (args.pluginData === 'svg-as-text') return;
      const path =
        args.path.startsWith('.') || isAbsolute(args.path)
          ? join(args.resolveDir, args.path)
          : (await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'svg-as-text' })).path;
      return { path, namespace: 'svg-text' };
    });
    build.onLoad({ filter: /.*/, namespace: 'svg-text' }, async (args) => ({
      contents: await readFile(args.path, 'utf8'),
      loader: 'text',
    }));
  },
};

/**
 * webpack's `require.ensure(deps, (require) => …)`, with which jupyterlab-manager loads
 * @jupyter-widgets/controls on demand, as a plain immediate call: esbuild has no `require.ensure`
 * (the bundle would throw "ensure is not a function"), and bundles the `require` inside statically.
 */
export const requireEnsure: Plugin = {
  name: 'require-ensure',
  setup(build) {
    build.onLoad({ filter: /[\\/]@jupyter-widgets[\\/].*\.js$/ }, async (args) => ({
      contents: (await readFile(args.path, 'utf8')).replace(/require\.ensure\((\[[^\]]*\]),\s*\(require\)\s*=>/g, '((_deps, load) => load())($1, () =>'),
      loader: 'js',
    }));
  },
};

/** Fonts and images that styles point at, copied beside the bundle. */
export const assetLoaders = {
  '.woff': 'file',
  '.woff2': 'file',
  '.ttf': 'file',
  '.eot': 'file',
  '.svg': 'file',
  '.png': 'file',
  '.gif': 'file',
} as const;
