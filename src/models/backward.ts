/**
 * Reverse mode through a sequence model's forward pass: the layers from the top down, each
 * direction's cell through its own trace (engine/backward.ts), the gradient of a layer's input
 * being the next layer's upstream.
 *
 *     ∂L/∂output [T, B, D·n] ──split by direction──► cell→ gets its columns by position,
 *                                                    ◄──cell gets its columns re-ordered to its steps
 *     each cell: ∂L/∂(its input) in its processing order ──re-aligned, summed over directions──►
 *     ∂L/∂(layer input) = the layer below's ∂L/∂output           … down to ∂L/∂x
 */
import { backwardRaw, gradientTrace, type RawGradients } from "../engine/backward";
import { evalSize } from "../cells/define";
import type { Cell } from "../engine/cell";
import type { Trace } from "../engine/trace";
import { directionsOf, outputSize, type Layer } from "./layer";
import { positionOf, type SequenceTrace } from "./trace";

/** @internal Every cell's gradients, ∂L/∂(model input) and ∂L/∂(initial states). */
export interface RawSequenceGradients {
  /** In PyTorch's order (layer-major, forward before backward), as `model.cells`. */
  cells: { key: string; cell: Cell; grads: RawGradients; trace: Trace }[];
  /** ∂L/∂(layer 0's input), `[T, B, In]` time first. */
  input: Float64Array;
  /** State name → `[cells, B, size]` (PyTorch's h0 / c0 layout). */
  initial: Record<string, Float64Array>;
}

/** @internal What the model's cells are: its layers and their keys, in PyTorch's order. */
export interface Stack {
  layers: readonly Layer[];
  cells: readonly { key: string; cell: Cell }[];
}

/**
 * @internal Backpropagates `output` (∂L/∂output `[T, B, D·n]`, time first, by position; undefined:
 * zero) and `final` (state name → ∂L/∂(final states) `[cells, B, size]`) through a forward pass's trace.
 */
export function sequenceBackward(
  model: Stack,
  trace: SequenceTrace,
  { output, final = {} }: { output?: Float64Array; final?: Readonly<Record<string, Float64Array>> },
  where: string,
): RawSequenceGradients {
  const { steps: T, batch: B } = trace;
  const cells: RawSequenceGradients["cells"] = [];
  const initial: Record<string, Float64Array> = {};
  const states = model.cells[0].cell.def.states;
  for (const s of states) initial[s.name] = new Float64Array(model.cells.length * B * model.cells[0].cell.size(s.size));
  let index = model.cells.length;
  let upstream = output;
  for (let l = model.layers.length - 1; l >= 0; l--) {
    const layer = model.layers[l];
    const directions = directionsOf(layer);
    const In = trace.inputs[l].size;
    const below = new Float64Array(T * B * In);
    index -= directions.length;
    directions.forEach((d, j) => {
      const c = layer[d]!;
      const n = outputSize(c);
      const width = directions.length * n;
      // This direction's columns of ∂L/∂output, in the cell's processing order.
      const seed = new Float64Array(T * B * n);
      if (upstream)
        for (let s = 0; s < T; s++) {
          const p = positionOf(d, s, T);
          for (let b = 0; b < B; b++) for (let u = 0; u < n; u++) seed[(s * B + b) * n + u] = upstream[(p * B + b) * width + j * n + u];
        }
      const k = index + j;
      const finals = Object.fromEntries(
        Object.entries(final).map(([name, v]) => {
          const size = evalSize(states.find((s) => s.name === name)!.size, c.sizes);
          return [name, v.subarray(k * B * size, (k + 1) * B * size)];
        }),
      );
      const forward = trace.trace(l, d);
      const grads = backwardRaw(forward, { nodes: { [c.def.output]: seed }, final: finals }, `${where}, layer ${l}, ${d} direction`);
      cells.push({ key: model.cells[k].key, cell: c, grads, trace: gradientTrace(forward, grads) });
      const dx = grads.values[c.def.inputs[0].name];
      for (let s = 0; s < T; s++) {
        const p = positionOf(d, s, T);
        for (let r = 0; r < B * In; r++) below[p * B * In + r] += dx[s * B * In + r];
      }
      for (const st of states) initial[st.name].set(grads.initial[st.name], k * grads.initial[st.name].length);
    });
    upstream = below;
  }
  cells.sort((a, b) => model.cells.findIndex((c) => c.key === a.key) - model.cells.findIndex((c) => c.key === b.key));
  return { cells, input: upstream!, initial };
}
