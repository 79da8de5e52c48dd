/**
 * Controls that recompute in the kernel: {@link interact} shows controls above an output and
 * re-renders the output from the controls' values whenever one moves; {@link scrub} is that for a
 * stepper — a play button and a slider over time, the stepper moved to the slider's step and its
 * view (diagram with live values, plots with their cursor) shown for it.
 */
import { DISPLAY, type MimeBundle } from "../display/protocol";
import { Stepper } from "../engine/stepper";
import { errors } from "../errors";
import { view, type StepperViewOptions } from "../view/stepper-view";
import { HBox, IntSlider, Output, Play, VBox, jslink, type ValueWidget } from "./controls";
import type { Widget } from "./widget";

/** The values of a set of controls, by the same names. */
export type ValuesOf<C extends Record<string, ValueWidget<unknown>>> = { [K in keyof C]: C[K]["value"] };

/** Options of {@link interact}. */
export interface InteractOptions {
  /** The widgets in the row above the output (default: the controls; e.g. add a Play button). */
  row?: readonly Widget[];
}

/**
 * Controls above an output, live: an output shown from the controls' values now, and shown again
 * whenever a control moves. Displaying it waits for the first output.
 */
export class Interactive<C extends Record<string, ValueWidget<unknown>>> extends VBox {
  /** Resolves once the output shows the latest values. */
  rendered: Promise<void>;

  constructor(
    readonly controls: C,
    readonly output: Output,
    row: readonly Widget[],
    private readonly render: (values: ValuesOf<C>) => unknown,
  ) {
    super([new HBox(row), output]);
    for (const control of Object.values(controls)) control.onValue(() => (this.rendered = this.#show()));
    this.rendered = this.#show();
  }

  /** The controls' values now. */
  get values(): ValuesOf<C> {
    return Object.fromEntries(Object.entries(this.controls).map(([name, c]) => [name, c.value])) as ValuesOf<C>;
  }

  /** Renders the current values; a render that fails shows its error in the output, and the controls stay usable. */
  async #show(): Promise<void> {
    try {
      await this.output.show(await this.render(this.values));
    } catch (error) {
      await this.output.showText(error instanceof Error ? `${error.name}: ${error.message}` : String(error), "stderr");
    }
  }

  override async [DISPLAY](): Promise<MimeBundle> {
    await this.rendered;
    return super[DISPLAY]();
  }
}

/**
 * Shows `controls` above an output of `render(values)`, and renders again in the kernel whenever a
 * control moves.
 *
 * @example
 * const lstm = cell(LSTM, { inputSize: 1, hiddenSize: 8, seed: 1 });
 * const t = new widgets.IntSlider({ max: xs.length - 1, description: "hold f = 1 at t" });
 * const gate = new widgets.Dropdown({ options: ["i", "f", "o"], value: "f", description: "gate" });
 * widgets.interact({ t, gate }, ({ t, gate }) =>
 *   plot.lines(lstm.run(xs, { interventions: [{ node: gate, t, value: 1 }] }), { nodes: ["h"] }));
 */
export function interact<C extends Record<string, ValueWidget<unknown>>>(controls: C, render: (values: ValuesOf<C>) => unknown, options: InteractOptions = {}): Interactive<C> {
  if (typeof render !== "function") throw errors.badOption("render of interact()", render, "a function of the controls' values, e.g. ({ t }) => lstm.diagram({ at: t })");
  return new Interactive(controls, new Output(), options.row ?? Object.values(controls), render);
}

/** Options of {@link scrub}. */
export interface ScrubOptions extends StepperViewOptions {
  /** Milliseconds per step when playing (default 300). */
  interval?: number;
}

/**
 * A play button and a slider over a stepper's steps, above its view: moving the slider (or
 * playing) moves the stepper in the kernel — `s.t` is the slider's step — and shows the diagram
 * with that step's values beside the plots with their cursor there. Starts at the stepper's step
 * (step 0 if it has not stepped yet).
 *
 * @example
 * const s = cell(LSTM, { inputSize: 1, hiddenSize: 8, seed: 1 }).stepper(xs);
 * widgets.scrub(s, { plots: ["heatmap"] });
 */
export function scrub(stepper: Stepper, options: ScrubOptions = {}): Interactive<{ t: IntSlider }> {
  if (!(stepper instanceof Stepper)) throw errors.badOption("stepper of scrub()", stepper, "a Stepper (cell.stepper(xs))");
  const { interval, ...viewOptions } = options;
  const live = view(stepper, viewOptions);
  const range = { min: 0, max: stepper.length - 1, value: Math.max(stepper.t, 0) };
  const t = new IntSlider({ ...range, description: "t" });
  const play = new Play({ ...range, interval });
  jslink([play, "value"], [t, "value"]);
  // The view displays itself at the stepper's step: move the stepper, show the view.
  return interact({ t }, ({ t }) => (stepper.seek(t), live), { row: [play, t] });
}
