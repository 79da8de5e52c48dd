/**
 * Nested number arrays in, flat typed arrays out — with every check a user's data needs: shape,
 * raggedness, non-numbers, NaN/Infinity, each reported with the tensor's name and the path.
 */
import { errors } from "../errors";

/** Float storage of archlab: float64 (default, exact) or float32. */
export type DType = "float64" | "float32";
export type FloatArray = Float64Array | Float32Array;

/** A nested array of numbers, or anything with `arraySync()` (a tfjs tensor). */
export type NestedInput = number | readonly NestedInput[] | { arraySync(): unknown; shape?: readonly number[] };

export const allocate = (dtype: DType, n: number): FloatArray => (dtype === "float32" ? new Float32Array(n) : new Float64Array(n));

const unwrap = (v: unknown): unknown =>
  v !== null && typeof v === "object" && typeof (v as { arraySync?: unknown }).arraySync === "function" ? (v as { arraySync(): unknown }).arraySync() : v;

/** The shape of a nested array, checking it is rectangular and all numbers. */
export function shapeOf(value: unknown, what: string): number[] {
  const v = unwrap(value);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return [(v as unknown as ArrayLike<number>).length];
  const shape: number[] = [];
  let probe: unknown = v;
  while (Array.isArray(probe) || (ArrayBuffer.isView(probe) && !(probe instanceof DataView))) {
    const a = probe as ArrayLike<unknown>;
    shape.push(a.length);
    if (a.length === 0) break;
    probe = a[0];
  }
  const walk = (node: unknown, depth: number, path: string) => {
    if (depth === shape.length) {
      if (typeof node !== "number") throw errors.notNumber(what, path, node);
      if (!Number.isFinite(node)) throw errors.nonFinite(what, path, node);
      return;
    }
    const a = node as ArrayLike<unknown>;
    if (!(Array.isArray(node) || ArrayBuffer.isView(node))) throw errors.ragged(what, path || "the value", shape[depth], 0);
    if (a.length !== shape[depth]) throw errors.ragged(what, path, shape[depth], a.length);
    for (let k = 0; k < a.length; k++) walk(a[k], depth + 1, `${path}[${k}]`);
  };
  walk(v, 0, "");
  return shape;
}

/** Flattens a checked nested array with the expected shape into a typed array. */
export function toFlat(value: unknown, expected: readonly number[], what: string, dtype: DType, hint = ""): FloatArray {
  const v = unwrap(value);
  const shape = shapeOf(v, what);
  if (shape.length !== expected.length || shape.some((s, k) => s !== expected[k])) throw errors.shape(what, expected, shape, hint);
  const out = allocate(dtype, expected.reduce((a, b) => a * b, 1));
  let k = 0;
  const fill = (node: unknown) => {
    if (typeof node === "number") out[k++] = node;
    else for (let j = 0; j < (node as ArrayLike<unknown>).length; j++) fill((node as ArrayLike<unknown>)[j]);
  };
  fill(v);
  return out;
}

/** Checks every value of a typed array is finite. */
export function checkFinite(a: ArrayLike<number>, what: string): void {
  for (let k = 0; k < a.length; k++) if (!Number.isFinite(a[k])) throw errors.nonFinite(what, ` (flat index ${k})`, a[k]);
}

/** Reshapes a flat array into nested plain arrays of `shape`. */
export function toNested(flat: ArrayLike<number>, shape: readonly number[], offset = 0): any {
  if (shape.length === 0) return flat[offset];
  const [n, ...rest] = shape;
  const stride = rest.reduce((a, b) => a * b, 1);
  const out = new Array(n);
  for (let k = 0; k < n; k++) out[k] = rest.length === 0 ? flat[offset + k] : toNested(flat, rest, offset + k * stride);
  return out;
}
