/**
 * Reservoir models: a fixed random network whose only trained part is a linear readout, solved in
 * closed form. The echo-state network's reservoir is recurrent (a scan whose state is read back);
 * the extreme learning machine's hidden layer is not (no scan at all) — the difference the
 * reference article says zoo drawings fail to show.
 */
import { ArchlabError, errors } from "../errors";
import { add, block, input, inits, matmul, model, mul, named, param, relu, scan, sub, tanh, where, zeros, type Init, type Model, type Tensor, type ValueLike } from "../lang";
import { toND } from "../lang/run";
import type { ND } from "../lang/nd";
import { entry, real, whole } from "./entry";

/** The trained readout: y = h W + b over the last axis, in block `readout`. */
function readout(h: Tensor, hidden: string): Tensor {
  return block("readout", "Readout", () => named("y", add(matmul(h, param("W", [hidden, "NOutput"])), param("b", ["NOutput"]))));
}

/** Options of {@link esn}. */
export interface EsnOptions {
  NInput?: number;
  NReservoir?: number;
  NOutput?: number;
  /** Spectral radius ρ the reservoir matrix is scaled to (default 0.9; below 1 for the echo-state property). */
  spectralRadius?: number;
  /** Leak rate a: hₜ = (1 − a) hₜ₋₁ + a tanh(…) (default 0.3; 1 = no leak). */
  leak?: number;
  /** Input weights are uniform on ±inputScale (default 1). */
  inputScale?: number;
  /** Fraction of nonzero reservoir weights (default 0.2). */
  density?: number;
  seed?: number;
}

/**
 * Echo-state network (Jaeger 2001): a fixed random reservoir W [NReservoir, NReservoir] scaled to
 * spectral radius ρ, fixed input weights, leaky tanh units, and a linear readout — the only part
 * learned, by ridge regression on the recorded reservoir states ({@link fitReadout}).
 *
 *     hₜ = (1 − a) hₜ₋₁ + a tanh(xₜ W_in + hₜ₋₁ W + b),   yₜ = hₜ W_out + b_out
 *
 * @example
 * const net = zoo.esn({ NReservoir: 100, spectralRadius: 0.9, leak: 0.3 });
 * await zoo.fitReadout(net, { x: xs }, ys, { lambda: 1e-6, washout: 20 });
 * const { outputs } = await net.run({ x: xs });  // outputs.y [B, T, NOutput]
 */
export const esn = entry<EsnOptions>(
  "esn",
  { title: "Echo-state network", citation: "Jaeger, The “echo state” approach to analysing and training recurrent neural networks, GMD Report 148, 2001", year: 2001, family: "reservoir", parents: [] },
  { NInput: 1, NReservoir: 100, NOutput: 1, spectralRadius: 0.9, leak: 0.3, inputScale: 1, density: 0.2, seed: 0 },
  (o) => {
    const sizes = { NInput: whole("esn", "NInput", o.NInput), NReservoir: whole("esn", "NReservoir", o.NReservoir), NOutput: whole("esn", "NOutput", o.NOutput) };
    const rho = real("esn", "spectralRadius", o.spectralRadius, 0, 10);
    const a = real("esn", "leak", o.leak, 0, 1);
    const scale = real("esn", "inputScale", o.inputScale, 0, 1e6);
    const density = real("esn", "density", o.density, 1e-6, 1);
    return model(
      "ESN",
      sizes,
      () => {
        const xs = input("x", ["B", "SeqLen", "NInput"]);
        const { out } = scan(
          "reservoir",
          { x: xs },
          { h: zeros(["B", "NReservoir"]) },
          ({ x }, { h }) => {
            const W_in = param("W_in", ["NInput", "NReservoir"], { kind: "frozen", init: inits.uniform(scale) });
            const W = param("W", ["NReservoir", "NReservoir"], { kind: "frozen", init: inits.spectral(rho, { density }) });
            const b = param("b", ["NReservoir"], { kind: "frozen", init: inits.uniform(0.1) });
            const u = named("u", tanh(add(add(matmul(x, W_in), matmul(h, W)), b)));
            const hn = named("h", add(mul(h, 1 - a), mul(u, a)));
            return { state: { h: hn }, out: { h: hn } };
          },
          { kind: "Reservoir" },
        );
        return { y: readout(out.h, "NReservoir") };
      },
      { seed: o.seed },
    );
  },
);

