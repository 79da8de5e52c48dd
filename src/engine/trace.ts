/**
 * A trace: every named intermediate — inputs, pre-activations, gates, candidates, states — at every
 * timestep for every batch element, as the compute interpreter wrote it. Query by name, unit, time
 * and batch element; export as JSON or CSV (long format); compare two runs with {@link Trace.diff}.
 */
import { evalSize, type CellDef, type NodeRole } from "../cells/define";
import { DISPLAY, type MimeBundle } from "../display/protocol";
import { formatOf } from "../display/registry";
import { errors, requireObject } from "../errors";
import { toNested, type DType, type FloatArray } from "./arrays";
import type { CheckedIntervention } from "./interventions";
import type { Storage } from "./program";

/** What a traced name is. */
export interface TraceEntry {
  name: string;
  label: string;
  role: NodeRole | "input";
  size: number;
}

/** Where a query looks: a step (default: the last computed), a batch element (default 0). */
export interface At {
  t?: number;
  b?: number;
}

/** Options of {@link Trace.toCSV} and {@link Trace.toJSON}. */
export interface ExportOptions {
  /** Only these names (default: all). */
  names?: readonly string[];
}

declare module "../display/registry" {
  interface Formats {
    /** A trace displays as a heatmap of its gates and states (set up at the package root). */
    cellTrace: Trace;
    /** A difference of traces displays as a heatmap of the names that differ. */
    traceDiff: TraceDiff;
  }
}

/**
 * @internal The parameters each trace's run computed with — with the trace's values, the tape that
 * `backward` reads. Set by the cell that recorded the trace (a weight change afterwards replaces the
 * cell's parameters, never these). Kept beside the trace, so a trace stays the same plain object.
 */
export const TAPES = new WeakMap<Trace, Readonly<Record<string, FloatArray>>>();

export class Trace {
  /** Number of computed steps. */
  length = 0;
  /** Which direction this trace ran in (processing order is kept; backward traces read the input reversed). */
  readonly direction: "forward" | "backward";
  /** The values the run overrode (option `interventions` of a run), as checked; empty for a plain run. */
  readonly interventions: readonly CheckedIntervention[];

  constructor(
    readonly def: CellDef,
    readonly sizes: Readonly<Record<string, number>>,
    /** Capacity: the sequence length. */
    readonly steps: number,
    readonly batch: number,
    readonly dtype: DType,
    /** @internal */ readonly storage: Storage,
    direction: "forward" | "backward" = "forward",
    interventions: readonly CheckedIntervention[] = [],
  ) {
    this.direction = direction;
    this.interventions = interventions;
  }

  /** Shown as a cell's value: a heatmap of its gates and states over time (see `plot.heatmap`). */
  [DISPLAY](): MimeBundle | Promise<MimeBundle> {
    return formatOf("cellTrace", this, () => `Trace of ${this.def.name}: ${this.length} steps × batch ${this.batch}`);
  }

