import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dotString, htmlText } from "./escape";

describe("DOT escaping", () => {
  it("dotString escapes quotes and backslashes and writes newlines as \\n", () => {
    assert.equal(dotString('a"]; b'), '"a\\"]; b"');
    assert.equal(dotString("back\\slash"), '"back\\\\slash"');
    assert.equal(dotString("one\ntwo\r\nthree"), '"one\\ntwo\\nthree"');
  });

  it("htmlText escapes markup and turns newlines into <BR/>", () => {
    assert.equal(htmlText(`<script>&"x"\ny`), "&lt;script&gt;&amp;&quot;x&quot;<BR/>y");
  });
});
