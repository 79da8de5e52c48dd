/**
 * Interventions: a run that overrides chosen values — the forget gate clamped to 1 at step 5, unit 3
 * of h ablated (set to 0) at every step — so that everything downstream computes from the
 * overridden value, as if the cell had produced it.
 *
 * They reach the engine as data, never as code: the generated step function (program.ts) only gets
 * a call `I(k, t)` after each node k that has an override, k an index, and {@link interventionHook}
 * writes the checked values from a table. A run without interventions compiles exactly as before.
 */
import { evalSize, type CellDef } from "../cells/define";
import { errors, requireObject, show } from "../errors";
import type { FloatArray } from "./arrays";

/**
 * One override: `node` (any traced name: a gate, a state, an input) is set to `value` at the steps
 * `t` (default: every step) and the units `units` (default: all), for every batch element. Steps
 * count in the order the run processes them (a `reverse` run's step 0 reads the last input). When
 * several interventions cover the same value, the later one in the list wins.
 *
 * @example
 * lstm.run(xs, { interventions: [{ node: "f", t: 5, value: 1 }] });          // forget nothing at t = 5
 * lstm.run(xs, { interventions: [{ node: "h", units: [3], value: 0 }] });    // ablate unit 3 of h
 */
export interface Intervention {
  node: string;
  value: number;
  t?: number | readonly number[];
  units?: number | readonly number[];
}

/** An intervention as checked: steps and units as sorted lists, left out for all of them (itself a valid {@link Intervention}). */
export interface CheckedIntervention {
  readonly node: string;
  readonly value: number;
  readonly t?: readonly number[];
  readonly units?: readonly number[];
}

const FIELDS = ["node", "value", "t", "units"];

/**
 * Checks the `interventions` option of a run of `def` over T steps: a list of plain objects with a
 * known name, a finite number, and steps and units in range — each slip a named error saying which
 * intervention and field, and the valid range. Accepts data from JSON (nothing in it is trusted).
 */
export function checkInterventions(def: CellDef, sizes: Readonly<Record<string, number>>, T: number, list: unknown): CheckedIntervention[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw errors.badOption("interventions", list, 'a list of { node, value, t?, units? }, e.g. [{ node: "f", t: 5, value: 1 }]');
  const traced = [...def.inputs, ...def.nodes];
  const names = traced.map((x) => x.name);
  return list.map((item: unknown, k) => {
    const where = `interventions[${k}]`;
    requireObject(where, item, '{ node, value, t?, units? }, e.g. { node: "f", t: 5, value: 1 }');
    const extra = Object.keys(item).find((key) => !FIELDS.includes(key));
    if (extra !== undefined) throw errors.unknownName("field", extra, FIELDS, where);
    const { node, value, t, units } = item as Record<string, unknown>;
    if (typeof node !== "string") throw errors.badOption(`${where}.node`, node, `the name of a traced value of cell "${def.name}": ${names.join(", ")}`);
    const index = names.indexOf(node);
    if (index < 0) throw errors.unknownName("node", node, names, where);
    if (typeof value !== "number" || !Number.isFinite(value)) throw errors.badOption(`${where}.value`, value, "a finite number, e.g. 1 (a gate held open) or 0 (an ablated unit)");
    const size = evalSize(traced[index].size, sizes);
    const steps = indices(t, T, `${where}.t`, `Step t of ${where} (node "${node}")`, "steps");
    const chosen = indices(units, size, `${where}.units`, `Unit of "${node}" in ${where}`, "units");
    return { node, value, ...(steps && { t: steps }), ...(chosen && { units: chosen }) };
  });
}

/** Steps or units: undefined (all), one index, or a non-empty list of indices below `count`. */
function indices(value: unknown, count: number, option: string, what: string, range: "steps" | "units"): number[] | null {
  if (value === undefined) return null;
  const list: unknown[] = Array.isArray(value) ? value : [value];
  const expected = `${range === "steps" ? "a step" : "a unit"} 0…${count - 1}, a non-empty list of them, or nothing for every ${range === "steps" ? "step" : "unit"}`;
  if (list.length === 0) throw errors.badOption(option, value, expected);
  for (const v of list) {
    if (typeof v !== "number" || !Number.isInteger(v)) throw errors.badOption(option, value, `${expected} (${show(v)} is not a whole number)`);
    if (v < 0 || v >= count) throw errors.outOfRange(what, v, 0, count - 1, range);
  }
  return [...new Set(list as number[])].sort((a, b) => a - b);
}

/** Indices of the nodes (in `def.nodes`) some intervention overrides: where the generated code calls the hook. */
export function hookedNodes(def: CellDef, list: readonly CheckedIntervention[]): number[] {
  return def.nodes.flatMap((n, k) => (list.some((i) => i.node === n.name) ? [k] : []));
}

/**
 * Overrides the interventions on inputs, for every step, before anything reads them (the prologue
 * computes the input terms of all steps at once).
 */
export function applyToInputs(def: CellDef, sizes: Readonly<Record<string, number>>, B: number, T: number, values: Record<string, FloatArray>, list: readonly CheckedIntervention[]): void {
  for (const x of def.inputs) {
    const write = writer(values[x.name], evalSize(x.size, sizes), B, 0, B, list.filter((i) => i.node === x.name));
    for (let t = 0; t < T; t++) write(t);
  }
}

/**
 * The function the generated step code calls as `I(k, t)` right after computing node k at step t:
 * it writes that node's overrides for step t into the batch elements `b0 ≤ b < b1`.
 */
export function interventionHook(def: CellDef, sizes: Readonly<Record<string, number>>, B: number, b0: number, b1: number, values: Record<string, FloatArray>, list: readonly CheckedIntervention[]): (k: number, t: number) => void {
  const writers = def.nodes.map((n) => writer(values[n.name], evalSize(n.size, sizes), B, b0, b1, list.filter((i) => i.node === n.name)));
  return (k, t) => writers[k](t);
}

/** Writes one name's overrides at step t into its storage `[T, B, n]`. */
function writer(buf: FloatArray, n: number, B: number, b0: number, b1: number, list: readonly CheckedIntervention[]): (t: number) => void {
  const table = list.map((i) => ({ value: i.value, units: i.units, steps: i.t && new Set(i.t) }));
  return (t) => {
    for (const { value, units, steps } of table) {
      if (steps && !steps.has(t)) continue;
      for (let b = b0; b < b1; b++) {
        const o = (t * B + b) * n;
        if (!units) buf.fill(value, o, o + n);
        else for (const u of units) buf[o + u] = value;
      }
    }
  };
}
