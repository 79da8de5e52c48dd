/**
 * Generative models: the variational autoencoder (Kingma & Welling 2014) and the generative
 * adversarial network (Goodfellow et al. 2014), each one definition whose losses are outputs of the
 * definition (written from the language's ops), so the diagram shows where each term comes from.
 */
import { add, block, exp, fill, input, losses, matmul, model, mul, named, param, randomNormal, relu, sigmoid, sub, sum, tanh, mean, type Model, type Tensor } from "../lang";
import { errors } from "../errors";
import { entry, sizeOptions, whole } from "./entry";

/** Where the noise comes from: the seeded `randomNormal` op (the same draw every run), or an input the caller fills (fresh noise per training step). */
export type NoiseSource = "op" | "input";

function noiseOption(entryName: string, value: unknown): NoiseSource {
  if (value !== "op" && value !== "input") throw errors.badOption(`noise of zoo.${entryName}`, value, '"op" (the seeded randomNormal op) or "input" (an input the caller fills)');
  return value;
}

/** `x W + b` with its weight [nIn, nOut] and bias named `W{suffix}`, `b{suffix}` in the current block. */
const dense = (x: Tensor, nIn: string, nOut: string, suffix = "") => add(matmul(x, param(`W${suffix}`, [nIn, nOut])), param(`b${suffix}`, [nOut]));

/** Options of {@link vae}. */
export interface VaeOptions {
  /** Data width (default 784: 28 × 28 digits, pixel intensities in [0, 1]). */
  NInput?: number;
  /** Hidden units of the encoder and of the decoder (default 500, the paper's MNIST size). */
  NHidden?: number;
  /** Latent dimensions (default 20). */
  NLatent?: number;
  /** ε ~ 𝒩(0, I) from the `randomNormal` op (default "op") or from an input `eps` [B, NLatent]. */
  noise?: NoiseSource;
  /** The randomNormal op's seed (default 0). */
  noiseSeed?: number;
  /** "full" (default): encoder, sampling, decoder and the loss; "decoder": input `z` [B, NLatent] → probabilities, with the full model's parameter paths (copy a trained model's `decoder/…` parameters into it to sample). */
  part?: "full" | "decoder";
  seed?: number;
}

/** The decoder: z → tanh hidden layer → Bernoulli logits and probabilities (block `decoder`). */
function decoder(z: Tensor) {
  return block("decoder", "Decoder", () => {
    const h = named("h", tanh(dense(z, "NLatent", "NHidden", "1")));
    const logits = named("logits", dense(h, "NHidden", "NInput", "2"));
    return { logits, p: named("p", sigmoid(logits)) };
  });
}

/**
 * Variational autoencoder (Kingma & Welling 2014, the paper's MNIST model: Gaussian MLP encoder,
 * Bernoulli MLP decoder, tanh hidden layers):
 *
 *     encoder   h = tanh(x W₁ + b₁);  μ = h W_μ + b_μ;  log σ² = h W_σ + b_σ
 *     sample    z = μ + σ ⊙ ε,  σ = exp(½ log σ²),  ε ~ 𝒩(0, I)        (the reparameterisation trick)
 *     decoder   p = σ(tanh(z W₁ + b₁) W₂ + b₂)                         (Bernoulli means per pixel)
 *     loss      reconstruction = Σ_pixels BCE(logits, x) = Σ softplus(ℓ) − x ℓ   (nn.losses.binaryCrossEntropy × pixels)
 *               kl = −½ Σ_latent (1 + log σ² − μ² − σ²)                (KL(q(z|x) ‖ 𝒩(0, I)), closed form)
 *               loss = reconstruction + kl                             (the negative ELBO; each a batch mean)
 *
 * @example
 * const v = zoo.vae({ NHidden: 64, NLatent: 2 });
 * const { outputs, trace } = await v.run({ x: digits });   // x [B, 784] in [0, 1]
 * outputs.loss.data[0];                                    // reconstruction + kl, per example
 * trace.get("sample/z");                                   // the latent codes [B, 2]
 */
export const vae = entry<VaeOptions>(
  "vae",
  { title: "Variational autoencoder", citation: "Kingma & Welling, Auto-Encoding Variational Bayes, ICLR 2014", year: 2014, family: "generative", parents: ["convAutoEncoder"] },
  { NInput: 784, NHidden: 500, NLatent: 20, noise: "op", noiseSeed: 0, part: "full", seed: 0 },
  (o): Model => {
    const sizes = sizeOptions("vae", o, ["NInput", "NHidden", "NLatent"]);
    const noise = noiseOption("vae", o.noise);
    const noiseSeed = whole("vae", "noiseSeed", o.noiseSeed, 0);
    if (o.part !== "full" && o.part !== "decoder") throw errors.badOption("part of zoo.vae", o.part, '"full" or "decoder"');
    if (o.part === "decoder")
      return model("VAEDecoder", sizes, () => decoder(input("z", ["B", "NLatent"])), { seed: o.seed });
    return model(
      "VAE",
      sizes,
      () => {
        const x = input("x", ["B", "NInput"]);
        const eps = noise === "input" ? input("eps", ["B", "NLatent"]) : undefined;
        const { mu, logVar } = block("encoder", "Encoder", () => {
          const h = named("h", tanh(dense(x, "NInput", "NHidden", "1")));
          return { mu: named("μ", dense(h, "NHidden", "NLatent", "_mu")), logVar: named("logσ2", dense(h, "NHidden", "NLatent", "_logvar")) };
        });
        const z = block("sample", "Reparameterise", () => {
          const e = eps ?? named("ε", randomNormal(["B", "NLatent"], noiseSeed));
          const sigma = named("σ", exp(mul(0.5, logVar)));
          return named("z", add(mu, mul(sigma, e)));
        });
        const { logits, p } = decoder(z);
        const { reconstruction, kl } = block("elbo", "ELBO", () => ({
          // nn.losses' BCE averages over every pixel; the ELBO sums over the pixels of each example.
          reconstruction: named("reconstruction", mul(sizes.NInput, losses.binaryCrossEntropy(logits, x))),
          kl: named("kl", mean(mul(-0.5, sum(sub(sub(add(1, logVar), mul(mu, mu)), exp(logVar)), -1)))),
        }));
        return { mu, logVar, z, p, reconstruction, kl, loss: named("loss", add(reconstruction, kl)) };
      },
      { seed: o.seed },
    );
  },
);

