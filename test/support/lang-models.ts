/**
 * Models of the definition language that the diagram and display tests draw: an extreme learning
 * machine (no recurrence), an echo-state network (a frozen reservoir in a scan), an NLP RNN whose
 * output layer is its embedding transposed (one tied parameter, two uses), and the Graphviz
 * reference's ConvAutoEncoder (ConvBlocks and UpConvBlocks).
 */
import { nn } from "../../src";

const { model, input, param, named, matmul, tanh, add, scan, inits, conv2d, relu, maxPool, upsample, batchNorm, layer, embedding, transpose, softmax } = nn;

/** x → frozen random W → tanh → trained readout. */
export const elm = () =>
  model("ELM", { In: 8, H: 64, Out: 1 }, () => {
    const x = input("x", ["B", "In"]);
    const W = param("W", ["In", "H"], { kind: "frozen", init: inits.uniform(1) });
    const h = named("h", tanh(matmul(x, W)));
    return { y: matmul(h, param("Wout", ["H", "Out"])) };
  });

/** A scan whose body reads its previous state through a frozen reservoir scaled to spectral radius 0.9. */
export const esn = () =>
  model("ESN", { In: 2, H: 50, Out: 1 }, () => {
    const xs = input("x", ["B", "T", "In"]);
    const h0 = input("h0", ["B", "H"]);
    const Win = param("Win", ["In", "H"], { kind: "frozen", init: inits.uniform(0.5) });
    const W = param("W", ["H", "H"], { kind: "frozen", init: inits.spectral(0.9) });
    const { out } = scan("reservoir", { x: xs }, { h: h0 }, ({ x }, { h }) => {
      const hn = named("h", tanh(add(matmul(x, Win), matmul(h, W))));
      return { state: { h: hn }, out: { h: hn } };
    });
    return { y: matmul(out.h, param("Wout", ["H", "Out"])) };
  });

/** Word ids → embedding → tanh RNN → logits by the embedding's transpose (tied) → softmax over the vocabulary. */
export const nlpRnn = () =>
  model("NLP_RNN", { V: 10, H: 4 }, () => {
    const ids = input("ids", ["B", "SeqLen"], { dtype: "int" });
    const h0 = input("h0", ["B", "H"]);
    const Emb = param("Emb", ["V", "H"]);
    const e = named("e", embedding(Emb, ids));
    const U = param("U", ["H", "H"]);
    const { out } = scan("rnn", { x: e }, { h: h0 }, ({ x }, { h }) => {
      const hn = named("h", tanh(add(x, matmul(h, U))));
      return { state: { h: hn }, out: { h: hn } };
    });
    return { p: softmax(matmul(out.h, transpose(Emb)), "V") };
  });

const convBlock = layer("ConvBlock", (x: nn.Tensor, cin: number, cout: number) => {
  const y = add(conv2d(x, param("w", [3, 3, cin, cout]), { padding: 1 }), param("b", [cout]));
  const bn = batchNorm(y, param("gamma", [cout], { init: inits.ones }), param("beta", [cout]), param("mean", [cout], { kind: "constant" }), param("var", [cout], { kind: "constant", init: inits.ones }));
  return named("pool", maxPool(relu(bn), 2));
});
const upBlock = layer("UpConvBlock", (x: nn.Tensor, cin: number, cout: number) => {
  const y = add(conv2d(upsample(x, 2), param("w", [3, 3, cin, cout]), { padding: 1 }), param("b", [cout]));
  const bn = batchNorm(y, param("gamma", [cout], { init: inits.ones }), param("beta", [cout]), param("mean", [cout], { kind: "constant" }), param("var", [cout], { kind: "constant", init: inits.ones }));
  return named("act", relu(bn));
});

/** The Graphviz reference's ConvAutoEncoder at [B, 256, 256, 3]. */
export const convAutoEncoder = () =>
  model("ConvAutoEncoder", {}, () => {
    let x = input("x", ["B", 256, 256, 3]);
    x = convBlock("enc1", x, 3, 16);
    x = convBlock("enc2", x, 16, 32);
    x = convBlock("enc3", x, 32, 32);
    x = upBlock("dec1", x, 32, 32);
    x = upBlock("dec2", x, 32, 16);
    x = upBlock("dec3", x, 16, 3);
    return { y: tanh(x) };
  });

const timeRnn = layer("TimeRNN", (xs: nn.Tensor, h0: nn.Tensor) => {
  const W = param("W", ["In", "H"]);
  const U = param("U", ["H", "H"]);
  return scan("steps", { x: xs }, { h: h0 }, ({ x }, { h }) => {
    const hn = named("h", tanh(add(matmul(x, W), matmul(h, U))));
    return { state: { h: hn }, out: { h: hn } };
  }).out.h;
});

/** The reference's TimeRNN: a layer whose body is a scan, then a readout. */
export const timeRnnModel = () =>
  model("TimeRNNModel", { In: 3, H: 5, Out: 2 }, () => {
    const hs = timeRnn("rnn", input("x", ["B", "T", "In"]), input("h0", ["B", "H"]));
    return { y: matmul(hs, param("Wout", ["H", "Out"])) };
  });
