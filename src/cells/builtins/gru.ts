/**
 * Gated recurrent units. The two GRU forms differ in where the reset gate acts and are not
 * convertible into each other, so each is its own definition. The mixing convention (which of
 * h₋ and the candidate z multiplies) is exactly convertible (negate z's weights and bias), so it
 * is an option, and every GRU says in its notes which one it shows.
 */
import { defineCell, type CellDef, type Handle, type Ops } from "../define";

/** `"frameworks"`: h = z ⊙ h₋ + (1 − z) ⊙ ĥ (PyTorch, Keras, tfjs, ONNX). `"chung"`: h = (1 − z) ⊙ h₋ + z ⊙ ĥ (Chung et al. 2014, Wikipedia). */
export type GruMixing = "frameworks" | "chung";

export interface GruOptions {
  mixing?: GruMixing;
}

const MIXING_NOTE: Record<GruMixing, string> = {
  frameworks: "Mixing as the frameworks compute it: h = z ⊙ h[t−1] + (1 − z) ⊙ candidate (z keeps the old state).",
  chung: "Mixing as Chung et al. 2014 write it: h = (1 − z) ⊙ h[t−1] + z ⊙ candidate (z takes the new candidate).",
};

/** `h = z ⊙ h₋ + (1 − z) ⊙ cand` or its mirror; `gate` is z (or MGU's f). */
export function mix(op: Ops, mixing: GruMixing, gate: Handle, h: Handle, cand: Handle): Handle {
  const oneMinus = op.oneMinus(`1-${gate.name}`, gate, { label: `1−${gate.label}` });
  const [onOld, onNew] = mixing === "frameworks" ? [gate, oneMinus] : [oneMinus, gate];
  const factor = (x: Handle) => (x === oneMinus ? `(${x.label})` : x.label);
  return op.add(
    "h",
    op.mul("keep", onOld, h, { label: `${factor(onOld)}⊙${h.label}` }),
    op.mul("write", onNew, cand, { label: `${factor(onNew)}⊙${cand.label}` }),
  );
}

const gate = (op: Ops, name: string, x: Handle, h: Handle) =>
  op.sigmoid(name, op.affine(`${name}_pre`, "H", { [`W_${name}`]: x, [`U_${name}`]: h }, `b_${name}`, { label: `${name}̄` }));

/** GRU, reset gate applied BEFORE the recurrent matrix (Cho et al. 2014; Keras `reset_after=False`; tfjs; ONNX default). */
export function gruResetBefore({ mixing = "frameworks" }: GruOptions = {}): CellDef {
  return defineCell(
    {
      name: mixing === "frameworks" ? "GRU_RESET_BEFORE" : "GRU_RESET_BEFORE_CHUNG",
      title: "GRU, reset before (Cho et al.)",
      citation: "Cho, K. et al. (2014). Learning phrase representations using RNN encoder–decoder for statistical machine translation. EMNLP.",
      notes: ["Candidate: h̃ = tanh(W_h x + U_h (r ⊙ h[t−1]) + b_h).", MIXING_NOTE[mixing], "Gate order: Keras/tfjs/ONNX z, r, h."],
      inputs: { x: "In" },
      states: { h: "H" },
    },
    ({ x, h }, op) => {
      const z = gate(op, "z", x, h);
      const r = gate(op, "r", x, h);
      const rh = op.mul("r_h", r, h, { label: "r⊙h[t−1]" });
      const cand = op.tanh("h_tilde", op.affine("h_tilde_pre", "H", { W_h: x, U_h: rh }, "b_h", { label: "h̃̄" }), { role: "candidate", label: "h̃" });
      return { h: mix(op, mixing, z, h, cand) };
    },
  );
}

/** GRU, reset gate applied AFTER the recurrent matrix, to `U_n h₋ + b_hn` (cuDNN; PyTorch; Keras 3 default; ONNX `linear_before_reset=1`). */
export function gruResetAfter({ mixing = "frameworks" }: GruOptions = {}): CellDef {
  return defineCell(
    {
      name: mixing === "frameworks" ? "GRU_RESET_AFTER" : "GRU_RESET_AFTER_CHUNG",
      title: "GRU, reset after (cuDNN / PyTorch)",
      citation: "Cho, K. et al. (2014), EMNLP; reset-after form as in cuDNN and PyTorch nn.GRU (documentation of torch.nn.GRU).",
      notes: ["Candidate: n = tanh(W_n x + b_in + r ⊙ (U_n h[t−1] + b_hn)); b_hn is inside the reset, so it cannot be merged into b_in.", MIXING_NOTE[mixing], "Gate order: PyTorch r, z, n."],
      inputs: { x: "In" },
      states: { h: "H" },
    },
    ({ x, h }, op) => {
      const r = gate(op, "r", x, h);
      const z = gate(op, "z", x, h);
      const nx = op.affine("n_x", "H", { W_n: x }, "b_in", { label: "nₓ", note: "the input's share of the candidate" });
      const nh = op.affine("n_h", "H", { U_n: h }, "b_hn", { label: "nₕ", note: "the projected state, b_hn included: the reset gate scales all of it" });
      const pre = op.add("n_pre", nx, op.mul("r_nh", r, nh, { label: "r⊙nₕ" }), { role: "pre", label: "n̄" });
      return { h: mix(op, mixing, z, h, op.tanh("n", pre, { role: "candidate" })) };
    },
  );
}

/** GRU reset-before, frameworks' mixing. */
export const GRU_RESET_BEFORE = gruResetBefore();
/** GRU reset-after (PyTorch's GRU), frameworks' mixing. */
export const GRU_RESET_AFTER = gruResetAfter();

/**
 * Dey & Salem (2017) GRU1/2/3: the gates see less. GRU1: σ(U h₋ + b); GRU2: σ(U h₋); GRU3: σ(b).
 * The candidate is reset-before, mixing as the paper writes it (Chung's form).
 */
function deySalem(level: 1 | 2 | 3): CellDef {
  return defineCell(
    {
      name: `GRU${level}`,
      title: `GRU${level} (Dey & Salem): gates from ${["U h[t−1] + b", "U h[t−1]", "b"][level - 1]} only`,
      citation: "Dey, R. & Salem, F. M. (2017). Gate-variants of gated recurrent unit (GRU) neural networks. MWSCAS.",
      notes: [MIXING_NOTE.chung],
      inputs: { x: "In" },
      states: { h: "H" },
    },
    ({ x, h }, op) => {
      const g = (name: string) =>
        op.sigmoid(name, op.affine(`${name}_pre`, "H", level === 3 ? {} : { [`U_${name}`]: h }, level === 2 ? null : `b_${name}`, { label: `${name}̄` }));
      const z = g("z");
      const r = g("r");
      const rh = op.mul("r_h", r, h, { label: "r⊙h[t−1]" });
      const cand = op.tanh("h_tilde", op.affine("h_tilde_pre", "H", { W_h: x, U_h: rh }, "b_h", { label: "h̃̄" }), { role: "candidate", label: "h̃" });
      return { h: mix(op, "chung", z, h, cand) };
    },
  );
}
/** Dey & Salem GRU1: gates σ(U h₋ + b). */
export const GRU1 = deySalem(1);
/** Dey & Salem GRU2: gates σ(U h₋). */
export const GRU2 = deySalem(2);
/** Dey & Salem GRU3: gates σ(b). */
export const GRU3 = deySalem(3);
