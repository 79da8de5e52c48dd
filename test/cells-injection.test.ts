/**
 * Hostile definitions: the engine compiles each cell into JavaScript, so text from a definition
 * (names, constants) must never become code — whether the definition comes from defineCell or as
 * plain data (JSON from a file or a shared notebook). Each payload would set `globalThis.pwned`.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { BUILTIN_CELLS, JANET, RNN_TANH, defineCell, type CellDef } from "../src/cells";
import { cell } from "../src/engine";
import { generate } from "../src/engine/program";
import { ArchlabError } from "../src/errors";

const scope = globalThis as { pwned?: number };
afterEach(() => delete scope.pwned);
const RAN = "globalThis.pwned = (globalThis.pwned ?? 0) + 1";

/** Names built to break out of a comment, a string or a template into code. */
const PAYLOADS = [
  `h\n${RAN};//`,
  `h */ ${RAN}; /*`,
  `h\u2028${RAN};//`,
  `h\u2029${RAN};//`,
  `h\\\n${RAN};//`,
  `h\r${RAN};//`,
  "h${" + RAN + "}",
  `h"]; ${RAN}; //`,
  `h']; ${RAN}; //`,
  "__proto__",
  "constructor",
  "toString",
  "",
  " h",
  "-h",
  "x".repeat(65),
];

const refused = (e: unknown) => e instanceof ArchlabError && e.code === "bad-definition";
const xs = [[0.5], [-1], [2]];

/** An Elman cell whose input, state, node and parameter names are given. */
function elman({ input = "x", state = "h", node = "a", weight = "W" }) {
  return defineCell({ name: "Elman", title: "Elman RNN", citation: "test", inputs: { [input]: "In" }, states: { [state]: "H" } }, (v, op) => ({
    [state]: op.tanh(state, op.affine(node, "H", { [weight]: v[input], U: v[state] }, "b")),
  }));
}

/** A definition as plain data (as read from JSON), every string `from` (and `from_prev`) renamed to `to`. */
function renamed(def: CellDef, from: string, to: string): CellDef {
  const swap = (v: unknown): unknown =>
    v === from ? to : v === `${from}_prev` ? `${to}_prev` : Array.isArray(v) ? v.map(swap) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, swap(x)])) : v;
  return swap(JSON.parse(JSON.stringify(def))) as CellDef;
}

describe("hostile names", () => {
  for (const [role, key] of [["an input", "input"], ["a state", "state"], ["a node", "node"], ["a parameter", "weight"]] as const)
    it(`defineCell refuses every payload as ${role} name, with a named error, and runs nothing`, () => {
      for (const payload of PAYLOADS) {
        assert.throws(() => elman({ [key]: payload }), (e) => refused(e) && /is not a valid name|every JavaScript object already has it/.test((e as Error).message), JSON.stringify(payload));
        assert.equal(scope.pwned, undefined);
      }
    });

  for (const [role, name] of [["an input", "x"], ["a state", "h"], ["a node", "h_pre"], ["a parameter", "W"]] as const)
    it(`a JSON definition with a payload as ${role} name is refused when a cell is made, and runs nothing`, () => {
      for (const payload of PAYLOADS) {
        const def = renamed(RNN_TANH, name, payload);
        assert.throws(() => cell(def, { inputSize: 1, hiddenSize: 2 }).run(xs), refused, JSON.stringify(payload));
        assert.equal(scope.pwned, undefined);
      }
    });

  it("the generated step function holds no text of the definition, even one no check has seen", () => {
    for (const payload of PAYLOADS.filter((p) => p.length > 2)) {
      for (const name of ["x", "h", "h_pre", "W", "U", "b"]) {
        const source = generate(renamed(RNN_TANH, name, payload), { In: 1, H: 2 }, 1);
        assert.ok(!source.includes(payload) && !source.includes("pwned"), `${name} → ${JSON.stringify(payload)}`);
      }
    }
  });

  it("names may be any letters with accents, digits, _ and - (every built-in and the notebooks' own cell)", () => {
    const tilde = elman({ node: "h̃_pre", weight: "W_β" });
    assert.deepEqual(
      cell(tilde, { inputSize: 1, hiddenSize: 2, seed: 3 }).run(xs).value("h"),
      cell(elman({}), { inputSize: 1, hiddenSize: 2, seed: 3 }).run(xs).value("h"),
    );
    for (const def of Object.values(BUILTIN_CELLS)) {
      const plain = JSON.parse(JSON.stringify(def)) as CellDef;
      const [a, b] = [cell(def, { inputSize: 2, hiddenSize: 3, seed: 1 }), cell(plain, { inputSize: 2, hiddenSize: 3, seed: 1 })];
      const input = [[0.1, -0.2], [0.3, 0.4]];
      assert.deepEqual(b.run(input).value(def.states[0].name), a.run(input).value(def.states[0].name), `${def.name} from JSON computes as the original`);
    }
  });
});

describe("hostile constants", () => {
  const janet = (value: unknown) => {
    const def = JSON.parse(JSON.stringify(JANET)) as CellDef;
    (def.nodes.find((n) => n.op === "shift")!.constant as { value: unknown }).value = value;
    return def;
  };
  const VALUES = ["0; globalThis.pwned = 1", `1) + (${RAN}`, NaN, Infinity, -Infinity, null, undefined, "1", [1], { valueOf: () => 1 }, 10n];

  it("a JSON definition whose shift constant is not a finite number is refused, and runs nothing", () => {
    for (const value of VALUES) {
      assert.throws(() => cell(janet(value), { inputSize: 1, hiddenSize: 2 }).run(xs), (e) => refused(e) && /constant .* must be a finite number/.test((e as Error).message), String(value));
      assert.throws(() => generate(janet(value), { In: 1, H: 2 }, 1), refused, `generate() checks too: ${String(value)}`);
      assert.equal(scope.pwned, undefined);
    }
  });

  it("defineCell refuses them too", () => {
    for (const value of VALUES)
      assert.throws(
        () => defineCell({ name: "S", title: "s", citation: "-", inputs: { x: "H" }, states: { h: "H" } }, ({ x }, op) => ({ h: op.shift("h", x, { value: value as number, symbol: "β" }) })),
        refused,
        String(value),
      );
    assert.equal(scope.pwned, undefined);
  });

  it("a finite constant computes as before, negative ones and exponents included", () => {
    for (const value of [1, -2.5, 1e-7, -1e21]) {
      const def = janet(value);
      const trace = cell(def, { inputSize: 1, hiddenSize: 2, seed: 4 }).run(xs);
      const s = trace.value("s", { t: 1 });
      assert.deepEqual(trace.value("s_beta", { t: 1 }), s.map((v) => v - value));
    }
  });
});

describe("hostile shapes of a definition", () => {
  it("an unknown op, an operand read before it is defined, or a missing weight is a named error", () => {
    const bad = (edit: (d: { nodes: Record<string, unknown>[]; params: unknown[] }) => void) => {
      const def = JSON.parse(JSON.stringify(RNN_TANH));
      edit(def);
      assert.throws(() => cell(def, { inputSize: 1, hiddenSize: 2 }), refused);
    };
    bad((d) => (d.nodes[0].op = "constructor"));
    bad((d) => (d.nodes[0].op = "__proto__"));
    bad((d) => (d.nodes[0].inputs = ["h"]));
    bad((d) => (d.params = []));
    // null is not a definition at all: the shallow check (cell()'s own, with its hints) names it first.
    assert.throws(() => cell(null as never), (e: unknown) => e instanceof ArchlabError && e.code === "not-a-definition");
  });
});
