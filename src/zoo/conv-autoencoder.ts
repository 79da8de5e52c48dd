/**
 * The convolutional autoencoder of the Graphviz architecture reference: three ConvBlocks halve the
 * image three times, three UpConvBlocks double it back, a tanh maps to [−1, 1]. Images are NHWC,
 * as the reference's listing writes them ([B, 256, 256, 3]).
 */
import { add, batchNorm, losses, conv2d, input, inits, layer, maxPool, model, named, param, relu, tanh, upsample, type Tensor } from "../lang";
import { errors } from "../errors";
import { entry, whole } from "./entry";

/** Conv2D(K3, P1) with its bias, then BatchNorm (running statistics are constants: PyTorch's buffers, not parameters). */
function convBn(x: Tensor, cin: number, cout: number): Tensor {
  const conv = named("conv", add(conv2d(x, param("w", [3, 3, cin, cout]), { padding: 1 }), param("b", [cout])));
  const gamma = param("gamma", [cout], { init: inits.ones });
  const beta = param("beta", [cout]);
  const mean = param("mean", [cout], { kind: "constant" });
  const variance = param("var", [cout], { kind: "constant", init: inits.ones });
  return named("bn", batchNorm(conv, gamma, beta, mean, variance));
}

/** ConvBlock = Conv2D(K3, P1) → BatchNorm → ReLU → MaxPool(K2, S2): [B, H, W, Cin] → [B, H/2, W/2, Cout]. */
export const convBlock = layer("ConvBlock", (x: Tensor, cin: number, cout: number) => named("pool", maxPool(named("relu", relu(convBn(x, cin, cout))), 2)));

/** UpConvBlock = UpSample ×2 → Conv2D(K3, P1) → BatchNorm → ReLU: [B, H, W, Cin] → [B, 2H, 2W, Cout]. */
export const upConvBlock = layer("UpConvBlock", (x: Tensor, cin: number, cout: number) => named("relu", relu(convBn(named("up", upsample(x, 2)), cin, cout))));

/** Options of {@link convAutoEncoder}. */
export interface ConvAutoEncoderOptions {
  /** Image height and width (default 256, the reference's; a multiple of 8). */
  height?: number;
  width?: number;
  /** Image channels in and out (default 3, the reference's RGB; 1 for grey digits). */
  channels?: number;
  /** Seed of the initial weights (default 0). */
  seed?: number;
  /**
   * The training form (default false): adds the output `loss`, the mean squared error of the
   * reconstruction `y` against the input `x` (`losses.mse`) — an autoencoder's target is its input.
   */
  loss?: boolean;
}

/**
 * The Graphviz reference's ConvAutoEncoder: [B, 256, 256, 3] → ConvBlock(3→16) → ConvBlock(16→32)
 * → ConvBlock(32→32) → UpConvBlock(32→32) → UpConvBlock(32→16) → UpConvBlock(16→3) → Tanh →
 * [B, 256, 256, 3]; 28 905 parameters as PyTorch counts them (batch-norm running statistics are
 * buffers there, constants here). Every block's output is recorded (`enc1/pool`, `dec3/relu`).
 *
 * @example
 * const cae = zoo.convAutoEncoder();
 * cae.summary({ B: 1 }).totalParams;                 // 28905
 * const small = zoo.convAutoEncoder({ height: 32, width: 32 });
 * const { trace } = await small.run({ x: image });   // image [1, 32, 32, 3]
 * trace.get("enc1/pool").shape;                      // [1, 16, 16, 16]
 */
export const convAutoEncoder = entry<ConvAutoEncoderOptions>(
  "convAutoEncoder",
  {
    title: "Convolutional autoencoder",
    citation: "The Graphviz architecture reference (ConvAutoEncoder with ConvBlock / UpConvBlock); after Masci et al., Stacked convolutional auto-encoders, ICANN 2011",
    year: 2011,
    family: "cnn",
    parents: [],
  },
  { height: 256, width: 256, channels: 3, seed: 0, loss: false },
  ({ height, width, channels, seed, loss }) => {
    whole("convAutoEncoder", "channels", channels);
    if (typeof loss !== "boolean") throw errors.badOption("loss of zoo.convAutoEncoder", loss, "true or false");
    for (const [k, v] of Object.entries({ height, width }))
      if (whole("convAutoEncoder", k, v, 8) % 8 !== 0) throw errors.badOption(`${k} of zoo.convAutoEncoder`, v, "a multiple of 8 (the encoder halves the image three times)");
    return model(
      "ConvAutoEncoder",
      {},
      () => {
        const image = input("x", ["B", height, width, channels]);
        let x = convBlock("enc1", image, channels, 16);
        x = convBlock("enc2", x, 16, 32);
        x = convBlock("enc3", x, 32, 32);
        x = upConvBlock("dec1", x, 32, 32);
        x = upConvBlock("dec2", x, 32, 16);
        x = upConvBlock("dec3", x, 16, channels);
        const y = named("y", tanh(x));
        const outputs: Record<string, Tensor> = { y };
        if (loss) outputs.loss = losses.mse(y, image);
        return outputs;
      },
      { seed },
    );
  },
);
