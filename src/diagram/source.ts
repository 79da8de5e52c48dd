/** What a diagram can be drawn from: a definition, or a Cell (which adds concrete sizes). */
import type { CellDef } from "../cells/define";
import { Cell } from "../engine/cell";
import { errors } from "../errors";

/** A cell definition, or an instantiated Cell (its sizes make the shapes concrete). */
export type CellSource = CellDef | Cell;

/** The definition and, for a Cell, its sizes. */
export function resolveCell(source: unknown, where: string): { def: CellDef; sizes?: Readonly<Record<string, number>> } {
  if (source instanceof Cell) return { def: source.def, sizes: source.sizes };
  const def = source as CellDef;
  if (def && typeof def === "object" && typeof def.name === "string" && Array.isArray(def.nodes) && Array.isArray(def.states) && Array.isArray(def.inputs))
    return { def };
  throw errors.badOption(`the cell of ${where}`, typeof source === "object" ? Object.prototype.toString.call(source) : source, "a cell definition (e.g. LSTM, or one made with defineCell) or a Cell made with cell(def, sizes)");
}