/** Options of {@link elm}. */
export interface ElmOptions {
  NInput?: number;
  NHidden?: number;
  NOutput?: number;
  /** Hidden weights and biases are uniform on ±inputScale (default 1). */
  inputScale?: number;
  seed?: number;
}

/**
 * Extreme learning machine (Huang, Zhu & Siew 2006): one fixed random hidden layer and a linear
 * readout solved by least squares ({@link fitReadout}). No recurrence: [B, NInput] → [B, NOutput].
 *
 *     h = tanh(x W + b),   y = h W_out + b_out
 *
 * @example
 * const net = zoo.elm({ NInput: 1, NHidden: 50 });
 * await zoo.fitReadout(net, { x: xs }, ys);      // xs [N, 1], ys [N, 1]
 */
export const elm = entry<ElmOptions>(
  "elm",
  { title: "Extreme learning machine", citation: "Huang, Zhu & Siew, Extreme learning machine: theory and applications, Neurocomputing 70, 2006", year: 2006, family: "reservoir", parents: [] },
  { NInput: 1, NHidden: 100, NOutput: 1, inputScale: 1, seed: 0 },
  (o) => {
    const sizes = { NInput: whole("elm", "NInput", o.NInput), NHidden: whole("elm", "NHidden", o.NHidden), NOutput: whole("elm", "NOutput", o.NOutput) };
    const scale = real("elm", "inputScale", o.inputScale, 0, 1e6);
    return model(
      "ELM",
      sizes,
      () => {
        const x = input("x", ["B", "NInput"]);
        const h = block("hidden", "Random", () => {
          const W = param("W", ["NInput", "NHidden"], { kind: "frozen", init: inits.uniform(scale) });
          const b = param("b", ["NHidden"], { kind: "frozen", init: inits.uniform(scale) });
          return named("h", tanh(add(matmul(x, W), b)));
        });
        return { y: readout(h, "NHidden") };
      },
      { seed: o.seed },
    );
  },
);

/** Options of {@link lsm}. */
export interface LsmOptions {
  NInput?: number;
  NReservoir?: number;
  NOutput?: number;
  /** Firing threshold θ of the membrane potential (default 1). */
  threshold?: number;
  /** Membrane leak per step: v ← (1 − leak) v + I (default 0.5). */
  leak?: number;
  /** Decay of each neuron's spike trace r ← decay · r + s, the liquid state the readout reads (default 0.5). */
  traceDecay?: number;
  /** Input weights are uniform on ±inputScale (default 3). */
  inputScale?: number;
  /** Recurrent weights' magnitudes are uniform on [0, recurrentScale] (default 0.3). */
  recurrentScale?: number;
  /** Fraction of nonzero recurrent weights (default 0.1). */
  density?: number;
  /** Fraction of inhibitory neurons, whose outgoing weights are negative (default 0.2, as in the cortex and Maass et al.). */
  inhibitory?: number;
  seed?: number;
}

/**
 * A recurrent weight matrix of spiking neurons [from, to]: each entry kept with probability
 * `density`, magnitude uniform on [0, scale], negative in the rows of the first `inhibitory`
 * fraction of the neurons (Dale's law: a neuron's synapses all excite or all inhibit).
 */
const daleInit = (scale: number, density: number, inhibitory: number): Init => (shape, random) => {
  const [n, m] = shape;
  const out = { shape: [n, m], data: new Float64Array(n * m) };
  const inhibitors = Math.round(inhibitory * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) if (i !== j && random() < density) out.data[i * m + j] = (i < inhibitors ? -1 : 1) * scale * random();
  return out;
};

/**
 * Liquid state machine (Maass, Natschläger & Markram 2002): a fixed random reservoir ("liquid") of
 * leaky integrate-and-fire neurons that communicate by spikes, and a linear readout of the
 * neurons' filtered spike trains — the only part learned ({@link fitReadout}). Per step:
 *
 *     I = xₜ W_in + sₜ₋₁ W + b                input and the previous step's spikes (W frozen, sparse, 20% inhibitory)
 *     v′ = (1 − leak) vₜ₋₁ + I                leaky integration of the membrane potential
 *     sₜ = [v′ > θ]                           a spike: 1 or 0
 *     vₜ = v′ ⊙ (1 − sₜ)                      reset to 0 after a spike
 *     rₜ = decay · rₜ₋₁ + sₜ,   yₜ = rₜ W_out + b_out
 *
 * The spike is a step function, written `where(relu(v′ − θ), 1, 0)` (relu is nonzero exactly
 * where v′ > θ). The neurons have no refractory period beyond the reset.
 *
 * @example
 * const net = zoo.lsm({ NReservoir: 200 });
 * await zoo.fitReadout(net, { x: xs }, ys, { lambda: 1e-4, washout: 20 });
 * const { trace } = await net.run({ x: xs });
 * trace.get("liquid/s");   // every neuron's spikes at every step: [SeqLen, B, NReservoir]
 */
