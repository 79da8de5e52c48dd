/** The stepper's positions: −1 (before the first step, the initial state) through the last step. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LSTM } from "../src/cells/builtins";
import { cell } from "../src/engine/cell";
import { ArchlabError } from "../src/errors";
import { golden } from "./support/golden";

const X = golden.X as number[][][]; // [4][2][3]
const initial = { h: [[0.5, -0.25], [0.1, 0.2]], c: [[1, -1], [0, 0.3]] };
const lstm = () => cell(LSTM, { inputSize: 3, hiddenSize: 2, seed: 1 });

describe("a stepper moving back", () => {
  it("step() then back() returns to before the first step: t = −1, the initial state, no current values", () => {
    const s = lstm().stepper(X, { initial });
    const moves: number[] = [];
    s.onChange((x) => moves.push(x.t));
    s.step();
    const first = s.current(1);
    s.back();
    assert.equal(s.t, -1);
    assert.deepEqual(s.state, initial);
    assert.throws(() => s.current(), (e: unknown) => e instanceof ArchlabError && /call step\(\) first/.test(e.message));
    assert.deepEqual(moves, [0, -1], "listeners (the stepper view) hear the move back");
    // The README's line: step, back, then anywhere.
    s.step().back().seek(3);
    assert.equal(s.t, 3);
    assert.deepEqual(s.step(-3).current(1), first, "step 0 is computed once and kept");
    assert.deepEqual(s.trace.get("h"), lstm().run(X, { initial }).get("h"));
  });

  it("seek(−1) goes before the first step keeping what was computed; back() from there is an error that changes nothing", () => {
    const s = lstm().stepper(X);
    s.seek(2).seek(-1);
    assert.equal(s.t, -1);
    assert.equal(s.trace.length, 3, "steps 0…2 stay computed");
    assert.throws(() => s.back(), (e: unknown) => e instanceof ArchlabError && e.code === "out-of-range" && /Step -2 is outside the sequence: valid steps are -1…3/.test(e.message));
    assert.equal(s.t, -1);
  });
});
