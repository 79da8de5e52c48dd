/**
 * The ImageNet CNN line of the genealogy — AlexNet → VGG → GoogLeNet → ResNet — as torchvision
 * builds them (layer output shapes and parameter counts equal torchvision 0.14's, checked against
 * src/zoo/fixtures/torchvision-cnns.py), in archlab's NHWC layout: images [B, H, W, 3], conv filters
 * [KH, KW, Cin, Cout], linear weights [In, Out]. Each top-level layer is a block that folds into one
 * box in the diagram (`modelDiagram(m, { expand: ["layer1"] })` opens one).
 *
 * What each one added, in the models' own terms:
 * - AlexNet (2012): a deep stack of large convolutions with ReLU, max pooling and dropout, trained on GPUs.
 * - VGG (2014): depth from uniform 3×3 convolutions in blocks ending with a 2×2 pool.
 * - GoogLeNet (2014): the Inception block — 1×1, 3×3 and pooled branches side by side, 1×1 convolutions
 *   to shrink channels first — and global average pooling instead of large fully connected layers.
 * - ResNet (2015): the residual block y = relu(F(x) + x): an identity path around every two convolutions.
 *
 * The genealogy's line is drawn as the reference chart draws it (each model's parent the one before);
 * GoogLeNet and VGG were in fact contemporaries, both descending from AlexNet.
 */
import { errors } from "../errors";
import { add, batchNorm, type Init, block, concat, constant, conv2d, dropout, input, inits, layer, matmul, maxPool, mean, model, named, param, relu, reshape, transpose, type ND, type Tensor } from "../lang";
import seedrandom from "seedrandom";
import { entry, whole } from "./entry";

/** The number a size of a tensor built here has (every size but the batch is a number). */
const n = (t: Tensor, axis: number) => t.shape[axis].constant!;

/**
 * PyTorch's default initial weights of Conv2d and Linear: uniform on ±1/√fan-in (fan-in: every axis
 * but the last, k·k·Cin or In). Drawn by seedrandom's Alea, seeded from the model's source: VGG-16
 * has 138 million weights, and the default generator (ARC4) takes ~10× as long to draw them.
 */
const torchUniform: Init = (shape, random) => {
  const draw = seedrandom.alea(String(random()));
  const bound = 1 / Math.sqrt(shape.slice(0, -1).reduce((a, b) => a * b, 1));
  const data = new Float64Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = (2 * draw() - 1) * bound;
  return { shape, data };
};

/** Options of a convolution here: torchvision's kernel, stride and padding; with or without its bias. */
interface ConvSpec {
  k: number;
  stride?: number;
  padding?: number;
  /** Default true; false before a batch norm (which has its own shift). */
  bias?: boolean;
}

/** A convolution `conv` with filter `w` [k, k, cin, cout] (and bias `b`). */
function convolution(x: Tensor, cout: number, { k, stride = 1, padding = 0, bias = true }: ConvSpec): Tensor {
  const y = conv2d(x, param("w", [k, k, n(x, 3), cout], { init: torchUniform }), { stride, padding });
  return named("conv", bias ? add(y, param("b", [cout])) : y);
}

/** Batch norm `bn` with torchvision's parameters γ, β and running statistics (constants: PyTorch's buffers, not parameters). */
function batchNormed(x: Tensor, eps: number): Tensor {
  const c = n(x, 3);
  const gamma = param("gamma", [c], { init: inits.ones });
  const beta = param("beta", [c]);
  const runningMean = param("mean", [c], { kind: "constant" });
  const runningVar = param("var", [c], { kind: "constant", init: inits.ones });
  return named("bn", batchNorm(x, gamma, beta, runningMean, runningVar, { eps }));
}

/** Conv → ReLU (AlexNet's and VGG's layer), with torchvision's bias. */
export const convRelu = layer("ConvReLU", (x: Tensor, cout: number, spec: ConvSpec) => named("relu", relu(convolution(x, cout, spec))));

