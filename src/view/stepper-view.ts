/**
 * The stepper view: the cell's diagram with live values at step t beside plots of the whole
 * sequence with their cursor at t. Shown with `show()`, it owns one output (a display id):
 * every `step()`, `back()`, `seek(t)` of its stepper replaces that output in place.
 *
 * Per move it costs a cached diagram frame (neighbours are laid out ahead, while the kernel is
 * idle) and a cursor drawn over plots rendered once (see frames.ts) — no chart is re-rendered.
 */
import { randomUUID } from "node:crypto";
import { DISPLAY, display, type Displayable, type MimeBundle } from "../display/protocol";
import { Stepper } from "../engine/stepper";
import type { Trace } from "../engine/trace";
import { errors } from "../errors";
import type { Chart } from "../plot/chart";
import { heatmap, type HeatmapOptions } from "../plot/heatmap";
import { lines, type LinesOptions } from "../plot/lines";
import { saturation, type SaturationOptions } from "../plot/saturation";
import { states } from "../plot/states";
import { DiagramFrames, type ViewDiagramOptions } from "./diagram-frames";
import { PlotFrames } from "./frames";
import { besidePlots, diagramFigure } from "./layout";

/** The plots a view can show beside the diagram. */
export type ViewPlot = "heatmap" | "lines" | "states" | "saturation";

/** Options of {@link view}. */
export interface StepperViewOptions {
  /** Plots beside the diagram, top to bottom (default: heatmap of the gates, then the states). */
  plots?: readonly ViewPlot[];
  /** Options of the heatmap plot. */
  heatmap?: HeatmapOptions;
  /** Options of the lines plot. */
  lines?: LinesOptions;
  /** Options of the states plot. */
  states?: LinesOptions;
  /** Options of the saturation plot. */
  saturation?: SaturationOptions;
  /** Diagram options, e.g. `{ detail: "gates" }`. */
  diagram?: ViewDiagramOptions;
  /** Batch element shown (default 0). */
  b?: number;
  /** Width of each plot in pixels (default 360). */
  width?: number;
}

type PlotBuilder = (trace: Trace, o: StepperViewOptions, width: number) => Promise<Chart>;

const PLOTS: Record<ViewPlot, PlotBuilder> = {
  heatmap: (tr, o, width) => heatmap(tr, { width, b: o.b, rowHeight: 5, ...o.heatmap, cursor: 0 }),
  lines: (tr, o, width) => lines(tr, { width, b: o.b, ...o.lines, cursor: 0 }),
  states: (tr, o, width) => states(tr, { width, b: o.b, height: 90, ...o.states, cursor: 0 }),
  saturation: (tr, o) => saturation(tr, { b: o.b, size: 160, ...o.saturation }),
};

/** What a view draws from: the whole sequence run once, its diagram frames and plot frames. */
interface Prepared {
  source: Trace;
  full: Trace;
  diagrams: DiagramFrames;
  plots: PlotFrames[];
}

/**
 * A live view of a {@link Stepper}. Create with {@link view}.
 *
 * @example
 * const s = cell(LSTM, { inputSize: 1, hiddenSize: 16 }).stepper(xs);
 * await view(s).show();   // one output…
 * s.step();               // …replaced in place at every move
 * s.seek(20);
 */
export class StepperView implements Displayable {
  /** The display id of the output it owns once shown. */
  readonly id: string;
  #prepared?: Promise<Prepared>;
  #unsubscribe?: () => void;
  #want = -1;
  #pending?: Promise<void>;
  #error?: unknown;

  constructor(
    readonly stepper: Stepper,
    readonly options: StepperViewOptions = {},
  ) {
    if (!(stepper instanceof Stepper)) throw errors.badOption("stepper of view()", stepper, "a Stepper (cell.stepper(xs))");
    for (const p of options.plots ?? [])
      if (!(p in PLOTS)) throw errors.unknownName("plot", String(p), Object.keys(PLOTS), "view() option plots");
    this.id = `archlab-stepper-${randomUUID()}`;
  }

  /** The whole sequence (run once, apart from the stepper, with its initial state), and the frames. */
  prepare(): Promise<Prepared> {
    const source = this.stepper.trace;
    if (!this.#prepared || this.#source !== source) {
      this.#source = source;
      this.#prepared = this.#build(source);
      this.#prepared.catch(() => (this.#prepared = undefined));
    }
    return this.#prepared;
  }
  #source?: Trace;

