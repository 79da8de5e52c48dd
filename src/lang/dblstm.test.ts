/**
 * DB-LSTM as an ordinary model of the language equals the hand-built DB-LSTM (src/models/dblstm.ts)
 * — output, every layer's gates, every shortcut m⁽ˡ⁾ — on the float64 reference interpreter.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { dbLstm } from "../models/dblstm";
import { dbLstmModel } from "./dblstm";

test("DB-LSTM (depth 4) as a model: output, gates and shortcuts equal the hand-built DB-LSTM", async () => {
  const db = dbLstm({ inputSize: 3, hiddenSize: 4, depth: 4, seed: 5 });
  const T = 5, B = 2;
  const xs = Array.from({ length: T }, (_, t) => Array.from({ length: B }, (_, b) => [Math.sin(t + b), Math.cos(2 * t), t / T - b]));
  const expected = db.forward(xs);
  const m = dbLstmModel(db);
  const { outputs, trace } = await m.run({ x: xs }, { backend: "reference" });
  const close = (got: ArrayLike<number>, want: number[], what: string) => {
    assert.equal(got.length, want.length, what);
    want.forEach((w, i) => assert.ok(Math.abs(got[i] - w) <= 1e-13 * Math.max(1, Math.abs(w)), `${what}[${i}] = ${got[i]}, expected ${w}`));
  };
  close(outputs.h.data, expected.output.flat(2), "output h");
  for (let l = 0; l < 4; l++) {
    const scan = `l${l}${l % 2 ? "_reverse" : ""}`;
    // Both record a backward layer by input position.
    const t = expected.trace.trace(l);
    for (const gate of ["i", "f", "g", "o", "c"]) {
      const byStep = t.get(gate);
      const byPosition = byStep; // a backward trace is indexed by input position too
      close(trace.get(`${scan}/${gate}`).data, byPosition.flat(2), `${scan}/${gate}`);
    }
    if (l > 0) close(trace.get(`m${l}/m`).data, expected.trace.input(l).flat(2), `m${l}/m`);
  }
  assert.equal(m.summary({ B, T }).totalParams, Object.values(db.weights()).reduce((s, w) => s + Object.values(w).reduce((a, v) => a + (v as unknown[]).flat(2).length, 0), 0));
});
