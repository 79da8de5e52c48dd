/**
 * zoo.digits(): the mnist package's digits as arrays, checked against the package's JSON files read
 * directly; balanced, deterministic, disjoint ranges; named errors.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ArchlabError } from "../errors";
import * as zoo from ".";

/** The package's raw grey levels of one digit, read from its JSON file (784 values per sample). */
const raw = (digit: number): number[] => JSON.parse(readFileSync(require.resolve(`mnist/src/digits/${digit}.json`), "utf8")).data;

describe("zoo.digits gives the mnist package's handwritten digits", () => {
  it("example k is digit k mod 10, that digit's (k div 10)-th sample, with its one-hot label", () => {
    const { x, labels, oneHot } = zoo.digits({ count: 25, start: 40 });
    assert.deepEqual(x.shape, [25, 784]);
    assert.deepEqual(oneHot.shape, [25, 10]);
    assert.deepEqual(labels, Array.from({ length: 25 }, (_, k) => (40 + k) % 10));
    const files = Array.from({ length: 10 }, (_, d) => raw(d));
    for (let k = 0; k < 25; k++) {
      const i = Math.floor((40 + k) / 10);
      assert.deepEqual([...x.data.subarray(k * 784, (k + 1) * 784)], files[labels[k]].slice(i * 784, (i + 1) * 784), `example ${k}`);
      assert.deepEqual([...oneHot.data.subarray(k * 10, (k + 1) * 10)], Array.from({ length: 10 }, (_, j) => (j === labels[k] ? 1 : 0)));
    }
    assert.ok(x.data.every((v) => v >= 0 && v <= 1) && x.data.some((v) => v > 0.5));
  });

  it("is deterministic, lays out images as [count, 28, 28, 1], and has disjoint ranges", () => {
    const a = zoo.digits({ count: 20 });
    assert.deepEqual(zoo.digits({ count: 20 }).x.data, a.x.data);
    const img = zoo.digits({ count: 20, layout: "image" }).x;
    assert.deepEqual(img.shape, [20, 28, 28, 1]);
    assert.deepEqual(img.data, a.x.data);
    const later = zoo.digits({ count: 20, start: 20 }).x.data;
    for (let k = 0; k < 20; k++) assert.notDeepEqual(later.subarray(k * 784, (k + 1) * 784), a.x.data.subarray(k * 784, (k + 1) * 784));
    assert.equal(zoo.digitsAvailable(), 8630);
  });

  it("names a bad option", () => {
    const bad = (pattern: RegExp) => (e: unknown) => e instanceof ArchlabError && e.code === "bad-option" && pattern.test(e.message);
    assert.throws(() => zoo.digits({ count: 0 }), bad(/count of zoo\.digits/));
    assert.throws(() => zoo.digits({ count: 10, start: 8625 }), bad(/start \+ count of zoo\.digits.*at most 8630/));
    assert.throws(() => zoo.digits({ layout: "nchw" as never }), bad(/layout of zoo\.digits/));
  });
});
