/**
 * Tensors at the framework boundary: reading a named framework tensor (checked shape, finite
 * numbers) and handing results back as nested arrays that also answer `arraySync()` like tfjs.
 */
import { errors } from "../errors";
import { shapeOf, toFlat, toNested } from "../engine/arrays";

/** A nested number array that also has tfjs' `shape` and `arraySync()` (both non-enumerable). */
export type TensorLike<T> = T & { readonly shape: readonly number[]; arraySync(): T };

/**
 * Wraps plain nested values so code written for tensors (`y.arraySync()`, `y.shape`) works too; the
 * value itself stays a plain array (`y[0][1]`, `JSON.stringify(y)`).
 *
 * @example
 * const y = tensorLike([[1, 2], [3, 4]]);
 * y.shape;        // [2, 2]
 * y.arraySync();  // [[1, 2], [3, 4]] (a copy)
 */
export function tensorLike<T extends unknown[]>(values: T): TensorLike<T> {
  const shape = Object.freeze(shapeOf(values, "tensor"));
  Object.defineProperty(values, "shape", { value: shape, enumerable: false });
  Object.defineProperty(values, "arraySync", { value: () => structuredClone([...values]) as T, enumerable: false });
  return values as TensorLike<T>;
}

/** A framework tensor, checked: the expected shape, finite numbers; returned as nested plain arrays. */
export function readTensor(value: unknown, expected: readonly number[], name: string, where: string): any {
  const what = `"${name}" of ${where}`;
  if (value === undefined || value === null) throw errors.missingWeight(name, where, expected);
  return toNested(toFlat(value, expected, what, "float64"), expected);
}

