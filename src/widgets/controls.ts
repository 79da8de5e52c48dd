/**
 * The widgets archlab uses, each the kernel side of a model of @jupyter-widgets/controls 2.0.0
 * (or output 1.0.0): state keys as that package's models name them; keys left out take the
 * frontend model's defaults. Bad options are named errors here, before any comm opens.
 */
import { format, jsonBundle } from "../display/protocol";
import { errors, show } from "../errors";
import { CONTROLS, Widget, modelRef } from "./widget";

/** A widget with one value a person chooses (a slider's number, a dropdown's option). */
export abstract class ValueWidget<T> extends Widget {
  /** The value chosen now. */
  abstract get value(): T;
  /**
   * Calls `handler` with the new value whenever it changes (from the kernel or a frontend);
   * returns a function that stops it.
   */
  onValue(handler: (value: T) => unknown): () => void {
    return this.observe(({ changed }) => (this.valueKey in changed ? handler(this.value) : undefined));
  }
  /** The state key that carries the value. */
  protected abstract readonly valueKey: string;
}

/** Options of {@link IntSlider} and {@link Play}. */
export interface IntRangeOptions {
  value?: number;
  min?: number;
  max?: number;
  step?: number;
  description?: string;
}

/** The integer range options, checked: whole numbers, min ≤ value ≤ max, step ≥ 1. */
function intRange(what: string, { value, min = 0, max = 100, step = 1, description = "" }: IntRangeOptions) {
  const whole = (name: string, v: unknown) => {
    if (!Number.isSafeInteger(v)) throw errors.badOption(`${what} option ${name}`, v, "a whole number");
  };
  whole("min", min);
  whole("max", max);
  whole("step", step);
  if (max < min) throw errors.badOption(`${what} option max`, max, `a number ≥ min (${min})`);
  if (step < 1) throw errors.badOption(`${what} option step`, step, "a whole number ≥ 1");
  const v = value ?? min;
  whole("value", v);
  if (v < min || v > max) throw errors.badOption(`${what} option value`, v, `a whole number from min to max (${min}…${max})`);
  if (typeof description !== "string") throw errors.badOption(`${what} option description`, description, "a string");
  return { value: v, min, max, step, description };
}

/** A number the kernel holds: the slider's value, and the value a frontend may have sent. */
abstract class IntWidget extends ValueWidget<number> {
  protected readonly valueKey = "value";
  get value(): number {
    return this.get("value") as number;
  }
  set value(v: number) {
    const [min, max] = [this.get("min") as number, this.get("max") as number];
    if (!Number.isSafeInteger(v) || v < min || v > max) throw errors.badOption(`${this.constructor.name} value`, v, `a whole number from min to max (${min}…${max})`);
    void this.set({ value: v });
  }
  protected override describe(): string {
    return `${this.constructor.name}(value=${this.value}, min=${this.get("min")}, max=${this.get("max")})`;
  }
}

/**
 * A horizontal slider of whole numbers.
 *
 * @example
 * const t = new widgets.IntSlider({ min: 0, max: 19, description: "t" });
 * t.onValue((v) => console.log(v));
 */
export class IntSlider extends IntWidget {
  constructor(options: IntRangeOptions = {}) {
    super({ ...CONTROLS, model: "IntSliderModel", view: "IntSliderView" }, intRange("IntSlider", options));
  }
}

/** Options of {@link Play}. */
export interface PlayOptions extends IntRangeOptions {
  /** Milliseconds between steps while playing (default 300). */
  interval?: number;
  /** Start again from min at the end. */
  repeat?: boolean;
}

/**
 * Play / pause / stop buttons that count through a range in the browser — link it to a slider
 * with {@link jslink}, and each step reaches the kernel through the slider.
 *
 * @example
 * const play = new widgets.Play({ max: 19, interval: 200 });
 * widgets.jslink([play, "value"], [slider, "value"]);
 */
export class Play extends IntWidget {
  constructor(options: PlayOptions = {}) {
    const { interval = 300, repeat = false, ...range } = options;
    if (!(Number.isFinite(interval) && interval > 0)) throw errors.badOption("Play option interval", interval, "milliseconds > 0, e.g. 300");
    super({ ...CONTROLS, model: "PlayModel", view: "PlayView" }, { ...intRange("Play", range), interval, repeat: repeat === true });
  }
}

/** Options of {@link Dropdown}: labels, or [label, value] pairs. */
export interface DropdownOptions<T> {
  options: readonly string[] | readonly (readonly [string, T])[];
  /** The option chosen first (default the first). */
  value?: T;
  description?: string;
}

/**
 * A drop-down list; its value is the chosen option (a label, or the value paired with it).
 *
 * @example
 * const gate = new widgets.Dropdown({ options: ["i", "f", "o"], value: "f", description: "gate" });
 * const which = new widgets.Dropdown({ options: [["LSTM", LSTM], ["GRU", GRU]] });
 */
