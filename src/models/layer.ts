/**
 * The time loop around cells, shared by every sequence model: check a sequence once, run one layer
 * (one cell per direction) over it, re-align backward outputs to input positions, concatenate
 * [forward ‖ backward], and split PyTorch-style initial states `[D·layers, B, size]` per cell.
 */
import type { CellDef, NodeDef } from "../cells/define";
import { evalSize } from "../cells/define";
import { ArchlabError, errors } from "../errors";
import { allocate, checkBytes, leadingShape, memoryLimit, shapeOf, toFlat, toNested, type DType, type FloatArray, type NestedInput } from "../engine/arrays";
import { describeSizes, type Cell, type FlatSequence, type RunOptions } from "../engine/cell";
import type { Trace } from "../engine/trace";
import { positionOf, type Direction, type LayerTraces } from "./trace";

/** A layer: one cell per direction it runs in. */
export interface Layer {
  readonly forward?: Cell;
  readonly backward?: Cell;
}

/** A checked sequence: `[T, B, size]` flat, time first. */
export interface Sequence {
  values: FloatArray;
  T: number;
  B: number;
  /** False when the user gave one sequence `[T, In]` (results drop the batch axis too). */
  batched: boolean;
}

/** Checks a sequence `[T, B, In]` (or `[B, T, In]` with batchFirst, or `[T, In]`) and flattens it time first. */
export function readSequence(xs: NestedInput, In: number, { what, dtype, batchFirst = false }: { what: string; dtype: DType; batchFirst?: boolean }): Sequence {
  // The shape by its first elements, checked in full by toFlat (one walk over the input, not two); an
  // input refused here is walked by shapeOf first, so a ragged one is named as before.
  let shape = leadingShape(xs);
  const refused = shape[0] === 0 || (shape.length === 3 && shape[1] === 0) || (shape.length !== 2 && shape.length !== 3);
  if (refused) shape = shapeOf(xs, what);
  const layout = batchFirst ? ["B", "T", In] : ["T", "B", In];
  if (shape[0] === 0 || (shape.length === 3 && shape[1] === 0)) throw errors.emptySequence(`The ${what}`);
  if (shape.length !== 2 && shape.length !== 3) throw errors.shape(what, layout, shape, `Give a sequence shaped [${layout.join(", ")}], or [T, ${In}] for one sequence.`);
  const batched = shape.length === 3;
  const [T, B] = !batched ? [shape[0], 1] : batchFirst ? [shape[1], shape[0]] : [shape[0], shape[1]];
  const expected = !batched ? [T, In] : batchFirst ? [B, T, In] : [T, B, In];
  const flat = toFlat(xs, expected, what, dtype, `The input size is ${In}.`);
  return { values: batched && batchFirst ? swap01(flat, B, T, In) : flat, T, B, batched };
}

/** `[a, b, n]` → `[b, a, n]`. */
export function swap01(flat: FloatArray, a: number, b: number, n: number): FloatArray {
  const out = flat.slice();
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) out.set(flat.subarray((i * b + j) * n, (i * b + j + 1) * n), (j * a + i) * n);
  return out;
}

/** Values of `name` from a cell trace, `[T, B, n]` by input position. */
export function aligned(trace: Trace, name: string): FloatArray {
  const n = trace.entry(name).size;
  const raw = trace.raw(name);
  const T = trace.steps;
  const stride = trace.batch * n;
  if (trace.direction === "forward") return raw.slice(0, T * stride);
  const out = raw.slice(0, T * stride);
  for (let s = 0; s < T; s++) out.set(raw.subarray(s * stride, (s + 1) * stride), positionOf("backward", s, T) * stride);
  return out;
}

/** `c.run`, naming where the cell sits in a model when it finds a value that is not finite (steps count in the cell's processing order). */
function runCell(c: Cell, input: FlatSequence, options: RunOptions, where: string): Trace {
  try {
    return c.runFlat(input, options);
  } catch (e) {
    if (e instanceof ArchlabError && e.code === "computed-non-finite") throw new ArchlabError(e.code, `In ${where} (steps in processing order): ${e.message}`, { cause: e });
    throw e;
  }
}

/** Joins `[T·B, n_k]` parts along the last axis. */
export function concatLast(parts: readonly { values: FloatArray; size: number }[], rows: number, dtype: DType): { values: FloatArray; size: number } {
  const size = parts.reduce((s, p) => s + p.size, 0);
  const out = allocate(dtype, rows * size);
  for (let r = 0; r < rows; r++) {
    let col = 0;
    for (const p of parts) {
      out.set(p.values.subarray(r * p.size, (r + 1) * p.size), r * size + col);
      col += p.size;
    }
  }
  return { values: out, size };
}

