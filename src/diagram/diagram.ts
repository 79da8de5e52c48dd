/**
 * A diagram as a display object: it shows itself in Jupyter (an `<img>` data URI, the SVG, and a
 * text description), and saves to `.svg`, `.png` or `.dot`.
 */
import { writeFile } from "node:fs/promises";
import { extname } from "node:path";
import { DISPLAY, type MimeBundle } from "../display/protocol";
import { imageBundle } from "../display/html";
import { svgToPng, type PngOptions } from "../display/image";
import { errors } from "../errors";
import { toDot, type DotStyle } from "./dot";
import { dotToSvg } from "./layout";
import type { Graph, GraphEdge, GraphNode } from "./model";

/** What `save` can write, by file extension. */
export const SAVE_FORMATS = [".svg", ".png", ".dot"] as const;

/**
 * A Graphviz diagram generated from a definition. Create with `diagram`, `unrolled` or `diff`.
 *
 * @example
 * const d = diagram(LSTM);
 * d.toDot();                 // the DOT text
 * await d.toSvg();           // laid out by Graphviz
 * await d.save("lstm.png");  // .svg, .png or .dot
 */
export class Diagram {
  #dot?: string;
  #svg?: Promise<string>;

  constructor(
    /** The model: nodes, edges, clusters (plain data). */
    readonly graph: Graph,
    /** The text description (the `text/plain` view). */
    readonly text: string,
    private readonly style: DotStyle,
  ) {}

  /** The diagram's nodes (tensor records, operations, cells). */
  get nodes(): readonly GraphNode[] {
    return this.graph.nodes;
  }

  /** The diagram's edges. */
  get edges(): readonly GraphEdge[] {
    return this.graph.edges;
  }

  /** The Graphviz DOT text. */
  toDot(): string {
    return (this.#dot ??= toDot(this.graph, this.style));
  }

  /** The SVG, laid out by Graphviz (cached). */
  toSvg(): Promise<string> {
    this.#svg ??= dotToSvg(this.toDot(), `diagram "${this.graph.name}"`);
    this.#svg.catch(() => (this.#svg = undefined));
    return this.#svg;
  }

  /** A PNG of the SVG (default scale 2). */
  async toPng(options: PngOptions = {}): Promise<Buffer> {
    return svgToPng(await this.toSvg(), options);
  }

  /**
   * Writes the diagram to `path`; the extension picks the format (`.svg`, `.png`, `.dot`).
   * Returns the path.
   */
  async save(path: string, options: PngOptions = {}): Promise<string> {
    const ext = extname(String(path)).toLowerCase();
    if (!(SAVE_FORMATS as readonly string[]).includes(ext))
      throw errors.badOption("path", path, `a file name ending in ${SAVE_FORMATS.join(", ")}`);
    const content = ext === ".dot" ? this.toDot() : ext === ".svg" ? await this.toSvg() : await this.toPng(options);
    await writeFile(path, content);
    return path;
  }

  /** The Jupyter mime bundle: `<img>` HTML, `image/svg+xml`, `text/plain`. */
  async [DISPLAY](): Promise<MimeBundle> {
    return imageBundle({ svg: await this.toSvg(), text: this.text, title: this.graph.caption.title });
  }

  toString(): string {
    return this.text;
  }
}
