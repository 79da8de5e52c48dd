/**
 * Stepping through a sequence one timestep at a time: `step()`, `back()`, `seek(t)`, `run()`,
 * `reset()`. Steps are computed once, on first visit, into the trace; moving back only moves the
 * cursor. Listeners hear every move (the stepper view uses this to redraw in place).
 *
 * Positions run from −1 to `length − 1`: −1 is "before the first step", where a new stepper starts
 * and `state` is the initial state. `step()` from −1 goes to step 0, and `back()` from step 0 goes
 * back to −1 — so `s.step(); s.back()` always returns to where it started. Moving past either end
 * is an out-of-range error that leaves the stepper where it was.
 *
 * A listener that throws does not undo the move: the views that listened have already shown the new
 * step, so the stepper stays there (consistent with what was shown), every other listener is still
 * told, and then the move throws an ArchlabError (code "listener") that names the step and carries
 * the listener's error as its `cause`.
 */
import { errors } from "../errors";
import type { NestedInput } from "./arrays";
import type { Cell, RunOptions } from "./cell";
import { compile } from "./program";
import type { Trace } from "./trace";

export class Stepper {
  #trace: Trace;
  #compute: (t: number) => void;
  #t = -1;
  #listeners = new Set<(s: Stepper) => void>();

  constructor(
    readonly cell: Cell,
    readonly inputs: NestedInput,
    private options: RunOptions = {},
  ) {
    this.#trace = cell.prepare(inputs, options);
    this.#compute = compile(cell.def, cell.sizes, this.#trace.batch, cell.params, this.#trace.storage, this.#trace.interventions);
  }

  /** The current step (−1 before the first `step()`). */
  get t(): number {
    return this.#t;
  }

  /** Number of steps in the sequence. */
  get length(): number {
    return this.#trace.steps;
  }

  /** Everything computed so far. */
  get trace(): Trace {
    return this.#trace;
  }

  /** State values after the current step (`[B][size]` per state); the initial state before the first step. */
  get state(): Record<string, number[][]> {
    if (this.#t < 0) return this.#trace.initial;
    const tr = this.#trace;
    return Object.fromEntries(
      tr.def.states.map((s) => [s.name, Array.from({ length: tr.batch }, (_, b) => tr.value(s.next, { t: this.#t, b }))]),
    );
  }

  /** Every traced value at the current step for batch element b. */
  current(b = 0): Record<string, number[]> {
    if (this.#t < 0) throw errors.outOfRange("Current step (call step() first)", -1, 0, this.length - 1);
    return this.#trace.at(this.#t, b);
  }

  /** Moves `n` steps forward (default 1). */
  step(n = 1): this {
    return this.seek(this.#t + n);
  }

  /**
   * Moves `n` steps back (default 1). From step 0 it goes back to before the first step (t = −1,
   * the initial state); further back is an out-of-range error.
   */
  back(n = 1): this {
    return this.seek(this.#t - n);
  }

  /**
   * Moves to step t (0-based; −1: before the first step, keeping what was computed), computing any
   * step not yet computed.
   */
  seek(t: number): this {
    if (!Number.isInteger(t) || t < -1 || t >= this.length) throw errors.outOfRange("Step", t, -1, this.length - 1);
    const from = this.#trace.length;
    while (this.#trace.length <= t) {
      this.#compute(this.#trace.length);
      this.#trace.length++;
    }
    if (this.options.checkFinite) this.cell.checkComputed(this.#trace, from, `The stepper stays at step ${this.#t}; the trace keeps the computed steps: stepper.trace.at(t).`);
    this.#t = t;
    this.#notify();
    return this;
  }

  /** Runs to the last step. */
  run(): this {
    return this.seek(this.length - 1);
  }

  /** Back to before the first step, discarding computed steps (e.g. after new weights or a new initial state). */
  reset(options: RunOptions = this.options): this {
    const trace = this.cell.prepare(this.inputs, options);
    this.#compute = compile(this.cell.def, this.cell.sizes, trace.batch, this.cell.params, trace.storage, trace.interventions);
    this.options = options;
    this.#trace = trace;
    this.#t = -1;
    this.#notify();
    return this;
  }

  /** Calls `listener` after every move; returns a function that stops it. */
  onChange(listener: (s: Stepper) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #notify(): void {
    let failure: { error: unknown } | undefined;
    for (const l of this.#listeners) {
      try {
        l(this);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw errors.listener(this.#t, failure.error);
  }
}
