/**
 * The time cursor: a Vega-Lite param `t` bound to a slider, and a rule layer per panel drawn at
 * step t. The same rule is what the stepper view and the player move (see vega.ts, which finds
 * the rules by name in the rendered scenegraph).
 */
import { errors } from "../errors";
import { CURSOR_COLOR } from "./spec";
import { CURSOR_MARK, CURSOR_PARAM } from "./vega";

/** Options of charts that have a time axis. */
export interface CursorOptions {
  /** Step the time cursor starts at (default 0); `false`: no cursor and no slider. */
  cursor?: number | false;
}

/** The checked cursor step, or null for no cursor. */
export function maybeCursor(cursor: unknown, T: number, where: string): number | null {
  if (cursor === false) return null;
  if (cursor === undefined) return 0;
  if (typeof cursor !== "number" || !Number.isInteger(cursor) || cursor < 0 || cursor >= T)
    throw errors.badOption(`cursor of ${where}`, cursor, `a step from 0 to ${T - 1}, or false for no cursor`);
  return cursor;
}

/** The slider-bound param, when there is a cursor. */
export function cursorParams(t: number | null, T: number): { name: string; value: number; bind: object }[] {
  if (t === null) return [];
  return [{ name: CURSOR_PARAM, value: t, bind: { input: "range", min: 0, max: Math.max(0, T - 1), step: 1, name: "step t " } }];
}

/**
 * The time axis of every chart, one convention so cursors line up across charts of the same width
 * (the stepper view and the player stack a heatmap over a line chart): step t is at x = t on the
 * domain [−0.5, T − 0.5]. A heatmap's cell t spans t ± 0.5, a line's point t sits mid-cell, and
 * the cursor is the rule at x = t in both.
 */
export function timeX(T: number, field = "t"): object {
  return { field, type: "quantitative", title: "t", scale: { domain: [-0.5, T - 0.5], nice: false, zero: false }, axis: { tickMinStep: 1, format: "d" } };
}

/**
 * The rule layer of a panel: at step t on the time axis ({@link timeX}). `index` makes each panel's
 * rule name unique. A negative t draws no rule at all (that is how a rendered frame hides its
 * cursor): a rule moved far off the plot instead made resvg abort the process on long sequences
 * (a clipped group entirely outside the picture).
 */
export function cursorLayer(index: number | string): object {
  return {
    name: `${CURSOR_MARK}_${index}`,
    data: { values: [{}] },
    transform: [{ filter: `${CURSOR_PARAM} >= 0` }, { calculate: CURSOR_PARAM, as: "cursor" }],
    mark: { type: "rule", color: CURSOR_COLOR, strokeWidth: 1.5, clip: true },
    encoding: { x: { field: "cursor", type: "quantitative" } },
  };
}
