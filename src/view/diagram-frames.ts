/**
 * Diagram frames: the cell's diagram with live values at step t, from the diagram module's public
 * `diagram(cell, { trace, t })`. Laying out a diagram takes tens of milliseconds (Graphviz), so
 * frames are cached by step and the neighbours of the step just shown are prepared while the
 * kernel is idle: `step()` / `back()` then find their frame ready.
 */
import { diagram, type DiagramOptions } from "../diagram";
import type { CellSource } from "../diagram";
import type { Trace } from "../engine/trace";

/** Diagram options a view passes through (e.g. `detail: "gates"`). */
export type ViewDiagramOptions = Omit<DiagramOptions, "trace" | "t">;

/** Cached diagram SVGs of one trace, by step (−1: no values). */
export class DiagramFrames {
  #cache = new Map<number, Promise<string>>();
  #limit: number;

  constructor(
    readonly cell: CellSource,
    readonly trace: Trace,
    readonly options: ViewDiagramOptions = {},
    { limit = 512 }: { limit?: number } = {},
  ) {
    this.#limit = limit;
  }

  /** The diagram SVG at step t (t < 0: the diagram without values). */
  svgAt(t: number): Promise<string> {
    let svg = this.#cache.get(t);
    if (!svg) {
      const d = t < 0 ? diagram(this.cell, this.options) : diagram(this.cell, { ...this.options, trace: this.trace, t });
      svg = d.toSvg();
      svg.catch(() => this.#cache.delete(t));
      if (this.#cache.size >= this.#limit) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(t, svg);
    }
    return svg;
  }

  /** True when step t's frame is cached. */
  has(t: number): boolean {
    return this.#cache.has(t);
  }

  /** Prepares the frames of `steps` one by one, yielding to other work between them. */
  async prefetch(steps: readonly number[]): Promise<void> {
    for (const t of steps) {
      if (t < -1 || t >= this.trace.length || this.#cache.has(t)) continue;
      await new Promise((resolve) => setImmediate(resolve));
      await this.svgAt(t).catch(() => undefined);
    }
  }
}
