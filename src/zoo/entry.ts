/**
 * What every zoo entry is: a function from sizes and options to a {@link Model} of the definition
 * language, carrying the metadata the genealogy chart reads — on the function (read without
 * building the model) and on each model it builds.
 */
import { errors } from "../errors";
import type { Model } from "../lang";

/** The families of the genealogy chart. */
export type ZooFamily = "rnn" | "cnn" | "reservoir" | "attention" | "memory" | "capsule" | "generative" | "gradient";

/** An entry's place in the genealogy: its paper and the entries it descends from. */
export interface ZooMeta {
  /** The architecture's usual name. */
  readonly title: string;
  /** Authors, title and venue of the paper (or the reference document) it is built from. */
  readonly citation: string;
  readonly year: number;
  readonly family: ZooFamily;
  /** Names of the zoo entries it descends from (keys of `zoo`). */
  readonly parents: readonly string[];
}

/** A model built by a zoo entry: the model and its entry's metadata. */
export type ZooModel = Model & { readonly meta: ZooMeta };

/** A zoo entry: `entry(options?)` builds the model (no argument: the reference's sizes); `entry.meta` is its metadata. */
export type ZooEntry<O> = ((options?: O) => ZooModel) & { readonly meta: ZooMeta };

/** Makes an entry from its metadata and its builder (which receives the options with defaults filled in). */
export function entry<O extends object>(name: string, meta: ZooMeta, defaults: Required<O>, build: (options: Required<O>) => Model): ZooEntry<O> {
  const frozen: ZooMeta = Object.freeze({ ...meta, parents: Object.freeze([...meta.parents]) });
  const make = (options: O = {} as O) => {
    if (options === null || typeof options !== "object" || Array.isArray(options)) throw errors.badOption(`of zoo.${name}`, options, "an options object");
    for (const k of Object.keys(options))
      if (!Object.hasOwn(defaults, k)) throw errors.unknownName("option", k, Object.keys(defaults), `zoo.${name}`);
    const model = build({ ...defaults, ...options });
    return Object.assign(model, { meta: frozen });
  };
  return Object.assign(make, { meta: frozen });
}

/** A size option: a whole number ≥ `min`, or the named bad-option error. */
export function whole(entryName: string, option: string, value: unknown, min = 1): number {
  if (!Number.isSafeInteger(value) || (value as number) < min) throw errors.badOption(`${option} of zoo.${entryName}`, value, `a whole number ≥ ${min}`);
  return value as number;
}

/** Size options, each a whole number ≥ 1 (or its `min`), as the model's sizes: `sizeOptions("dnc", o, ["N", "W"], { N: 2 })`. */
export function sizeOptions<K extends string>(entryName: string, options: Record<K, unknown>, keys: readonly K[], min: Partial<Record<K, number>> = {}): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, whole(entryName, k, options[k], min[k] ?? 1)])) as Record<K, number>;
}

/** A real option in [lo, hi], or the named bad-option error. */
export function real(entryName: string, option: string, value: unknown, lo: number, hi: number): number {
  if (typeof value !== "number" || !(value >= lo && value <= hi)) throw errors.badOption(`${option} of zoo.${entryName}`, value, `a number in [${lo}, ${hi}]`);
  return value;
}
