/**
 * Vega-Lite spec snapshots: every chart kind on a small fixed trace, numbers rounded to 4
 * significant digits. On a mismatch the new spec is written next to the snapshot as
 * `<name>-changed.json`; `UPDATE_SNAPSHOTS=1` rewrites the snapshots.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { plot, type Chart } from "../src";
import { rounded, traces } from "./support/plot";

const DIR = join(__dirname, "snapshots", "plot");
const { lstm, gru, mgu } = traces(6, 2);

const cases: Record<string, () => Promise<Chart>> = {
  "heatmap-lstm": () => plot.heatmap(lstm, { cursor: 2 }),
  "heatmap-gru-aggregated": () => plot.heatmap(gru, { budget: 12, overBudget: "aggregate" }),
  "lines-lstm-f": () => plot.lines(lstm, { names: ["f"], units: [0, 1] }),
  "states-lstm": () => plot.states(lstm),
  "saturation-gru": () => plot.saturation(gru),
  "compare-lstm-gru-mgu": () => plot.compare({ LSTM: lstm, GRU: gru, MGU: mgu }),
};

describe("Vega-Lite spec snapshots", () => {
  mkdirSync(DIR, { recursive: true });
  for (const [name, make] of Object.entries(cases)) {
    it(`${name} matches its snapshot`, async () => {
      const actual = JSON.stringify(rounded((await make()).spec), null, 1) + "\n";
      const file = join(DIR, `${name}.json`);
      const changed = join(DIR, `${name}-changed.json`);
      if (process.env.UPDATE_SNAPSHOTS === "1" || !existsSync(file)) {
        writeFileSync(file, actual);
        rmSync(changed, { force: true });
        return;
      }
      const expected = readFileSync(file, "utf8");
      if (actual !== expected) writeFileSync(changed, actual);
      else rmSync(changed, { force: true });
      assert.equal(actual, expected, `spec of ${name} changed: see ${changed} (UPDATE_SNAPSHOTS=1 to accept)`);
    });
  }
});
