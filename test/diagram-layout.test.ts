/**
 * The folded LSTM and GRU laid out as teachers draw them, checked on Graphviz's own layout (the SVG's
 * coordinates): the cell's body is one box, the LSTM's cell state one horizontal line in it, the first
 * gates a row beneath it, and the red recurrences run around the box, not across it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BUILTIN_CELLS, GRU_RESET_AFTER, GRU_RESET_BEFORE, LSTM, PEEPHOLE_LSTM, type CellDef } from "../src/cells";
import { diagram } from "../src/diagram";
import { THEMES } from "../src/diagram/theme";
import { readLayout, type Layout } from "./support/layout";

type Point = [number, number];

/** Whether segments ab and cd properly cross. */
function cross([a, b]: [Point, Point], [c, d]: [Point, Point]): boolean {
  const side = (p: Point, q: Point, r: Point) => Math.sign((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]));
  return side(a, b, c) * side(a, b, d) < 0 && side(c, d, a) * side(c, d, b) < 0;
}

const segments = (pts: Point[]) => pts.slice(1).map((p, k): [Point, Point] => [pts[k], p]);

/** How many other edges each recurrent (red) edge crosses, and which nodes it runs through. */
function recurrences(layout: Layout): { edge: string; crossings: number; through: string[] }[] {
  const red = THEMES.light.edges.recurrent;
  return layout.edges
    .filter((e) => e.stroke === red)
    .map((e) => {
      const mine = segments(e.points);
      const crossings = layout.edges.filter((o) => o !== e && segments(o.points).some((s) => mine.some((m) => cross(m, s)))).length;
      const through = layout.nodes
        .filter((n) => n.id !== e.from && n.id !== e.to)
        .filter((n) => e.points.some(([x, y]) => x > n.box.x0 && x < n.box.x1 && y > n.box.y0 && y < n.box.y1))
        .map((n) => n.id);
      return { edge: `${e.from}->${e.to}`, crossings, through };
    });
}

const centreY = (layout: Layout, id: string) => {
  const b = layout.nodes.find((n) => n.id === id)!.box;
  return (b.y0 + b.y1) / 2;
};
const centreX = (layout: Layout, id: string) => {
  const b = layout.nodes.find((n) => n.id === id)!.box;
  return (b.x0 + b.x1) / 2;
};

const layoutOf = async (def: CellDef) => readLayout(await diagram(def).toSvg());

describe("folded diagrams read as teachers draw them", () => {
  it("draws the LSTM's cell state as one horizontal line: c[t−1], f⊙c[t−1], c and c[t] on one rank, the gates in a row beneath it", async () => {
    const layout = await layoutOf(LSTM);
    const line = ["c_prev", "f_c", "c", "c[t]"].map((id) => centreY(layout, id));
    for (const y of line) assert.ok(Math.abs(y - line[0]) < 0.5, `cell-state line at one height: ${line}`);
    const gates = ["i", "f", "g", "o"].map((id) => centreY(layout, id));
    for (const y of gates) assert.ok(Math.abs(y - gates[0]) < 0.5, `gates in one row: ${gates}`);
    assert.ok(gates[0] > line[0], "the gates sit beneath the cell state (y grows downwards)");
    assert.ok(centreX(layout, "c") < centreX(layout, "c[t]"), "the new cell state leaves to the right");
  });

  // Before the cell box, the LSTM's h recurrence crossed 8 edges and its c recurrence 2; the GRUs' 2.
  for (const def of [LSTM, PEEPHOLE_LSTM, GRU_RESET_AFTER, GRU_RESET_BEFORE]) {
    it(`${def.name}: each recurrence runs around the cell, crossing no other edge and no node`, async () => {
      const found = recurrences(await layoutOf(def));
      assert.equal(found.length, def.states.length);
      for (const r of found) assert.deepEqual([r.crossings, r.through], [0, []], `${r.edge}: crossings, nodes run through`);
    });
  }

  it("draws no built-in cell's recurrence through a node", async () => {
    for (const def of Object.values(BUILTIN_CELLS))
      for (const r of recurrences(await layoutOf(def))) assert.deepEqual(r.through, [], `${def.name}: ${r.edge} runs through nodes`);
  });

  it("puts the cell's body in one box, with the inputs and the states drawn beside it outside", async () => {
    const d = diagram(LSTM);
    const body = d.graph.clusters.map((c) => c.id);
    assert.equal(body.length, 1);
    const outside = d.nodes.filter((n) => n.cluster === undefined).map((n) => n.id);
    assert.deepEqual(outside.sort(), ["h[t]", "h_prev", "x"]);
  });
});
