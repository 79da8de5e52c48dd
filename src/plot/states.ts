/**
 * State trajectories: the recurrent states (h, and c for LSTMs) over time, unit by unit.
 */
import type { Trace } from "../engine/trace";
import type { Chart } from "./chart";
import { checkTrace } from "./select";
import { timeLines, type LinesOptions } from "./lines";

/**
 * The cell's states over time (h, c, …: the nodes that become the next step's state), one panel
 * per state, one line per unit, with the time cursor.
 *
 * @example
 * await plot.states(cell(LSTM, { inputSize: 2, hiddenSize: 4 }).run(xs)); // panels c and h
 */
export async function states(trace: Trace, options: LinesOptions = {}): Promise<Chart> {
  checkTrace(trace, "plot.states");
  const names = options.names ?? trace.def.states.map((s) => s.next);
  return timeLines(trace, { ...options, names }, ["state"], "plot.states", "State trajectories");
}
