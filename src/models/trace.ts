/**
 * The trace of a sequence model: one cell {@link Trace} per layer and direction, plus what each
 * layer read. A backward cell's own trace is in processing order (its step s read input position
 * T−1−s, as `Cell.run(xs, { reverse: true })` records it); {@link SequenceTrace.get} and
 * {@link SequenceTrace.value} re-align it so that index t is always input position t.
 */
import { errors } from "../errors";
import { toNested, type FloatArray } from "../engine/arrays";
import type { Trace } from "../engine/trace";

/** Which way a layer's cell runs over the sequence. */
export type Direction = "forward" | "backward";

/** One layer's cell traces. `backward` exists for bidirectional layers. */
export interface LayerTraces {
  readonly forward?: Trace;
  readonly backward?: Trace;
}

/** Where a sequence-trace query looks (defaults: last layer, the layer's first direction, last position, batch 0). */
export interface SequenceAt {
  layer?: number;
  direction?: Direction;
  /** Input position (not processing step). */
  t?: number;
  b?: number;
}

/** Input position of processing step `s` of a cell running in `direction` over `T` steps. */
export const positionOf = (direction: Direction, s: number, T: number): number => (direction === "backward" ? T - 1 - s : s);

export class SequenceTrace {
  constructor(
    /** Per layer: the cell traces of its directions. */
    readonly layers: readonly LayerTraces[],
    /** @internal Per layer: what it read, `[T, B, size]` by input position. */
    readonly inputs: readonly { values: FloatArray; size: number }[],
    readonly steps: number,
    readonly batch: number,
  ) {}

  /** Number of layers. */
  get numLayers(): number {
    return this.layers.length;
  }

  private layerIndex(layer: number | undefined): number {
    const l = layer ?? this.layers.length - 1;
    if (!Number.isInteger(l) || l < 0 || l >= this.layers.length) throw errors.outOfRange("Layer", l, 0, this.layers.length - 1, "layers");
    return l;
  }

  /** The directions layer `l` has, e.g. `["forward", "backward"]`. */
  directions(layer?: number): Direction[] {
    const traces = this.layers[this.layerIndex(layer)];
    return (["forward", "backward"] as const).filter((d) => traces[d]);
  }

  /**
   * The cell trace of one layer and direction, in processing order: for `"backward"`, its step s is
   * input position T−1−s (use {@link get} for values by input position).
   *
   * @example
   * model.forward(xs).trace.trace(0, "backward").get("f"); // forget gate, step order of the backward cell
   */
  trace(layer?: number, direction?: Direction): Trace {
    const l = this.layerIndex(layer);
    const d = direction ?? this.directions(l)[0];
    const t = this.layers[l][d];
    if (!t) throw errors.unknownName("direction", d, this.directions(l), `layer ${l} of this model`);
    return t;
  }

  /**
   * Every value of `name` in one layer and direction, `[T][B][size]`, index t = input position t.
   *
   * @example
   * const { trace } = bi.forward(xs);
   * trace.get("h", { layer: 0, direction: "backward" })[0]; // backward h at input position 0 (its last step)
   */
  get(name: string, { layer, direction }: SequenceAt = {}): number[][][] {
    const tr = this.trace(layer, direction);
    const values = tr.get(name);
    return tr.direction === "backward" ? values.reverse() : values;
  }

  /** The vector of `name` at input position t for batch element b (default: the last position). */
  value(name: string, { layer, direction, t = this.steps - 1, b = 0 }: SequenceAt = {}): number[] {
    const tr = this.trace(layer, direction);
    if (!Number.isInteger(t) || t < 0 || t >= this.steps) throw errors.outOfRange("Position t", t, 0, this.steps - 1, "positions");
    return tr.value(name, { t: positionOf(tr.direction, t, this.steps), b });
  }

  /** What layer `l` read, `[T][B][size]` by input position (layer 0: the input; DB-LSTM: the shortcut m⁽ˡ⁾). */
  input(layer?: number): number[][][] {
    const { values, size } = this.inputs[this.layerIndex(layer)];
    return toNested(values, [this.steps, this.batch, size]);
  }

  /** Plain data: per layer, each direction's cell trace (processing order, see `direction`) and the layer input. */
  toJSON(): { steps: number; batch: number; layers: Record<string, unknown>[] } {
    return {
      steps: this.steps,
      batch: this.batch,
      layers: this.layers.map((traces, l) => ({
        input: this.input(l),
        ...Object.fromEntries(this.directions(l).map((d) => [d, traces[d]!.toJSON()])),
      })),
    };
  }
}
