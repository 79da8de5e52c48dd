/**
 * Several cells' traces side by side on the same input (e.g. LSTM vs GRU vs MGU): the same chart
 * for each, one shared time cursor, each titled with its cell and its conventions (a GRU's mixing
 * form decides what z near 1 means). Traces of different lengths line up by step: every panel's
 * time axis spans the longest.
 */
import type { Trace } from "../engine/trace";
import { errors } from "../errors";
import { DEFAULT_BUDGET } from "./budget";
import { Chart } from "./chart";
import { cursorParams, maybeCursor } from "./cursor";
import { heatmap, type HeatmapOptions } from "./heatmap";
import { lineDomain, lines, type LinesOptions } from "./lines";
import { saturation, type SaturationOptions } from "./saturation";
import { CHROME, colorScale, CONFIG, maybeMaxWidth, panelWidth, SCHEMA, type VegaLiteSpec } from "./spec";
import { titleOf } from "./text";
import { checkTrace, readPanel, type Panel } from "./select";
import { states } from "./states";
import { CURSOR_MARK } from "./vega";

/** The chart kinds {@link compare} can put side by side. */
export type CompareKind = "heatmap" | "lines" | "states" | "saturation";

/** Options of {@link compare}: the kind of chart, its layout, and that chart's options (applied to every trace). */
export type CompareOptions = {
  chart?: CompareKind;
  title?: string;
  /**
   * `"shared"` (default): panels of the same name (h of GRU and h of MGU) use one scale across the
   * traces — the y scale of lines, the colour scale of heatmaps; `"independent"`: each its own.
   */
  scales?: "shared" | "independent";
} & HeatmapOptions & LinesOptions & SaturationOptions;

/** At most this many cells side by side; narrowest panel worth drawing before wrapping into more rows. */
const MAX_COLUMNS = 3;
const MIN_PANEL_WIDTH = 140;

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
 * (`{ LSTM: a, GRU: b }`) or as a list (named by their cells). Traces of different lengths are
 * aligned by step (every time axis spans the longest, the cursor reaches its last step); a note says
 * when their inputs or lengths differ. Panels of the same name share their scale (y or colour)
 * unless `scales: "independent"`; panels are sized and wrapped into rows to fit `maxWidth` (900 px).
 *
 * @example
 * const xs = sine(50);
 * await plot.compare({ LSTM: lstm.run(xs), GRU: gru.run(xs), MGU: mgu.run(xs) }, { chart: "heatmap" });
 * await plot.compare({ GRU: gru.run(xs), MGU: mgu.run(xs) }, { chart: "states", scales: "independent" });
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
  for (const [name, trace] of named) if (trace.length === 0) throw errors.emptyTrace(`${where} (${name})`);
  const lengths = named.map(([, trace]) => trace.length);
  const T = Math.max(...lengths);
  const cursor = maybeCursor(options.cursor, T, where);
  const budget = Math.max(1, Math.floor((options.budget ?? DEFAULT_BUDGET) / named.length));
  const scales = options.scales ?? "shared";
  if (scales !== "shared" && scales !== "independent") throw errors.badOption(`scales of ${where}`, scales, '"shared" or "independent"');
  const domains = { ...(scales === "shared" ? sharedDomains(kind, named, options.b) : {}), ...options.domains };
  const { columns, size } = layout(kind, named, options, where);
  const charts = await Promise.all(
    named.map(([name, trace]) =>
      BUILDERS[kind](trace, {
        ...options,
        // Each panel gets a cursor its own chart accepts; the comparison's one slider moves them all.
        ...(cursor === null ? {} : { cursor: Math.min(cursor, trace.length - 1) }),
        budget,
        domains,
        ...(kind === "saturation" ? { size } : { width: size }),
        title: `${name} — ${trace.def.title}`,
      }),
    ),
  );
  const inputsDiffer = named.some(([, tr]) => !sameInput(tr, named[0][1]));
  const lengthsDiffer = lengths.some((n) => n !== T);
  const panels = charts.map((c, k) => {
    const { $schema: _schema, params: _params, config: _config, ...body } = c.spec;
    return stretchTime(renameCursors(body, String(k)), lengths[k], T);
  });
  const differ = [
    ...(lengthsDiffer ? [`the traces' lengths differ (${named.map(([n, tr]) => `${n}: ${tr.length}`).join(", ")} steps), aligned by step`] : []),
    ...(inputsDiffer ? ["the traces' inputs differ"] : []),
  ];
  const notes = [...differ, ...charts.flatMap((c, k) => c.info.notes.map((n) => `${named[k][0]}: ${n}`))];
  const title = options.title ?? `${named.map(([n]) => n).join(" vs ")} on the same input`;
  const spec: VegaLiteSpec = {
    $schema: SCHEMA,
    title: titleOf(title, differ.map((d) => `Note: ${d}`), maybeMaxWidth(options.maxWidth, where) - 2 * CHROME.padding),
    ...(charts[0].cursor === null || cursor === null ? {} : { params: cursorParams(cursor, T) }),
    ...(named.length <= columns ? { hconcat: panels } : { concat: panels, columns }),
    config: CONFIG,
  };
  return new Chart(spec, {
    summary: `${kind} of ${named.map(([n]) => n).join(", ")} side by side (${lengthsDiffer ? `${Math.min(...lengths)}…${T}` : T} steps)`,
    steps: kind === "saturation" ? charts[0].info.steps : T,
    marks: charts.reduce((s, c) => s + c.info.marks, 0),
    reduction: charts.find((c) => c.info.reduction.mode !== "exact")?.info.reduction ?? { mode: "exact" },
    notes,
  });
}

