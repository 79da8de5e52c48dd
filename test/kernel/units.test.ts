/**
 * The kernel's parts on their own: the wire format, history queries, what a notebook has in scope.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import * as ts from "@tslab/typescript-for-tslab";
import { resultBundle } from "../../kernel/display";
import { History } from "../../kernel/history";
import { wireErrors } from "../../kernel/messages";
import { decode, encode, newHeader, Signer, WireError, type Message } from "../../kernel/wire";
import { ROOT } from "./harness";

const signer = new Signer("secret-key");
const message = (): Message => ({
  identities: [Buffer.from("client-1")],
  header: newHeader("execute_request", "session-1"),
  parent_header: {},
  metadata: {},
  content: { code: "1 + 1" },
  buffers: [Buffer.from([1, 2, 3])],
});

describe("the wire format", () => {
  test("a signed message decodes back to itself", () => {
    const sent = message();
    assert.deepEqual(decode(encode(sent, signer), signer), sent);
  });

  test("a wrong signature, broken JSON or missing parts are WireErrors naming the problem", () => {
    const frames = encode(message(), signer);
    const tampered = frames.map((frame, i) => (i === 3 ? Buffer.from(frame.toString().replace("execute", "shutdown")) : frame));
    assert.throws(() => decode(tampered, signer), new WireError(wireErrors.badSignature));
    assert.throws(() => decode(frames, new Signer("other-key")), new WireError(wireErrors.badSignature));
    const parts = [Buffer.from("{"), Buffer.from("{}"), Buffer.from("{}"), Buffer.from("{}")];
    assert.throws(() => decode([Buffer.from("<IDS|MSG>"), Buffer.from(signer.sign(parts)), ...parts], signer), new WireError(wireErrors.notJson("header")));
    assert.throws(() => decode([Buffer.from("<IDS|MSG>"), Buffer.from("x")], signer), new WireError(wireErrors.tooFewParts(0)));
    assert.throws(() => decode([Buffer.from("hello")], signer), new WireError(wireErrors.noDelimiter));
  });

  test("with an empty key nothing is signed or checked, as Jupyter allows", () => {
    const open = new Signer("");
    const frames = encode(message(), open);
    assert.equal(frames[2].toString(), "");
    assert.equal(decode(frames, open).content.code, "1 + 1");
  });

  test("an unknown signature scheme is refused at start", () => {
    assert.throws(() => new Signer("k", "rsa"), { message: wireErrors.scheme("rsa") });
  });
});

describe("history", () => {
  const history = new History();
  ["let a = 1", "a + 1", "console.log(a)", "a + 1", "display(a)"].forEach((code, i) => history.addInput(i + 1, code));
  history.addOutput(2, "2");

  test("tail gives the last n cells", () => {
    assert.deepEqual(history.query({ hist_access_type: "tail", n: 2 }), [[1, 4, "a + 1"], [1, 5, "display(a)"]]);
  });

  test("range is start..stop with stop excluded, with outputs on request", () => {
    assert.deepEqual(history.query({ hist_access_type: "range", session: 0, start: 2, stop: 4, output: true }), [
      [1, 2, ["a + 1", "2"]],
      [1, 3, ["console.log(a)", null]],
    ]);
    assert.deepEqual(history.query({ hist_access_type: "range", session: 7 }), [], "another session has no cells here");
  });

  test("search is a case-sensitive glob over the whole cell; unique keeps the latest of repeats", () => {
    assert.deepEqual(history.query({ hist_access_type: "search", pattern: "a ?*" }), [[1, 2, "a + 1"], [1, 4, "a + 1"]]);
    assert.deepEqual(history.query({ hist_access_type: "search", pattern: "a ?*", unique: true }), [[1, 4, "a + 1"]]);
    assert.deepEqual(history.query({ hist_access_type: "search", pattern: "*(a)" }).length, 2);
    assert.deepEqual(history.query({ hist_access_type: "search", pattern: "CONSOLE*" }), []);
    assert.deepEqual(history.query({ hist_access_type: "search", pattern: "[ld]*", n: 1 }), [[1, 5, "display(a)"]]);
  });
});

describe("what a notebook has in scope", () => {
  test("every export of the library root, values and types, plus comms", () => {
    // Loaded from dist: the names are read from the compiled module, as the kernel does.
    const { exportedNames } = require(join(ROOT, "dist", "kernel", "scope.js")) as typeof import("../../kernel/scope");
    const names = new Set(exportedNames(join(ROOT, "dist", "kernel", "prelude")));
    const library = require(join(ROOT, "dist", "src", "index.js")) as object;
    for (const name of Object.keys(library)) assert.ok(names.has(name), `${name} is in scope`);
    for (const name of ["display", "clearOutput", "MimeBundle", "Displayable", "comms", "Comm", "input", "InputOptions", "StdinNotImplementedError"]) assert.ok(names.has(name), name);
  });

  test("the prelude's declarations are complete and small: no dangling internal names, no tfjs-core types", () => {
    // tslab rebuilds the reference graph of every file of its program for every cell, so each
    // declaration file the prelude reaches costs every cell time: tfjs-core's ~300 made a trivial
    // cell's round trip 1.6× plain tslab's (bench: kernel). The build strips @internal declarations.
    const program = ts.createProgram([join(ROOT, "dist", "kernel", "prelude.d.ts")], {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
      types: ["node"],
      strict: true,
      esModuleInterop: true,
      noEmit: true,
    });
    const files = program.getSourceFiles().map((f) => f.fileName);
    assert.deepEqual(files.filter((f) => f.includes("@tensorflow/")), []);
    const own = ts.getPreEmitDiagnostics(program).filter((d) => d.file && !d.file.fileName.includes("node_modules"));
    assert.deepEqual(own.map((d) => `${d.file!.fileName}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`), []);
  });

  test("Node's types come with the prelude, so cells outside any project know `console` (tslab issue 61)", () => {
    const comms = join(ROOT, "dist", "kernel", "comms.d.ts");
    assert.match(readFileSync(join(ROOT, "dist", "kernel", "prelude.d.ts"), "utf8"), /from "\.\/comms"/);
    assert.match(readFileSync(comms, "utf8"), /^\/\/\/ <reference types="node" (preserve="true" )?\/>/);
    const resolved = ts.resolveTypeReferenceDirective("node", comms, { typeRoots: [] }, ts.sys).resolvedTypeReferenceDirective;
    assert.match(resolved?.resolvedFileName ?? "", /[\\/]node_modules[\\/]@types[\\/]node[\\/]/, "resolved from archlab's install");
  });
});

describe("a cell's value", () => {
  test("a string is quoted as Node's REPL shows it; a string of several lines shows as its lines (a CSV as rows)", async () => {
    assert.deepEqual(await resultBundle("1"), { "text/plain": "'1'" });
    const csv = "name,t,value\nf,0,0.25\nf,1,0.5";
    assert.deepEqual(await resultBundle(csv), { "text/plain": csv });
    assert.deepEqual(await resultBundle(42), { "text/plain": "42" });
  });
});
