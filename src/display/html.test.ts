import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PNG } from "pngjs";
import { dataUri, escapeHtml, imageBundle } from "./html";
import { svgToPng } from "./image";

const SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10"><rect width="20" height="10" fill="#ff0000"/></svg>`;

describe("display helpers", () => {
  it("escapeHtml escapes the five HTML metacharacters and leaves the rest", () => {
    assert.equal(escapeHtml(`<script>"x" & 'y'</script> σ ⊙`), "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt; σ ⊙");
  });

  it("dataUri base64-encodes text as UTF-8", () => {
    assert.equal(dataUri("text/plain", "σ"), "data:text/plain;base64,z4M=");
  });

  it("imageBundle carries an <img> data URI, the SVG and the text, with escaped alt text", () => {
    const b = imageBundle({ svg: SVG, text: `a "red" <box>\nsecond line` });
    assert.equal(b["image/svg+xml"], SVG);
    assert.equal(b["text/plain"], `a "red" <box>\nsecond line`);
    assert.equal(b["text/html"], `<img src="${dataUri("image/svg+xml", SVG)}" alt="a &quot;red&quot; &lt;box&gt;" title="a &quot;red&quot; &lt;box&gt;" style="max-width:100%;height:auto">`);
    assert.match(imageBundle({ svg: SVG, text: "t", title: "T", width: 300.4 })["text/html"] as string, /alt="T" title="T" width="300"/);
  });

  it("svgToPng rasterises at the given scale", () => {
    const png = PNG.sync.read(svgToPng(SVG, { scale: 3 }));
    assert.deepEqual([png.width, png.height], [60, 30]);
    assert.deepEqual([...png.data.subarray(0, 4)], [255, 0, 0, 255]);
    assert.throws(() => svgToPng(SVG, { scale: 0 }), /scale of svgToPng = 0/);
  });
});
