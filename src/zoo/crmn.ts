/**
 * The convolutional residual memory network (Moniz & Pal 2016): a residual network whose every
 * block's output, average-pooled to one vector, is a step of a sequence read by an LSTM — a memory
 * running along the network's depth. The LSTM's last state, joined to the residual network's own
 * pooled features, feeds the classifier.
 *
 * Blocks of different stages have different channel counts; each pooled vector is zero-padded to
 * the widest stage's (as ResNet's parameter-free "option A" shortcut pads channels), so every step
 * of the LSTM has the same input size.
 */
import { LSTM } from "../cells/builtins";
import { cell } from "../engine/cell";
import { errors } from "../errors";
import { add, block, cellParams, cellScan, concat, fill, input, matmul, mean, model, named, param, reshape, type Tensor } from "../lang";
import { basicBlock, convBnRelu } from "./cnns";
import { entry, sizeOptions } from "./entry";

/** Options of {@link crmn}. */
export interface CrmnOptions {
  /** Image height and width (default 32, CIFAR's). */
  height?: number;
  width?: number;
  /** Number of classes (default 10). */
  classes?: number;
  /** Channels of each stage; every stage after the first halves the map (default [16, 32, 64]). */
  widths?: number[];
  /** Basic blocks per stage (default 2). */
  blocks?: number;
  /** The LSTM's state size (default 64). */
  NHidden?: number;
  /** Seed of the initial weights (default 0). */
  seed?: number;
}

/**
 * CRMN at a small CIFAR size: a 3×3 conv–BN–ReLU stem, stages of ResNet basic blocks (`stage1/0`,
 * …), the memory — an LSTM over the blocks' pooled outputs, in depth order — and a linear classifier
 * over [LSTM's last h, the last block's pooled features].
 *
 * @example
 * const net = zoo.crmn();
 * net.summary({ B: 1 }).rows.map((r) => r.name);  // x, stem, stage1, stage2, stage3, features, memory, …
 * const { trace } = await net.run({ x: images });   // images [B, 32, 32, 3]
 * trace.get("memory/h").shape;                      // [6, B, 64]: the LSTM's h after each block
 */
export const crmn = entry<CrmnOptions>(
  "crmn",
  {
    title: "Convolutional residual memory network",
    citation: "Moniz & Pal, Convolutional Residual Memory Networks, arXiv:1606.05262, 2016",
    year: 2016,
    family: "cnn",
    parents: ["resnet18"],
  },
  { height: 32, width: 32, classes: 10, widths: [16, 32, 64], blocks: 2, NHidden: 64, seed: 0 },
  (o) => {
    const { height, width, classes, blocks, NHidden } = sizeOptions("crmn", o, ["height", "width", "classes", "blocks", "NHidden"]);
    const widths = o.widths;
    if (!Array.isArray(widths) || widths.length === 0 || !widths.every((w) => Number.isSafeInteger(w) && w >= 1))
      throw errors.badOption("widths of zoo.crmn", widths, "a non-empty array of whole numbers ≥ 1 (channels of each stage)");
    const halvings = 2 ** (widths.length - 1);
    for (const [k, v] of Object.entries({ height, width }))
      if (v % halvings !== 0) throw errors.badOption(`${k} of zoo.crmn`, v, `a multiple of ${halvings} (each of the ${widths.length - 1} stages after the first halves the map)`);
    const In = Math.max(...widths);
    const lstm = cell(LSTM, { inputSize: In, hiddenSize: NHidden, seed: o.seed });
    return model(
      "CRMN",
      { In, H: NHidden },
      () => {
        let x = input("x", ["B", height, width, 3]);
        x = convBnRelu("stem", x, widths[0], { k: 3, padding: 1 }, 1e-5);
        const outs: Tensor[] = [];
        widths.forEach((c, s) => {
          x = block(`stage${s + 1}`, "ResLayer", () => {
            for (let i = 0; i < blocks; i++) {
              x = basicBlock(String(i), x, c, i === 0 && s > 0 ? 2 : 1, true);
              outs.push(x);
            }
            return x;
          });
        });
        // The memory's input: each block's pooled output, zero-padded to In, as one step of [depth, B, In].
        const pooled: Tensor[] = [];
        const seq = block("features", "PoolPad", () => {
          outs.forEach((t, i) => pooled.push(named(`pool${i + 1}`, mean(t, [1, 2]))));
          const padded = pooled.map((p) => (p.shape[1].constant === In ? p : concat([p, fill(["B", In - p.shape[1].constant!], 0)], -1)));
          return named("seq", concat(padded.map((p) => reshape(p, [1, "B", "In"])), 0));
        });
        const { final } = cellScan("memory", LSTM, () => cellParams(lstm), { x: seq }, { h: fill(["B", "H"], 0), c: fill(["B", "H"], 0) });
        const joined = named("joined", concat([final.h, pooled[pooled.length - 1]], -1));
        const logits = block("fc", "Linear", () => named("linear", add(matmul(joined, param("w", [`H+${widths[widths.length - 1]}`, classes])), param("b", [classes]))));
        return { logits };
      },
      { seed: o.seed },
    );
  },
);
