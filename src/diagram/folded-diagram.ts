/** `diagram(cell, options)`: the folded cell, optionally with live values at one step. */
import { Stepper } from "../engine/stepper";
import type { Trace } from "../engine/trace";
import { describe } from "./describe";
import { Diagram } from "./diagram";
import { addFolded, type Detail } from "./folded";
import { checkLive, liveValues } from "./live";
import { emptyGraph, type Graph } from "./model";
import { checkKeys, maybeDetail, STYLE_KEYS, styleOf, type StyleOptions } from "./options";
import { resolveCell, type CellSource } from "./source";
import { addCompact } from "./compact";

/** Options of {@link diagram}. */
export interface DiagramOptions extends StyleOptions {
  /**
   * `"full"` (default): parameters as tensor records feeding the affine maps; `"gates"`: operations
   * only, weights written on the edges; `"compact"`: the whole cell as one node.
   */
  detail?: Detail;
  /** A trace of this cell: the diagram shows its values at step `t` for batch element `b`. */
  trace?: Trace;
  /** Step to show (default: the trace's last). */
  t?: number;
  /** Batch element to show (default 0). */
  b?: number;
}

const KEYS = [...STYLE_KEYS, "detail", "trace", "t", "b"];

/**
 * The folded diagram of a cell: inputs and previous states at the bottom, each operation a box with
 * its paper symbol and equation, the new states on top, recurrences drawn back in red. Given a
 * Cell, shapes are concrete; given a trace, every node shows its value at step `t`.
 *
 * @example
 * diagram(LSTM);                                      // symbolic shapes: x[t] [B, In], U_f [H, In]…
 * const lstm = cell(LSTM, { inputSize: 3, hiddenSize: 2 });
 * const trace = lstm.run(xs);
 * diagram(lstm, { trace, t: 3, detail: "gates" });    // the computation at step 3
 * const s = lstm.stepper(xs).step(2);
 * display(diagram(s), { id: "cell" });                // a stepper: its current step, live
 * await diagram(GRU_RESET_AFTER).save("gru.svg");
 */
export function diagram(source: CellSource | Stepper, options: DiagramOptions = {}): Diagram {
  checkKeys(options, KEYS, "diagram()");
  if (source instanceof Stepper) {
    // A stepper shows its current step (nothing live before the first step()).
    const live = source.t >= 0 && options.trace === undefined ? { trace: source.trace, t: options.t ?? source.t } : {};
    return diagram(source.cell, { ...options, ...live });
  }
  const { def, sizes: cellSizes } = resolveCell(source, "diagram()");
  const detail = maybeDetail(options.detail, ["full", "gates", "compact"] as const, "full");
  const style = styleOf(options);
  let values;
  let at = "";
  let sizes = cellSizes;
  let batch: number | undefined;
  if (options.trace !== undefined || options.t !== undefined || options.b !== undefined) {
    if (options.trace === undefined) checkKeys({ t: 0 }, ["trace"], "diagram() (t and b need a trace)");
    const { t, b } = checkLive(def, { trace: options.trace!, t: options.t, b: options.b });
    values = liveValues(options.trace!, t, b);
    sizes = options.trace!.sizes;
    batch = options.trace!.batch;
    at = ` at t = ${t}${options.trace!.batch > 1 ? `, batch element ${b}` : ""}`;
  }
  const graph: Graph = emptyGraph(def.name, `${def.name}: ${def.title}${at}`, def.notes);
  if (detail === "compact") addCompact(graph, def, { sizes, batch, values });
  else addFolded(graph, def, { detail, sizes, batch, values, loops: true });
  return new Diagram(graph, describe(graph, `folded cell diagram (${detail})`), style);
}
