/** Minimal gated cells: MGU, JANET, IndRNN, UGRNN, minGRU, minLSTM — each its paper's equations. */
import { defineCell } from "../define";
import { mix } from "./gru";

/** Minimal gated unit: one forget gate. `f = σ(W_f [h₋, x] + b_f)`, `ĥ = tanh(W_h [f ⊙ h₋, x] + b_h)`, `h = (1 − f) ⊙ h₋ + f ⊙ ĥ`. */
export const MGU = defineCell(
  {
    name: "MGU",
    title: "Minimal gated unit",
    citation: "Zhou, G.-B., Wu, J., Zhang, C.-L. & Zhou, Z.-H. (2016). Minimal gated unit for recurrent neural networks. IJAC 13(3).",
    notes: ["Mixing as the paper writes it: h = (1 − f) ⊙ h[t−1] + f ⊙ h̃."],
    inputs: { x: "In" },
    states: { h: "H" },
  },
  ({ x, h }, op) => {
    const f = op.sigmoid("f", op.affine("f_pre", "H", { W_f: op.concat("h_x", h, x, { label: "[h[t−1], x]" }) }, "b_f", { label: "f̄" }));
    const fh = op.mul("f_h", f, h, { label: "f⊙h[t−1]" });
    const pre = op.affine("h_tilde_pre", "H", { W_h: op.concat("fh_x", fh, x, { label: "[f⊙h[t−1], x]" }) }, "b_h", { label: "h̃̄" });
    return { h: mix(op, "chung", f, h, op.tanh("h_tilde", pre, { role: "candidate", label: "h̃" })) };
  },
);

/** JANET: forget gate only, `c = σ(s) ⊙ c₋ + (1 − σ(s − β)) ⊙ c̃`, β = 1, output h = c. */
export const JANET = defineCell(
  {
    name: "JANET",
    title: "JANET (just another network): forget gate only",
    citation: "van der Westhuizen, J. & Lasenby, J. (2018). The unreasonable effectiveness of the forget gate. arXiv:1804.04849.",
    notes: ["The output h is the cell state c.", "β = 1 shifts the input gate so that it is not exactly 1 − f."],
    inputs: { x: "In" },
    states: { c: "H" },
  },
  ({ x, c }, op) => {
    const s = op.affine("s", "H", { U_f: c, W_f: x }, "b_f", { label: "s" });
    const f = op.sigmoid("f", s);
    const cand = op.tanh("c_tilde", op.affine("c_tilde_pre", "H", { U_c: c, W_c: x }, "b_c", { label: "c̃̄" }), { role: "candidate", label: "c̃" });
    const inGate = op.oneMinus("i", op.sigmoid("sig_s_beta", op.shift("s_beta", s, { value: 1, symbol: "β" }, { label: "s − β" }), { label: "σ(s − β)" }), {
      role: "gate",
      label: "1 − σ(s − β)",
    });
    return { c: op.add("c", op.mul("f_c", f, c, { label: "f⊙c[t−1]" }), op.mul("i_c", inGate, cand, { label: "(1−σ(s−β))⊙c̃" })) };
  },
);

/** IndRNN: independent recurrence, `h = relu(W x + u ⊙ h₋ + b)` with u a per-unit vector. */
export const INDRNN = defineCell(
  {
    name: "INDRNN",
    title: "Independently recurrent neural network",
    citation: "Li, S., Li, W., Cook, C., Zhu, C. & Gao, Y. (2018). Independently recurrent neural network (IndRNN). CVPR.",
    inputs: { x: "In" },
    states: { h: "H" },
  },
  ({ x, h }, op) => ({ h: op.relu("h", op.affine("h_pre", "H", { W: x, u: op.diag(h) }, "b", { label: "h̄" })) }),
);

/** UGRNN: update-gate RNN, `c = tanh(W^ch h₋ + W^cx x + b_c)`, `g = σ(W^gh h₋ + W^gx x + b_g)`, `h = g ⊙ h₋ + (1 − g) ⊙ c`. */
export const UGRNN = defineCell(
  {
    name: "UGRNN",
    title: "Update-gate RNN",
    citation: "Collins, J., Sohl-Dickstein, J. & Sussillo, D. (2017). Capacity and trainability in recurrent neural networks. ICLR.",
    notes: ["Mixing: h = g ⊙ h[t−1] + (1 − g) ⊙ c (g keeps the old state)."],
    inputs: { x: "In" },
    states: { h: "H" },
  },
  ({ x, h }, op) => {
    const cand = op.tanh("c", op.affine("c_pre", "H", { W_ch: h, W_cx: x }, "b_c", { label: "c̄" }), { role: "candidate" });
    const g = op.sigmoid("g", op.affine("g_pre", "H", { W_gh: h, W_gx: x }, "b_g", { label: "ḡ" }));
    return { h: mix(op, "frameworks", g, h, cand) };
  },
);

const FENG = "Feng, L., Tung, F., Ahmed, M. O., Bengio, Y. & Hajimirsadeghi, H. (2024). Were RNNs all we needed? arXiv:2410.01201.";

/** minGRU: gates see x only, so the recurrence is a linear scan. `z = σ(W_z x)`, `h̃ = W_h x`, `h = (1 − z) ⊙ h₋ + z ⊙ h̃`. */
export const MIN_GRU = defineCell(
  {
    name: "MIN_GRU",
    title: "minGRU",
    citation: FENG,
    notes: ["Mixing as the paper writes it: h = (1 − z) ⊙ h[t−1] + z ⊙ h̃. No term depends on h[t−1] except the mix: a parallel scan."],
    inputs: { x: "In" },
    states: { h: "H" },
  },
  ({ x, h }, op) => {
    const z = op.sigmoid("z", op.affine("z_pre", "H", { W_z: x }, null, { label: "z̄" }));
    const cand = op.affine("h_tilde", "H", { W_h: x }, null, { role: "candidate", label: "h̃" });
    return { h: mix(op, "chung", z, h, cand) };
  },
);

/** minLSTM: `f, i = σ(W x)`, `h̃ = W_h x`, `f′ = f / (f + i)`, `i′ = i / (f + i)`, `h = f′ ⊙ h₋ + i′ ⊙ h̃`. */
export const MIN_LSTM = defineCell(
  {
    name: "MIN_LSTM",
    title: "minLSTM",
    citation: FENG,
    notes: ["Gates see x only; f and i are normalised to sum to one (the paper's time-independent scale)."],
    inputs: { x: "In" },
    states: { h: "H" },
  },
  ({ x, h }, op) => {
    const f = op.sigmoid("f", op.affine("f_pre", "H", { W_f: x }, null, { label: "f̄" }));
    const i = op.sigmoid("i", op.affine("i_pre", "H", { W_i: x }, null, { label: "ī" }));
    const sum = op.add("f_plus_i", f, i, { label: "f + i" });
    const fn = op.div("f_norm", f, sum, { role: "gate", label: "f′" });
    const inorm = op.div("i_norm", i, sum, { role: "gate", label: "i′" });
    const cand = op.affine("h_tilde", "H", { W_h: x }, null, { role: "candidate", label: "h̃" });
    return { h: op.add("h", op.mul("keep", fn, h, { label: "f′⊙h[t−1]" }), op.mul("write", inorm, cand, { label: "i′⊙h̃" })) };
  },
);
