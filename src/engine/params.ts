/**
 * Parameters of an instantiated cell: concrete shapes from the definition's symbolic ones,
 * seeded reproducible initialisation, and validated, all-or-nothing replacement.
 */
import seedrandom from "seedrandom";
import { evalSize, type CellDef, type ParamDef } from "../cells/define";
import { errors, requireObject } from "../errors";
import { allocate, checkFinite, toFlat, toNested, type DType, type FloatArray } from "./arrays";

/** A parameter's concrete shape: `[rows, cols]` or `[size]`. */
export type Shape = readonly number[];

/** The weights of a cell in archlab's own layout: matrices `[rows, cols]` used as `x Wᵀ`, vectors `[size]`. */
export type Weights = Record<string, number[] | number[][]>;

/** Concrete shape of each parameter. */
export function paramShapes(def: CellDef, sizes: Readonly<Record<string, number>>): Record<string, Shape> {
  return Object.fromEntries(def.params.map((p) => [p.name, p.shape.map((s) => evalSize(s, sizes))]));
}

/** Initial values: `uniform` is U(−k, k) with k = 1/√rows, as PyTorch initialises recurrent layers. */
export function initParams(def: CellDef, shapes: Record<string, Shape>, dtype: DType, seed: number | string): Record<string, FloatArray> {
  const random = seedrandom(String(seed));
  return Object.fromEntries(
    def.params.map((p: ParamDef) => {
      const shape = shapes[p.name];
      const a = allocate(dtype, shape.reduce((x, y) => x * y, 1));
      const init = p.init;
      if (init === "uniform") {
        const k = 1 / Math.sqrt(shape[0]);
        for (let j = 0; j < a.length; j++) a[j] = (2 * random() - 1) * k;
      } else if (init !== "zeros") a.fill(init.constant);
      return [p.name, a];
    }),
  );
}

/** Converts user weights (archlab layout) to typed arrays; every name present, no extras, right shapes, finite. */
export function readWeights(
  def: CellDef,
  shapes: Record<string, Shape>,
  weights: Readonly<Record<string, unknown>>,
  dtype: DType,
  where: string,
): Record<string, FloatArray> {
  const names = def.params.map((p) => p.name);
  requireObject(`weights of ${where}`, weights, `an object of weight name → nested numbers with exactly: ${names.map((n) => `"${n}"`).join(", ")} (see cell.weights())`);
  const extra = Object.keys(weights).filter((k) => !names.includes(k));
  if (extra.length) throw errors.extraWeight(extra, where, names);
  return Object.fromEntries(
    names.map((name) => {
      if (!Object.hasOwn(weights, name)) throw errors.missingWeight(name, where, shapes[name]);
      const flat = toFlat(weights[name], shapes[name], `weight "${name}" of ${where}`, dtype);
      checkFinite(flat, `weight "${name}" of ${where}`);
      return [name, flat];
    }),
  );
}

/** Typed arrays back to nested plain arrays. */
export function writeWeights(values: Record<string, FloatArray>, shapes: Record<string, Shape>): Weights {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, toNested(v, shapes[k])]));
}