  async #build(source: Trace): Promise<Prepared> {
    const s = this.stepper;
    const full = s.cell.run(s.inputs, { initial: source.initial, reverse: source.direction === "backward", interventions: source.interventions });
    const width = this.options.width ?? 360;
    // One chart after the other: a chart that fails must not leave another's failure unhandled.
    const charts: Chart[] = [];
    for (const p of this.options.plots ?? ["heatmap", "states"]) charts.push(await PLOTS[p](full, this.options, width));
    const plots = await Promise.all(charts.map((c) => PlotFrames.render(c)));
    const diagrams = new DiagramFrames(s.cell, full, { b: this.options.b, ...this.options.diagram });
    return { source, full, diagrams, plots };
  }

  /** The bundle at step t (default: the stepper's step; −1 before the first step: no values, no cursor). */
  async frame(t: number = this.stepper.t): Promise<MimeBundle> {
    const { full, diagrams, plots } = await this.prepare();
    const T = full.length;
    if (!Number.isInteger(t) || t < -1 || t >= T) throw errors.outOfRange("Step t of the view", t, -1, T - 1);
    const at = t < 0 ? null : t;
    const diagramSvg = await diagrams.svgAt(t);
    const def = full.def;
    const caption = at === null ? `${def.name}: before the first step (call step())` : `${def.name}: step t = ${at} of 0…${T - 1}`;
    const html = `<div class="archlab-stepper">${besidePlots(diagramFigure(diagramSvg, caption), plots.map((p) => p.imgAt(at)))}</div>`;
    const state = at === null ? "" : "\n" + def.states.map((st) => `${st.name} = [${full.value(st.next, { t: at, b: this.options.b ?? 0 }).map((v) => v.toPrecision(4)).join(", ")}]`).join("\n");
    return { "text/html": html, "text/plain": caption + state };
  }

  /**
   * Shows the view as one output and keeps it in step with the stepper: every move replaces that
   * output in place (`display(…, { id, update: true })`). Resolves when the first frame is out.
   */
  async show(): Promise<void> {
    const bundle = await this.frame();
    await display(frozen(bundle), { id: this.id });
    this.#want = this.stepper.t;
    this.#unsubscribe ??= this.stepper.onChange((s) => this.#moved(s.t));
    void this.#prefetch(this.stepper.t);
  }

  /** Stops following the stepper (the output stays as it is). */
  close(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** Resolves when every move so far is published (rejects with a publishing error, once). */
  async settled(): Promise<void> {
    while (this.#pending) await this.#pending;
    if (this.#error) {
      const e = this.#error;
      this.#error = undefined;
      throw e;
    }
  }

  #moved(t: number): void {
    this.#want = t;
    this.#pending ??= this.#publish().finally(() => (this.#pending = undefined));
  }

  /** Publishes the latest wanted step; moves made meanwhile coalesce into one more update. */
  async #publish(): Promise<void> {
    let shown: number;
    do {
      shown = this.#want;
      try {
        await display(frozen(await this.frame(shown)), { id: this.id, update: true });
      } catch (e) {
        this.#error = e;
        return;
      }
    } while (this.#want !== shown);
    void this.#prefetch(shown);
  }

  async #prefetch(t: number): Promise<void> {
    const { diagrams } = await this.prepare();
    await diagrams.prefetch([t + 1, t - 1, t + 2]);
  }

  /** The bundle at the stepper's current step. */
  [DISPLAY](): Promise<MimeBundle> {
    return this.frame();
  }
}

const frozen = (bundle: MimeBundle): Displayable => ({ [DISPLAY]: () => bundle });

/**
 * A live view of a stepper: its diagram with values at the current step beside plots of the
 * whole sequence with a cursor at that step. `await view(s).show()` shows it once; afterwards
 * `s.step()`, `s.back()`, `s.seek(t)` update that same output in place.
 *
 * @example
 * const s = cell(GRU_RESET_AFTER, { inputSize: 1, hiddenSize: 8 }).stepper(xs);
 * await view(s, { plots: ["heatmap", "lines"], diagram: { detail: "gates" } }).show();
 * s.step(); s.step(); s.seek(10);
 */
export function view(stepper: Stepper, options: StepperViewOptions = {}): StepperView {
  return new StepperView(stepper, options);
}
