/**
 * Bad input: names and labels with `<`, `&`, quotes, `"]`, newlines or script text are escaped in
 * DOT, SVG and HTML; unknown options and graphs Graphviz rejects give named errors.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LSTM, defineCell, type CellDef } from "../src/cells";
import { diagram, diff, unrolled } from "../src/diagram";
import { dotToSvg } from "../src/diagram/layout";
import { DISPLAY } from "../src/display/protocol";
import { ArchlabError } from "../src/errors";
import { readSvg } from "./support/svg";

const EVIL = {
  input: "x<script>alert(1)</script>",
  state: 'h"]; evil [label="pwn',
  node: "a & b ]",
  label: `<b>"quoted" 'single' & \\ backslash</b>\nsecond line`,
};

/**
 * A cell whose names hold markup, quotes and newlines. defineCell refuses such names (and so does
 * cell()), but diagrams draw any definition given as plain data, as one read from a file would be:
 * so it is written with plain names, then every name is swapped for a hostile one in the data.
 */
const HOSTILE: Record<string, string> = { X_IN: EVIL.input, H_ST: EVIL.state, A_NODE: EVIL.node, W_Q: 'W"]', U_Q: "U<&>", B_N: "b\n" };
const rename = (v: unknown): unknown =>
  typeof v === "string"
    ? Object.entries(HOSTILE).reduce((text, [plain, hostile]) => text.replaceAll(plain, hostile), v)
    : Array.isArray(v)
      ? v.map(rename)
      : v && typeof v === "object"
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rename(x)]))
        : v;
const Evil = rename(
  defineCell(
    { name: "Evil<script>", title: 'A "cell" & <i>friends</i>', citation: "test", notes: ["note with <script>alert(2)</script> and \"]"], inputs: { X_IN: "In" }, states: { H_ST: "H" } },
    ({ X_IN, H_ST }, op) => {
      const pre = op.affine("A_NODE", "H", { W_Q: X_IN, U_Q: H_ST }, "B_N");
      return { H_ST: op.tanh("out", pre, { label: EVIL.label, note: "</script><script>alert(3)</script>" }) };
    },
  ),
) as CellDef;

const rawScript = /<script/i;

describe("escaping", () => {
  it("renders a cell whose names hold markup, quotes, newlines and backslashes, and every name survives the round trip", async () => {
    const d = diagram(Evil);
    const svgText = await d.toSvg();
    assert.doesNotMatch(svgText, rawScript);
    const svg = readSvg(svgText);
    assert.equal(svg.nodes.length, 1 + 2 + 2 + 1);
    // Node ids come back exactly (the parser decodes Graphviz's entities).
    assert.ok(svg.nodes.includes(EVIL.input));
    assert.ok(svg.nodes.includes(`${EVIL.state}_prev`));
    assert.ok(svg.nodes.includes(EVIL.node));
    // Labels are text, not markup.
    assert.ok(svg.text.includes(`<b>"quoted" 'single' & \\ backslash</b>\nsecond line`), "a newline in a label starts a new line");
    assert.ok(svg.text.includes("<script>alert(1)</script>"), "the input name is shown as text");
    assert.ok(svg.edges.some(([a, b]) => a === EVIL.input && b === EVIL.node));
  });

  it("keeps DOT well-formed: no unescaped quote ends a string early", () => {
    const dot = diagram(Evil).toDot();
    assert.ok(dot.includes('"h\\"]; evil [label=\\"pwn_prev"'));
    assert.ok(dot.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert.ok(!/<script/i.test(dot.replace(/"(?:[^"\\]|\\.)*"/g, '""')), "no raw <script outside quoted strings");
  });

  it("escapes the HTML bundle: the SVG travels base64-encoded and the alt text is escaped", async () => {
    const bundle = await diagram(Evil)[DISPLAY]();
    const html = bundle["text/html"] as string;
    assert.doesNotMatch(html, rawScript);
    assert.match(html, /^<img src="data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+" alt="Evil&lt;script&gt;: A &quot;cell&quot; &amp; &lt;i&gt;friends&lt;\/i&gt;"/);
    const svg = Buffer.from(html.match(/base64,([^"]+)"/)![1], "base64").toString("utf8");
    assert.equal(svg, bundle["image/svg+xml"]);
    assert.match(bundle["text/plain"], /note: note with <script>/, "text/plain is plain text, shown as is");
  });

  it("escapes unrolled, stacked and diff views of the same cell", async () => {
    for (const d of [unrolled(Evil, { steps: 2 }), unrolled(Evil, { steps: 2, detail: "gates" }), unrolled({ def: Evil, layers: 2, bidirectional: true }, { steps: 2 }), diff(LSTM, Evil)])
      assert.doesNotMatch(await d.toSvg(), rawScript);
  });
});

describe("bad options and bad graphs", () => {
  const code = (c: string, pattern: RegExp) => (e: unknown) => e instanceof ArchlabError && e.code === c && pattern.test(e.message);

  it("names an unknown option and lists the valid ones", () => {
    assert.throws(() => diagram(LSTM, { colour: "red" } as never), code("unknown-name", /Unknown option "colour" in diagram\(\)\. Known options: "direction", "theme", "caption", "detail", "trace", "t", "b"/));
    assert.throws(() => unrolled(LSTM, { step: 3 } as never), code("unknown-name", /Unknown option "step" in unrolled\(\).*"steps"/));
    assert.throws(() => diff(LSTM, LSTM, { trace: 1 } as never), code("unknown-name", /Unknown option "trace" in diff\(\)/));
  });

  it("names a bad option value and what is expected", () => {
    assert.throws(() => diagram(LSTM, { theme: "neon" as never }), code("bad-option", /theme = "neon".*"light", "dark", "mono"/));
    assert.throws(() => diagram(LSTM, { direction: "up" as never }), code("bad-option", /direction = "up".*"BT", "TB", "LR", "RL"/));
    assert.throws(() => diagram(LSTM, { detail: "everything" as never }), code("bad-option", /detail/));
    assert.throws(() => unrolled(LSTM, { steps: 0 }), code("bad-option", /steps = 0/));
    assert.throws(() => diagram({ nodes: 1 } as never), code("bad-option", /cell definition/));
    assert.throws(() => unrolled({ def: LSTM, layers: 2, bidirectional: true, dbLstm: true }), code("bad-option", /dbLstm/));
  });

  it("refuses a file type it cannot write", async () => {
    await assert.rejects(diagram(LSTM).save("/tmp/lstm.jpg"), code("bad-option", /\.svg, \.png, \.dot/));
  });

  it("turns a graph Graphviz rejects into a named error quoting Graphviz", async () => {
    await assert.rejects(dotToSvg("digraph { a -> }", "test graph"), code("layout", /Graphviz could not lay out the test graph: .*syntax error/));
  });
});
