/**
 * The browser side of the render check: JupyterLab 4.6.3's own output stack, put together as
 * Lab's plugins put it together, rendering each code cell's outputs in an `OutputArea`.
 *
 *   Sanitizer (apputils-extension's settings defaults)
 *     └─► RenderMimeRegistry (standardRendererFactories, as rendermime-extension makes it)
 *           ├─► + vega5, javascript, json mime extensions (added as createRendermimePlugin adds them)
 *           └─► OutputArea per cell, its model trusted or not ─► facts about each output
 *
 * Trust works as in a notebook: outputs of an untrusted cell render with the registry's 'ensure'
 * choice (unsafe renderers such as image/svg+xml and application/javascript are skipped) and
 * HTML goes through the sanitizer.
 */
import { Sanitizer } from '@jupyterlab/apputils';
import javascriptExtension from '@jupyterlab/javascript-extension';
import jsonExtensions from '@jupyterlab/json-extension';
import type * as nbformat from '@jupyterlab/nbformat';
import { OutputArea, OutputAreaModel } from '@jupyterlab/outputarea';
import { RenderMimeRegistry, standardRendererFactories } from '@jupyterlab/rendermime';
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import vega5Extension from '@jupyterlab/vega5-extension';
import { Widget } from '@lumino/widgets';
import type { CellToRender, ChartFacts, ImageFacts, OutputFacts, RenderInPage } from './facts';

/** The sanitizer as `@jupyterlab/apputils-extension:sanitizer` sets it up with its schema defaults. */
function labSanitizer(): IRenderMime.ISanitizer {
  const sanitizer = new Sanitizer();
  sanitizer.setAllowedSchemes(['http', 'https', 'ftp', 'mailto', 'tel']);
  sanitizer.setAutolink(true);
  sanitizer.setAllowNamedProperties(false);
  sanitizer.setAllowCommandLinker(true);
  return sanitizer;
}

/**
 * Lab's registry, which also remembers every render it starts, so the page can wait for all of
 * them (a Vega render writes a PNG back into the model, which starts another render).
 */
class WatchedRendermime extends RenderMimeRegistry {
  readonly pending = new Set<Promise<void>>();

  override createRenderer(mimeType: string): IRenderMime.IRenderer {
    const renderer = super.createRenderer(mimeType);
    const renderModel = renderer.renderModel.bind(renderer);
    renderer.renderModel = (model: IRenderMime.IMimeModel) => {
      const rendering = renderModel(model);
      this.pending.add(rendering.catch(() => undefined));
      return rendering;
    };
    return renderer;
  }

  async settled(): Promise<void> {
    while (this.pending.size > 0) {
      const batch = [...this.pending];
      await Promise.allSettled(batch);
      for (const rendering of batch) this.pending.delete(rendering);
      await nextFrame();
    }
  }
}

function labRendermime(): WatchedRendermime {
  const rendermime = new WatchedRendermime({
    initialFactories: standardRendererFactories,
    sanitizer: labSanitizer(),
  });
  const extensions: IRenderMime.IExtension[] = [vega5Extension, javascriptExtension, jsonExtensions].flat();
  for (const { rendererFactory, rank } of extensions) {
    if (rank !== undefined) rendermime.addFactory(rendererFactory, rank);
    else rendermime.addFactory(rendererFactory);
  }
  return rendermime;
}

const nextFrame = () => new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));

/** Renders the cells' outputs into #notebook and reports what each output shows. */
const render: RenderInPage = async (cells, { trusted }) => {
  const root = document.getElementById('notebook')!;
  const rendermime = labRendermime();
  const areas = cells.map((cell) => {
    const label = document.createElement('div');
    label.className = 'archlab-cell-label';
    const count = cell.executionCount ?? ' ';
    label.textContent = `[${count}] cell ${cell.cell}: ${cell.source.split('\n')[0].slice(0, 100)}`;
    const host = document.createElement('div');
    host.className = 'jp-Cell jp-CodeCell jp-Notebook-cell';
    root.append(label, host);
    const model = new OutputAreaModel({ values: cell.outputs as nbformat.IOutput[], trusted });
    const area = new OutputArea({ model, rendermime });
    Widget.attach(area, host);
    return { cell, area };
  });
  await rendermime.settled();
  await Promise.all([...root.querySelectorAll('img')].map((img) => img.decode().catch(() => undefined)));
  await nextFrame();
  return areas.flatMap(({ cell, area }) =>
    area.widgets.map((panel, index) => outputFacts(cell, index, area, panel, rendermime, trusted)),
  );
};