/** The directions a layer has, in PyTorch's order (forward, then `_reverse`). */
export const directionsOf = (layer: { readonly forward?: unknown; readonly backward?: unknown }): Direction[] => (["forward", "backward"] as const).filter((d) => layer[d]);

/** Refuses, by name, a forward pass whose traces (every cell's, kept in the result) would exceed the memory limit. */
export function checkTraces(cells: readonly Cell[], seq: { T: number; B: number }, maxBytes: number | undefined, where: string, shape: string): void {
  const need = cells.reduce((n, c) => n + c.traceBytes(seq.T, seq.B), 0);
  checkBytes(need, memoryLimit(maxBytes), `The traces of a forward pass of the ${where} (${seq.T} steps × batch ${seq.B})`, `T = ${seq.T}, B = ${seq.B}, ${shape}, ${describeSizes(cells[0].sizes)}`);
}

/** The node that is a definition's output. */
export const outputNode = (def: CellDef): NodeDef => def.nodes.find((n) => n.name === def.output)!;

/** Size of a cell's output (its `output` node), e.g. H, or P for a projected LSTM. */
export const outputSize = (c: Cell): number => evalSize(outputNode(c.def).size, c.sizes);

/**
 * Runs one layer over `input` (`[T, B, In]` flat); returns its traces and its output `[T, B, D·out]`
 * by position. With `checkFinite`, a cell's first NaN/Infinity error is prefixed with `where` and the direction.
 */
export function runLayer(
  layer: Layer,
  input: { values: FloatArray; size: number },
  seq: { T: number; B: number },
  initial: (d: Direction) => Record<string, unknown>,
  dtype: DType,
  { checkFinite = false, where = "" }: { checkFinite?: boolean; where?: string } = {},
): { traces: LayerTraces; output: { values: FloatArray; size: number } } {
  const xs = { values: input.values, T: seq.T, B: seq.B };
  const traces: { forward?: Trace; backward?: Trace } = {};
  const parts = directionsOf(layer).map((d) => {
    const c = layer[d]!;
    const trace = runCell(c, xs, { initial: initial(d), reverse: d === "backward", checkFinite }, `${where}, ${d} direction`);
    traces[d] = trace;
    return { values: aligned(trace, c.def.output), size: outputSize(c) };
  });
  return { traces, output: parts.length === 1 ? parts[0] : concatLast(parts, seq.T * seq.B, dtype) };
}

/**
 * Splits initial states given PyTorch's way — state name → `[D·layers, B, size]` (or `[D·layers, size]`
 * for one sequence) — into one record per cell, index `layer·D + direction`. Checks names and shapes.
 */
export function splitInitial(
  initial: Readonly<Record<string, unknown>> | undefined,
  def: CellDef,
  cells: readonly Cell[],
  { B, batched, where }: { B: number; batched: boolean; where: string },
): Record<string, unknown>[] {
  const out = cells.map(() => ({}) as Record<string, unknown>);
  if (!initial) return out;
  const names = def.states.map((s) => s.name);
  for (const [name, value] of Object.entries(initial)) {
    if (value === undefined) continue;
    const s = def.states.find((x) => x.name === name);
    if (!s) throw errors.unknownName("state", name, names, `the initial states of ${where}`);
    const size = evalSize(s.size, cells[0].sizes);
    const what = `initial state "${name}" of ${where}`;
    const expected = batched ? [cells.length, B, size] : [cells.length, size];
    const flat = toFlat(value, expected, what, cells[0].dtype, `Give [layers·directions, ${batched ? "B, " : ""}size], in PyTorch's order (layer-major, forward before backward).`);
    const stride = flat.length / cells.length;
    cells.forEach((_, k) => (out[k][name] = toNested(flat.subarray(k * stride, (k + 1) * stride), batched ? [B, size] : [size])));
  }
  return out;
}

/** The final value of every state, state name → `[D·layers][B][size]` (PyTorch's h_n / c_n). */
export function finalStates(def: CellDef, traces: readonly Trace[]): Record<string, number[][][]> {
  return Object.fromEntries(def.states.map((s) => [s.name, traces.map((tr) => Array.from({ length: tr.batch }, (_, b) => tr.value(s.next, { t: tr.steps - 1, b })))]));
}