/**
 * A panel of a trace of T steps with its time axes spanning `longest` steps instead (see
 * cursor.ts's timeX: the domain [−0.5, T − 0.5] of every x channel titled "t"), so panels of traces of
 * different lengths line up step by step.
 */
function stretchTime(node: unknown, T: number, longest: number): unknown {
  if (T === longest) return node;
  if (Array.isArray(node)) return node.map((x) => stretchTime(x, T, longest));
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === "x" && isTimeAxis(v, T) ? { ...v, scale: { ...v.scale, domain: [-0.5, longest - 0.5] } } : stretchTime(v, T, longest);
  return out;
}

function isTimeAxis(x: unknown, T: number): x is { scale: { domain: number[] } } {
  if (x === null || typeof x !== "object") return false;
  const { title, scale } = x as { title?: unknown; scale?: { domain?: unknown } };
  const d = scale?.domain;
  return title === "t" && Array.isArray(d) && d[0] === -0.5 && d[1] === T - 0.5;
}

/**
 * Columns and panel size so the comparison fits `maxWidth` (vega's headless text estimate, wider
 * than browsers, is what CHROME measures): up to three cells side by side, fewer when panels would
 * get narrower than MIN_PANEL_WIDTH (or than the width asked for). Saturation charts are a row of
 * gate panels each (sized to maxWidth by saturation itself), so they stack one cell per row.
 */
function layout(kind: CompareKind, named: readonly [string, Trace][], options: CompareOptions, where: string): { columns: number; size: number | undefined } {
  const maxWidth = maybeMaxWidth(options.maxWidth, where);
  // A saturation chart sizes its row of gate panels from maxWidth itself.
  if (kind === "saturation") return { columns: 1, size: options.size };
  let columns = Math.min(named.length, MAX_COLUMNS);
  const wanted = options.width ?? MIN_PANEL_WIDTH;
  while (columns > 1 && panelWidth(maxWidth, columns, true) < wanted) columns--;
  return { columns, size: options.width ?? Math.max(MIN_PANEL_WIDTH, Math.min(480, panelWidth(maxWidth, columns, true))) };
}

/**
 * For each name that more than one trace has, one domain covering every trace's own (a heatmap's
 * colour domain, a line panel's y domain), so the same value is the same colour or height in every panel.
 */
function sharedDomains(kind: CompareKind, named: readonly [string, Trace][], b: number | undefined): Record<string, [number, number]> {
  if (kind === "saturation") return {};
  const own = (p: Panel): readonly [number, number] => (kind === "heatmap" ? colorScale(p.range, p.extent).domain : (lineDomain(p) ?? p.extent));
  const found = new Map<string, (readonly [number, number])[]>();
  for (const [, trace] of named) for (const e of trace.entries) found.set(e.name, [...(found.get(e.name) ?? []), own(readPanel(trace, e, b))]);
  const out: Record<string, [number, number]> = {};
  for (const [name, ds] of found) {
    if (ds.length < 2) continue;
    const [lo, hi] = [Math.min(...ds.map((d) => d[0])), Math.max(...ds.map((d) => d[1]))];
    out[name] = lo < hi ? [lo, hi] : [lo - 1, hi + 1];
  }
  return out;
}

function sameInput(a: Trace, b: Trace): boolean {
  const [x, y] = [a.raw(a.def.inputs[0].name), b.raw(b.def.inputs[0].name)];
  if (x.length !== y.length) return false;
  for (let k = 0; k < x.length; k++) if (x[k] !== y[k] && !(Number.isNaN(x[k]) && Number.isNaN(y[k]))) return false;
  return true;
}