export const lsm = entry<LsmOptions>(
  "lsm",
  {
    title: "Liquid state machine",
    citation: "Maass, Natschläger & Markram, Real-time computing without stable states: a new framework for neural computation based on perturbations, Neural Computation 14, 2002",
    year: 2002,
    family: "reservoir",
    parents: ["esn"],
  },
  { NInput: 1, NReservoir: 100, NOutput: 1, threshold: 1, leak: 0.5, traceDecay: 0.5, inputScale: 3, recurrentScale: 0.3, density: 0.1, inhibitory: 0.2, seed: 0 },
  (o) => {
    const sizes = { NInput: whole("lsm", "NInput", o.NInput), NReservoir: whole("lsm", "NReservoir", o.NReservoir), NOutput: whole("lsm", "NOutput", o.NOutput) };
    const theta = real("lsm", "threshold", o.threshold, 1e-6, 1e6);
    const leak = real("lsm", "leak", o.leak, 0, 1);
    const decay = real("lsm", "traceDecay", o.traceDecay, 0, 1);
    const inputScale = real("lsm", "inputScale", o.inputScale, 0, 1e6);
    const recurrentScale = real("lsm", "recurrentScale", o.recurrentScale, 0, 1e6);
    const density = real("lsm", "density", o.density, 0, 1);
    const inhibitory = real("lsm", "inhibitory", o.inhibitory, 0, 1);
    return model(
      "LSM",
      sizes,
      () => {
        const xs = input("x", ["B", "SeqLen", "NInput"]);
        const zero = zeros(["B", "NReservoir"]);
        const { out } = scan(
          "liquid",
          { x: xs },
          { v: zero, s: zero, r: zero },
          ({ x }, { v, s, r }) => {
            const W_in = param("W_in", ["NInput", "NReservoir"], { kind: "frozen", init: inits.uniform(inputScale) });
            const W = param("W", ["NReservoir", "NReservoir"], { kind: "frozen", init: daleInit(recurrentScale, density, inhibitory) });
            const b = param("b", ["NReservoir"], { kind: "frozen", init: inits.uniform(0.1) });
            const I = named("I", add(add(matmul(x, W_in), matmul(s, W)), b));
            const vPre = named("v_pre", add(mul(v, 1 - leak), I));
            const sn = named("s", where(relu(sub(vPre, theta)), 1, 0));
            const vn = named("v", mul(vPre, sub(1, sn)));
            const rn = named("r", add(mul(r, decay), sn));
            return { state: { v: vn, s: sn, r: rn }, out: { r: rn } };
          },
          { kind: "LIF reservoir" },
        );
        return { y: readout(out.r, "NReservoir") };
      },
      { seed: o.seed },
    );
  },
);

/** Options of {@link fitReadout}. */
export interface FitReadoutOptions {
  /** Ridge penalty λ on the readout weights (not the bias); default 1e-6. */
  lambda?: number;
  /** Steps at the start of each sequence left out of the fit while the reservoir forgets its initial state (default 0). */
  washout?: number;
}

/**
 * Fits a reservoir model's readout (block `readout`: y = h W + b) by ridge regression on the
 * features the readout reads, recorded in one reference (float64) run of the model on `inputs`:
 * min ‖H W + 1 bᵀ − Y‖² + λ‖W‖², by its normal equations (the bias is not penalised). Writes W and b
 * into the model; returns the fit's mean squared error.
 *
 * @example
 * const net = zoo.esn();
 * const mse = await zoo.fitReadout(net, { x: xs }, ys, { lambda: 1e-6, washout: 20 }); // xs [B, T, 1], ys [B, T, 1]
 */
