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

/** Bytes one stored number takes. */
export const BYTES: Record<DType, number> = { float64: 8, float32: 4 };

/**
 * Storage for n numbers: zeroed; `"shared"` in a SharedArrayBuffer (zeroed), which several threads
 * may write; `"unfilled"` NOT zeroed — it holds whatever the memory held — for arrays every value of
 * which is written before anything reads them (a run's nodes: zeroing a trace's 14 arrays at T = 100,
 * B = 32, H = 32 took ~1.2 ms of a ~10 ms forward pass). Callers check sizes against
 * {@link memoryLimit} first; this only turns the engine's own refusal (a RangeError) into a named error.
 */
export const allocate = (dtype: DType, n: number, kind: "zeroed" | "shared" | "unfilled" = "zeroed"): FloatArray => {
  try {
    const buffer = kind === "shared" ? new SharedArrayBuffer(n * BYTES[dtype]) : kind === "unfilled" ? Buffer.allocUnsafeSlow(n * BYTES[dtype]).buffer : undefined;
    if (dtype === "float32") return buffer ? new Float32Array(buffer, 0, n) : new Float32Array(n);
    return buffer ? new Float64Array(buffer, 0, n) : new Float64Array(n);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw errors.outOfMemory(n * BYTES[dtype], `one ${dtype} array of ${n.toLocaleString("en-US")} numbers (${e.message})`);
  }
};

/**
 * Default upper bound on the memory a cell's parameters, or one run's trace, may take: 2 GiB. A
 * typo such as `hiddenSize: 1e9` is refused at once, with the bytes it would take, instead of
 * filling memory for minutes; a user who means it raises the limit.
 */
export const DEFAULT_MAX_BYTES = 2 ** 31;

/** The memory limit in force: the option `maxBytes` when given, else `ARCHLAB_MAX_BYTES`, else {@link DEFAULT_MAX_BYTES}. */
export function memoryLimit(option?: number): number {
  if (option !== undefined) {
    if (typeof option !== "number" || !(option > 0)) throw errors.badOption("maxBytes", option, "a positive number of bytes (Infinity: no limit)");
    return option;
  }
  const env = process.env.ARCHLAB_MAX_BYTES;
  if (env === undefined || env.trim() === "") return DEFAULT_MAX_BYTES;
  const n = Number(env);
  if (!(n > 0)) throw errors.badOption("ARCHLAB_MAX_BYTES (environment variable)", env, "a positive number of bytes (Infinity: no limit)");
  return n;
}

/** Refuses, by name, to allocate `need` bytes for `what` over the limit (`sizes` says which sizes asked for it). */
export function checkBytes(need: number, limit: number, what: string, sizes: string): void {
  if (need > limit) throw errors.tooLarge(what, need, limit, sizes);
}

/** A copy of `a` in shared memory. */
export const toShared = (a: FloatArray): FloatArray => {
  const out = allocate(a instanceof Float32Array ? "float32" : "float64", a.length, "shared");
  out.set(a);
  return out;
};

const unwrap = (v: unknown): unknown =>
  v !== null && typeof v === "object" && typeof (v as { arraySync?: unknown }).arraySync === "function" ? (v as { arraySync(): unknown }).arraySync() : v;

/** The shape of a nested array, checking it is rectangular and all numbers. */
export function shapeOf(value: unknown, what: string): number[] {
  const v = unwrap(value);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return [(v as unknown as ArrayLike<number>).length];
  const shape = leadingShape(v);
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
  // Fast check first (no path strings); only a bad value pays for the walk that names where it is.
  if (fill(v, shape, 0, null, 0) < 0) walk(v, 0, "");
  return shape;
}

/**
 * The shape `value` has by its first elements, nothing else checked — for a caller that reads the
 * whole value next with a function that checks it (toFlat), so it is walked once, not twice.
 */
export function leadingShape(value: unknown): number[] {
  const shape: number[] = [];
  for (let probe: unknown = unwrap(value); isList(probe); probe = probe[0]) {
    shape.push(probe.length);
    if (probe.length === 0) break;
  }
  return shape;
}

const isList = (node: unknown): node is ArrayLike<unknown> => Array.isArray(node) || (ArrayBuffer.isView(node) && !(node instanceof DataView));

/**
 * Checks `node` has exactly `shape` (from depth d) with finite numbers at the leaves, copying them
 * into `out` from index k when given. Returns the next index, or −1 at the first problem.
 */
function fill(node: unknown, shape: readonly number[], d: number, out: FloatArray | null, k: number): number {
  if (shape.length === 0) {
    if (typeof node !== "number" || !Number.isFinite(node)) return -1;
    if (out) out[k] = node;
    return k + 1;
  }
  if (!isList(node) || node.length !== shape[d]) return -1;
  if (d === shape.length - 1) {
    for (let j = 0; j < node.length; j++) {
      const x = node[j];
      if (typeof x !== "number" || !Number.isFinite(x)) return -1;
      if (out) out[k] = x;
      k++;
    }
    return k;
  }
  for (let j = 0; j < node.length && k >= 0; j++) k = fill(node[j], shape, d + 1, out, k);
  return k;
}

/** Flattens a nested array of the expected shape into a typed array (or throws the named problem). */
export function toFlat(value: unknown, expected: readonly number[], what: string, dtype: DType, hint = ""): FloatArray {
  const v = unwrap(value);
  const out = allocate(dtype, expected.reduce((a, b) => a * b, 1));
  if (fill(v, expected, 0, out, 0) === out.length) return out;
  // Not that shape, or a bad entry: shapeOf names a ragged, non-number or non-finite one, else the shapes differ.
  throw errors.shape(what, expected, shapeOf(v, what), hint);
}

/** Checks every value of a typed array is finite. */
export function checkFinite(a: ArrayLike<number>, what: string): void {
  const k = a instanceof Float64Array || a instanceof Float32Array ? firstNonFinite(a) : firstNonFiniteOf(a);
  if (k >= 0) throw errors.nonFinite(what, ` (flat index ${k})`, a[k]);
}

/**
 * The index of the first NaN or ±Infinity, or −1. Float arrays get a loop of their own: in one loop
 * shared with plain arrays (every kind the library checks), V8's element reads go generic, and a
 * whole run's upstream gradient took 0.73 ms to check instead of 0.25.
 */
function firstNonFinite(a: FloatArray): number {
  for (let k = 0; k < a.length; k++) if (!Number.isFinite(a[k])) return k;
  return -1;
}

function firstNonFiniteOf(a: ArrayLike<number>): number {
  for (let k = 0; k < a.length; k++) if (!Number.isFinite(a[k])) return k;
  return -1;
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
