/**
 * What the page reports about each rendered output: plain data measured in the browser, judged
 * in Node (see `judge` in ../render.ts). Shared by both sides, so it holds types only.
 */

/** A code cell as the page receives it: outputs already rejoined as the Jupyter server does. */
export interface CellToRender {
  /** Index of the cell in the notebook (markdown cells count). */
  cell: number;
  executionCount: number | null;
  source: string;
  outputs: object[];
}

/** One `<img>` inside an output. */
export interface ImageFacts {
  /** The start of its src, enough to tell a data: URI from a link. */
  src: string;
  /** Loaded and decoded: `complete` with a natural width above zero. */
  decoded: boolean;
  naturalWidth: number;
  naturalHeight: number;
}

/** One vega-embed chart inside an output. */
export interface ChartFacts {
  renderer: 'canvas' | 'svg' | 'none';
  width: number;
  height: number;
  /** Items of the chart's own marks in the Vega scenegraph (bars, points, lines), axes excluded. */
  markItems: number;
  /** Canvas: pixels neither transparent nor white. SVG: drawn elements under the marks. */
  ink: number;
}

/** One output as JupyterLab shows it, in one trust mode. */
export interface OutputFacts {
  cell: number;
  /** Index among the cell's outputs as Lab models them (Lab merges consecutive stream outputs). */
  output: number;
  outputType: string;
  /** The bundle's mime types (streams and errors: Lab's own mime type for them). */
  mimeTypes: string[];
  /** The mime type Lab chose to render, or null when it rendered nothing. */
  shown: string | null;
  /** Visible text, at most 500 characters. */
  text: string;
  width: number;
  height: number;
  /** How many svg, canvas, img, video and iframe elements it holds. */
  media: number;
  images: ImageFacts[];
  charts: ChartFacts[];
  /** For error outputs: the exception's name and value. */
  error?: { ename: string; evalue: string };
}

/** The function the page exposes as `window.archlabRender`. */
export type RenderInPage = (cells: CellToRender[], options: { trusted: boolean }) => Promise<OutputFacts[]>;
