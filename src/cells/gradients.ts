/**
 * The gradient rule of every op kind, as data next to the op table (ops.ts): its vector–Jacobian
 * product (VJP). Given ∂L/∂(a node) at one step, a rule ADDS each operand's share into that
 * operand's gradient, and each parameter's share into the parameter's gradient:
 *
 *     y = op(a₁, a₂, …; W)      ∂L/∂aⱼ += (∂y/∂aⱼ)ᵀ ∂L/∂y      ∂L/∂W += (∂y/∂W)ᵀ ∂L/∂y
 *
 * The backward interpreter (engine/backward.ts) calls them node by node in reverse definition
 * order, step by step from the last. The table is a `Record<OpKind, Vjp>`, so an op kind without
 * a gradient rule is a compile error. Plain loops over one step's `[B, size]` block (computed in
 * float64; stored as the gradient arrays are, float64 or float32); nothing is allocated per value.
 */
import type { NodeDef } from "./define";
import type { OpKind, UnaryKind } from "./ops";

/** Forward values (float64 or float32 storage). */
type Values = Float64Array | Float32Array;

/** One operand of a node at one step: its forward values and its gradient, both `[B, size]` blocks starting at the offsets. */
export interface VjpOperand {
  size: number;
  value: Values;
  valueAt: number;
  /** float64, or float32 for a float32 trace's gradients (engine/backward.ts). */
  grad: Values;
  gradAt: number;
}

/** What a rule gets for one node at one step. */
export interface VjpArgs {
  node: NodeDef;
  /** The node's size and the batch size: the blocks are `[B, n]`. */
  n: number;
  B: number;
  /** ∂L/∂(this node), `[B, n]` from `gradAt`. */
  grad: Values;
  gradAt: number;
  /** The node's forward values, `[B, n]` from `valueAt`. */
  value: Values;
  valueAt: number;
  /** The node's operands, in `node.inputs` order (for affine: its terms' inputs). */
  operands: readonly VjpOperand[];
  params: Readonly<Record<string, Values>>;
  /** Gradients of the parameters, same layout as `params` (matrices `[rows, cols]` row-major). */
  paramGrads: Readonly<Record<string, Float64Array>>;
}

/** A gradient rule: accumulates (`+=`) into operand and parameter gradients. */
export type Vjp = (args: VjpArgs) => void;

/**
 * dy/dx of each elementwise function of one argument, from its input x and output y. At a kink
 * (relu at 0, the hard sigmoids where they start to clip) the derivative is 0, as PyTorch's
 * backward takes it.
 */
export const DERIVATIVE: Record<UnaryKind, (x: number, y: number) => number> = {
  sigmoid: (_x, y) => y * (1 - y),
  tanh: (_x, y) => 1 - y * y,
  hardSigmoid: (x) => (x > -2.5 && x < 2.5 ? 0.2 : 0),
  hardSigmoid6: (x) => (x > -3 && x < 3 ? 1 / 6 : 0),
  relu: (x) => (x > 0 ? 1 : 0),
  identity: () => 1,
  oneMinus: () => -1,
};

const unary = (kind: UnaryKind): Vjp => UNARY_FAST[kind] ?? generic(kind);

/** Any elementwise function, through its {@link DERIVATIVE}. */
const generic =
  (kind: UnaryKind): Vjp =>
  ({ n, B, grad, gradAt, value, valueAt, operands: [a] }) => {
    const d = DERIVATIVE[kind];
    for (let k = 0; k < n * B; k++) a.grad[a.gradAt + k] += grad[gradAt + k] * d(a.value[a.valueAt + k], value[valueAt + k]);
  };

/**
 * The gates' functions written out: a call through {@link DERIVATIVE} per value is a call V8 cannot
 * inline (one call site for every kind), and these two run for every gate of every step.
 */
const UNARY_FAST: Partial<Record<UnaryKind, Vjp>> = {
  sigmoid: ({ n, B, grad, gradAt, value, valueAt, operands: [a] }) => {
    const into = a.grad;
    const at = a.gradAt;
    for (let k = 0; k < n * B; k++) {
      const y = value[valueAt + k];
      into[at + k] += grad[gradAt + k] * y * (1 - y);
    }
  },
  tanh: ({ n, B, grad, gradAt, value, valueAt, operands: [a] }) => {
    const into = a.grad;
    const at = a.gradAt;
    for (let k = 0; k < n * B; k++) {
      const y = value[valueAt + k];
      into[at + k] += grad[gradAt + k] * (1 - y * y);
    }
  },
};

/** ∂L/∂aⱼ += ∂L/∂y · sign (add: every operand +1; sub: the first +1, the rest −1). */
const signed =
  (first: number, rest: number): Vjp =>
  ({ n, B, grad, gradAt, operands }) => {
    for (let j = 0; j < operands.length; j++) {
      const { grad: into, gradAt: at } = operands[j];
      const s = j === 0 ? first : rest;
      for (let k = 0; k < n * B; k++) into[at + k] += s * grad[gradAt + k];
    }
  };

