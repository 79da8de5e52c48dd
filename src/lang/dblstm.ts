/**
 * DB-LSTM (Zhou & Xu 2015) as an ordinary model of the language: alternating-direction cell scans,
 * each layer above the first reading the shortcut m⁽ˡ⁾ = A⁽ˡ⁾ h⁽ˡ⁻¹⁾ + B⁽ˡ⁾ m⁽ˡ⁻¹⁾ + b⁽ˡ⁾ — a block of
 * ordinary ops, so its diagram shows the shortcut's real equation and its trace records m at every
 * position. The weights are a {@link DbLstm}'s own (`src/models/dblstm.ts` stays the fast path).
 */
import type { DbLstm } from "../models/dblstm";
import { block, input, named, param } from "./build";
import { cellParams, cellScan } from "./cells";
import type { Tensor } from "./graph";
import { model, type Model } from "./model";
import { add, fill, matmul, transpose } from "./ops";

/**
 * The model of a DB-LSTM: input `x` `[T, B, In]`; output `h` `[T, B, H]` (the top layer's h by input
 * position); blocks `l0`, `m1`, `l1`, `m2`, … (a layer's cell scan, a shortcut).
 *
 * @example
 * const db = dbLstm({ inputSize: 3, hiddenSize: 4, depth: 4, seed: 1 });
 * const { outputs, trace } = await dbLstmModel(db).run({ x: xs });
 * trace.get("m1/m"); // the shortcut into layer 1 at every position
 */
export function dbLstmModel(db: DbLstm): Model {
  const weights = db.weights();
  const def = db.def;
  return model("DB_LSTM", { ...db.cells[0].cell.sizes }, () => {
    const x = input("x", ["T", "B", "In"]);
    let m: Tensor = x;
    let h: Tensor | undefined;
    db.cells.forEach(({ layer, direction, cell: c }) => {
      if (h) {
        const below = { h, m };
        m = block(`m${layer}`, "Shortcut", () => {
          const w = weights[`m${layer}`] as Record<string, number[][] | number[]>;
          const value = (v: number[][] | number[]) => () => {
            const rows = v as number[] | number[][];
            const shape = Array.isArray(rows[0]) ? [rows.length, (rows[0] as number[]).length] : [rows.length];
            return { shape, data: Float64Array.from((rows as (number | number[])[]).flat()) };
          };
          const A = param("A", ["H", below.h.shape[2]], { init: value(w.A) });
          const B = param("B", ["H", below.m.shape[2]], { init: value(w.B) });
          const b = param("b", ["H"], { init: value(w.b) });
          return named("m", add(add(matmul(below.h, transpose(A)), matmul(below.m, transpose(B))), b));
        });
      }
      // Layers above the first read m⁽ˡ⁾ of size H where the cell's equations say In.
      const rename = layer === 0 ? undefined : { In: "H" };
      const init = Object.fromEntries(def.states.map((s) => [s.name, fill(["B", s.size], 0)]));
      const { out } = cellScan(`l${layer}${direction === "backward" ? "_reverse" : ""}`, def, () => cellParams(c, rename), { x: m }, init, { reverse: direction === "backward", rename });
      h = out[def.output] ?? Object.values(out)[0];
    });
    return { h: h! };
  });
}