/** Conv (no bias) → BatchNorm: ResNet's unit. */
export const convBn = layer("ConvBN", (x: Tensor, cout: number, spec: ConvSpec) => batchNormed(convolution(x, cout, { ...spec, bias: false }), 1e-5));

/** Conv (no bias) → BatchNorm (ε = 0.001) → ReLU: GoogLeNet's BasicConv2d. */
export const convBnRelu = layer("ConvBNReLU", (x: Tensor, cout: number, spec: ConvSpec, eps: number = 1e-3) => named("relu", relu(batchNormed(convolution(x, cout, { ...spec, bias: false }), eps))));

/** Dropout (training only) → x W + b → ReLU, as torchvision's classifiers order them (AlexNet: dropout first; VGG: dropout last). */
function linear(x: Tensor, out: number): Tensor {
  return named("linear", add(matmul(x, param("w", [n(x, 1), out], { init: torchUniform })), param("b", [out])));
}
export const fc = layer("Linear", (x: Tensor, out: number) => linear(x, out));

/**
 * Adaptive average pooling to oh × ow, as PyTorch's AdaptiveAvgPool2d: output cell (i, j) averages
 * input rows ⌊i·H/oh⌋ … ⌈(i+1)·H/oh⌉ − 1 (columns alike). When the map already has that size it is
 * the identity (AlexNet's 6×6 and VGG's 7×7 at 224); to 1×1 it is a global mean; otherwise it is two
 * constant averaging matrices, P_h x P_wᵀ per channel.
 *
 * @example
 * const m = nn.model("Pool", {}, () => ({ y: zoo.adaptiveAvgPool("pool", nn.input("x", ["B", 5, 7, 2]), 3, 2) }));  // → [B, 3, 2, 2]
 */
export const adaptiveAvgPool = layer("AdaptiveAvgPool", (x: Tensor, oh: number, ow: number) => {
  const [H, W] = [n(x, 1), n(x, 2)];
  if (H === oh && W === ow) return named("pool", x);
  if (oh === 1 && ow === 1) return named("pool", reshape(mean(x, [1, 2]), [x.shape[0], 1, 1, n(x, 3)]));
  const nchw = transpose(x, [0, 3, 1, 2]); // [B, C, H, W]
  const rows = matmul(constant(averaging(oh, H)), nchw); // [B, C, oh, W]
  const both = matmul(rows, constant(averaging(ow, W, true))); // [B, C, oh, ow]
  return named("pool", transpose(both, [0, 2, 3, 1]));
});

/** PyTorch's adaptive average pooling from n to m along one axis as an [m, n] matrix (or its transpose [n, m]). */
function averaging(m: number, size: number, transposed = false): ND {
  const data = new Float64Array(m * size);
  for (let i = 0; i < m; i++) {
    const [lo, hi] = [Math.floor((i * size) / m), Math.ceil(((i + 1) * size) / m)];
    for (let j = lo; j < hi; j++) data[transposed ? j * m + i : i * size + j] = 1 / (hi - lo);
  }
  return { shape: transposed ? [size, m] : [m, size], data };
}

/** Flattens [B, H, W, C] to [B, H·W·C] (NHWC order: loading torchvision's first linear layer needs its columns permuted from C·H·W). */
const flatten = (x: Tensor) => named("flatten", reshape(x, [x.shape[0], n(x, 1) * n(x, 2) * n(x, 3)]));

/** Options of the ImageNet CNNs. */
export interface ImageNetOptions {
  /** Image height and width (default 224, ImageNet's). */
  height?: number;
  width?: number;
  /** Number of classes (default 1000). */
  classes?: number;
  /** Seed of the initial weights (default 0). */
  seed?: number;
}

/** The image input [B, height, width, 3], after checking the sizes (at least `min`, a multiple of `multiple`). */
function image(name: string, o: Required<ImageNetOptions>, min: number, multiple = 1): Tensor {
  for (const [k, v] of Object.entries({ height: o.height, width: o.width }))
    if (whole(name, k, v, min) % multiple !== 0) throw errors.badOption(`${k} of zoo.${name}`, v, `a multiple of ${multiple} (${name}'s pooling halves the image ${Math.log2(multiple)} times)`);
  return input("x", ["B", o.height, o.width, 3]);
}

