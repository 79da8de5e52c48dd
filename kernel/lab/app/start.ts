/**
 * Starts JupyterLab 4.6.3 the way its own app does: the application plugins and the mime
 * extensions bundled by build.ts (one import per package in package.json), then `lab.start()`.
 * Once Lab has started, <body data-archlab-started> tells the test it may begin (not after
 * `lab.restored`: that waits for documents from the URL, which may wait on a kernel dialog).
 */
import { JupyterLab, type JupyterFrontEndPlugin } from '@jupyterlab/application';
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';

type Module<T> = { default: T | T[] } | T | T[];

/** A package's plugins, whether it exports one or a list, as an ES module or CommonJS. */
function plugins<T>(module: Module<T>): T[] {
  const exported = module && typeof module === 'object' && 'default' in module ? module.default : module;
  return Array.isArray(exported) ? exported : [exported as T];
}

/** Plugins that need a language server, which this server does not have. */
const needsLanguageServer = ({ id }: { id: string }) => id.includes(':language-server');

export async function start(options: {
  extensions: Module<JupyterFrontEndPlugin<unknown>>[];
  mimeExtensions: Module<IRenderMime.IExtension>[];
}): Promise<void> {
  // Lab reads an entry without `__esModule` as the extension itself, which each of these is.
  const mimeExtensions = options.mimeExtensions.flatMap(plugins) as unknown as IRenderMime.IExtensionModule[];
  const lab = new JupyterLab({ mimeExtensions });
  lab.registerPlugins(options.extensions.flatMap(plugins).filter((plugin) => !needsLanguageServer(plugin)));
  await lab.start();
  document.body.dataset.archlabStarted = 'true';
}
