/**
 * One format table: how each kind of archlab value shows itself in Jupyter. The modules that define
 * a value (src/lang: models, summaries, traces) give it a `[DISPLAY]()` method that asks this table
 * by kind; the package root (src/formats.ts) fills the table with formatters that may use every
 * pipeline stage (diagrams, tables). So definitions never import their views — no lazy `require`
 * up into diagram/plot, and no `instanceof` dispatch inside diagram code.
 *
 *     src/lang/model.ts:  [DISPLAY]() { return formatOf("model", this, …) }
 *     src/formats.ts:     registerFormat("model", (m) => modelDiagram(m)[DISPLAY]())
 */
import type { MimeBundle } from "./protocol";

/**
 * The kinds the table formats, each with its value's type. A module that defines a displayable
 * value adds its kind here by declaration merging (`declare module "../display/registry"`).
 */
export interface Formats {}

/** Makes a value's mime bundle. */
export type Formatter<T> = (value: T) => MimeBundle | Promise<MimeBundle>;

const table = new Map<string, Formatter<never>>();

/** Sets the formatter of `kind` (the package root does this once, at load). Returns the previous one. */
export function registerFormat<K extends keyof Formats & string>(kind: K, formatter: Formatter<Formats[K]>): Formatter<Formats[K]> | undefined {
  const previous = table.get(kind) as Formatter<Formats[K]> | undefined;
  table.set(kind, formatter as Formatter<never>);
  return previous;
}

/**
 * The mime bundle of `value` as its kind's formatter makes it; `text/plain` of `text()` when no
 * formatter is registered (a module loaded without the package root).
 */
export function formatOf<K extends keyof Formats & string>(kind: K, value: Formats[K], text: () => string): MimeBundle | Promise<MimeBundle> {
  const formatter = table.get(kind) as Formatter<Formats[K]> | undefined;
  return formatter ? formatter(value) : { "text/plain": text() };
}
