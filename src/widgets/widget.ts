/**
 * A Jupyter widget held in the kernel: a model's state, kept in sync with the frontend's model
 * over one comm — the widget message protocol 2.1.0 that @jupyter-widgets/base 6
 * (jupyterlab-manager 5, ipywidgets 8) speaks:
 *
 *     kernel → frontend   comm_open "jupyter.widget" { state, buffer_paths } (metadata { version: "2.1.0" })
 *                         update { state: the changed keys }            on every kernel-side set()
 *     frontend → kernel   update { state }         applied; echoed back as echo_update (other
 *                                                  frontends follow); then the observers run
 *                         request_state            answered with update { the whole state }
 *                         custom { content }       handed to onCustom handlers
 *
 * Displaying a widget sends `application/vnd.jupyter.widget-view+json` naming the model by its comm
 * id. The state is kept as it goes over the wire (JSON; other widgets as "IPY_MODEL_<id>").
 */
import { DISPLAY, type Displayable, type MimeBundle } from "../display/protocol";
import { requireHost, liveWidgets, WIDGET_TARGET, type ModelSnapshot, type WidgetComm } from "./host";

/** The protocol version sent with every comm_open. */
export const PROTOCOL_VERSION = "2.1.0";

/** A widget's state as it goes over the wire. */
export type WidgetState = Record<string, unknown>;

/** Which frontend model and view a widget is (the `_model_*` and `_view_*` keys of its state). */
export interface ModelSpec {
  model: string;
  /** The view class; null for a model without a view (a link). */
  view: string | null;
  module: string;
  version: string;
}

/** The core widgets' frontend package, as jupyterlab-manager 5 registers it. */
export const CONTROLS: Omit<ModelSpec, "model" | "view"> = { module: "@jupyter-widgets/controls", version: "2.0.0" };

/** One change of a widget's state: the keys set, from the kernel or from a frontend. */
export interface WidgetChange {
  changed: WidgetState;
  from: "kernel" | "frontend";
}

type Observer = (change: WidgetChange) => unknown;

/** How another widget is named inside a widget's state. */
export const modelRef = (widget: Widget): string => `IPY_MODEL_${widget.id}`;

/**
 * The base of every widget: state, sync, display. Subclasses give their model and their state.
 *
 * @example
 * const slider = new widgets.IntSlider({ max: 9 });
 * slider.observe(({ changed }) => console.log(changed.value));
 * display(slider);
 */
export class Widget implements Displayable {
  /** The model id: the id of its comm. */
  readonly id: string;
  #state: WidgetState;
  readonly #spec: ModelSpec;
  readonly #comm: WidgetComm;
  readonly #observers = new Set<Observer>();
  readonly #custom = new Set<(content: unknown) => unknown>();
  #closed = false;

  constructor(spec: ModelSpec, state: WidgetState) {
    const host = requireHost(`${spec.model.replace(/Model$/, "")} (a live widget)`);
    this.#spec = spec;
    this.#state = { ...state };
    this.#comm = host.open(WIDGET_TARGET, { state: this.#fullState(), buffer_paths: [] }, { metadata: { version: PROTOCOL_VERSION } });
    this.id = this.#comm.id;
    liveWidgets.set(this.id, this);
    this.#comm.onMsg(({ data }) => this.#received(data));
    this.#comm.onClose(() => this.#forget());
  }

  /** The value of one state key. */
  get(key: string): unknown {
    return this.#state[key];
  }

  /** Sets state keys here and in every frontend; resolves once the observers have run. */
  set(changed: WidgetState): Promise<void> {
    this.#state = { ...this.#state, ...changed };
    if (!this.#closed) this.#comm.send({ method: "update", state: changed, buffer_paths: [] });
    return this.#notify({ changed, from: "kernel" });
  }

  /**
   * Calls `observer` after every change of the state (from the kernel or from a frontend);
   * returns a function that stops it. A frontend's change waits for its observers: the kernel
   * stays busy, and the frontend sends its next change once they are done.
   */
  observe(observer: Observer): () => void {
    this.#observers.add(observer);
    return () => this.#observers.delete(observer);
  }

  /** Sends a custom message to the frontend's model. */
  send(content: unknown): void {
    this.#comm.send({ method: "custom", content });
  }

  /** Calls `handler` with every custom message the frontend's model sends. */
  onCustom(handler: (content: unknown) => unknown): void {
    this.#custom.add(handler);
  }

  /** Closes the comm: the frontend's views of this widget go away. */
  close(): void {
    this.#comm.close();
    this.#forget();
  }

  /** The model's class, module and state, as the control comm reports it. */
  snapshot(): ModelSnapshot {
    return { model_name: this.#spec.model, model_module: this.#spec.module, model_module_version: this.#spec.version, state: this.#fullState() };
  }

  [DISPLAY](): MimeBundle | Promise<MimeBundle> {
    return {
      "application/vnd.jupyter.widget-view+json": { model_id: this.id, version_major: 2, version_minor: 0 },
      "text/plain": `${this.describe()} — a live widget: JupyterLab with @jupyter-widgets/jupyterlab-manager shows it`,
    };
  }

  /** The text/plain of the widget, e.g. `IntSlider(value=3, min=0, max=9)`. */
  protected describe(): string {
    return `${this.constructor.name}()`;
  }

  #fullState(): WidgetState {
    const { model, view, module, version } = this.#spec;
    const viewKeys = { _view_name: view, _view_module: view === null ? null : module, _view_module_version: view === null ? "" : version };
    return { _model_name: model, _model_module: module, _model_module_version: version, ...viewKeys, ...this.#state };
  }

  async #received(data: Record<string, unknown>): Promise<void> {
    if (data.method === "update") {
      const changed = (data.state ?? {}) as WidgetState;
      // Echo first (as ipywidgets does): the sender takes it as its confirmation, other frontends as the news.
      this.#comm.send({ method: "echo_update", state: changed, buffer_paths: [] });
      this.#state = { ...this.#state, ...changed };
      await this.#notify({ changed, from: "frontend" });
    } else if (data.method === "request_state") {
      this.#comm.send({ method: "update", state: this.#fullState(), buffer_paths: [] });
    } else if (data.method === "custom") {
      for (const handler of this.#custom) await handler(data.content);
    }
  }

  async #notify(change: WidgetChange): Promise<void> {
    for (const observer of this.#observers) await observer(change);
  }

  #forget(): void {
    this.#closed = true;
    liveWidgets.delete(this.id);
  }
}