const IMAGENET = { height: 224, width: 224, classes: 1000, seed: 0 };

/**
 * AlexNet as torchvision builds it (Krizhevsky et al. 2012, in the one-GPU form of Krizhevsky 2014):
 * five conv layers (11×11 stride 4, 5×5, three 3×3) with ReLU and three 3×3/2 max pools, then three
 * fully connected layers with dropout. 61 100 840 parameters at 1000 classes.
 *
 * @example
 * const net = zoo.alexnet();
 * net.summary({ B: 1 }).totalParams;   // 61100840
 * modelDiagram(net, { expand: ["conv1"] });
 */
export const alexnet = entry<ImageNetOptions>(
  "alexnet",
  { title: "AlexNet", citation: "Krizhevsky, Sutskever & Hinton, ImageNet Classification with Deep Convolutional Neural Networks, NeurIPS 2012", year: 2012, family: "cnn", parents: [] },
  IMAGENET,
  (o) => {
    const classes = whole("alexnet", "classes", o.classes);
    return model(
      "AlexNet",
      {},
      () => {
        let x = image("alexnet", o, 63);
        const pool = (t: Tensor) => named("pool", maxPool(t, 3, { stride: 2 }));
        x = block("conv1", "ConvReLUPool", () => pool(convRelu("conv", x, 64, { k: 11, stride: 4, padding: 2 })));
        x = block("conv2", "ConvReLUPool", () => pool(convRelu("conv", x, 192, { k: 5, padding: 2 })));
        x = convRelu("conv3", x, 384, { k: 3, padding: 1 });
        x = convRelu("conv4", x, 256, { k: 3, padding: 1 });
        x = block("conv5", "ConvReLUPool", () => pool(convRelu("conv", x, 256, { k: 3, padding: 1 })));
        x = flatten(adaptiveAvgPool("avgpool", x, 6, 6));
        x = block("fc6", "DropoutLinearReLU", () => named("relu", relu(linear(dropout(x, 0.5, 6), 4096))));
        x = block("fc7", "DropoutLinearReLU", () => named("relu", relu(linear(dropout(x, 0.5, 7), 4096))));
        return { logits: fc("fc8", x, classes) };
      },
      { seed: o.seed },
    );
  },
);

/**
 * VGG-16 (configuration D) as torchvision builds it: five blocks of 3×3 convolutions (64, 128, 256,
 * 512, 512 channels; 2, 2, 3, 3, 3 of them), each ending in a 2×2 max pool, then three fully
 * connected layers. 138 357 544 parameters at 1000 classes.
 */
export const vgg16 = entry<ImageNetOptions>(
  "vgg16",
  { title: "VGG-16", citation: "Simonyan & Zisserman, Very Deep Convolutional Networks for Large-Scale Image Recognition, ICLR 2015 (arXiv 2014)", year: 2014, family: "cnn", parents: ["alexnet"] },
  IMAGENET,
  (o) => {
    const classes = whole("vgg16", "classes", o.classes);
    return model(
      "VGG16",
      {},
      () => {
        let x = image("vgg16", o, 32);
        const stages: [number, number][] = [[64, 2], [128, 2], [256, 3], [512, 3], [512, 3]];
        stages.forEach(([channels, convs], s) => {
          x = block(`block${s + 1}`, "VGGBlock", () => {
            for (let i = 1; i <= convs; i++) x = convRelu(`conv${i}`, x, channels, { k: 3, padding: 1 });
            return named("pool", maxPool(x, 2));
          });
        });
        x = flatten(adaptiveAvgPool("avgpool", x, 7, 7));
        x = block("fc6", "LinearReLUDropout", () => dropout(named("relu", relu(linear(x, 4096))), 0.5, 6));
        x = block("fc7", "LinearReLUDropout", () => dropout(named("relu", relu(linear(x, 4096))), 0.5, 7));
        return { logits: fc("fc8", x, classes) };
      },
      { seed: o.seed },
    );
  },
);

