/**
 * Diagrams are drawn in the font PNGs bundle (DejaVu Sans), and Graphviz sizes every box for it: every
 * glyph of the built-in diagrams is in the font (its cmap, read by fontconfig's `fc-query`), and every
 * text as resvg draws it stays inside its box, its caption inside the picture, with no two texts of a
 * label drawn over each other.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BUILTIN_CELLS, GRU_RESET_AFTER, LSTM, MGU, type CellDef } from "../src/cells";
import { diagram, diff, unrolled } from "../src/diagram";
import { pngFonts } from "../src/display/image";
import { charset } from "./support/fonts";
import { inside, overlap, readLayout } from "./support/layout";
import { MyRNN } from "./support/readme-cell";
import { readSvg } from "./support/svg";

const CELLS: CellDef[] = [...Object.values(BUILTIN_CELLS), MyRNN];

describe("diagram fonts", () => {
  it("bundles a font (regular and bold) that holds every glyph the built-in diagrams draw", async () => {
    const svgs = await Promise.all([
      ...CELLS.flatMap((def) => [diagram(def).toSvg(), diagram(def, { detail: "gates" }).toSvg(), diagram(def, { detail: "compact" }).toSvg()]),
      unrolled(LSTM, { steps: 2 }).toSvg(),
      unrolled({ def: GRU_RESET_AFTER, layers: 2, bidirectional: true }, { steps: 2 }).toSvg(),
      diff(GRU_RESET_AFTER, MGU).toSvg(),
    ]);
    const glyphs = new Set([...svgs.map((s) => readSvg(s).text).join("")].filter((c) => c.trim() !== ""));
    for (const c of ["⊙", "σ", "₀", "h̃"[1], "−"]) assert.ok(glyphs.has(c), `the diagrams draw ${c}`); // the test reads real labels
    const files = pngFonts().fontFiles!;
    assert.equal(files.length, 2);
    for (const file of files) {
      const has = charset(file);
      const missing = [...glyphs].filter((c) => !has(c.codePointAt(0)!));
      assert.deepEqual(missing.map((c) => `U+${c.codePointAt(0)!.toString(16)} ${c}`), [], `glyphs missing from ${file}`);
    }
  });

  for (const def of CELLS) {
    it(`${def.name}: every text, drawn by resvg in the bundled font, stays inside its box, and the caption inside the picture`, async () => {
      const layout = readLayout(await diagram(def).toSvg());
      for (const node of layout.nodes)
        for (const t of node.texts) assert.ok(t.ink && inside(t.ink, node.box), `"${t.text}" (${JSON.stringify(t.ink)}) inside node ${node.id} (${JSON.stringify(node.box)})`);
      const caption = layout.texts.map((t) => t.text).join("\n");
      assert.equal(caption, [`${def.name}: ${def.title}`, ...def.notes].join("\n"));
      for (const t of layout.texts) assert.ok(t.ink && inside(t.ink, layout.viewBox), `caption line "${t.text}" inside the picture`);
    });
  }

  it("names DejaVu Sans in the SVG, with sans-serif fallbacks for browsers without it", async () => {
    const families = new Set((await diagram(LSTM).toSvg()).match(/font-family="[^"]*"/g));
    assert.deepEqual([...families], ['font-family="DejaVu Sans,Verdana,sans-serif"']);
  });

  it("draws no label text over another: MyRNN's h_pre and its equation sit apart", async () => {
    const layout = readLayout(await diagram(MyRNN).toSvg());
    for (const node of layout.nodes)
      for (const [k, a] of node.texts.entries())
        for (const b of node.texts.slice(k + 1)) assert.ok(!overlap(a.ink!, b.ink!), `"${a.text}" and "${b.text}" overlap in ${node.id}`);
    const pre = layout.nodes.find((n) => n.id === "h_pre")!;
    const [title, equation] = pre.texts;
    assert.equal(title.text, "h_pre");
    assert.match(equation.text, /= W x\[t\] \+ U h\[t−1\] \+ b/);
    assert.ok(equation.ink!.x0 - title.ink!.x1 >= 2, `a visible gap between "h_pre" and "="`);
  });

  it("draws h̃'s tilde clear above the h, so it reads as h̃", async () => {
    const layout = readLayout(await diagram(MGU).toSvg());
    const title = (id: string) => layout.nodes.find((n) => n.id === id)!.texts[0];
    const [tilde, plain] = [title("h_tilde"), title("h")];
    assert.deepEqual([tilde.text, plain.text], ["h̃", "h"]);
    const above = (plain.ink!.y0 - plain.y) - (tilde.ink!.y0 - tilde.y);
    assert.ok(above >= 1.5, `the tilde's top is ${above} pt above the h's (want ≥ 1.5 pt at 11 pt)`);
  });
});
