/**
 * Decoupled neural interfaces (Jaderberg et al. 2016): an MLP whose layers do not wait for the
 * backward pass. At each boundary a synthetic-gradient module M_i — here a linear map, zero at
 * initialisation as in the paper — predicts ĝ_i ≈ ∂L/∂h_i from the layer's output h_i alone, and
 * layer i updates with ĝ_i at once. The layer above reads stopGradient(h_i), so no true gradient
 * crosses a boundary; M_i itself regresses on the gradient the layer above sends back to its input
 * (the true ∂L/∂h_N at the top, bootstrapped ĝ_{i+1} pushed through layer i+1 below it).
 *
 * The design, in one model: every h_i and every ĝ_i is an output, so one training step is
 *
 *     run = await net.run({ x, y })
 *     g  = net.backward(run, { loss: 1, h1: ĝ1, …, hN: ĝN })   // layer i's update from ĝ_i, the top's from the loss
 *     δ_i = g.trace.get(`layer{i+1}/in`) (the top: `output/in`)  // what the layer above sends back
 *     gM = net.backward(run, { g1: ĝ1 − δ1, …, gN: ĝN − δN })  // ∂ ½‖ĝ_i − δ_i‖² for each M_i
 *
 * The stop-gradients make the seeds independent: the seed at h_i reaches layer i only, the loss
 * reaches the output layer only. With `decoupled: false` the same layers (same initial weights)
 * are joined directly and `loss: 1` alone is ordinary backpropagation.
 */
import { add, block, input, inits, matmul, model, named, param, stopGradient, type Model, type Tensor } from "../lang";
import { errors } from "../errors";
import { entry, sizeOptions } from "./entry";
import { crossEntropy, linear } from "./trick-parts";

/** Options of {@link dni}. */
export interface DniOptions {
  /** Input features (default 784: MNIST's 28 × 28 pixels, the paper's first task). */
  NInput?: number;
  /** Units per hidden layer (default 256, the paper's MNIST MLPs). */
  NHidden?: number;
  /** Hidden layers, each followed by a synthetic-gradient module (default 3). */
  NLayers?: number;
  NClasses?: number;
  /** Layers decoupled by synthetic gradients (default true); false: the same MLP joined for backpropagation. */
  decoupled?: boolean;
  seed?: number;
}

/**
 * DNI: x [B, NInput], int labels y [B]. Outputs `h1…hN` (each hidden layer's output), `g1…gN` (each
 * synthetic gradient ĝ_i, same shape), the logits `y` [B, NClasses] and the scalar `loss`.
 *
 * @example
 * const net = zoo.dni({ NInput: 64, NHidden: 32, NLayers: 2 });
 * const run = await net.run({ x, y });
 * const g = net.backward(run, { loss: 1, h1: run.outputs.g1, h2: run.outputs.g2 });
 */
export const dni = entry<DniOptions>(
  "dni",
  {
    title: "Decoupled neural interfaces (synthetic gradients)",
    citation: "Jaderberg, Czarnecki, Osindero, Vinyals, Graves, Silver & Kavukcuoglu, Decoupled Neural Interfaces using Synthetic Gradients, ICML 2017 (arXiv:1608.05343, 2016)",
    year: 2016,
    family: "gradient",
    parents: [],
  },
  { NInput: 784, NHidden: 256, NLayers: 3, NClasses: 10, decoupled: true, seed: 0 },
  (o): Model => {
    const sizes = sizeOptions("dni", o, ["NInput", "NHidden", "NLayers", "NClasses"]);
    if (typeof o.decoupled !== "boolean") throw errors.badOption("decoupled of zoo.dni", o.decoupled, "true or false");
    const N = sizes.NLayers;
    return model(
      "DNI",
      sizes,
      () => {
        const x = input("x", ["B", "NInput"]);
        const y = input("y", ["B"], { dtype: "int" });
        // What a layer reads of the one below: its output with the gradient cut (decoupled), or the output itself.
        const boundary = (h: Tensor) => named("in", o.decoupled ? stopGradient(h) : h);
        const hs: Tensor[] = [];
        for (let i = 1; i <= N; i++) {
          const below = i === 1 ? x : hs[i - 2];
          hs.push(block(`layer${i}`, "Linear", () => linear(i === 1 ? below : boundary(below), i === 1 ? "NInput" : "NHidden", "NHidden")));
        }
        const logits = block("output", "Linear", () => linear(boundary(hs[N - 1]), "NHidden", "NClasses", "none"));
        const outputs: Record<string, Tensor> = { y: logits, loss: block("objective", "CrossEntropy", () => named("loss", crossEntropy(logits, y, sizes.NClasses))) };
        hs.forEach((h, k) => (outputs[`h${k + 1}`] = h));
        // The synthetic-gradient modules, built after the layers so both variants start from the same layer weights.
        if (o.decoupled)
          hs.forEach((h, k) => {
            outputs[`g${k + 1}`] = block(`M${k + 1}`, "SyntheticGradient", () =>
              named("ĝ", add(matmul(stopGradient(h), param("A", ["NHidden", "NHidden"], { init: inits.zeros })), param("c", ["NHidden"]))),
            );
          });
        return outputs;
      },
      { seed: o.seed },
    );
  },
);
