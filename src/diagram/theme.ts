/**
 * Themes: one colour per role, so a gate looks like a gate in every diagram, and a diverging
 * scale for live values.
 */
import { FONT_FAMILY } from "../display/image";
import type { EdgeKind, Role, Status } from "./model";

/** Fill and border colour of one role (its text takes the theme's `text` colour). */
export interface RoleStyle {
  fill: string;
  stroke: string;
}

/** Everything a diagram's look depends on. */
export interface Theme {
  background: string;
  fontname: string;
  /** Secondary text (shapes, captions' notes). */
  muted: string;
  text: string;
  cluster: { fill: string; stroke: string };
  roles: Record<Role, RoleStyle>;
  edges: Record<EdgeKind, string>;
  /** Diff highlight colours. */
  status: Record<Exclude<Status, "same">, string>;
}

/** The built-in theme names. */
export type ThemeName = "light" | "dark" | "mono";

/**
 * The bundled font PNGs are drawn with: Graphviz knows its metrics (by this exact name; a list such
 * as "DejaVu Sans,sans-serif" would fall back to Times metrics), so boxes fit the text drawn in them.
 */
const FONT = FONT_FAMILY;

/** Every built-in theme. */
export const THEMES: Record<ThemeName, Theme> = {
  light: {
    background: "white",
    fontname: FONT,
    muted: "#5f6b7a",
    text: "#1d2430",
    cluster: { fill: "#f7f8fa", stroke: "#c5ccd6" },
    roles: {
      input: { fill: "#e6f4ea", stroke: "#2e7d32" },
      "state-in": { fill: "#e3eefc", stroke: "#1f5fbf" },
      "state-out": { fill: "#d2e3fb", stroke: "#1f5fbf" },
      state: { fill: "#d2e3fb", stroke: "#1f5fbf" },
      param: { fill: "#f1f3f5", stroke: "#8a94a3" },
      pre: { fill: "#efeafb", stroke: "#6a4fc2" },
      gate: { fill: "#fff1de", stroke: "#d9730d" },
      candidate: { fill: "#fde7ef", stroke: "#b8336a" },
      intermediate: { fill: "#ffffff", stroke: "#5f6b7a" },
      cell: { fill: "#e3eefc", stroke: "#1f5fbf" },
    },
    edges: { data: "#4a5568", weight: "#a0aab8", recurrent: "#d1242f", layer: "#2e7d32" },
    status: { added: "#1a7f37", removed: "#d1242f", changed: "#bf8700" },
  },
  dark: {
    background: "#1e1e1e",
    fontname: FONT,
    muted: "#9aa5b1",
    text: "#e6e6e6",
    cluster: { fill: "#262a30", stroke: "#4a5160" },
    roles: {
      input: { fill: "#1f3a26", stroke: "#6cc383" },
      "state-in": { fill: "#1d2f4a", stroke: "#6aa3f5" },
      "state-out": { fill: "#23395a", stroke: "#6aa3f5" },
      state: { fill: "#23395a", stroke: "#6aa3f5" },
      param: { fill: "#2b2f36", stroke: "#7d8794" },
      pre: { fill: "#2d2645", stroke: "#a48ef0" },
      gate: { fill: "#3d2c17", stroke: "#f0a24a" },
      candidate: { fill: "#3f1f2c", stroke: "#ec7aa6" },
      intermediate: { fill: "#25282d", stroke: "#9aa5b1" },
      cell: { fill: "#1d2f4a", stroke: "#6aa3f5" },
    },
    edges: { data: "#b8c0cc", weight: "#6b7380", recurrent: "#ff6b6b", layer: "#6cc383" },
    status: { added: "#3fb950", removed: "#ff6b6b", changed: "#d29922" },
  },
  mono: {
    background: "white",
    fontname: FONT,
    muted: "#555555",
    text: "#000000",
    cluster: { fill: "#fafafa", stroke: "#999999" },
    roles: {
      input: { fill: "#ffffff", stroke: "#000000" },
      "state-in": { fill: "#eeeeee", stroke: "#000000" },
      "state-out": { fill: "#eeeeee", stroke: "#000000" },
      state: { fill: "#dddddd", stroke: "#000000" },
      param: { fill: "#ffffff", stroke: "#777777" },
      pre: { fill: "#ffffff", stroke: "#000000" },
      gate: { fill: "#f2f2f2", stroke: "#000000" },
      candidate: { fill: "#e6e6e6", stroke: "#000000" },
      intermediate: { fill: "#ffffff", stroke: "#555555" },
      cell: { fill: "#eeeeee", stroke: "#000000" },
    },
    edges: { data: "#333333", weight: "#999999", recurrent: "#000000", layer: "#333333" },
    status: { added: "#000000", removed: "#777777", changed: "#333333" },
  },
};

/**
 * ColorBrewer's 11-class diverging RdBu (Cynthia Brewer, colorbrewer2.org), reversed so that
 * negative values are blue and positive red, white at zero.
 */
const DIVERGING = ["#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7", "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f"] as const;

/** The colour of a value on a diverging scale over [−1, 1] (values beyond are clamped), and a readable text colour on it. */
export function divergingColor(value: number): { fill: string; font: string } {
  const v = Number.isFinite(value) ? Math.max(-1, Math.min(1, value)) : 0;
  const k = Math.round(((v + 1) / 2) * (DIVERGING.length - 1));
  return { fill: DIVERGING[k], font: k <= 1 || k >= DIVERGING.length - 2 ? "#ffffff" : "#1d2430" };
}