export async function fitReadout(net: Model, inputs: Record<string, ValueLike>, targets: ValueLike, options: FitReadoutOptions = {}): Promise<number> {
  const { lambda = 1e-6, washout = 0 } = options;
  if (typeof lambda !== "number" || !(lambda >= 0)) throw errors.badOption("lambda of fitReadout", lambda, "a number ≥ 0");
  if (!Number.isInteger(washout) || washout < 0) throw errors.badOption("washout of fitReadout", washout, "a whole number ≥ 0");
  const W = net.graph.params.find((p) => p.path === "readout/W");
  const b = net.graph.params.find((p) => p.path === "readout/b");
  const product = net.graph.nodes.find((t) => t.op === "matmul" && t.inputs[1] === W);
  if (!W || !b || !product)
    throw new ArchlabError("bad-model", `fitReadout: model ${net.name} has no readout block (params readout/W and readout/b, y = h W + b). Use zoo.esn() or zoo.elm(), or build your readout that way.`);
  const { trace } = await net.run(inputs, { backend: "reference" });
  const features = trace.get(product.inputs[0].path);
  const y = toND(targets, "targets of fitReadout");
  const outputShape = trace.get(product.path).shape;
  if (y.shape.length !== outputShape.length || y.shape.some((d, i) => d !== outputShape[i]))
    throw errors.shape(`targets of fitReadout (the readout's output ${product.path})`, outputShape, y.shape);
  // Each row of H gets a trailing 1: the bias is the last row of the solution.
  const H = rows(features, washout).map((h) => [...h, 1]);
  const Y = rows(y, washout);
  if (H.length === 0) throw errors.badOption("washout of fitReadout", washout, `fewer steps than the sequences have (${features.shape[1]})`);
  const n = H[0].length, out = Y[0].length;
  // Normal equations (HᵀH + λI′) X = HᵀY, I′ the identity without the bias's entry.
  const G = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => H.reduce((s, h) => s + h[i] * h[j], i === j && i < n - 1 ? lambda : 0)));
  const R = Array.from({ length: n }, (_, i) => Array.from({ length: out }, (_, k) => H.reduce((s, h, r) => s + h[i] * Y[r][k], 0)));
  const X = solveSymmetric(G, R, "fitReadout");
  net.graph.values.set(W, { shape: [n - 1, out], data: Float64Array.from(X.slice(0, n - 1).flat()) });
  net.graph.values.set(b, { shape: [out], data: Float64Array.from(X[n - 1]) });
  let se = 0;
  H.forEach((h, r) => Y[r].forEach((t, k) => (se += (h.reduce((s, v, i) => s + v * X[i][k], 0) - t) ** 2)));
  return se / (H.length * out);
}

/** The rows of a `[B, T, n]` value after `washout` steps of each sequence, or of a `[B, n]` value. */
function rows(v: ND, washout: number): number[][] {
  const n = v.shape[v.shape.length - 1];
  const T = v.shape.length === 3 ? v.shape[1] : 1;
  const skip = v.shape.length === 3 ? washout : 0;
  const out: number[][] = [];
  for (let r = 0; r < v.data.length / n; r++) if (r % T >= skip) out.push(Array.from(v.data.subarray(r * n, (r + 1) * n)));
  return out;
}

/**
 * X with G X = R for a symmetric positive definite G, by Cholesky (G = L Lᵀ, then two triangular
 * solves), in float64. Written here: archlab has no linear-algebra dependency, and tfjs-core's QR
 * is float32 and took 9 s on a 900 × 101 system on the WebAssembly backend.
 */
function solveSymmetric(G: number[][], R: number[][], where: string): number[][] {
  const n = G.length;
  const L = G.map(() => new Array<number>(n).fill(0));
  for (let j = 0; j < n; j++) {
    let d = G[j][j];
    for (let k = 0; k < j; k++) d -= L[j][k] ** 2;
    if (!(d > 0))
      throw new ArchlabError("singular", `${where}: the features' Gram matrix is singular (constant or repeated features). Use a ridge penalty lambda > 0 or more data.`);
    L[j][j] = Math.sqrt(d);
    for (let i = j + 1; i < n; i++) {
      let s = G[i][j];
      for (let k = 0; k < j; k++) s -= L[i][k] * L[j][k];
      L[i][j] = s / L[j][j];
    }
  }
  const Z = R.map((row) => [...row]);
  const m = Z[0].length;
  for (let i = 0; i < n; i++) // L Z′ = R
    for (let k = 0; k < m; k++) {
      for (let j = 0; j < i; j++) Z[i][k] -= L[i][j] * Z[j][k];
      Z[i][k] /= L[i][i];
    }
  for (let i = n - 1; i >= 0; i--) // Lᵀ X = Z′
    for (let k = 0; k < m; k++) {
      for (let j = i + 1; j < n; j++) Z[i][k] -= L[j][i] * Z[j][k];
      Z[i][k] /= L[i][i];
    }
  return Z;
}
