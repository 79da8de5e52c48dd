/**
 * Several cells' traces side by side on the same input (e.g. LSTM vs GRU vs MGU): the same chart
 * for each, one shared time cursor, each titled with its cell and its conventions (a GRU's mixing
 * form decides what z near 1 means).
 */
import type { Trace } from "../engine/trace";
import { errors } from "../errors";
import { DEFAULT_BUDGET } from "./budget";
import { Chart } from "./chart";
import { cursorParams } from "./cursor";
import { heatmap, type HeatmapOptions } from "./heatmap";
import { lines, type LinesOptions } from "./lines";
import { saturation, type SaturationOptions } from "./saturation";
import { CONFIG, NOTEBOOK_WIDTH, SCHEMA, type VegaLiteSpec } from "./spec";
import { titleOf } from "./text";
import { checkTrace } from "./select";
import { states } from "./states";
import { CURSOR_MARK } from "./vega";

/** The chart kinds {@link compare} can put side by side. */
export type CompareKind = "heatmap" | "lines" | "states" | "saturation";

/** Options of {@link compare}: the kind of chart, and that chart's options (applied to every trace). */
export type CompareOptions = { chart?: CompareKind; title?: string } & HeatmapOptions & LinesOptions & SaturationOptions;

const BUILDERS: Record<CompareKind, (trace: Trace, options: CompareOptions) => Promise<Chart>> = {
  heatmap: (t, o) => heatmap(t, o),
  lines: (t, o) => lines(t, o),
  states: (t, o) => states(t, o),
  saturation: (t, o) => saturation(t, o),
};

/** Renames a sub-chart's cursor layers so names stay unique across the comparison. */
function renameCursors(node: unknown, prefix: string): unknown {
  if (Array.isArray(node)) return node.map((x) => renameCursors(x, prefix));
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === "name" && typeof v === "string" && v.startsWith(CURSOR_MARK) ? `${CURSOR_MARK}_${prefix}_${v.slice(CURSOR_MARK.length + 1)}` : renameCursors(v, prefix);
  return out;
}

/**
 * The same chart of several traces side by side, sharing one time cursor. Give traces by name
 * (`{ LSTM: a, GRU: b }`) or as a list (named by their cells). They must have the same length;
 * a note says when their inputs differ.
 *
 * @example
 * const xs = sine(50);
 * await plot.compare({ LSTM: lstm.run(xs), GRU: gru.run(xs), MGU: mgu.run(xs) }, { chart: "heatmap" });
 */
export async function compare(traces: Readonly<Record<string, Trace>> | readonly Trace[], options: CompareOptions = {}): Promise<Chart> {
  const where = "plot.compare";
  if (traces === null || typeof traces !== "object") throw errors.badOption(`traces of ${where}`, typeof traces, "traces by name ({ LSTM: lstmTrace, GRU: gruTrace }) or a list of traces");
  const named: [string, Trace][] = Array.isArray(traces)
    ? (traces as Trace[]).map((t, k) => {
        checkTrace(t, `${where} (trace ${k})`);
        return [t.def.name, t];
      })
    : Object.entries(traces as Record<string, Trace>);
  if (named.length === 0) throw errors.badOption(`traces of ${where}`, [], "at least one trace, e.g. { LSTM: lstmTrace, GRU: gruTrace }");
  const kind = options.chart ?? "heatmap";
  if (!(kind in BUILDERS)) throw errors.unknownName("chart kind", String(kind), Object.keys(BUILDERS), where);
  for (const [name, trace] of named) checkTrace(trace, `${where} (${name})`);
  const T = named[0][1].length;
  for (const [name, trace] of named) {
    if (trace.length === 0) throw errors.emptyTrace(`${where} (${name})`);
    if (trace.length !== T) throw errors.badOption(`traces of ${where}`, Object.fromEntries(named.map(([n, t]) => [n, t.length])), `traces of the same length (the same input); "${name}" has ${trace.length} steps, "${named[0][0]}" has ${T}`);
  }
  const budget = Math.max(1, Math.floor((options.budget ?? DEFAULT_BUDGET) / named.length));
  // At most three side by side; more wrap into rows, so a comparison of many cells stays readable.
  const columns = Math.min(named.length, 3);
  const width = options.width ?? Math.max(200, Math.min(480, Math.round(750 / columns)));
  const charts = await Promise.all(named.map(([name, trace]) => BUILDERS[kind](trace, { ...options, budget, width, title: `${name} — ${trace.def.title}` })));
  const inputsDiffer = named.some(([, tr]) => !sameInput(tr, named[0][1]));
  const panels = charts.map((c, k) => {
    const { $schema: _schema, params: _params, config: _config, ...body } = c.spec;
    return renameCursors(body, String(k));
  });
  const cursor = charts[0].cursor;
  const notes = [...(inputsDiffer ? ["the traces' inputs differ"] : []), ...charts.flatMap((c, k) => c.info.notes.map((n) => `${named[k][0]}: ${n}`))];
  const title = options.title ?? `${named.map(([n]) => n).join(" vs ")} on the same input`;
  const spec: VegaLiteSpec = {
    $schema: SCHEMA,
    title: titleOf(title, inputsDiffer ? ["Note: the traces' inputs differ"] : [], NOTEBOOK_WIDTH),
    ...(cursor === null ? {} : { params: cursorParams(cursor, T) }),
    ...(named.length <= columns ? { hconcat: panels } : { concat: panels, columns }),
    config: CONFIG,
  };
  return new Chart(spec, {
    summary: `${kind} of ${named.map(([n]) => n).join(", ")} side by side (${T} steps)`,
    steps: charts[0].info.steps,
    marks: charts.reduce((s, c) => s + c.info.marks, 0),
    reduction: charts.find((c) => c.info.reduction.mode !== "exact")?.info.reduction ?? { mode: "exact" },
    notes,
  });
}

function sameInput(a: Trace, b: Trace): boolean {
  const [x, y] = [a.raw(a.def.inputs[0].name), b.raw(b.def.inputs[0].name)];
  if (x.length !== y.length) return false;
  for (let k = 0; k < x.length; k++) if (x[k] !== y[k] && !(Number.isNaN(x[k]) && Number.isNaN(y[k]))) return false;
  return true;
}