/**
 * An Inception block (torchvision's): four branches side by side, concatenated on the channels —
 * 1×1; 1×1 → 3×3; 1×1 → 3×3 (the paper's 5×5: torchvision keeps 3×3, a known slip its weights were
 * trained with, and its parameter count counts it); 3×3/1 max pool → 1×1.
 *
 * @example
 * x = zoo.inception("inception3a", x, 64, 96, 128, 16, 32, 32);  // [B, 28, 28, 192] → [B, 28, 28, 64+128+32+32]
 */
export const inception = layer("Inception", (x: Tensor, c1: number, c3r: number, c3: number, c5r: number, c5: number, pp: number) => {
  const b1 = block("branch1", undefined, () => convBnRelu("conv", x, c1, { k: 1 }));
  const b2 = block("branch2", undefined, () => convBnRelu("conv2", convBnRelu("conv1", x, c3r, { k: 1 }), c3, { k: 3, padding: 1 }));
  const b3 = block("branch3", undefined, () => convBnRelu("conv2", convBnRelu("conv1", x, c5r, { k: 1 }), c5, { k: 3, padding: 1 }));
  const b4 = block("branch4", undefined, () => convBnRelu("conv", named("pool", maxPool(x, 3, { stride: 1, padding: 1 })), pp, { k: 1 }));
  return named("concat", concat([b1, b2, b3, b4], -1));
});

/**
 * GoogLeNet (Inception v1) as torchvision builds it without the auxiliary classifiers: a stem of
 * conv–BN–ReLU layers, nine Inception blocks between max pools, global average pooling, dropout and
 * one linear layer. 6 624 904 parameters at 1000 classes. torchvision's 3×3/2 pools round up
 * (ceil_mode); TensorFlow's "same" padding gives the same windows when each pooled map has an even
 * side, hence the image side is a multiple of 32.
 */
export const googlenet = entry<ImageNetOptions>(
  "googlenet",
  { title: "GoogLeNet", citation: "Szegedy et al., Going Deeper with Convolutions, CVPR 2015 (arXiv 2014)", year: 2014, family: "cnn", parents: ["vgg16"] },
  IMAGENET,
  (o) => {
    const classes = whole("googlenet", "classes", o.classes);
    return model(
      "GoogLeNet",
      {},
      () => {
        let x = image("googlenet", o, 32, 32);
        const pool = (name: string, t: Tensor, k = 3) => named(name, maxPool(t, k, { stride: 2, padding: "same" }));
        x = convBnRelu("conv1", x, 64, { k: 7, stride: 2, padding: 3 });
        x = pool("maxpool1", x);
        x = convBnRelu("conv2", x, 64, { k: 1 });
        x = convBnRelu("conv3", x, 192, { k: 3, padding: 1 });
        x = pool("maxpool2", x);
        x = inception("inception3a", x, 64, 96, 128, 16, 32, 32);
        x = inception("inception3b", x, 128, 128, 192, 32, 96, 64);
        x = pool("maxpool3", x);
        x = inception("inception4a", x, 192, 96, 208, 16, 48, 64);
        x = inception("inception4b", x, 160, 112, 224, 24, 64, 64);
        x = inception("inception4c", x, 128, 128, 256, 24, 64, 64);
        x = inception("inception4d", x, 112, 144, 288, 32, 64, 64);
        x = inception("inception4e", x, 256, 160, 320, 32, 128, 128);
        x = pool("maxpool4", x, 2);
        x = inception("inception5a", x, 256, 160, 320, 32, 128, 128);
        x = inception("inception5b", x, 384, 192, 384, 48, 128, 128);
        x = flatten(adaptiveAvgPool("avgpool", x, 1, 1));
        return { logits: block("fc", "DropoutLinear", () => linear(dropout(x, 0.2, 1), classes)) };
      },
      { seed: o.seed },
    );
  },
);

