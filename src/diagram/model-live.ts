/**
 * Live values on a model's diagram: a {@link ModelTrace} read at one step and one batch row, so the
 * diagram of a model becomes a view of its computation at step t — as `diagram(cell, { trace, t })`
 * is for a cell (live.ts).
 *
 * What "step t" means for a node: inside a scan body, the step that reads position t of the
 * sequence (for a reversed scan, its (T−1−t)-th step in the order it ran), so every node of the
 * diagram shows the same position; outside scans, a tensor with a scan's time axis (the shortcut
 * m [T, B, H] between DB-LSTM layers, a scan's stacked output) at position t of that axis, and any
 * other tensor whole. Then the batch row b of the axis named B, when there is one. Parameters
 * carry no live value, nor do the nodes of a scan inside a scan's body (which step would t be?).
 */
import { errors } from "../errors";
import type { ScanInfo } from "../lang/build";
import type { Scope, Tensor } from "../lang/graph";
import type { Model } from "../lang/model";
import * as nd from "../lang/nd";
import { ModelTrace } from "../lang/run";
import { showShape } from "../lang/size";

/** Where in a model's trace to read. */
export interface ModelLiveAt {
  /** A trace of this model: `(await model.run(inputs)).trace`. */
  trace: ModelTrace;
  /** Position in the sequence (default: the last); only for a model with a scan. */
  t?: number;
  /** Batch row (default 0). */
  b?: number;
}

/** A node's live value as a diagram shows it. */
export interface NodeLive {
  /** The numbers shown (they colour the box by their mean). */
  values?: readonly number[];
  /** The text shown: the numbers themselves when few, else their size, mean, min and max. */
  text: string;
}

/** At most this many numbers are written out; more are summarised. */
export const LISTED = 6;

/** Reads `trace` at step t and batch row b for the nodes of model `m`; `scans` are its scan nodes. */
export function modelLive(m: Model, scans: ReadonlyMap<Tensor, ScanInfo>, { trace, t, b = 0 }: ModelLiveAt) {
  checkSameModel(m, trace);
  const lengths = [...scans.values()].map((s) => s.length.eval(trace.sizes, m.name));
  const last = Math.max(0, ...lengths) - 1;
  if (t !== undefined && last < 0) throw errors.badOption("t", t, `no step: model ${m.name} has no scan, so each node shows its one value (leave t out)`);
  const step = t ?? (last >= 0 ? last : undefined);
  if (step !== undefined && (!Number.isInteger(step) || step < 0 || step > last)) throw errors.outOfRange("Step t", step, 0, last);
  const batch = trace.sizes.B ?? 1;
  if (!Number.isInteger(b) || b < 0 || b >= batch) throw errors.outOfRange("Batch row b", b, 0, batch - 1, "batch elements");

  const timeAxes = new Set([...scans.values()].map((s) => s.length.key));
  const scanOf = (s: Scope) => [...scans].find(([node]) => node.name === s.name && node.scope === s.parent)?.[1];
  const cache = new Map<Tensor, NodeLive | undefined>();

  /** The value of `node` at the step and batch row, or undefined for what carries no value of a step (parameters, nested scans). */
  const read = (node: Tensor): NodeLive | undefined => {
    if (node.op === "param" || node.op === "constant" || node.op === "scan") return undefined;
    const inScans: Scope[] = [];
    for (let s = node.scope; s; s = s.parent) if (s.isScan) inScans.push(s);
    if (inScans.length > 1) return undefined;
    let value = trace.get(node.path);
    // The symbolic axes of what is left of the value, to find B in.
    const axes = node.shape.map((s) => s.key);
    if (inScans.length === 1) {
      const info = scanOf(inScans[0])!;
      const steps = value.shape[0];
      if (step === undefined || step >= steps) return { text: `no position ${step} (${steps} steps)` };
      value = pick(value, 0, info.reverse ? steps - 1 - step : step);
    } else if (step !== undefined) {
      const axis = axes.findIndex((key) => timeAxes.has(key));
      if (axis >= 0) {
        if (step >= value.shape[axis]) return { text: `no position ${step} (${axes[axis]} = ${value.shape[axis]})` };
        value = pick(value, axis, step);
        axes.splice(axis, 1);
      }
    }
    const bAxis = axes.indexOf("B");
    if (bAxis >= 0) value = pick(value, bAxis, b);
    const values = Array.from(value.data);
    return { values, text: valueText(values, value.shape) };
  };

  return {
    t: step,
    b,
    /** ` at t = 3, batch row 1` for the caption's title. */
    at: step !== undefined ? ` at t = ${step}${batch > 1 ? `, batch row ${b}` : ""}` : ` (live values${batch > 1 ? `, batch row ${b}` : ""})`,
    caption: [
      `Live values ${step === undefined ? "of each node" : `at position t = ${step}`}${batch > 1 ? `, batch row ${b}` : ""}: up to ${LISTED} numbers listed, more summarised; colour: their mean, blue −1, white 0, red +1.`,
      ...([...scans.values()].some((s) => s.reverse) && step !== undefined ? [`A reversed scan shows its step that reads position ${step}.`] : []),
    ],
    valueOf(node: Tensor): NodeLive | undefined {
      if (!cache.has(node)) cache.set(node, read(node));
      return cache.get(node);
    },
  };
}