/** Options of {@link gan}. */
export interface GanOptions {
  /** Noise dimensions (default 16), hidden units of both networks (default 128), data width (default 784: digits in [0, 1]). */
  NLatent?: number;
  NHidden?: number;
  NData?: number;
  /** The generator's output: "sigmoid" (default, pixel intensities in [0, 1]) or "linear" (real-valued data, a 2-D toy distribution). */
  output?: "sigmoid" | "linear";
  /** z ~ 𝒩(0, I) from the `randomNormal` op (default "op") or from an input `z` [B, NLatent]. */
  noise?: NoiseSource;
  noiseSeed?: number;
  seed?: number;
}

/**
 * Generative adversarial network (Goodfellow et al. 2014), small MLPs: a generator G(z) = out(relu(z W + b) W' + b')
 * and a discriminator D(x) = σ(relu(x V + c) V' + c'), its weights declared once (`D_V1`, …) and used twice —
 * on the real batch (block `dReal`) and on the generated one (`dFake`), so the diagram draws each
 * weight once with an edge to each use. The losses, binary cross-entropies (`nn.losses`) of the discriminator's logits ℓ:
 *
 *     lossReal = mean softplus(−ℓ_real)     = −mean log D(x)
 *     lossFake = mean softplus(ℓ_fake)      = −mean log(1 − D(G(z)))
 *     lossD    = lossReal + lossFake        (the discriminator's loss)
 *     lossG    = mean softplus(−ℓ_fake)     = −mean log D(G(z))   (the paper's non-saturating generator loss)
 *
 * @example
 * const g = zoo.gan({ NData: 2, NLatent: 2, NHidden: 32, output: "linear", noise: "input" });
 * const { outputs } = await g.run({ x: real, z: noise });   // x [B, 2], z [B, 2]
 * outputs.lossD.data[0];
 */
export const gan = entry<GanOptions>(
  "gan",
  { title: "Generative adversarial network", citation: "Goodfellow, Pouget-Abadie, Mirza, Xu, Warde-Farley, Ozair, Courville & Bengio, Generative Adversarial Nets, NeurIPS 2014", year: 2014, family: "generative", parents: [] },
  { NLatent: 16, NHidden: 128, NData: 784, output: "sigmoid", noise: "op", noiseSeed: 0, seed: 0 },
  (o): Model => {
    const sizes = sizeOptions("gan", o, ["NLatent", "NHidden", "NData"]);
    const noise = noiseOption("gan", o.noise);
    const noiseSeed = whole("gan", "noiseSeed", o.noiseSeed, 0);
    if (o.output !== "sigmoid" && o.output !== "linear") throw errors.badOption("output of zoo.gan", o.output, '"sigmoid" or "linear"');
    return model(
      "GAN",
      sizes,
      () => {
        const x = input("x", ["B", "NData"]);
        const z = noise === "input" ? input("z", ["B", "NLatent"]) : named("z", randomNormal(["B", "NLatent"], noiseSeed));
        const fake = block("generator", "Generator", () => {
          const h = named("h", relu(dense(z, "NLatent", "NHidden", "1")));
          const y = dense(h, "NHidden", "NData", "2");
          return named("fake", o.output === "sigmoid" ? sigmoid(y) : y);
        });
        // The discriminator's weights, declared once and used on both batches.
        const V1 = param("D_V1", ["NData", "NHidden"]);
        const c1 = param("D_c1", ["NHidden"]);
        const V2 = param("D_V2", ["NHidden", 1]);
        const c2 = param("D_c2", [1]);
        const discriminate = (name: string, data: Tensor) =>
          block(name, "Discriminator", () => {
            const h = named("h", relu(add(matmul(data, V1), c1)));
            const logit = named("logit", add(matmul(h, V2), c2));
            return { logit, d: named("d", sigmoid(logit)) };
          });
        const real = discriminate("dReal", x);
        const gen = discriminate("dFake", fake);
        const terms = block("losses", "GANLosses", () => {
          const [ones, zeros] = [1, 0].map((v) => fill(["B", 1], v));
          const lossReal = named("lossReal", losses.binaryCrossEntropy(real.logit, ones));
          const lossFake = named("lossFake", losses.binaryCrossEntropy(gen.logit, zeros));
          return { lossReal, lossFake, lossD: named("lossD", add(lossReal, lossFake)), lossG: named("lossG", losses.binaryCrossEntropy(gen.logit, ones)) };
        });
        return { fake, dReal: real.d, dFake: gen.d, ...terms };
      },
      { seed: o.seed },
    );
  },
);
