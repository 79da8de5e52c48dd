/**
 * Option normalisers (`maybe*`): every diagram function takes one options object; unknown keys and
 * bad values fail with a named error that lists what is valid.
 */
import { errors } from "../errors";
import type { FlowDirection } from "./dot";
import type { Detail } from "./folded";
import { THEMES, type Theme, type ThemeName } from "./theme";

/** Options every diagram accepts. */
export interface StyleOptions {
  /** Flow direction (Graphviz rankdir): `"BT"` bottom to top (default), `"TB"`, `"LR"`, `"RL"`. */
  direction?: FlowDirection;
  /** `"light"` (default), `"dark"` or `"mono"`. */
  theme?: ThemeName;
  /** Show the caption with the cell's title and notes (default true). */
  caption?: boolean;
}

const DIRECTIONS: readonly FlowDirection[] = ["BT", "TB", "LR", "RL"];

/** Throws a named error for any key of `options` not in `known`. */
export function checkKeys(options: object | undefined, known: readonly string[], where: string): void {
  if (options === undefined) return;
  if (options === null || typeof options !== "object" || Array.isArray(options))
    throw errors.badOption(`options of ${where}`, options, `an options object with any of: ${known.join(", ")}`);
  for (const key of Object.keys(options)) if (!known.includes(key)) throw errors.unknownName("option", key, known, where);
}

/** A value from a fixed list, or the default. */
function maybeOneOf<T extends string>(value: unknown, valid: readonly T[], fallback: T, option: string): T {
  if (value === undefined) return fallback;
  if (!valid.includes(value as T)) throw errors.badOption(option, value, `one of ${valid.map((v) => `"${v}"`).join(", ")}`);
  return value as T;
}

export const maybeDirection = (value: unknown, fallback: FlowDirection = "BT"): FlowDirection => maybeOneOf(value, DIRECTIONS, fallback, "direction");

export const maybeTheme = (value: unknown): Theme => THEMES[maybeOneOf(value, Object.keys(THEMES) as ThemeName[], "light", "theme")];

export function maybeDetail<T extends Detail>(value: unknown, valid: readonly T[], fallback: T): T {
  return maybeOneOf(value, valid, fallback, "detail");
}

export function maybeBoolean(value: unknown, fallback: boolean, option: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw errors.badOption(option, value, "true or false");
  return value;
}

export function maybeCount(value: unknown, fallback: number, option: string, max = 1000): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > max) throw errors.badOption(option, value, `an integer from 1 to ${max}`);
  return value as number;
}

/** The style part of any diagram's options, normalised. */
export function styleOf(options: StyleOptions, direction: FlowDirection = "BT") {
  return {
    direction: maybeDirection(options.direction, direction),
    theme: maybeTheme(options.theme),
    caption: maybeBoolean(options.caption, true, "caption"),
  };
}

export const STYLE_KEYS = ["direction", "theme", "caption"] as const;
