/**
 * Which traced values a chart shows, read out of a trace as panels: one named value (a gate, a
 * candidate, a state) for one batch element, `[T][units]`, with its paper label, its note, its
 * value range, and a count of non-finite numbers (drawn as gaps and reported, never a crash).
 */
import type { CellDef, NodeRole } from "../cells/define";
import { Trace, type TraceEntry } from "../engine/trace";
import { errors } from "../errors";
import { RANGE, type ValueRange } from "./spec";

/** Options every trace chart takes to choose what it shows. */
export interface SelectOptions {
  /** Names to show, in this order (trace names: `"f"`, `"c"`, …). Overrides `roles`. */
  names?: readonly string[];
  /** Roles to show when `names` is not given. */
  roles?: readonly (NodeRole | "input")[];
  /** Batch element (default 0). */
  b?: number;
  /**
   * Value domain per trace name, `[lo, hi]`: the colour scale of a heatmap panel, the y scale of a
   * line panel (default: from the value's range, or its data). `plot.compare` sets it to share scales.
   */
  domains?: Readonly<Record<string, readonly [number, number]>>;
}

/** The checked domain of `name` from the domains option, or undefined when not given. */
export function maybeDomain(domains: unknown, name: string, where: string): [number, number] | undefined {
  if (domains === undefined) return undefined;
  if (domains === null || typeof domains !== "object" || Array.isArray(domains)) throw errors.badOption(`domains of ${where}`, domains, 'an object of [lo, hi] per trace name, e.g. { h: [-1, 1] }');
  if (!Object.hasOwn(domains, name)) return undefined;
  const d = (domains as Record<string, unknown>)[name];
  if (!Array.isArray(d) || d.length !== 2 || !d.every(Number.isFinite) || !(d[0] < d[1])) throw errors.badOption(`domains.${name} of ${where}`, d, "[lo, hi]: two finite numbers with lo < hi");
  return [d[0], d[1]];
}

/** Non-finite numbers found in a panel. */
export interface NonFinite {
  nan: number;
  posInf: number;
  negInf: number;
  /** First step holding one, or null. */
  first: number | null;
}

/** One traced value of one batch element, ready to plot. */
export interface Panel {
  entry: TraceEntry;
  /** The paper label plus the node's note, e.g. `f — forget gate`. */
  title: string;
  range: ValueRange;
  /** Steps and units. */
  T: number;
  n: number;
  /** Values, `[T][n]` row-major (a view when the batch has one element). */
  values: ArrayLike<number>;
  /** Smallest and largest finite value (0, 0 when none). */
  extent: [number, number];
  nonFinite: NonFinite;
}

/** The value range of a traced name: gates live in [0, 1] whatever op made them; else the op decides. */
export function rangeOf(def: CellDef, name: string): ValueRange {
  const node = def.nodes.find((n) => n.name === name);
  if (!node) return RANGE.input;
  return node.role === "gate" ? "unit" : RANGE[node.op];
}

/** The mixing convention of a GRU-like cell (from its definition's notes), or undefined. */
export function mixingNote(def: CellDef): string | undefined {
  return def.notes.find((n) => /mixing/i.test(n));
}

/** Checks that a chart was given a cell's trace (anything else is a named error, not a TypeError deep inside). */
export function checkTrace(trace: unknown, where: string): asserts trace is Trace {
  if (!(trace instanceof Trace)) throw errors.notATrace(where, trace);
}

/** The entries a chart shows: `names` in order (unknown names throw, listing the known), else by `roles` in definition order. */
export function selectEntries(trace: Trace, { names, roles }: SelectOptions, defaults: readonly (NodeRole | "input")[], where: string): TraceEntry[] {
  if (trace.length === 0)
    throw errors.emptyTrace(where);
  if (names !== undefined) {
    if (!Array.isArray(names) || names.length === 0) throw errors.badOption(`names of ${where}`, names, `a non-empty list of trace names, from: ${trace.names.join(", ")}`);
    return names.map((n) => trace.entry(n, where));
  }
  const wanted = roles ?? defaults;
  const chosen = trace.entries.filter((e) => wanted.includes(e.role));
  if (chosen.length === 0)
    throw errors.badOption(
      `roles of ${where}`,
      wanted,
      `roles that cell "${trace.def.name}" has: ${[...new Set(trace.entries.map((e) => e.role))].join(", ")} (or give names)`,
    );
  return chosen;
}

/** Reads one traced name of batch element `b` as a panel. */
export function readPanel(trace: Trace, entry: TraceEntry, b = 0): Panel {
  if (!Number.isInteger(b) || b < 0 || b >= trace.batch) throw errors.outOfRange("Batch element b", b, 0, trace.batch - 1);
  const { length: T, batch: B } = trace;
  const n = entry.size;
  const raw = trace.raw(entry.name);
  let values: ArrayLike<number>;
  if (B === 1) values = raw.subarray(0, T * n);
  else {
    const out = new Float64Array(T * n);
    for (let t = 0; t < T; t++) out.set(raw.subarray((t * B + b) * n, (t * B + b + 1) * n), t * n);
    values = out;
  }
  const nonFinite: NonFinite = { nan: 0, posInf: 0, negInf: 0, first: null };
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (v >= lo && v <= hi) continue;
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      continue;
    }
    if (Number.isNaN(v)) nonFinite.nan++;
    else if (v > 0) nonFinite.posInf++;
    else nonFinite.negInf++;
    nonFinite.first ??= Math.floor(k / n);
  }
  const node = trace.def.nodes.find((x) => x.name === entry.name);
  const note = node?.note;
  return {
    entry,
    title: note ? `${entry.label} — ${note}` : entry.label,
    range: rangeOf(trace.def, entry.name),
    T,
    n,
    values,
    extent: lo <= hi ? [lo, hi] : [0, 0],
    nonFinite,
  };
}

/** A sentence about a panel's non-finite values (empty when there are none). */
export function nonFiniteNote(p: Pick<Panel, "nonFinite">): string {
  const { nan, posInf, negInf, first } = p.nonFinite;
  const total = nan + posInf + negInf;
  if (total === 0) return "";
  const parts = [nan && `NaN ×${nan}`, posInf && `+Infinity ×${posInf}`, negInf && `−Infinity ×${negInf}`].filter(Boolean);
  return `${total} non-finite value${total > 1 ? "s" : ""} (${parts.join(", ")}; first at t=${first}) drawn as gaps`;
}

/** A value for chart data: finite numbers as they are, NaN and ±Infinity as null (a gap). */
export const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);