function outputFacts(
  cell: CellToRender,
  index: number,
  area: OutputArea,
  panel: Widget,
  rendermime: RenderMimeRegistry,
  trusted: boolean,
): OutputFacts {
  const model = area.model.get(index);
  const json = model.toJSON() as nbformat.IOutput;
  const renderer = 'widgets' in panel ? (panel as unknown as { widgets: Widget[] }).widgets.filter((w) => 'renderModel' in w).pop() : undefined;
  const node = (renderer ?? panel).node;
  const box = node.getBoundingClientRect();
  const facts: OutputFacts = {
    cell: cell.cell,
    output: index,
    outputType: model.type,
    mimeTypes: Object.keys(model.data),
    shown: renderer ? (rendermime.preferredMimeType(model.data, trusted ? 'any' : 'ensure') ?? null) : null,
    text: (node.innerText ?? '').trim().slice(0, 500),
    width: Math.round(box.width),
    height: Math.round(box.height),
    media: node.querySelectorAll('svg, canvas, img, video, iframe').length,
    images: [...node.querySelectorAll('img')].map(imageFacts),
    charts: [...node.querySelectorAll<HTMLElement>('.vega-embed')].map((embed) => chartFacts(embed, renderer)),
  };
  if (json.output_type === 'error') facts.error = { ename: String(json.ename), evalue: String(json.evalue) };
  return facts;
}

function imageFacts(img: HTMLImageElement): ImageFacts {
  return {
    src: img.src.slice(0, 60),
    decoded: img.complete && img.naturalWidth > 0,
    naturalWidth: img.naturalWidth,
    naturalHeight: img.naturalHeight,
  };
}

/** A scenegraph node as Vega builds it: marks hold items, group items hold marks. */
interface SceneNode {
  marktype?: string;
  role?: string;
  items?: SceneNode[];
}

/** Counts the items of the chart's own (non-group) marks; axes, legends and titles have other roles. */
function markItems(node: SceneNode | undefined): number {
  if (!node?.items) return 0;
  const own = node.role === 'mark' && node.marktype !== 'group' ? node.items.length : 0;
  return own + node.items.reduce((sum, child) => sum + markItems(child), 0);
}

function chartFacts(embed: HTMLElement, renderer: Widget | undefined): ChartFacts {
  const canvas = embed.querySelector('canvas');
  const svg = embed.querySelector('svg.marks');
  // RenderedVega keeps vega-embed's result in `_result` (JupyterLab 4.6.3, pinned).
  const view = (renderer as unknown as { _result?: { view?: { scenegraph(): { root: SceneNode } } } })?._result?.view;
  const facts: ChartFacts = {
    renderer: canvas ? 'canvas' : svg ? 'svg' : 'none',
    width: 0,
    height: 0,
    markItems: view ? markItems(view.scenegraph().root) : 0,
    ink: 0,
  };
  if (canvas) {
    facts.width = canvas.width;
    facts.height = canvas.height;
    facts.ink = inkedPixels(canvas);
  } else if (svg) {
    const box = svg.getBoundingClientRect();
    facts.width = Math.round(box.width);
    facts.height = Math.round(box.height);
    facts.ink = svg.querySelectorAll('.role-mark path, .role-mark rect, .role-mark circle, .role-mark line').length;
  }
  return facts;
}

function inkedPixels(canvas: HTMLCanvasElement): number {
  if (canvas.width === 0 || canvas.height === 0) return 0;
  const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
  let ink = 0;
  for (let i = 0; i < data.length; i += 4) {
    const white = data[i] > 245 && data[i + 1] > 245 && data[i + 2] > 245;
    if (data[i + 3] > 0 && !white) ink++;
  }
  return ink;
}

(window as unknown as { archlabRender: RenderInPage }).archlabRender = render;
