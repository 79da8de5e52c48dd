/**
 * plot.tensor: a model's traced node plotted by its axes — units × time for a per-step vector,
 * a step × position matrix for attention weights, a grid of feature maps for an image — with the
 * trace's exact values in the spec and a static rendering that vega accepts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ArchlabError, nn, plot } from "../src";

const { model, input, param, named, matmul, tanh, add, scan, softmax, reshape, conv2d, relu } = nn;

function attentionModel() {
  return model("Attn", { In: 2, H: 4 }, () => {
    const xs = input("x", ["B", "T", "In"]);
    const enc = input("enc", ["B", "S", "H"]);
    const h0 = input("h0", ["B", "H"]);
    const Wx = param("Wx", ["In", "H"]);
    const Wh = param("Wh", ["H", "H"]);
    const { out } = scan("dec", { x: xs }, { h: h0 }, ({ x }, { h }) => {
      const hn = named("h", tanh(add(matmul(x, Wx), matmul(h, Wh))));
      const a = named("attn", softmax(reshape(matmul(enc, reshape(hn, ["B", "H", 1])), ["B", "S"]), "S"));
      return { state: { h: hn }, out: { a } };
    });
    const img = input("img", ["B", 6, 5, 2]);
    named("maps", relu(conv2d(img, param("w", [3, 3, 2, 3]), { padding: 1 })));
    return { a: out.a };
  });
}

async function traced() {
  const T = 5, S = 3;
  const x = [0, 1].map((b) => Array.from({ length: T }, (_, t) => [Math.sin(t + b), Math.cos(t)]));
  const enc = [0, 1].map((b) => Array.from({ length: S }, (_, s) => Array.from({ length: 4 }, (_, k) => Math.sin(s * (k + 1) + b))));
  const img = [0, 1].map((b) => Array.from({ length: 6 }, (_, i) => Array.from({ length: 5 }, (_, j) => [Math.sin(i + b), Math.cos(j)])));
  return (await attentionModel().run({ x, enc, h0: [[0, 0, 0, 0], [0, 0, 0, 0]], img }, { backend: "reference" })).trace;
}

type Datum = { r: number; c: number; value: number };

test("a per-step vector is a units × time heatmap of batch row b, values exact", async () => {
  const trace = await traced();
  const chart = await plot.tensor(trace, "dec/h", { b: 1 });
  const values = (chart.spec as unknown as { data: { values: Datum[] } }).data.values;
  const h = trace.get("dec/h"); // [T, B, H]
  assert.equal(values.length, 5 * 4);
  for (const { r, c, value } of values) assert.equal(value, h.data[(c * 2 + 1) * 4 + r]); // unit r, step c
  assert.match(await chart.toSVG(), /<svg/);
});

test("attention weights over steps are a step × source-position matrix; each row sums to 1", async () => {
  const trace = await traced();
  const chart = await plot.tensor(trace, "dec/attn", { kind: "matrix" });
  const values = (chart.spec as unknown as { data: { values: Datum[] } }).data.values;
  assert.equal(values.length, 5 * 3);
  for (let t = 0; t < 5; t++) {
    const row = values.filter((d) => d.r === t);
    assert.equal(row.length, 3);
    assert.ok(Math.abs(row.reduce((s, d) => s + d.value, 0) - 1) < 1e-12);
  }
  // The colour scale is the op table's range of softmax: [0, 1].
  assert.deepEqual((chart.spec as unknown as { encoding: { color: { scale: { domain: number[] } } } }).encoding.color.scale.domain, [0, 1]);
});

test("an image is a grid of feature maps, one PNG per channel", async () => {
  const trace = await traced();
  const chart = await plot.tensor(trace, "maps");
  const rows = (chart.spec as unknown as { vconcat: { hconcat: { title: { text: string }; data: { values: { url: string }[] } }[] }[] }).vconcat;
  const maps = rows.flatMap((r) => r.hconcat);
  assert.deepEqual(maps.map((m) => m.title.text), ["channel 0", "channel 1", "channel 2"]);
  for (const m of maps) assert.match(m.data.values[0].url, /^data:image\/png;base64,/);
  assert.match(await chart.toSVG(), /<image/);
});

test("plot.tensor: named errors for a wrong path, batch row, channel or kind", async () => {
  const trace = await traced();
  await assert.rejects(plot.tensor(trace, "dec/nope"), (e: ArchlabError) => e.code === "unknown-node" && /dec\/h/.test(e.message));
  await assert.rejects(plot.tensor(trace, "dec/h", { b: 2 }), (e: ArchlabError) => e instanceof ArchlabError && /0…1|0 and 1|0 to 1/.test(e.message));
  await assert.rejects(plot.tensor(trace, "maps", { channels: [3] }), (e: ArchlabError) => e instanceof ArchlabError && /channel/.test(e.message));
  await assert.rejects(plot.tensor(trace, "maps", { kind: "heatmap" }), (e: ArchlabError) => e.code === "unsupported");
  await assert.rejects(plot.tensor({} as never, "x"), (e: ArchlabError) => e.code === "bad-option");
});
