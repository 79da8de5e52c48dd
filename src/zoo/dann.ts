/**
 * Domain-adversarial neural network (Ganin & Lempitsky 2015): a feature extractor G_f feeds a label
 * predictor G_y and, through a gradient reversal layer R_λ, a domain classifier G_d. R_λ is the
 * identity going forward and multiplies the gradient by −λ going back, so one backward pass of
 * the summed loss trains G_d to tell the domains apart while it pushes G_f towards features that
 * G_d cannot tell apart — features that are discriminative for the labels and invariant across the
 * domains (§3–4 of the paper).
 *
 * The batch mixes source samples (labelled) and target samples (their labels are not used): the
 * label loss counts source rows only; the domain loss counts every row.
 */
import { add, block, div, gradReverse, input, model, mul, named, oneHot, slice, sum, reshape, type Model } from "../lang";
import { entry, real, sizeOptions } from "./entry";
import { crossEntropy, crossEntropyRows, dense } from "./trick-parts";

/** Options of {@link dann}. */
export interface DannOptions {
  /** Input features per sample (default 2: the paper's two-moons toy problem). */
  NInput?: number;
  /** Units of the feature extractor's hidden layer (default 15, as in the paper's toy network). */
  NFeature?: number;
  /** Label classes (default 2). */
  NClasses?: number;
  /** Units of the domain classifier's hidden layer (default 15); 0: a logistic regression on the features, the paper's toy domain regressor. */
  NDomainHidden?: number;
  /** λ of the gradient reversal layer: the weight of the domain loss's reversed gradient in the feature extractor (default 1; 0 trains on the source alone). */
  lambda?: number;
  seed?: number;
}

/**
 * DANN: x [B, NInput] with int labels `y` [B] and int `domain` [B] (0 source, 1 target).
 * Outputs: the label logits `y` [B, NClasses], the domain logits `d` [B, 2], the scalar losses
 * `labelLoss` (source rows), `domainLoss` and `loss` = labelLoss + domainLoss — the one to seed.
 *
 * @example
 * const net = zoo.dann({ lambda: 1 });
 * const run = await net.run({ x, y, domain });      // x [B, 2], y and domain [B] ints
 * const g = net.backward(run, { loss: 1 });         // the feature extractor gets ∂L_y/∂f − λ ∂L_d/∂f
 * await zoo.trainDann({ lambda: 0.5 }, { source, target, test });   // the paper's λ schedule, Adam
 */
export const dann = entry<DannOptions>(
  "dann",
  {
    title: "Domain-adversarial neural network",
    citation: "Ganin & Lempitsky, Unsupervised Domain Adaptation by Backpropagation, ICML 2015",
    year: 2015,
    family: "gradient",
    parents: [],
  },
  { NInput: 2, NFeature: 15, NClasses: 2, NDomainHidden: 15, lambda: 1, seed: 0 },
  (o): Model => {
    const sizes = sizeOptions("dann", o, ["NInput", "NFeature", "NClasses", "NDomainHidden"], { NClasses: 2, NDomainHidden: 0 });
    const lambda = real("dann", "lambda", o.lambda, 0, 1e6);
    return model(
      "DANN",
      sizes,
      () => {
        const x = input("x", ["B", "NInput"]);
        const y = input("y", ["B"], { dtype: "int" });
        const domain = input("domain", ["B"], { dtype: "int" });
        const f = dense("features", x, "NInput", "NFeature");
        const logits = dense("labels", f, "NFeature", "NClasses", "none");
        // R_λ(f): the identity going forward, −λ × the upstream gradient going back.
        const reversed = named("reversed", gradReverse(f, { lambda }));
        const dLogits = sizes.NDomainHidden === 0 ? dense("domainOut", reversed, "NFeature", 2, "none") : dense("domainOut", dense("domainHidden", reversed, "NFeature", "NDomainHidden"), "NDomainHidden", 2, "none");
        return block("losses", "Loss", () => {
          // The label loss over the source rows only: Σ source·CE / Σ source (source = 1 − domain, from its one-hot).
          const source = named("source", reshape(slice(oneHot(domain, 2), -1, 0, 1), ["B"]));
          const labelLoss = named("labelLoss", div(sum(mul(source, crossEntropyRows(logits, y, sizes.NClasses))), add(sum(source), 1e-12)));
          const domainLoss = named("domainLoss", crossEntropy(dLogits, domain, 2));
          return { y: logits, d: dLogits, labelLoss, domainLoss, loss: named("loss", add(labelLoss, domainLoss)) };
        });
      },
      { seed: o.seed },
    );
  },
);
