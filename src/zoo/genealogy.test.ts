/**
 * zoo.genealogy(): every entry of the zoo namespace once, every parent link, each box naming its
 * paper and its notebook, the years as an axis, every text escaped, displayed inline like every diagram.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { htmlText } from "../diagram/escape";
import { DISPLAY } from "../display/protocol";
import { ArchlabError } from "../errors";
import * as zoo from ".";

/** The entries, read from the namespace itself (so entries other modules add are covered too). */
const entries = Object.entries(zoo).filter(([, v]) => typeof v === "function" && "meta" in v) as [string, zoo.ZooEntry<object>][];
const occurrences = (text: string, part: string) => text.split(part).length - 1;

describe("zoo.genealogy() is drawn from the zoo's metadata", () => {
  const chart = zoo.genealogy();
  const dot = chart.toDot();

  it("has every zoo entry exactly once, in its family's cluster, on its year's rank", () => {
    assert.ok(entries.length >= 15);
    const boxes = chart.nodes.filter((n) => n.id.startsWith("zoo_"));
    assert.deepEqual(boxes.map((n) => n.id).sort(), entries.map(([k]) => `zoo_${k}`).sort());
    for (const [name, e] of entries) {
      assert.equal(occurrences(dot, `\n  "zoo_${name}" [`) + occurrences(dot, `\n    "zoo_${name}" [`), 1, `${name} declared once`);
      const box = boxes.find((n) => n.id === `zoo_${name}`)!;
      assert.equal(box.title, e.meta.title);
      assert.equal(box.cluster, `family_${e.meta.family}`);
      assert.ok(chart.graph.ranks.some((r) => r[0] === `year_${e.meta.year}` && r.includes(box.id)), `${name} on the rank of ${e.meta.year}`);
    }
  });

  it("draws every parent link, and no other link between entries", () => {
    const expected = entries.flatMap(([name, e]) => e.meta.parents.map((p) => `zoo_${p} -> zoo_${name}`)).sort();
    assert.ok(expected.length > 0);
    const drawn = chart.edges.filter((e) => e.from.startsWith("zoo_") && e.to.startsWith("zoo_")).map((e) => `${e.from} -> ${e.to}`).sort();
    assert.deepEqual(drawn, expected);
    for (const link of expected) {
      const [from, to] = link.split(" -> ");
      assert.match(dot, new RegExp(`"${from}" -> "${to}"`));
    }
  });

  it("names each entry's paper and notebook in its box, every text escaped", () => {
    for (const [name, e] of entries) {
      const box = chart.nodes.find((n) => n.id === `zoo_${name}`)!;
      assert.ok(box.notes?.includes(e.meta.citation));
      const notebook = zoo.notebooks[name];
      assert.ok(box.shape!.includes(`zoo.${name} · ${e.meta.year}`));
      assert.ok(box.shape!.includes(notebook ? `notebook ${notebook}` : "no notebook yet"), `${name}'s notebook`);
      assert.ok(dot.includes(htmlText(e.meta.title)), `${name}'s title, escaped`);
    }
    // The citations' ampersands reach the labels only as entities.
    assert.ok(entries.some(([, e]) => e.meta.citation.includes("&")));
    assert.match(dot, /Kingma &amp; Welling/);
    assert.doesNotMatch(dot.replace(/tooltip="[^"]*"/g, ""), /&(?!amp;|lt;|gt;|quot;|#)/);
  });

  it("displays inline as every diagram does: the SVG in an <img>, the SVG, and the text; every year on the axis", async () => {
    const bundle = await chart[DISPLAY]();
    assert.match(String(bundle["text/html"]), /<img src="data:image\/svg\+xml;base64,/);
    const svg = String(bundle["image/svg+xml"]);
    for (const [, e] of entries) assert.ok(svg.includes(`>${e.meta.year}</text>`), `the year ${e.meta.year} is written on the axis`);
    assert.doesNotMatch(svg, /&(?!amp;|lt;|gt;|quot;|#\d+;|#x[0-9a-fA-F]+;)/);
    const text = String(bundle["text/plain"]);
    for (const [name] of entries) assert.equal(occurrences(text, `zoo.${name}:`), 1);
  });

  it("names a bad option", () => {
    assert.throws(() => zoo.genealogy({ direction: "up" as never }), (e) => e instanceof ArchlabError && e.code === "bad-option" && /direction/.test(e.message));
    assert.throws(() => zoo.genealogy({ colour: "red" } as never), (e) => e instanceof ArchlabError && e.code === "unknown-name" && /colour/.test(e.message));
  });
});
