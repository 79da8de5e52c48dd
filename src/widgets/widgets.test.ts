/**
 * Widgets outside a kernel (plain Node): a named error saying they need the kernel and pointing at
 * the self-contained player — and bad options named before any comm would open.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ArchlabError, cell, LSTM, player, widgets } from "../index";

const needsKernel = (error: unknown) => error instanceof ArchlabError && error.code === "needs-kernel" && /player\(stepper\)/.test(error.message);

describe("widgets without a kernel", () => {
  test("creating a widget says it needs the archlab kernel and points at player()", () => {
    assert.throws(() => new widgets.IntSlider({ max: 9 }), needsKernel);
    assert.throws(() => new widgets.Output(), needsKernel);
    const s = cell(LSTM, { inputSize: 1, hiddenSize: 2, seed: 1 }).stepper([[1], [2], [3]]);
    assert.throws(() => widgets.scrub(s), needsKernel);
    assert.equal(typeof player, "function", "the fallback the message names exists");
  });

  test("bad options are named errors, checked before any comm opens", () => {
    const badOption = (name: RegExp) => (error: unknown) => error instanceof ArchlabError && error.code === "bad-option" && name.test(error.message);
    assert.throws(() => new widgets.IntSlider({ min: 5, max: 1 }), badOption(/IntSlider option max = 1 .*≥ min \(5\)/));
    assert.throws(() => new widgets.IntSlider({ max: 9, value: 12 }), badOption(/IntSlider option value = 12 .*0…9/));
    assert.throws(() => new widgets.Play({ step: 0.5 }), badOption(/Play option step = 0\.5 .*whole number/));
    assert.throws(() => new widgets.Play({ interval: -1 }), badOption(/Play option interval = -1/));
    assert.throws(() => new widgets.Dropdown({ options: [] }), badOption(/Dropdown option options/));
    assert.throws(() => new widgets.Dropdown({ options: ["i", "f"], value: "o" }), badOption(/Dropdown option value = "o" .*i, f/));
    assert.throws(() => widgets.scrub({ t: 0 } as never), badOption(/stepper of scrub\(\)/));
  });
});