  /** Every traced name (inputs first, then nodes in definition order). */
  get entries(): readonly TraceEntry[] {
    return (this.#entries ??= [
      ...this.def.inputs.map((i) => ({ name: i.name, label: i.label, role: "input" as const, size: evalSize(i.size, this.sizes) })),
      ...this.def.nodes.map((n) => ({ name: n.name, label: n.label, role: n.role, size: evalSize(n.size, this.sizes) })),
    ]);
  }
  #entries?: TraceEntry[];

  /** The names that can be queried. */
  get names(): string[] {
    return this.entries.map((e) => e.name);
  }

  /** The entry of `name`, or a named error listing the known names. */
  entry(name: string, where = "Trace"): TraceEntry {
    const e = this.entries.find((x) => x.name === name);
    if (!e) throw errors.unknownName("trace name", name, this.names, where);
    return e;
  }

  private checkT(t: number): number {
    if (this.length === 0) throw errors.emptySequence("This trace");
    if (!Number.isInteger(t) || t < 0 || t >= this.length) throw errors.outOfRange("Step t", t, 0, this.length - 1);
    return t;
  }

  private checkB(b: number): number {
    if (!Number.isInteger(b) || b < 0 || b >= this.batch) throw errors.outOfRange("Batch element b", b, 0, this.batch - 1, "batch elements");
    return b;
  }

  /** All values of `name`: `[T][B][size]`. */
  get(name: string): number[][][] {
    const e = this.entry(name, "Trace.get");
    return toNested(this.storage.values[name].subarray(0, this.length * this.batch * e.size), [this.length, this.batch, e.size]);
  }

  /** The vector of `name` at step t for batch element b. */
  value(name: string, { t = this.length - 1, b = 0 }: At = {}): number[] {
    const e = this.entry(name, "Trace.value");
    this.checkT(t);
    this.checkB(b);
    return toNested(this.storage.values[name], [e.size], (t * this.batch + b) * e.size);
  }

  /** One unit of `name` over all computed steps, for batch element b. */
  series(name: string, unit: number, { b = 0 }: { b?: number } = {}): number[] {
    const e = this.entry(name, "Trace.series");
    if (!Number.isInteger(unit) || unit < 0 || unit >= e.size) throw errors.outOfRange(`Unit of "${name}"`, unit, 0, e.size - 1, "units");
    this.checkB(b);
    const v = this.storage.values[name];
    return Array.from({ length: this.length }, (_, t) => v[(t * this.batch + b) * e.size + unit]);
  }

  /** Every name's vector at step t for batch element b. */
  at(t: number, b = 0): Record<string, number[]> {
    return Object.fromEntries(this.names.map((n) => [n, this.value(n, { t, b })]));
  }

  /** The raw storage of a name (`[steps, B, size]`, only the first `length` steps computed). */
  raw(name: string): FloatArray {
    this.entry(name, "Trace.raw");
    return this.storage.values[name];
  }

  /**
   * @internal The first value that is not finite among the nodes of steps `from`…`to − 1`, in the
   * order they were computed (step, node, then batch element and unit); undefined if all are finite.
   */
  firstNonFinite(from: number, to: number): { name: string; t: number; b: number; unit: number; value: number } | undefined {
    const nodes = this.def.nodes.map((n) => ({ name: n.name, size: evalSize(n.size, this.sizes), values: this.storage.values[n.name] }));
    for (let t = from; t < to; t++)
      for (const { name, size, values } of nodes) {
        const row = values.subarray(t * this.batch * size, (t + 1) * this.batch * size);
        for (let k = 0; k < row.length; k++)
          if (!Number.isFinite(row[k])) return { name, t, b: Math.floor(k / size), unit: k % size, value: row[k] };
      }
    return undefined;
  }

  /** The initial state values, `[B][size]` per state. */
  get initial(): Record<string, number[][]> {
    return Object.fromEntries(
      this.def.states.map((s) => [s.name, toNested(this.storage.initial[s.name], [this.batch, evalSize(s.size, this.sizes)])]),
    );
  }

  /** Plain data: cell name, sizes, and every name's values `[T][B][size]`. */
  toJSON(options: ExportOptions = {}): { cell: string; sizes: Record<string, number>; steps: number; batch: number; direction: string; values: Record<string, number[][][]> } {
    const names = options.names ?? this.names;
    return {
      cell: this.def.name,
      sizes: { ...this.sizes },
      steps: this.length,
      batch: this.batch,
      direction: this.direction,
      values: Object.fromEntries(names.map((n) => [n, this.get(n)])),
    };
  }

  /**
   * The differences `this − other`, name by name and step by step, over the steps both have
   * computed (traces of different lengths compare on their common steps): a trace to query and plot
   * like any other — `plot.heatmap(d)` colours differences on a scale symmetric around 0 — with a
   * summary of where the runs part. Both traces need the same names, sizes, batch and direction:
   * two runs of one cell (with and without interventions, other inputs, other weights).
   *
   * @example
   * const a = lstm.run(xs);
   * const b = lstm.run(xs, { interventions: [{ node: "f", t: 5, value: 1 }] });
   * const d = b.diff(a);
   * d.firstDivergence;   // { t: 5, names: ["f", "f_c", "c", "tanh_c", "h"] }
   * d.summary.c.maxAbs;  // the largest |Δc| over every step, batch element and unit
   * await plot.heatmap(d, { names: ["f", "c", "h"] });
   */
  diff(other: Trace, options: TraceDiffOptions = {}): TraceDiff {
    return new TraceDiff(this, differences(this, other, options));
  }

  /** Long-format CSV: `name,role,t,b,unit,value`, one row per number. */
  toCSV(options: ExportOptions = {}): string {
    const names = options.names ?? this.names;
    const rows = ["name,role,t,b,unit,value"];
    for (const name of names) {
      const e = this.entry(name, "Trace.toCSV");
      const v = this.storage.values[name];
      const quoted = /[",\n]/.test(name) ? `"${name.replace(/"/g, '""')}"` : name;
      for (let t = 0; t < this.length; t++)
        for (let b = 0; b < this.batch; b++)
          for (let u = 0; u < e.size; u++) rows.push(`${quoted},${e.role},${t},${b},${u},${v[(t * this.batch + b) * e.size + u]}`);
    }
    return rows.join("\n") + "\n";
  }
}

/** Options of {@link Trace.diff}. */
export interface TraceDiffOptions {
  /** Differences of at most this size count as none in the summary (default 0: every difference counts). */
  tolerance?: number;
}

/** Where one traced name differs: the largest |Δ| (NaN when a value is NaN in one trace only), the first step with |Δ| > tolerance (null: none). */
export interface DiffSummary {
  maxAbs: number;
  firstStep: number | null;
}

/** What {@link differences} computes for a {@link TraceDiff}. */
interface Differences {
  steps: number;
  storage: Storage;
  summary: Record<string, DiffSummary>;
}

/**
 * The differences of two traces (see {@link Trace.diff}): a float64 trace of `a − b` over their
 * common steps, labelled Δ (Δf, Δc…), with a summary per name and the first step where they diverge.
 */
export class TraceDiff extends Trace {
  /** Per traced name: the largest |Δ| and the first step where it exceeds the tolerance. */
  readonly summary: Readonly<Record<string, DiffSummary>>;

  /** @internal Use {@link Trace.diff}. */
  constructor(a: Trace, d: Differences) {
    super(derivedDefinition(a.def, "difference"), a.sizes, d.steps, a.batch, "float64", d.storage, a.direction);
    this.length = d.steps;
    this.summary = Object.freeze(d.summary);
  }

  /** The first step where some name differs, and every name differing there (in trace order); null when none does. */
  get firstDivergence(): { t: number; names: string[] } | null {
    const steps = Object.values(this.summary).flatMap((s) => (s.firstStep === null ? [] : [s.firstStep]));
    if (steps.length === 0) return null;
    const t = Math.min(...steps);
    return { t, names: this.names.filter((n) => this.summary[n].firstStep === t) };
  }

  /** Shown as a cell's value: a heatmap of the names that differ (the states when none does). */
  override [DISPLAY](): MimeBundle | Promise<MimeBundle> {
    return formatOf("traceDiff", this, () => `Difference of two traces of ${this.def.name}: first divergence ${JSON.stringify(this.firstDivergence)}`);
  }

  /** The names that differ somewhere (what its display plots). */
  get differing(): string[] {
    return this.def.nodes.map((n) => n.name).filter((n) => this.summary[n].firstStep !== null);
  }
}

/** `a − b` for every name over the common steps; values equal in both (NaN and NaN, ∞ and ∞ included) differ by 0. */
function differences(a: Trace, b: unknown, options: TraceDiffOptions): Differences {
  const where = "Trace.diff";
  if (!(b instanceof Trace)) throw errors.notATrace(`${where} (the other trace)`, b);
  requireObject(`options of ${where}`, options, "{ tolerance? }");
  const { tolerance = 0 } = options;
  if (typeof tolerance !== "number" || !(tolerance >= 0)) throw errors.badOption(`tolerance of ${where}`, tolerance, "a number ≥ 0 (default 0: every difference counts)");
  const problem = mismatch(a, b);
  if (problem) throw errors.incompatibleTraces(where, problem);
  const T = Math.min(a.length, b.length);
  if (T === 0) throw errors.emptyTrace(where);
  const B = a.batch;
  const delta = (x: ArrayLike<number>, y: ArrayLike<number>, count: number) => {
    const out = new Float64Array(count);
    for (let k = 0; k < count; k++) out[k] = x[k] === y[k] || (Number.isNaN(x[k]) && Number.isNaN(y[k])) ? 0 : x[k] - y[k];
    return out;
  };
  const storage: Storage = { values: {}, initial: {} };
  const summary: Record<string, DiffSummary> = {};
  for (const { name, size } of a.entries) {
    const d = (storage.values[name] = delta(a.storage.values[name], b.storage.values[name], T * B * size));
    let maxAbs = 0;
    let firstStep: number | null = null;
    for (let k = 0; k < d.length; k++) {
      const m = Math.abs(d[k]);
      if (!(m <= maxAbs)) maxAbs = Number.isNaN(maxAbs) ? maxAbs : m;
      if (firstStep === null && !(m <= tolerance)) firstStep = Math.floor(k / (B * size));
    }
    summary[name] = { maxAbs, firstStep };
  }
  for (const s of a.def.states) storage.initial[s.name] = delta(a.storage.initial[s.name], b.storage.initial[s.name], B * evalSize(s.size, a.sizes));
  return { steps: T, storage, summary };
}

/** Why two traces cannot be diffed value by value, or undefined when they can. */
function mismatch(a: Trace, b: Trace): string | undefined {
  const shape = (t: Trace) => t.entries.map((e) => `${e.name}[${e.size}]`).join(", ");
  if (shape(a) !== shape(b)) return `their names and sizes differ (${shape(a)} vs ${shape(b)})`;
  const states = (t: Trace) => t.def.states.map((s) => `${s.name}[${evalSize(s.size, t.sizes)}]`).join(", ");
  if (states(a) !== states(b)) return `their states differ (${states(a)} vs ${states(b)})`;
  if (a.batch !== b.batch) return `their batch sizes differ (${a.batch} vs ${b.batch})`;
  if (a.direction !== b.direction) return `one ran forward, the other backward (reverse)`;
  return undefined;
}

/** How a derived trace — of gradients (backward) or of differences (diff) — relabels its values. */
const DERIVED = {
  gradient: { prefix: "∂L/∂", op: "add", title: "gradients ∂L/∂(every value) of", note: "Gradient trace: each value is ∂L/∂(that value) at that step, from backward()." },
  difference: { prefix: "Δ", op: "sub", title: "differences Δ of", note: "Difference trace: each value is this trace's minus the other's, from trace.diff(other)." },
} as const;

const derivedDefinitions = { gradient: new WeakMap<CellDef, CellDef>(), difference: new WeakMap<CellDef, CellDef>() };

/**
 * @internal The definition a derived trace is labelled with: the same names and sizes, each value
 * written ∂L/∂(its label) or Δ(its label). Gradients and differences are signed and unbounded
 * whatever op made the value (a gate's lies in −1…1 or beyond), so every value gets an op with no
 * operands recorded ("add": a sum of its consumers' shares; "sub": this minus the other) and none is
 * a gate: plots colour them on a symmetric scale.
 */
export function derivedDefinition(def: CellDef, kind: keyof typeof DERIVED): CellDef {
  const cached = derivedDefinitions[kind].get(def);
  if (cached) return cached;
  const { prefix, op, title, note } = DERIVED[kind];
  const d = (label: string) => `${prefix}${label}`;
  const out: CellDef = Object.freeze({
    name: def.name,
    title: `${title} ${def.title}`,
    citation: def.citation,
    notes: [...def.notes, note],
    inputs: def.inputs.map((i) => ({ ...i, label: d(i.label) })),
    states: def.states.map((s) => ({ ...s, label: d(s.label) })),
    params: def.params,
    nodes: def.nodes.map((n) => ({ name: n.name, op, inputs: [], size: n.size, role: n.role === "gate" ? ("intermediate" as const) : n.role, label: d(n.label), ...(n.note ? { note: n.note } : {}) })),
    output: def.output,
  });
  derivedDefinitions[kind].set(def, out);
  return out;
}