/**
 * ResNet's basic block: conv1 (3×3, stride) → BN → ReLU → conv2 (3×3) → BN, plus the shortcut —
 * x itself, or a 1×1 conv → BN (`downsample`) where the stride or the channels change — then ReLU:
 * `out = relu(F(x) + x)`. With `shortcut` false it is the paper's "plain" block, relu(F(x)).
 *
 * @example
 * x = zoo.basicBlock("block", x, 128, 2, true);  // [B, 56, 56, 64] → [B, 28, 28, 128], shortcut block/downsample
 */
export const basicBlock = layer("BasicBlock", (x: Tensor, cout: number, stride: number, shortcut: boolean) => {
  const h = named("relu1", relu(convBn("conv1", x, cout, { k: 3, stride, padding: 1 })));
  const f = convBn("conv2", h, cout, { k: 3, padding: 1 });
  if (!shortcut) return named("out", relu(f));
  const identity = stride !== 1 || n(x, 3) !== cout ? convBn("downsample", x, cout, { k: 1, stride }) : x;
  return named("out", relu(add(f, identity)));
});

/**
 * A ResNet stage: `blocks` basic blocks named 0, 1, … (as torchvision's state dict keys them), the first with `stride`.
 *
 * @example
 * x = zoo.resLayer("layer2", x, 128, 2, 2, true);  // ResNet-18's layer2: [B, 56, 56, 64] → [B, 28, 28, 128]
 */
export const resLayer = layer("ResLayer", (x: Tensor, cout: number, blocks: number, stride: number, shortcut: boolean) => {
  for (let i = 0; i < blocks; i++) x = basicBlock(String(i), x, cout, i === 0 ? stride : 1, shortcut);
  return x;
});

/** Options of {@link resnet18}. */
export interface ResNet18Options extends ImageNetOptions {
  /** The identity shortcuts (default true); false builds the paper's 18-layer "plain" network for comparison. */
  shortcuts?: boolean;
}

/**
 * ResNet-18 as torchvision builds it: a 7×7/2 conv–BN–ReLU stem and a 3×3/2 max pool, four stages
 * of two basic blocks (64, 128, 256, 512 channels; the last three halve the map), global average
 * pooling and one linear layer. 11 689 512 parameters at 1000 classes. Parameter paths follow
 * torchvision's state dict: `layer2/0/conv1/w` is `layer2.0.conv1.weight` (OIHW → HWIO), and
 * `layer2/0/conv1/gamma` its `bn1.weight`.
 *
 * @example
 * const net = zoo.resnet18({ height: 64, width: 64 });
 * const { outputs, trace } = await net.run({ x: image });   // image [1, 64, 64, 3]
 * trace.get("layer1/0/out").shape;                           // [1, 16, 16, 64]
 */
export const resnet18 = entry<ResNet18Options>(
  "resnet18",
  { title: "ResNet-18", citation: "He, Zhang, Ren & Sun, Deep Residual Learning for Image Recognition, CVPR 2016 (arXiv 2015)", year: 2015, family: "cnn", parents: ["googlenet"] },
  { ...IMAGENET, shortcuts: true },
  (o) => {
    const classes = whole("resnet18", "classes", o.classes);
    if (typeof o.shortcuts !== "boolean") throw errors.badOption("shortcuts of zoo.resnet18", o.shortcuts, "true or false");
    return model(
      o.shortcuts ? "ResNet18" : "PlainNet18",
      {},
      () => {
        let x = image("resnet18", o, 32);
        x = convBnRelu("conv1", x, 64, { k: 7, stride: 2, padding: 3 }, 1e-5);
        x = named("maxpool", maxPool(x, 3, { stride: 2, padding: 1 }));
        [64, 128, 256, 512].forEach((c, i) => (x = resLayer(`layer${i + 1}`, x, c, 2, i === 0 ? 1 : 2, o.shortcuts)));
        x = flatten(adaptiveAvgPool("avgpool", x, 1, 1));
        return { logits: fc("fc", x, classes) };
      },
      { seed: o.seed },
    );
  },
);
