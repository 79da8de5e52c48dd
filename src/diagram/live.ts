/**
 * Live values: a trace read at one timestep and batch element, by definition name, so the diagram
 * of a cell becomes a view of its computation at step t.
 */
import type { CellDef } from "../cells/define";
import type { Trace } from "../engine/trace";
import { errors } from "../errors";
import type { ValueSource } from "./folded";

/** Where in a trace to read. */
export interface LiveAt {
  trace: Trace;
  /** Step (default: the last computed). */
  t?: number;
  /** Batch element (default 0). */
  b?: number;
}

/** Checks that `trace` was made by `def` and returns the step and batch element it will show. */
export function checkLive(def: CellDef, { trace, t, b = 0 }: LiveAt): { t: number; b: number } {
  if (trace.def.name !== def.name || trace.def.nodes.length !== def.nodes.length)
    throw errors.badOption("trace", `a trace of cell "${trace.def.name}"`, `a trace of cell "${def.name}" (run the same cell)`);
  if (trace.length === 0) throw errors.emptySequence("The trace given to the diagram");
  const step = t ?? trace.length - 1;
  if (!Number.isInteger(step) || step < 0 || step >= trace.length) throw errors.outOfRange("Step t", step, 0, trace.length - 1);
  if (!Number.isInteger(b) || b < 0 || b >= trace.batch) throw errors.outOfRange("Batch element b", b, 0, trace.batch - 1);
  return { t: step, b };
}

/**
 * Values at step t, batch element b: inputs and nodes from the trace, a previous state from the
 * step before (the initial state at t = 0), a new state `state:h` from its node.
 */
export function liveValues(trace: Trace, t: number, b: number): ValueSource {
  const def = trace.def;
  const prev = new Map(def.states.map((s) => [s.prev, s]));
  const next = new Map(def.states.map((s) => [`state:${s.name}`, s]));
  const names = new Set(trace.names);
  const initial = t === 0 ? trace.initial : undefined;
  return (name) => {
    const p = prev.get(name);
    if (p) return initial ? initial[p.name][b] : trace.value(p.next, { t: t - 1, b });
    const n = next.get(name);
    if (n) return trace.value(n.next, { t, b });
    return names.has(name) ? trace.value(name, { t, b }) : undefined;
  };
}
