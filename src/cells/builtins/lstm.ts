import { defineCell, type Handle, type Ops } from "../define";

const gate = (op: Ops, name: string, x: Handle, h: Handle) =>
  op.affine(`${name}_pre`, "H", { [`W_${name}`]: x, [`U_${name}`]: h }, `b_${name}`, { label: `${name}̄` });

/**
 * LSTM as PyTorch, Keras, tfjs and ONNX compute it (forget gate of Gers et al. 2000, no peepholes):
 * `i, f, o = σ(W x + U h₋ + b)`, `g = tanh(W_g x + U_g h₋ + b_g)`, `c = f ⊙ c₋ + i ⊙ g`, `h = o ⊙ tanh(c)`.
 */
export const LSTM = defineCell(
  {
    name: "LSTM",
    title: "Long short-term memory",
    citation:
      "Hochreiter, S. & Schmidhuber, J. (1997). Long short-term memory. Neural Computation 9(8). Forget gate: Gers, F. A., Schmidhuber, J. & Cummins, F. (2000). Learning to forget. Neural Computation 12(10).",
    notes: ["Gate order: PyTorch i, f, g, o; Keras/tfjs i, f, c(=g), o; ONNX i, o, f, c(=g)."],
    inputs: { x: "In" },
    states: { h: "H", c: "H" },
  },
  ({ x, h, c }, op) => {
    const i = op.sigmoid("i", gate(op, "i", x, h), { note: "input gate" });
    const f = op.sigmoid("f", gate(op, "f", x, h), { note: "forget gate" });
    const g = op.tanh("g", gate(op, "g", x, h), { role: "candidate", note: "block input (cell candidate)" });
    const o = op.sigmoid("o", gate(op, "o", x, h), { note: "output gate" });
    const cNew = op.add("c", op.mul("f_c", f, c, { label: "f⊙c[t−1]" }), op.mul("i_g", i, g, { label: "i⊙g" }), { note: "cell state: the memory" });
    return { h: op.mul("h", o, op.tanh("tanh_c", cNew, { label: "tanh(c)" }), { note: "hidden state" }), c: cNew };
  },
);

/**
 * LSTM with a projection (PyTorch `proj_size=P`): `h = W_hr (o ⊙ tanh(c))`; h has size P, c keeps H.
 */
export const LSTM_PROJ = defineCell(
  {
    name: "LSTM_PROJ",
    title: "LSTM with projection",
    citation: "Sak, H., Senior, A. & Beaufays, F. (2014). Long short-term memory recurrent neural network architectures for large scale acoustic modeling. Interspeech.",
    notes: ["PyTorch nn.LSTM(proj_size=P): weight_hr_l{k} → W_hr [P, H]; h has size P, c has size H."],
    inputs: { x: "In" },
    states: { h: "P", c: "H" },
  },
  ({ x, h, c }, op) => {
    const i = op.sigmoid("i", gate(op, "i", x, h));
    const f = op.sigmoid("f", gate(op, "f", x, h));
    const g = op.tanh("g", gate(op, "g", x, h), { role: "candidate" });
    const o = op.sigmoid("o", gate(op, "o", x, h));
    const cNew = op.add("c", op.mul("f_c", f, c, { label: "f⊙c[t−1]" }), op.mul("i_g", i, g, { label: "i⊙g" }));
    const m = op.mul("m", o, op.tanh("tanh_c", cNew, { label: "tanh(c)" }), { label: "o⊙tanh(c)" });
    return { h: op.affine("h", "P", { W_hr: m }, null, { role: "state" }), c: cNew };
  },
);
