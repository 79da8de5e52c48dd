/**
 * Display protocol — how archlab objects show themselves in Jupyter.
 *
 * Display is a protocol, not a base class (Deno's Jupyter convention): any object with a
 * `[Symbol.for("Jupyter.display")]()` method returning a mime bundle (or a Promise of one)
 * displays in the archlab kernel, and in Deno's kernel too. One `format(value)` serves both an
 * explicit `display(value)` and a cell's last value.
 *
 * The kernel installs a {@link Publisher}; outside a kernel `display` prints `text/plain`.
 */

/** The well-known symbol a displayable object implements. */
export const DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

/** A Jupyter mime bundle: mime type → data. Always carries `text/plain`. */
export interface MimeBundle {
  "text/plain": string;
  [mime: string]: unknown;
}

/** Anything that knows how to show itself in Jupyter. */
export interface Displayable {
  [DISPLAY](): MimeBundle | Promise<MimeBundle>;
}

/** Options of {@link display}. */
export interface DisplayOptions {
  /** A display id: a later `display(x, { id, update: true })` replaces this output in place. */
  id?: string;
  /** Update the output that has `id` instead of adding a new one. */
  update?: boolean;
  /** Per-mime metadata sent with the bundle. */
  metadata?: Record<string, unknown>;
}

/** Where bundles go: the kernel sets one; tests may set their own. */
export interface Publisher {
  display(bundle: MimeBundle, options: DisplayOptions): void;
  clearOutput(options: { wait: boolean }): void;
  /**
   * Called as a display starts rendering; the function it returns, once it has been published or
   * has failed. The kernel waits for the displays a cell started, awaited or not, before it
   * reports the cell done (`display(diagram(LSTM)); 4` shows the diagram in its cell).
   */
  begin?(): () => void;
}

let publisher: Publisher | undefined;

/** Installs the publisher (the kernel does this at start). Returns the previous one. */
export function setPublisher(next: Publisher | undefined): Publisher | undefined {
  const previous = publisher;
  publisher = next;
  return previous;
}

/** True when a publisher is installed (code runs in the kernel, or a test set one): displays become outputs. */
export const hasPublisher = (): boolean => publisher !== undefined;

/** True when `value` implements the display protocol. */
export function isDisplayable(value: unknown): value is Displayable {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as Partial<Displayable>)[DISPLAY] === "function"
  );
}

/** Checks that `bundle` is a mime bundle and returns it, or throws a TypeError naming the problem. */
export function checkBundle(bundle: unknown, source = "display method"): MimeBundle {
  if (bundle === null || typeof bundle !== "object" || Array.isArray(bundle)) {
    throw new TypeError(
      `The ${source} returned ${bundle === null ? "null" : Array.isArray(bundle) ? "an array" : typeof bundle}, ` +
        `not a mime bundle. Return an object such as { "text/plain": "…", "text/html": "…" }.`,
    );
  }
  const entries = Object.entries(bundle as Record<string, unknown>);
  if (entries.length === 0) {
    throw new TypeError(`The ${source} returned an empty object, not a mime bundle: add at least "text/plain".`);
  }
  for (const [mime] of entries) {
    if (!/^[a-z]+\/[-+.\w]+$/i.test(mime)) {
      throw new TypeError(`The ${source} returned a bundle with key "${mime}", which is not a mime type.`);
    }
  }
  const out = { ...(bundle as Record<string, unknown>) } as MimeBundle;
  if (typeof out["text/plain"] !== "string") out["text/plain"] = String(out["text/plain"] ?? "[archlab display]");
  return out;
}

/**
 * Turns any value into a mime bundle: a displayable's own bundle (checked), else `text/plain`
 * from `util.inspect`.
 *
 * @example
 * await format({ [Symbol.for("Jupyter.display")]: () => ({ "text/plain": "hi" }) }) // { "text/plain": "hi" }
 */
export async function format(value: unknown): Promise<MimeBundle> {
  if (isDisplayable(value)) return checkBundle(await value[DISPLAY]());
  const { inspect } = await import("node:util");
  return { "text/plain": typeof value === "string" ? value : inspect(value, { depth: 4, colors: false }) };
}

/** A bundle ready for JSON: binary data (PNG bytes…) as base64, as Jupyter expects (the kernel's
 * display messages, a widget's output area). */
export function jsonBundle(bundle: MimeBundle): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [mime, data] of Object.entries(bundle)) out[mime] = data instanceof Uint8Array ? Buffer.from(data).toString("base64") : data;
  return out;
}

/**
 * Shows `value` as a cell output. With `{ id }` the output can later be replaced in place with
 * `display(newValue, { id, update: true })`.
 *
 * @example
 * display(lstm.diagram(), { id: "cell" });
 * display(lstm.diagram({ at: 3 }), { id: "cell", update: true });
 */
export async function display(value: unknown, options: DisplayOptions = {}): Promise<void> {
  const end = publisher?.begin?.();
  try {
    const bundle = await format(value);
    if (publisher) publisher.display(bundle, options);
    else console.log(bundle["text/plain"]);
  } finally {
    end?.();
  }
}

/** Clears the cell's output; with `{ wait: true }` only when the next output arrives. */
export function clearOutput(options: { wait?: boolean } = {}): void {
  publisher?.clearOutput({ wait: options.wait ?? false });
}