/** y = a₁ ⊙ a₂ ⊙ …: ∂L/∂aⱼ += ∂L/∂y ⊙ Π_{i≠j} aᵢ (the product of the others, so a zero operand is no problem). */
const mul: Vjp = ({ n, B, grad, gradAt, operands }) => {
  if (operands.length === 2) return mul2(n * B, grad, gradAt, operands[0], operands[1]);
  for (let j = 0; j < operands.length; j++) {
    const a = operands[j];
    for (let k = 0; k < n * B; k++) {
      let others = grad[gradAt + k];
      for (let i = 0; i < operands.length; i++) if (i !== j) others *= operands[i].value[operands[i].valueAt + k];
      a.grad[a.gradAt + k] += others;
    }
  }
};

/** The common case of {@link mul}, a ⊙ b (LSTM's f ⊙ c, i ⊙ g, o ⊙ tanh c), without the loop over the others. */
function mul2(count: number, grad: Values, gradAt: number, a: VjpOperand, b: VjpOperand): void {
  const { value: av, valueAt: a0, grad: ag, gradAt: ga } = a;
  const { value: bv, valueAt: b0, grad: bg, gradAt: gb } = b;
  for (let k = 0; k < count; k++) {
    const g = grad[gradAt + k];
    ag[ga + k] += g * bv[b0 + k];
    bg[gb + k] += g * av[a0 + k];
  }
}

/** y = a₁ / a₂ / …: ∂y/∂a₁ = 1 / (a₂ ⋯), ∂y/∂aⱼ = −y / aⱼ for j > 1. */
const div: Vjp = ({ n, B, grad, gradAt, value, valueAt, operands }) => {
  const [first, ...rest] = operands;
  for (let k = 0; k < n * B; k++) {
    const g = grad[gradAt + k];
    let denominator = 1;
    for (const a of rest) denominator *= a.value[a.valueAt + k];
    first.grad[first.gradAt + k] += g / denominator;
    for (const a of rest) a.grad[a.gradAt + k] -= (g * value[valueAt + k]) / a.value[a.valueAt + k];
  }
};

/**
 * y = Σ W aⱼ (matrix, `x Wᵀ` with W `[n, m]`) + Σ p ⊙ aⱼ (diagonal) + Σ b:
 * ∂L/∂W += Σ_b ∂L/∂y[b]ᵀ a[b], ∂L/∂a[b] += ∂L/∂y[b] W; ∂L/∂p += Σ_b ∂L/∂y[b] ⊙ a[b], ∂L/∂a += ∂L/∂y ⊙ p;
 * ∂L/∂b += Σ_b ∂L/∂y[b].
 */
const affine: Vjp = ({ node, n, B, grad, gradAt, operands, params, paramGrads }) => {
  const terms = node.terms!;
  for (let j = 0; j < terms.length; j++) {
    const { value, valueAt, grad: into, gradAt: intoAt, size: m } = operands[j];
    const w = params[terms[j].weight];
    const dw = paramGrads[terms[j].weight];
    const diagonal = terms[j].kind === "diagonal";
    for (let b = 0; b < B; b++) {
      const g0 = gradAt + b * n;
      const a0 = valueAt + b * m;
      const d0 = intoAt + b * m;
      if (diagonal) {
        for (let r = 0; r < n; r++) {
          const g = grad[g0 + r];
          dw[r] += g * value[a0 + r];
          into[d0 + r] += g * w[r];
        }
        continue;
      }
      for (let r = 0; r < n; r++) {
        const g = grad[g0 + r];
        const wr = r * m;
        for (let c = 0; c < m; c++) {
          dw[wr + c] += g * value[a0 + c];
          into[d0 + c] += g * w[wr + c];
        }
      }
    }
  }
  for (const name of node.bias!) {
    const db = paramGrads[name];
    for (let b = 0; b < B; b++) for (let r = 0; r < n; r++) db[r] += grad[gradAt + b * n + r];
  }
};

/** y = x − constant: ∂L/∂x += ∂L/∂y. */
const shift: Vjp = signed(1, 1);

/** y = [a₁, a₂, …]: each operand gets its columns of ∂L/∂y. */
const concat: Vjp = ({ n, B, grad, gradAt, operands }) => {
  let col = 0;
  for (const a of operands) {
    for (let b = 0; b < B; b++) for (let k = 0; k < a.size; k++) a.grad[a.gradAt + b * a.size + k] += grad[gradAt + b * n + col + k];
    col += a.size;
  }
};

/** The gradient rule of every op kind. */
export const VJP: Record<OpKind, Vjp> = {
  affine,
  shift,
  concat,
  sigmoid: unary("sigmoid"),
  tanh: unary("tanh"),
  hardSigmoid: unary("hardSigmoid"),
  hardSigmoid6: unary("hardSigmoid6"),
  relu: unary("relu"),
  identity: unary("identity"),
  oneMinus: unary("oneMinus"),
  mul,
  add: signed(1, 1),
  sub: signed(1, -1),
  div,
};
