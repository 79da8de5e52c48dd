import { defineCell, type CellDef } from "../define";

const elman = (activation: "tanh" | "relu"): CellDef =>
  defineCell(
    {
      name: `RNN_${activation.toUpperCase()}`,
      title: `Elman RNN (${activation})`,
      citation: "Elman, J. L. (1990). Finding structure in time. Cognitive Science 14(2), 179–211.",
      notes: ["PyTorch nn.RNN: weight_ih → W, weight_hh → U, bias_ih + bias_hh → b."],
      inputs: { x: "In" },
      states: { h: "H" },
    },
    ({ x, h }, op) => ({ h: op[activation]("h", op.affine("h_pre", "H", { W: x, U: h }, "b", { label: "h̄" })) }),
  );

/** Elman RNN, `h = tanh(W x + U h₋ + b)` (PyTorch `nn.RNN`, Keras `SimpleRNN`). */
export const RNN_TANH = elman("tanh");
/** Elman RNN with ReLU, `h = relu(W x + U h₋ + b)` (PyTorch `nonlinearity="relu"`). */
export const RNN_RELU = elman("relu");
