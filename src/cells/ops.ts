/**
 * The op vocabulary, as data. Every node of a cell definition has one of these kinds; each
 * interpreter (compute, diagram, text) is a table over them, so adding a kind without teaching
 * every interpreter is a type error. Each kind's gradient rule (its vector–Jacobian product) is in
 * the table VJP of gradients.ts, next to this one, under the same rule.
 */

/** Elementwise functions of one argument. */
export type UnaryKind = "sigmoid" | "tanh" | "hardSigmoid" | "hardSigmoid6" | "relu" | "identity" | "oneMinus";
/** Elementwise functions of several arguments of the same size. */
export type ElementwiseKind = "mul" | "add" | "sub" | "div";
/** Every op kind. */
export type OpKind = "affine" | UnaryKind | ElementwiseKind | "shift" | "concat";

/** How an op is written: its symbol and how its equation reads, given its inputs' labels. */
export interface OpNotation {
  /** A short symbol for a diagram box. */
  symbol: string;
  /** A human description. */
  title: string;
  /** The right-hand side of the node's equation, given its operands already written as text. */
  text(args: readonly string[]): string;
}

const call = (f: string) => (a: readonly string[]) => `${f}(${a[0]})`;

/** Notation of every op kind (affine and shift are written by the definition, which knows their terms). */
export const NOTATION: Record<OpKind, OpNotation> = {
  affine: { symbol: "+", title: "affine map (weights · inputs + bias)", text: (a) => a.join(" + ") },
  sigmoid: { symbol: "σ", title: "logistic sigmoid 1/(1+e^−x)", text: call("σ") },
  tanh: { symbol: "tanh", title: "hyperbolic tangent", text: call("tanh") },
  hardSigmoid: { symbol: "hσ", title: "hard sigmoid (tfjs/Keras 2): clip(0.2x + 0.5, 0, 1)", text: call("hardσ") },
  hardSigmoid6: { symbol: "hσ₆", title: "hard sigmoid (PyTorch/Keras 3): clip(x/6 + 0.5, 0, 1)", text: call("hardσ₆") },
  relu: { symbol: "ReLU", title: "rectified linear unit max(0, x)", text: call("relu") },
  identity: { symbol: "id", title: "identity (no activation)", text: (a) => a[0] },
  oneMinus: { symbol: "1−", title: "one minus", text: (a) => `1 − ${a[0]}` },
  mul: { symbol: "⊙", title: "elementwise product", text: (a) => a.join(" ⊙ ") },
  add: { symbol: "+", title: "elementwise sum", text: (a) => a.join(" + ") },
  sub: { symbol: "−", title: "elementwise difference", text: (a) => a.join(" − ") },
  div: { symbol: "÷", title: "elementwise quotient", text: (a) => a.join(" / ") },
  shift: { symbol: "−β", title: "subtract a constant", text: (a) => a.join(" − ") },
  concat: { symbol: "[ , ]", title: "concatenation", text: (a) => `[${a.join(", ")}]` },
};

/**
 * The math of each elementwise kind, once, as a JavaScript expression over its operands. The
 * compute interpreter compiles these into its step function; {@link UNARY} is built from them.
 */
export const EXPRESSION: Record<UnaryKind | ElementwiseKind, (...operands: string[]) => string> = {
  sigmoid: (v) => `1 / (1 + Math.exp(-${v}))`,
  tanh: (v) => `Math.tanh(${v})`,
  hardSigmoid: (v) => `Math.min(1, Math.max(0, 0.2 * ${v} + 0.5))`,
  hardSigmoid6: (v) => `Math.min(1, Math.max(0, ${v} / 6 + 0.5))`,
  relu: (v) => `(${v} > 0 ? ${v} : 0)`,
  identity: (v) => `${v}`,
  oneMinus: (v) => `1 - ${v}`,
  mul: (...a) => a.join(" * "),
  add: (...a) => a.join(" + "),
  sub: (...a) => a.join(" - "),
  div: (...a) => a.join(" / "),
};

/** The scalar function of each unary kind, compiled from {@link EXPRESSION} (this table's own text only, never a definition's). */
export const UNARY = Object.fromEntries(
  (["sigmoid", "tanh", "hardSigmoid", "hardSigmoid6", "relu", "identity", "oneMinus"] as const).map((k) => [k, new Function("v", `return ${EXPRESSION[k]("v")};`)]),
) as Record<UnaryKind, (v: number) => number>;

/** Unary kinds whose output is a gate in [0, 1]. */
export const GATING: ReadonlySet<OpKind> = new Set<OpKind>(["sigmoid", "hardSigmoid", "hardSigmoid6"]);

export const isUnary = (k: OpKind): k is UnaryKind => Object.prototype.hasOwnProperty.call(UNARY, k);
export const isElementwise = (k: OpKind): k is ElementwiseKind => k === "mul" || k === "add" || k === "sub" || k === "div";