export class Dropdown<T = string> extends ValueWidget<T> {
  protected readonly valueKey = "index";
  readonly #values: T[];

  constructor({ options, value, description = "" }: DropdownOptions<T>) {
    if (!Array.isArray(options) || options.length === 0) throw errors.badOption("Dropdown option options", options, 'a non-empty list of labels or [label, value] pairs, e.g. ["i", "f", "o"]');
    const pairs = options.map((o: string | readonly [string, T]) => (typeof o === "string" ? ([o, o as T] as const) : o));
    for (const p of pairs) {
      if (!Array.isArray(p) || typeof p[0] !== "string") throw errors.badOption("Dropdown option options", options, `labels (strings) or [label, value] pairs; ${show(p)} is neither`);
    }
    const index = value === undefined ? 0 : pairs.findIndex((p) => p[1] === value);
    if (index < 0) throw errors.badOption("Dropdown option value", value, `one of the options' values: ${pairs.map((p) => p[0]).join(", ")}`);
    super({ ...CONTROLS, model: "DropdownModel", view: "DropdownView" }, { _options_labels: pairs.map((p) => p[0]), index, description });
    this.#values = pairs.map((p) => p[1]);
  }

  get value(): T {
    return this.#values[this.get("index") as number];
  }
  set value(v: T) {
    const index = this.#values.indexOf(v);
    if (index < 0) throw errors.badOption("Dropdown value", v, `one of the options' values: ${(this.get("_options_labels") as string[]).join(", ")}`);
    void this.set({ index });
  }

  protected override describe(): string {
    return `Dropdown(value=${show((this.get("_options_labels") as string[])[this.get("index") as number])})`;
  }
}

/** Widgets side by side (HBox) or stacked (VBox). */
abstract class Box extends Widget {
  readonly children: readonly Widget[];
  constructor(model: "HBoxModel" | "VBoxModel", children: readonly Widget[]) {
    for (const c of children) if (!(c instanceof Widget)) throw errors.badOption(`${model.replace("Model", "")} children`, c, "widgets (IntSlider, Play, Dropdown, Output, HBox, VBox…)");
    super({ ...CONTROLS, model, view: model.replace("Model", "View") }, { children: children.map(modelRef) });
    this.children = [...children];
  }
  protected override describe(): string {
    return `${this.constructor.name}(${this.children.map((c) => c.constructor.name).join(", ")})`;
  }
}

/** Widgets in a row. @example new widgets.HBox([play, slider]) */
export class HBox extends Box {
  constructor(children: readonly Widget[]) {
    super("HBoxModel", children);
  }
}

/** Widgets in a column. @example new widgets.VBox([controls, output]) */
export class VBox extends Box {
  constructor(children: readonly Widget[]) {
    super("VBoxModel", children);
  }
}

/**
 * An output area inside a widget: `show(x)` replaces what it shows with x (any displayable — a
 * diagram, a chart, a stepper view's frame).
 *
 * @example
 * const out = new widgets.Output();
 * await out.show(lstm.diagram());
 */
export class Output extends Widget {
  constructor() {
    super({ model: "OutputModel", view: "OutputView", module: "@jupyter-widgets/output", version: "1.0.0" }, { outputs: [] });
  }

  /** Shows `value` (formatted as `display` would) in place of the current output. */
  async show(value: unknown): Promise<void> {
    const data = jsonBundle(await format(value));
    await this.set({ outputs: [{ output_type: "display_data", data, metadata: {} }] });
  }

  /** Shows text (an error message, a note) in place of the current output. */
  async showText(text: string, stream: "stdout" | "stderr" = "stdout"): Promise<void> {
    await this.set({ outputs: [{ output_type: "stream", name: stream, text }] });
  }
}

/** A link between two widgets' keys, kept in the browser (no round trip to the kernel). */
export class Link extends Widget {
  constructor(source: readonly [Widget, string], target: readonly [Widget, string]) {
    for (const [end, pair] of [["source", source], ["target", target]] as const) {
      if (!Array.isArray(pair) || !(pair[0] instanceof Widget) || typeof pair[1] !== "string") throw errors.badOption(`jslink ${end}`, pair, '[widget, "key"], e.g. [play, "value"]');
    }
    super({ ...CONTROLS, model: "LinkModel", view: null }, { source: [modelRef(source[0]), source[1]], target: [modelRef(target[0]), target[1]] });
  }
}

/**
 * Keeps `source`'s key and `target`'s key equal in the browser, both ways: a Play button drives a
 * slider without the kernel, and the slider tells the kernel.
 *
 * @example
 * widgets.jslink([play, "value"], [slider, "value"]);
 */
export function jslink(source: readonly [Widget, string], target: readonly [Widget, string]): Link {
  return new Link(source, target);
}
