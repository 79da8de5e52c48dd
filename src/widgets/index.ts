/**
 * Phase 7 — live widgets: sliders, play buttons and drop-downs in the notebook that drive the
 * kernel (the Jupyter widgets protocol over the kernel's comms; JupyterLab shows them with
 * @jupyter-widgets/jupyterlab-manager). `scrub(stepper)` moves a stepper through time from a
 * slider; `interact(controls, render)` recomputes anything from controls. They need the kernel;
 * the self-contained `player()` is the offline, exportable counterpart.
 *
 * @example
 * const s = cell(LSTM, { inputSize: 1, hiddenSize: 8, seed: 1 }).stepper(xs);
 * widgets.scrub(s);
 */
export { Widget, PROTOCOL_VERSION } from "./widget";
export type { WidgetState, WidgetChange, ModelSpec } from "./widget";
export { ValueWidget, IntSlider, Play, Dropdown, HBox, VBox, Output, Link, jslink } from "./controls";
export type { IntRangeOptions, PlayOptions, DropdownOptions } from "./controls";
export { interact, scrub, Interactive } from "./interact";
export type { InteractOptions, ScrubOptions, ValuesOf } from "./interact";