/** Index `i` of `axis`, the axis removed. */
function pick(v: nd.ND, axis: number, i: number): nd.ND {
  return nd.reshape(nd.slice(v, axis, i, 1), v.shape.filter((_, k) => k !== axis));
}

/** A number as the diagrams write it: two decimals, a true minus sign. */
export function showNumber(v: number): string {
  const text = !Number.isFinite(v) ? String(v) : Math.abs(v) >= 1e4 ? v.toExponential(2) : v.toFixed(2);
  // −0.001 rounds to 0.00, not −0.00.
  return (/^-0\.0+$/.test(text) ? text.slice(1) : text).replace("-", "−");
}

/** `[0.52, −0.10, 0.33]`, or for more than {@link LISTED} numbers `128×128×16 values: mean 0.12, min −1.30, max 2.41`. */
export function valueText(values: readonly number[], shape: readonly number[]): string {
  if (values.length <= LISTED) return `[${values.map(showNumber).join(", ")}]`;
  const finite = values.filter(Number.isFinite);
  const bad = values.length - finite.length;
  const mean = finite.reduce((a, x) => a + x, 0) / finite.length;
  const [min, max] = finite.reduce(([lo, hi], x) => [Math.min(lo, x), Math.max(hi, x)], [Infinity, -Infinity]);
  const stats = finite.length ? `mean ${showNumber(mean)}, min ${showNumber(min)}, max ${showNumber(max)}` : "";
  return `${shape.join("×")} values: ${[stats, bad ? `${bad} not finite` : ""].filter(Boolean).join(", ")}`;
}

/** Every node of a graph, scan bodies included, as `path op shape` — what makes two builds the same model. */
function signature(nodes: readonly Tensor[]): string[] {
  return nodes.flatMap((t) => [`${t.path} ${t.op} ${showShape(t.shape)}`, ...(t.op === "scan" ? signature((t.attrs.scan as ScanInfo).body) : [])]);
}

/** A named error unless `trace` is a trace of `m` (or of a model built by the same definition). */
function checkSameModel(m: Model, trace: unknown): asserts trace is ModelTrace {
  const expected = `a trace of model ${m.name}: (await model.run(inputs)).trace`;
  if (!(trace instanceof ModelTrace)) throw errors.badOption("trace", trace, expected);
  if (trace.graph === m.graph) return;
  const same = trace.graph.name === m.name && signature(trace.graph.nodes).join("\n") === signature(m.graph.nodes).join("\n");
  if (!same) throw errors.badOption("trace", `a trace of ${trace.graph.name === m.name ? "another model named" : "model"} ${trace.graph.name}`, `${expected} (run this model, then draw it)`);
}
