/**
 * What an unrolled diagram is drawn from, normalised: a definition with its layers and the
 * direction(s) each runs in. Accepts a definition, a Cell, a `sequence(…)` model, a `dbLstm(…)`
 * model, or a plain description `{ def, layers, bidirectional | dbLstm }`.
 */
import type { CellDef } from "../cells/define";
import { Cell } from "../engine/cell";
import { errors } from "../errors";
import { DbLstm, dbDirection } from "../models/dblstm";
import { SequenceModel } from "../models/sequence";
import type { Direction } from "../models/trace";
import { resolveCell } from "./source";

/** A plain description of a stack of recurrent layers. */
export interface StackDescription {
  def: CellDef;
  /** Number of layers (default 1). */
  layers?: number;
  /** Each layer runs both ways; the next layer reads [h→; h←]. */
  bidirectional?: boolean;
  /** Zhou & Xu's DB-LSTM: one direction per layer, alternating, with input shortcuts m⁽ˡ⁾ = A h⁽ˡ⁻¹⁾ + B m⁽ˡ⁻¹⁾ + b. */
  dbLstm?: boolean;
}

/** Anything `unrolled` can draw. */
export type UnrollSource = CellDef | Cell | SequenceModel | DbLstm | StackDescription;

/** The normalised stack. */
export interface Stack {
  def: CellDef;
  sizes?: Readonly<Record<string, number>>;
  /** Per layer, the directions it runs in. */
  layers: Direction[][];
  /** DB-LSTM input shortcuts. */
  shortcut: boolean;
  /** E.g. `2 layers, bidirectional`. */
  summary: string;
}

const summary = (layers: Direction[][], shortcut: boolean) =>
  shortcut
    ? `DB-LSTM (Zhou & Xu 2015): ${layers.length} layers alternating → ←, each reading m⁽ˡ⁾ = A h⁽ˡ⁻¹⁾ + B m⁽ˡ⁻¹⁾ + b`
    : `${layers.length} layer${layers.length > 1 ? "s" : ""}${layers.some((d) => d.length === 2) ? ", bidirectional (the next layer reads [h→; h←])" : layers[0][0] === "backward" ? ", reversed" : ""}`;

/** Normalises any {@link UnrollSource}. */
export function resolveStack(source: unknown, where: string): Stack {
  const make = (def: CellDef, layers: Direction[][], shortcut: boolean, sizes?: Readonly<Record<string, number>>): Stack => ({ def, sizes, layers, shortcut, summary: summary(layers, shortcut) });
  if (source instanceof DbLstm) return make(source.def, source.layers.map((_, l) => [dbDirection(l)]), true, source.layers[0][dbDirection(0)]!.sizes);
  if (source instanceof SequenceModel)
    return make(source.def, source.layers.map((layer) => (["forward", "backward"] as const).filter((d) => layer[d])), false, (source.layers[0].forward ?? source.layers[0].backward)!.sizes);
  if (source instanceof Cell || (source && typeof source === "object" && !("def" in source))) {
    const { def, sizes } = resolveCell(source, where);
    return make(def, [["forward"]], false, sizes);
  }
  const d = source as StackDescription;
  if (!d || typeof d !== "object") return make(resolveCell(source, where).def, [["forward"]], false);
  const def = resolveCell(d.def, where).def;
  const known = ["def", "layers", "bidirectional", "dbLstm"];
  for (const k of Object.keys(d)) if (!known.includes(k)) throw errors.unknownName("field", k, known, `the stack description given to ${where}`);
  const n = d.layers ?? 1;
  if (!Number.isInteger(n) || n < 1 || n > 64) throw errors.badOption("layers", n, "an integer from 1 to 64");
  if (d.bidirectional && d.dbLstm) throw errors.badOption("dbLstm", true, "false when bidirectional is true: a DB-LSTM layer runs one way, alternating by layer");
  const layers = Array.from({ length: n }, (_, l): Direction[] => (d.dbLstm ? [dbDirection(l)] : d.bidirectional ? ["forward", "backward"] : ["forward"]));
  return make(def, layers, Boolean(d.dbLstm));
}
