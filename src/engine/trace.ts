/**
 * A trace: every named intermediate — inputs, pre-activations, gates, candidates, states — at every
 * timestep for every batch element, as the compute interpreter wrote it. Query by name, unit, time
 * and batch element; export as JSON or CSV (long format).
 */
import { evalSize, type CellDef, type NodeRole } from "../cells/define";
import { DISPLAY, type MimeBundle } from "../display/protocol";
import { errors } from "../errors";
import { toNested, type DType, type FloatArray } from "./arrays";
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

  constructor(
    readonly def: CellDef,
    readonly sizes: Readonly<Record<string, number>>,
    /** Capacity: the sequence length. */
    readonly steps: number,
    readonly batch: number,
    readonly dtype: DType,
    /** @internal */ readonly storage: Storage,
    direction: "forward" | "backward" = "forward",
  ) {
    this.direction = direction;
  }

  /** Shown as a cell's value: a heatmap of its gates and states over time (see `plot.heatmap`). */
  async [DISPLAY](): Promise<MimeBundle> {
    const { plot } = require("../plot") as typeof import("../plot");
    return (await plot.heatmap(this))[DISPLAY]();
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
