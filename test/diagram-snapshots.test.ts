/**
 * Golden DOT snapshots: every built-in's folded diagram, and one of each other view. They double as
 * examples of what the diagram writer produces; numbers in live views are rounded to two decimals.
 * A mismatch writes `<name>-changed.dot` and fails; UPDATE_SNAPSHOTS=1 rewrites them.
 */
import { describe, it } from "node:test";
import { BUILTIN_CELLS, GRU_RESET_AFTER, LSTM, LSTM_CIFG, MGU } from "../src/cells";
import { diagram, diff, unrolled } from "../src/diagram";
import { cell } from "../src/engine";
import { golden } from "./support/golden";
import { matchSnapshot } from "./support/snapshot";

const snap = (name: string, dot: string) => matchSnapshot(`test/snapshots/diagram/${name}.dot`, dot);

describe("diagram DOT snapshots", () => {
  for (const [name, def] of Object.entries(BUILTIN_CELLS)) it(`folded ${name}`, () => snap(name, diagram(def).toDot()));

  it("LSTM, gates only, dark theme, left to right", () => snap("LSTM-gates-dark-LR", diagram(LSTM, { detail: "gates", theme: "dark", direction: "LR" }).toDot()));
  it("LSTM as one node", () => snap("LSTM-compact", diagram(LSTM, { detail: "compact" }).toDot()));
  it("GRU (reset after) with live values at t = 2 on the CELLS.md inputs", () => {
    const gru = cell(GRU_RESET_AFTER, { inputSize: 3, hiddenSize: 2, seed: 3 });
    snap("GRU_RESET_AFTER-live-t2", diagram(gru, { trace: gru.run(golden.X), t: 2, b: 1, detail: "gates" }).toDot());
  });
  it("LSTM unrolled over 3 steps", () => snap("LSTM-unrolled-3", unrolled(LSTM, { steps: 3 }).toDot()));
  it("LSTM unrolled over 2 steps, gates", () => snap("LSTM-unrolled-2-gates", unrolled(LSTM, { steps: 2, detail: "gates" }).toDot()));
  it("GRU, 2 bidirectional layers", () => snap("GRU-bidirectional-2x3", unrolled({ def: GRU_RESET_AFTER, layers: 2, bidirectional: true }, { steps: 3 }).toDot()));
  it("DB-LSTM, 3 layers", () => snap("DB-LSTM-3x3", unrolled({ def: LSTM, layers: 3, dbLstm: true }, { steps: 3 }).toDot()));
  it("LSTM → CIFG diff", () => snap("diff-LSTM-CIFG", diff(LSTM, LSTM_CIFG).toDot()));
  it("GRU → MGU diff", () => snap("diff-GRU-MGU", diff(GRU_RESET_AFTER, MGU).toDot()));
});
